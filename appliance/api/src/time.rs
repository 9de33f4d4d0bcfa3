//! Moments as the admin API takes and gives them: RFC 3339 text, a UTC date, or Unix seconds.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// A moment, Unix microseconds. Read from RFC 3339 (`2026-11-24T10:00:00Z`, any offset,
/// fractions of a second kept to the microsecond), a UTC date (`2026-11-24`: its midnight) or
/// whole Unix seconds (`1795514400`); written as RFC 3339 UTC, to the second when it is a
/// whole one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime(pub u64);

/// Why a moment did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeError {
    /// The text given.
    pub text: String,
}

impl UtcTime {
    /// What [`UtcTime::parse`] accepts, for messages and the OpenAPI document.
    pub const FORMS: &'static str = "RFC 3339 (2026-11-24T10:00:00Z), a UTC date (2026-11-24) \
                                     or Unix seconds (1795514400)";

    /// Reads a moment from any of its forms (surrounding blanks ignored). Moments before 1970
    /// are refused.
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        let trimmed = text.trim();
        let bad = || TimeError {
            text: text.to_owned(),
        };
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            let seconds: u64 = trimmed.parse().map_err(|_| bad())?;
            return seconds.checked_mul(1_000_000).map(UtcTime).ok_or_else(bad);
        }
        let micros = if let Ok(moment) = DateTime::parse_from_rfc3339(trimmed) {
            moment.timestamp_micros()
        } else {
            let date = NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").map_err(|_| bad())?;
            date.and_hms_opt(0, 0, 0)
                .ok_or_else(bad)?
                .and_utc()
                .timestamp_micros()
        };
        u64::try_from(micros).map(UtcTime).map_err(|_| bad())
    }

    /// Unix microseconds.
    pub fn unix_micros(self) -> u64 {
        self.0
    }

    /// The moment as RFC 3339 UTC: to the second when it is a whole one, else to the
    /// microsecond.
    pub fn rfc3339(self) -> String {
        let Some(moment) = i64::try_from(self.0)
            .ok()
            .and_then(DateTime::<Utc>::from_timestamp_micros)
        else {
            // Past the year 262143; never a moment the appliance decided anything at.
            return (self.0 / 1_000_000).to_string();
        };
        let precision = if self.0.is_multiple_of(1_000_000) {
            SecondsFormat::Secs
        } else {
            SecondsFormat::Micros
        };
        moment.to_rfc3339_opts(precision, true)
    }
}

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl FromStr for UtcTime {
    type Err = TimeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        UtcTime::parse(text)
    }
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "use {}, not {:?}", UtcTime::FORMS, self.text)
    }
}

impl std::error::Error for TimeError {}

impl Serialize for UtcTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for UtcTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Seconds(u64),
            Text(String),
        }
        match Written::deserialize(deserializer)? {
            Written::Seconds(seconds) => seconds
                .checked_mul(1_000_000)
                .map(UtcTime)
                .ok_or_else(|| serde::de::Error::custom("Unix seconds out of range")),
            Written::Text(text) => UtcTime::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

impl PartialSchema for UtcTime {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!(
                "A moment: {}. Answers give RFC 3339 UTC.",
                UtcTime::FORMS
            )))
            .examples([serde_json::json!("2026-11-24T10:00:00Z")])
            .into()
    }
}

impl ToSchema for UtcTime {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_reads_as_the_same_moment() {
        let moment = UtcTime(1_795_514_400_000_000);
        for text in [
            "2026-11-24T10:00:00Z",
            "2026-11-24T12:00:00+02:00",
            " 1795514400 ",
        ] {
            assert_eq!(UtcTime::parse(text), Ok(moment), "{text}");
        }
        assert_eq!(
            UtcTime::parse("2026-11-24"),
            Ok(UtcTime(1_795_478_400_000_000))
        );
        assert_eq!(
            UtcTime::parse("2026-11-24T10:00:00.25Z"),
            Ok(UtcTime(1_795_514_400_250_000))
        );
    }

    #[test]
    fn written_as_rfc3339_and_read_back() {
        for moment in [0, 1_795_514_400_000_000, 1_795_514_400_000_001] {
            let written = UtcTime(moment).to_string();
            assert_eq!(UtcTime::parse(&written), Ok(UtcTime(moment)), "{written}");
        }
        assert_eq!(UtcTime(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            UtcTime(1_795_514_400_000_001).to_string(),
            "2026-11-24T10:00:00.000001Z"
        );
        let json = serde_json::to_string(&UtcTime(1_795_514_400_000_000)).expect("json");
        assert_eq!(json, "\"2026-11-24T10:00:00Z\"");
        assert_eq!(
            serde_json::from_str::<UtcTime>("1795514400").ok(),
            Some(UtcTime(1_795_514_400_000_000))
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_it_takes() {
        for text in [
            "",
            "yesterday",
            "2026-02-30",
            "2026-11-24T10:00:00",
            "1969-12-31T23:59:59Z",
            "-5",
            "99999999999999999999",
        ] {
            let error = UtcTime::parse(text).expect_err(text);
            assert!(error.to_string().contains("RFC 3339"), "{error}");
        }
    }
}
