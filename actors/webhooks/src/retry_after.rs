//! The `Retry-After` response header (RFC 9110 §10.2.3): `delay-seconds / HTTP-date`.
//!
//! RFC 9110 §5.6.7 makes a recipient accept all three HTTP-date forms: IMF-fixdate (the one
//! senders must use), and the obsolete RFC 850 and asctime forms. The value only ever delays a
//! retry (see [`crate::RetryLadder`]), so a malformed one is reported and then ignored.

use crate::civil::{civil_from_days, days_from_civil, days_in_month};

const MICROS_PER_S: u64 = 1_000_000;
const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const DAY_NAMES_LONG: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Why a `Retry-After` value was not understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RetryAfterError {
    /// Nothing but whitespace.
    #[error("`Retry-After` is empty")]
    Empty,
    /// Neither digits nor one of the three HTTP-date forms.
    #[error(
        "`Retry-After` is neither delay-seconds (digits) nor an HTTP-date \
         (e.g. `Sun, 06 Nov 1994 08:49:37 GMT`)"
    )]
    NotDelayOrDate,
    /// An HTTP-date whose fields are out of range (month day 31 in a 30-day month, hour 24…).
    #[error("`Retry-After` HTTP-date names a day or time that does not exist")]
    NoSuchDate,
}

/// The earliest time, in unix microseconds, a `Retry-After` value allows the next request.
///
/// `delay-seconds` counts from `now_us` (saturating on absurd values; the ladder caps them
/// anyway); an HTTP-date is absolute, and one before 1970 reads as 0. `now_us` also anchors
/// the two-digit years of RFC 850 dates (RFC 9110 §5.6.7: a year more than 50 years ahead is
/// the most recent past year with those digits).
pub fn parse_retry_after(value: &str, now_us: u64) -> Result<u64, RetryAfterError> {
    // Field values arrive with optional whitespace (OWS) around them.
    let value = value.trim_matches([' ', '\t']);
    if value.is_empty() {
        return Err(RetryAfterError::Empty);
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Ok(now_us.saturating_add(seconds.saturating_mul(MICROS_PER_S)));
    }
    let date = imf_fixdate(value)
        .or_else(|| rfc850_date(value, now_us))
        .or_else(|| asctime_date(value))
        .ok_or(RetryAfterError::NotDelayOrDate)?;
    let unix_s = date.unix_seconds().ok_or(RetryAfterError::NoSuchDate)?;
    Ok(u64::try_from(unix_s)
        .unwrap_or(0)
        .saturating_mul(MICROS_PER_S))
}

