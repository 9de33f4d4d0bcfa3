//! Times on the evidence command line: `2026-11-24`, `2026-11-24T10:00:00Z` (UTC) or Unix
//! seconds.

use tf_budgets::days_from_civil;

/// Unix microseconds of a time as the command line takes it.
pub fn parse(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "time {text:?}: use a UTC date (2026-11-24), a UTC time (2026-11-24T10:00:00Z) or Unix seconds"
        )
    };
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = text.parse().map_err(|_| bad())?;
        return secs.checked_mul(1_000_000).ok_or_else(bad);
    }
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time.strip_suffix('Z').ok_or_else(bad)?)),
        None => (text, None),
    };
    let numbers = |part: &str, sep: char, count: usize| -> Result<Vec<u64>, String> {
        let fields: Vec<u64> = part
            .split(sep)
            .map(|f| f.parse::<u64>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        if fields.len() == count {
            Ok(fields)
        } else {
            Err(bad())
        }
    };
    let ymd = numbers(date, '-', 3)?;
    let (year, month, day) = (ymd[0], ymd[1], ymd[2]);
    if year < 1970 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    // A day past the month's end rolls into the next month; refuse it instead.
    if tf_budgets::civil_from_days(days) != (year, month, day) {
        return Err(bad());
    }
    let secs_in_day = match time {
        None => 0,
        Some(time) => {
            let hms = numbers(time, ':', 3)?;
            if hms[0] > 23 || hms[1] > 59 || hms[2] > 59 {
                return Err(bad());
            }
            hms[0] * 3600 + hms[1] * 60 + hms[2]
        }
    };
    Ok((days * 86_400 + secs_in_day) * 1_000_000)
}

/// A Unix microsecond as UTC, `2026-11-24T10:00:00Z`.
pub fn format(unix_us: u64) -> String {
    tf_budgets::format_utc(unix_us / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::{format, parse};

    #[test]
    fn formatting_is_the_inverse_of_parsing() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2026-11-24T10:00:00Z",
            "2028-02-29T23:59:59Z",
        ] {
            assert_eq!(format(parse(text).expect(text)), text);
        }
    }

    #[test]
    fn dates_times_and_unix_seconds() {
        assert_eq!(parse("1970-01-02"), Ok(86_400_000_000));
        assert_eq!(parse("2026-11-24T10:00:00Z"), Ok(1_795_514_400_000_000));
        assert_eq!(parse("1795514400"), Ok(1_795_514_400_000_000));
        for bad in [
            "",
            "2026-02-30",
            "2026-11-24T10:00:00",
            "24/11/2026",
            "2026-11-24T25:00:00Z",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
