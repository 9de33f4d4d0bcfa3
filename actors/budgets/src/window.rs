//! Reset windows: calendar hour, day, week and month in UTC, or a rolling number of seconds.
//!
//! All times are Unix microseconds. UTC has no daylight saving, so a day is always 86 400 s;
//! months and ISO weeks (starting Monday) come from civil-date arithmetic, not from a table.

use std::fmt;
use std::str::FromStr;

const US_PER_SEC: u64 = 1_000_000;
const US_PER_HOUR: u64 = 3_600 * US_PER_SEC;
const US_PER_DAY: u64 = 24 * US_PER_HOUR;
/// 1970-01-01 was a Thursday: days since the epoch plus this, mod 7, is days since Monday.
const EPOCH_WEEKDAY_FROM_MONDAY: u64 = 3;
/// The longest rolling window: 366 days.
pub const MAX_ROLLING_SECS: u64 = 366 * 86_400;

/// When a cap's counter starts afresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    /// The calendar hour, UTC.
    Hour,
    /// The calendar day, UTC.
    Day,
    /// The ISO week (Monday 00:00 to Monday 00:00), UTC.
    Week,
    /// The calendar month, UTC.
    Month,
    /// The last N seconds, sliding.
    Rolling {
        /// The window's length in seconds (1 to 366 days).
        secs: u64,
    },
}

/// The calendar period holding an instant: `[start, end)` in Unix microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First microsecond of the period.
    pub start: u64,
    /// First microsecond after it: when the counter resets.
    pub end: u64,
}

impl Span {
    /// Whether the instant falls inside.
    pub fn contains(&self, at: u64) -> bool {
        (self.start..self.end).contains(&at)
    }
}

impl Window {
    /// The calendar period holding `at`; `None` for rolling windows, which have no period.
    pub fn span(&self, at: u64) -> Option<Span> {
        let (start, end) = match *self {
            Window::Hour => {
                let start = at - at % US_PER_HOUR;
                (start, start + US_PER_HOUR)
            }
            Window::Day => {
                let start = at - at % US_PER_DAY;
                (start, start + US_PER_DAY)
            }
            Window::Week => {
                let day = at / US_PER_DAY;
                let monday = day - (day + EPOCH_WEEKDAY_FROM_MONDAY) % 7;
                (monday * US_PER_DAY, (monday + 7) * US_PER_DAY)
            }
            Window::Month => {
                let (year, month, _) = civil_from_days(at / US_PER_DAY);
                let (next_year, next_month) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                (
                    days_from_civil(year, month, 1) * US_PER_DAY,
                    days_from_civil(next_year, next_month, 1) * US_PER_DAY,
                )
            }
            Window::Rolling { .. } => return None,
        };
        Some(Span { start, end })
    }

    /// The rolling length in microseconds, for rolling windows.
    pub fn rolling_us(&self) -> Option<u64> {
        match *self {
            Window::Rolling { secs } => Some(secs * US_PER_SEC),
            _ => None,
        }
    }

    /// The earliest instant whose charges can still count at `at`: the calendar period's start,
    /// or `at` minus the rolling length. Recovery reads the ledger from here.
    pub fn counts_since(&self, at: u64) -> u64 {
        match self.span(at) {
            Some(span) => span.start,
            None => at.saturating_sub(self.rolling_us().unwrap_or(0)),
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Window::Hour => f.write_str("hour"),
            Window::Day => f.write_str("day"),
            Window::Week => f.write_str("week"),
            Window::Month => f.write_str("month"),
            Window::Rolling { secs } => write!(f, "rolling {secs}s"),
        }
    }
}

/// A window that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "window {0:?} is not one of hour, day, week, month or \"rolling Ns\" (N seconds, 1 to 31622400)"
)]
pub struct BadWindow(pub String);