/// A date as written, before its fields are checked against the calendar.
struct HttpDate {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl HttpDate {
    fn unix_seconds(&self) -> Option<i64> {
        let valid = (1..=days_in_month(self.year, self.month)).contains(&self.day)
            && self.hour <= 23
            && self.minute <= 59
            // 60: a leap second, which the grammar allows.
            && self.second <= 60;
        let days = days_from_civil(self.year, self.month, self.day);
        let clock = i64::from(self.hour * 3600 + self.minute * 60 + self.second);
        valid.then_some(days * 86_400 + clock)
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn imf_fixdate(text: &str) -> Option<HttpDate> {
    let (day_name, rest) = text.split_once(", ")?;
    DAY_NAMES.contains(&day_name).then_some(())?;
    let mut parts = rest.split(' ');
    let day = digits(parts.next()?, 2)?;
    let month = month(parts.next()?)?;
    let year = i64::from(digits(parts.next()?, 4)?);
    let (hour, minute, second) = time_of_day(parts.next()?)?;
    (parts.next()? == "GMT" && parts.next().is_none()).then_some(())?;
    Some(HttpDate {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`
fn rfc850_date(text: &str, now_us: u64) -> Option<HttpDate> {
    let (day_name, rest) = text.split_once(", ")?;
    DAY_NAMES_LONG.contains(&day_name).then_some(())?;
    let mut parts = rest.split(' ');
    let mut date = parts.next()?.split('-');
    let day = digits(date.next()?, 2)?;
    let month = month(date.next()?)?;
    let two_digit_year = i64::from(digits(date.next()?, 2)?);
    date.next().is_none().then_some(())?;
    let (hour, minute, second) = time_of_day(parts.next()?)?;
    (parts.next()? == "GMT" && parts.next().is_none()).then_some(())?;
    let (this_year, _, _) = civil_from_days((now_us / MICROS_PER_S / 86_400) as i64);
    let mut year = this_year - this_year.rem_euclid(100) + two_digit_year;
    if year > this_year + 50 {
        year -= 100;
    }
    Some(HttpDate {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// `Sun Nov  6 08:49:37 1994` (a one-digit day is padded with a space).
fn asctime_date(text: &str) -> Option<HttpDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 24
        || bytes[3] != b' '
        || bytes[7] != b' '
        || bytes[10] != b' '
        || bytes[19] != b' '
    {
        return None;
    }
    DAY_NAMES.contains(&text.get(..3)?).then_some(())?;
    let month = month(text.get(4..7)?)?;
    let day_text = text.get(8..10)?;
    let day = match day_text.strip_prefix(' ') {
        Some(one) => digits(one, 1)?,
        None => digits(day_text, 2)?,
    };
    let (hour, minute, second) = time_of_day(text.get(11..19)?)?;
    let year = i64::from(digits(text.get(20..)?, 4)?);
    Some(HttpDate {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// `HH:MM:SS`
fn time_of_day(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split(':');
    let hour = digits(parts.next()?, 2)?;
    let minute = digits(parts.next()?, 2)?;
    let second = digits(parts.next()?, 2)?;
    parts.next().is_none().then_some((hour, minute, second))
}

/// Exactly `count` ASCII digits.
fn digits(text: &str, count: usize) -> Option<u32> {
    (text.len() == count && text.bytes().all(|b| b.is_ascii_digit())).then_some(())?;
    text.parse().ok()
}

/// A month name, case-sensitive as the grammar says, as 1..=12.
fn month(text: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == text).map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = MICROS_PER_S;
    /// 1994-11-06T08:49:37Z, RFC 9110's example instant.
    const EXAMPLE_S: u64 = 784_111_777;
    /// 2025-06-01T00:00:00Z.
    const NOW: u64 = 1_748_736_000 * S;

    #[test]
    fn delay_seconds_count_from_now() {
        assert_eq!(parse_retry_after("120", NOW), Ok(NOW + 120 * S));
        assert_eq!(parse_retry_after(" 0\t", NOW), Ok(NOW));
        assert_eq!(
            parse_retry_after("99999999999999999999999", NOW),
            Ok(u64::MAX)
        );
    }

    #[test]
    fn all_three_http_date_forms_name_the_same_instant() {
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_retry_after(form, NOW), Ok(EXAMPLE_S * S), "{form}");
        }
        // svix's test value.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW),
            Ok(1_445_412_480 * S)
        );
        assert_eq!(
            parse_retry_after("Thu Feb 29 23:59:60 2024", NOW),
            Ok(1_709_251_200 * S)
        );
    }

    #[test]
    fn rfc850_years_resolve_within_fifty_years_of_now() {
        // From 2025: `75` is 2075 (50 years ahead), `76` is 1976.
        assert_eq!(
            parse_retry_after("Tuesday, 01-Jan-75 00:00:00 GMT", NOW),
            Ok(3_313_526_400 * S)
        );
        assert_eq!(
            parse_retry_after("Thursday, 01-Jan-76 00:00:00 GMT", NOW),
            Ok(189_302_400 * S)
        );
        assert_eq!(
            parse_retry_after("Sunday, 01-Jun-25 00:00:00 GMT", NOW),
            Ok(NOW)
        );
    }

    #[test]
    fn malformed_values_are_typed_errors() {
        assert_eq!(parse_retry_after("  ", NOW), Err(RetryAfterError::Empty));
        for bad in [
            "120.5",
            "-1",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 November 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "1994-11-06T08:49:37Z",
        ] {
            assert_eq!(
                parse_retry_after(bad, NOW),
                Err(RetryAfterError::NotDelayOrDate),
                "{bad:?}"
            );
        }
        for impossible in [
            "Mon, 31 Apr 2025 00:00:00 GMT",
            "Sat, 29 Feb 2025 00:00:00 GMT",
            "Sun, 01 Jun 2025 24:00:00 GMT",
        ] {
            assert_eq!(
                parse_retry_after(impossible, NOW),
                Err(RetryAfterError::NoSuchDate),
                "{impossible}"
            );
        }
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1910 00:00:00 GMT", NOW),
            Ok(0)
        );
    }
}
