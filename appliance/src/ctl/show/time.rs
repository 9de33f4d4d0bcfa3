//! Times for people: UTC to the second, and how long ago (or how soon) from now.

/// `2026-12-03 05:51:21 UTC`.
pub(crate) fn utc(unix_us: u64) -> String {
    tf_budgets::format_utc(unix_us / 1_000_000)
        .replacen('T', " ", 1)
        .replace('Z', " UTC")
}

/// `5 min ago`, `in 2 h`, `just now`: the largest unit that fits, rounded down.
pub(crate) fn relative(unix_us: u64, now_us: u64) -> String {
    let (seconds, past) = match now_us.checked_sub(unix_us) {
        Some(behind) => (behind / 1_000_000, true),
        None => ((unix_us - now_us) / 1_000_000, false),
    };
    let span = match seconds {
        0 => return "just now".to_owned(),
        1..60 => format!("{seconds} s"),
        60..3_600 => format!("{} min", seconds / 60),
        3_600..86_400 => format!("{} h", seconds / 3_600),
        _ => format!("{} d", seconds / 86_400),
    };
    if past {
        format!("{span} ago")
    } else {
        format!("in {span}")
    }
}

/// Both: `2026-12-03 05:51:21 UTC (5 min ago)`.
pub(crate) fn when(unix_us: u64, now_us: u64) -> String {
    format!("{} ({})", utc(unix_us), relative(unix_us, now_us))
}

/// Now, Unix microseconds.
pub(crate) fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_514_400_000_000;

    #[test]
    fn the_largest_unit_that_fits() {
        assert_eq!(relative(NOW, NOW), "just now");
        assert_eq!(relative(NOW - 42_000_000, NOW), "42 s ago");
        assert_eq!(
            relative(NOW - 5 * 60_000_000 - 59_000_000, NOW),
            "5 min ago"
        );
        assert_eq!(relative(NOW - 3 * 3_600_000_000, NOW), "3 h ago");
        assert_eq!(relative(NOW - 2 * 86_400_000_000, NOW), "2 d ago");
        assert_eq!(relative(NOW + 90_000_000, NOW), "in 1 min");
    }

    #[test]
    fn utc_reads_as_a_date_and_a_time() {
        assert_eq!(utc(NOW), "2026-11-24 10:00:00 UTC");
        assert_eq!(
            when(NOW - 3_600_000_000, NOW),
            "2026-11-24 09:00:00 UTC (1 h ago)"
        );
    }
}