impl FromStr for Window {
    type Err = BadWindow;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadWindow(text.to_owned());
        match text.trim() {
            "hour" => Ok(Window::Hour),
            "day" => Ok(Window::Day),
            "week" => Ok(Window::Week),
            "month" => Ok(Window::Month),
            other => {
                let secs = other
                    .strip_prefix("rolling")
                    .map(str::trim)
                    .and_then(|n| n.strip_suffix('s'))
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .ok_or_else(bad)?;
                if (1..=MAX_ROLLING_SECS).contains(&secs) {
                    Ok(Window::Rolling { secs })
                } else {
                    Err(bad())
                }
            }
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the well-known era algorithm, valid for
/// every date from 1970 on, which is all Unix microseconds in a `u64` can name).
pub fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A Unix second as UTC in RFC 3339 form, `2026-11-24T10:00:00Z`.
pub fn format_utc(unix_secs: u64) -> String {
    let (year, month, day) = civil_from_days(unix_secs / 86_400);
    let in_day = unix_secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// A Unix microsecond as UTC in RFC 3339 form with its microseconds,
/// `2026-11-24T10:00:00.000123Z`.
pub fn format_utc_micros(unix_us: u64) -> String {
    let seconds = format_utc(unix_us / 1_000_000);
    let whole = seconds.strip_suffix('Z').unwrap_or(&seconds);
    format!("{whole}.{:06}Z", unix_us % 1_000_000)
}

/// The (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: u64, month: u64, day: u64, hour: u64) -> u64 {
        days_from_civil(year, month, day) * US_PER_DAY + hour * US_PER_HOUR
    }

    #[test]
    fn civil_dates_round_trip_across_leap_years_and_centuries() {
        for days in (0..200_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28),
            2
        );
        assert_eq!(
            days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28),
            1
        );
    }

    #[test]
    fn utc_prints_calendar_time() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_709_164_800), "2024-02-29T00:00:00Z");
        assert_eq!(format_utc(1_795_514_459), "2026-11-24T10:00:59Z");
        assert_eq!(
            format_utc_micros(1_795_514_459_000_123),
            "2026-11-24T10:00:59.000123Z"
        );
    }

    #[test]
    fn month_spans_follow_the_calendar() {
        let feb_leap = Window::Month.span(at(2028, 2, 17, 5)).expect("calendar");
        assert_eq!(feb_leap.start, at(2028, 2, 1, 0));
        assert_eq!(feb_leap.end, at(2028, 3, 1, 0));
        assert_eq!((feb_leap.end - feb_leap.start) / US_PER_DAY, 29);
        let december = Window::Month.span(at(2026, 12, 31, 23)).expect("calendar");
        assert_eq!(december.end, at(2027, 1, 1, 0));
        // The last microsecond of a month is in it; the next one is in the next month.
        let last = at(2026, 12, 1, 0) - 1;
        assert_eq!(
            Window::Month.span(last).expect("calendar").end,
            at(2026, 12, 1, 0)
        );
    }

    #[test]
    fn weeks_start_on_monday_utc() {
        // 2026-11-23 is a Monday.
        let span = Window::Week.span(at(2026, 11, 26, 12)).expect("calendar");
        assert_eq!(span.start, at(2026, 11, 23, 0));
        assert_eq!(span.end, at(2026, 11, 30, 0));
        let sunday_night = at(2026, 11, 30, 0) - 1;
        assert_eq!(
            Window::Week.span(sunday_night).expect("calendar").start,
            at(2026, 11, 23, 0)
        );
    }

    #[test]
    fn days_are_always_24_hours_in_utc() {
        // The European daylight-saving change of 2026-03-29 does not exist in UTC.
        let span = Window::Day.span(at(2026, 3, 29, 1)).expect("calendar");
        assert_eq!(span.end - span.start, US_PER_DAY);
        let hour = Window::Hour
            .span(at(2026, 3, 29, 1) + 59 * 60 * US_PER_SEC)
            .expect("calendar");
        assert_eq!(hour.start, at(2026, 3, 29, 1));
    }

    #[test]
    fn windows_parse_and_print_the_same_way() {
        for text in ["hour", "day", "week", "month", "rolling 3600s"] {
            let window: Window = text.parse().expect(text);
            assert_eq!(window.to_string(), text);
        }
        assert_eq!("rolling 90s".parse(), Ok(Window::Rolling { secs: 90 }));
        for bad in [
            "",
            "year",
            "rolling",
            "rolling 0s",
            "rolling 10",
            "rolling 99999999s",
        ] {
            assert!(bad.parse::<Window>().is_err(), "{bad:?}");
        }
    }
}
