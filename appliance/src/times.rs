//! Times on the command line (evidence export, receipt search), read with jiff: `now`,
//! `today` and `yesterday` (the start of the day), a span before now (`7d`, `24h`, `90 minutes`,
//! `1w 2d ago`), RFC 3339 with `Z` or an offset (`2026-11-24T10:00:00+01:00`), a zoned time
//! (`2026-11-24T10:00[Europe/Paris]`), a date or a time without an offset (`2026-11-24`,
//! `2026-11-24T10:00`, in UTC, as the admin API reads them), or Unix seconds. Days (`today`,
//! `yesterday`, a date) are UTC days: the same period whatever the host's or the user's zone.

use jiff::civil::DateTime;
use jiff::{Span, Timestamp, ZonedDateTime};

/// What a time on the command line may look like, for messages.
const FORMS: &str = "now, today, yesterday, a span before now (7d, 24h, 90m), RFC 3339 \
     (2026-11-24T10:00:00Z, 2026-11-24T10:00:00+01:00), a zoned time \
     (2026-11-24T10:00[Europe/Paris]), a date (2026-11-24, UTC) or Unix seconds";

/// Unix microseconds of `text`, read relative to `now` (and in its time zone).
pub fn parse(text: &str, now: &ZonedDateTime) -> Result<u64, String> {
    let text = text.trim();
    let bad = |why: String| format!("time {text:?}: {why}; use {FORMS}");
    let at: ZonedDateTime = match text {
        "now" => now.clone(),
        "today" => now.start_of_day().map_err(|e| bad(e.to_string()))?,
        "yesterday" => now
            .yesterday()
            .and_then(|day| day.start_of_day())
            .map_err(|e| bad(e.to_string()))?,
        _ if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            let seconds: i64 = text.parse().map_err(|_| bad("too large".into()))?;
            Timestamp::from_second(seconds)
                .map_err(|e| bad(e.to_string()))?
                .to_zoned_datetime(now.time_zone().clone())
        }
        _ => absolute(text, now).or_else(|why| before_now(text, now).ok_or(why).map_err(bad))?,
    };
    let micros = at.timestamp().as_microsecond();
    u64::try_from(micros).map_err(|_| bad("before 1970".into()))
}

/// A time that names its own moment: RFC 3339, zoned, or civil in `now`'s zone.
fn absolute(text: &str, now: &ZonedDateTime) -> Result<ZonedDateTime, String> {
    if let Ok(zoned) = text.parse::<ZonedDateTime>() {
        return Ok(zoned);
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at.to_zoned_datetime(now.time_zone().clone()));
    }
    let civil: DateTime = match text.parse::<DateTime>() {
        Ok(civil) => civil,
        Err(e) => {
            return Err(format!("not a time ({e})"));
        }
    };
    civil
        .to_zoned_datetime(now.time_zone().clone())
        .map_err(|e| e.to_string())
}

/// `7d`, `24h`, `1w 2d`, optionally followed by `ago`: that long before now.
fn before_now(text: &str, now: &ZonedDateTime) -> Option<ZonedDateTime> {
    let span_text = text.strip_suffix("ago").unwrap_or(text).trim();
    let span: Span = span_text.parse().ok()?;
    if span.is_negative() || span.is_zero() {
        return None;
    }
    now.checked_sub(span).ok()
}

/// Now, in UTC: what times without an offset are read relative to.
pub fn now_utc() -> ZonedDateTime {
    Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC)
}

/// A Unix microsecond as UTC, `2026-11-24T10:00:00Z`.
pub fn format(unix_us: u64) -> String {
    tf_budgets::format_utc(unix_us / 1_000_000)
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;

    /// 2026-11-24T10:00:00Z, in `zone`.
    fn now_in(zone: &str) -> ZonedDateTime {
        Timestamp::from_second(1_795_514_400)
            .expect("a time")
            .in_tz(zone)
            .expect("a zone")
    }

    fn utc_now() -> ZonedDateTime {
        Timestamp::from_second(1_795_514_400)
            .expect("a time")
            .to_zoned_datetime(TimeZone::UTC)
    }

    const NOW_US: u64 = 1_795_514_400_000_000;
    const HOUR_US: u64 = 3_600_000_000;

    #[test]
    fn formatting_is_the_inverse_of_parsing() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2026-11-24T10:00:00Z",
            "2028-02-29T23:59:59Z",
        ] {
            assert_eq!(format(parse(text, &utc_now()).expect(text)), text);
        }
    }

    #[test]
    fn absolute_times_with_offsets_zones_and_unix_seconds() {
        let now = utc_now();
        assert_eq!(parse("1970-01-02", &now), Ok(86_400_000_000));
        assert_eq!(parse("2026-11-24T10:00:00Z", &now), Ok(NOW_US));
        assert_eq!(parse("2026-11-24T11:00:00+01:00", &now), Ok(NOW_US));
        assert_eq!(parse("2026-11-24T11:00[Europe/Paris]", &now), Ok(NOW_US));
        assert_eq!(parse("1795514400", &now), Ok(NOW_US));
        // Without an offset, a time is in the zone `now` is in (UTC from the command line).
        let paris = now_in("Europe/Paris");
        assert_eq!(parse("2026-11-24T11:00", &paris), Ok(NOW_US));
        assert_eq!(parse("2026-11-24", &paris), Ok(NOW_US - 11 * HOUR_US));
    }

    #[test]
    fn relative_times_count_back_from_now() {
        let now = utc_now();
        assert_eq!(parse("now", &now), Ok(NOW_US));
        assert_eq!(parse("24h", &now), Ok(NOW_US - 24 * HOUR_US));
        assert_eq!(parse("7d", &now), Ok(NOW_US - 7 * 24 * HOUR_US));
        assert_eq!(parse("7d ago", &now), Ok(NOW_US - 7 * 24 * HOUR_US));
        assert_eq!(parse("90 minutes", &now), Ok(NOW_US - 90 * 60_000_000));
        assert_eq!(parse("today", &now), Ok(NOW_US - 10 * HOUR_US));
        assert_eq!(parse("yesterday", &now), Ok(NOW_US - 34 * HOUR_US));
        // Today starts at local midnight.
        assert_eq!(
            parse("today", &now_in("Europe/Paris")),
            Ok(NOW_US - 11 * HOUR_US)
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_allowed() {
        let now = utc_now();
        for bad in [
            "",
            "2026-02-30",
            "24/11/2026",
            "2026-11-24T25:00:00Z",
            "-7d",
            "soon",
        ] {
            let error = parse(bad, &now).expect_err(bad);
            assert!(error.contains("RFC 3339"), "{bad:?}: {error}");
        }
    }
}
