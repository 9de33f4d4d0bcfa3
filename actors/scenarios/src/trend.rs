//! How long results are kept, and how a pack's latest result compares with the nights before.

/// Results are kept 90 days.
pub const RESULTS_KEPT_US: u64 = 90 * 86_400_000_000;

/// The oldest result time kept at `now_us`: results before it are pruned.
pub fn kept_from(now_us: u64) -> u64 {
    now_us.saturating_sub(RESULTS_KEPT_US)
}

/// One measure of a pack over its runs, latest against the last run and against the median
/// of the seven before it.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Trend {
    /// The latest value.
    pub latest: f64,
    /// Latest minus the run before (`None`: no run before).
    pub since_last: Option<f64>,
    /// Latest minus the median of up to seven runs before it (`None`: none).
    pub since_week_median: Option<f64>,
}

impl Trend {
    /// The trend of `values`, oldest first; `None` without any.
    pub fn of(values: &[f64]) -> Option<Trend> {
        let (&latest, before) = values.split_last()?;
        let week: Vec<f64> = before.iter().rev().take(7).copied().collect();
        Some(Trend {
            latest,
            since_last: before.last().map(|last| latest - last),
            since_week_median: median(week).map(|m| latest - m),
        })
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_against_last_night_and_the_week_median() {
        assert_eq!(Trend::of(&[]), None);
        let one = Trend::of(&[0.5]).expect("a value");
        assert_eq!((one.since_last, one.since_week_median), (None, None));
        // Nine nights: the week before the latest is the seven before it, 2..=8.
        let nights = [100.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 10.0];
        let trend = Trend::of(&nights).expect("values");
        assert_eq!(trend.latest, 10.0);
        assert_eq!(trend.since_last, Some(3.0));
        assert_eq!(trend.since_week_median, Some(6.0), "median of 1..=7 is 4");
        let even = Trend::of(&[1.0, 3.0, 4.0]).expect("values");
        assert_eq!(even.since_week_median, Some(2.0), "median of 1 and 3 is 2");
    }

    #[test]
    fn results_older_than_ninety_days_go() {
        let day = 86_400_000_000;
        assert_eq!(kept_from(100 * day), 10 * day);
        assert_eq!(kept_from(day), 0);
    }
}
