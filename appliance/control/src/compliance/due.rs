//! Which period is due for a snapshot: sans-IO, so the schedule's edges are tested without a
//! clock.

use tf_config::Schedule;

/// A period whose snapshot may be made now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Due {
    /// Its start: the newest packet's end (0 before the first).
    pub(crate) from_us: u64,
    /// Its end: the schedule's last firing, or when an operator asked.
    pub(crate) to_us: u64,
    /// Made because an operator asked.
    pub(crate) asked: bool,
}

/// The period to seal next, if any. Periods follow each other without gaps from the newest
/// packet's end; a period is due once `settle_us` has passed since it ended (what was decided
/// before its end has then reached the ledger). An operator's request (`asked_to_us`) ends a
/// period early; a scheduled end before it comes first.
pub(crate) fn due(
    schedule: &Schedule,
    newest_to_us: Option<u64>,
    asked_to_us: Option<u64>,
    now_us: u64,
    settle_us: u64,
) -> Option<Due> {
    let ready = now_us.checked_sub(settle_us)?;
    let from_us = newest_to_us.unwrap_or(0);
    let fired = schedule
        .last_at_or_before(ready)
        .filter(|&fired| fired > from_us);
    let asked = asked_to_us.filter(|&asked| asked > from_us && asked <= ready);
    match (fired, asked) {
        (Some(fired), Some(asked)) if fired < asked => Some(Due {
            from_us,
            to_us: fired,
            asked: false,
        }),
        (_, Some(asked)) => Some(Due {
            from_us,
            to_us: asked,
            asked: true,
        }),
        (Some(fired), None) => Some(Due {
            from_us,
            to_us: fired,
            asked: false,
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;
    const HOUR: u64 = 3_600 * S;

    fn hourly() -> Schedule {
        "0 * * * *".parse().expect("schedule")
    }

    #[test]
    fn a_period_is_due_once_it_ended_and_settled() {
        let settle = 5 * S;
        // 10:00:03, not settled: the period ending 10:00 waits; the one ending 09:00 was made.
        let now = 10 * HOUR + 3 * S;
        assert_eq!(due(&hourly(), Some(9 * HOUR), None, now, settle), None);
        let now = 10 * HOUR + 5 * S;
        assert_eq!(
            due(&hourly(), Some(9 * HOUR), None, now, settle),
            Some(Due {
                from_us: 9 * HOUR,
                to_us: 10 * HOUR,
                asked: false
            })
        );
        // Down for three hours: one packet covers them, up to the last firing.
        assert_eq!(
            due(&hourly(), Some(6 * HOUR), None, now, settle).map(|d| (d.from_us, d.to_us)),
            Some((6 * HOUR, 10 * HOUR))
        );
        // The first packet starts at the beginning of time.
        assert_eq!(
            due(&hourly(), None, None, now, settle).map(|d| d.from_us),
            Some(0)
        );
    }

    #[test]
    fn an_asked_snapshot_ends_when_asked_after_any_scheduled_one_before_it() {
        let settle = 5 * S;
        let asked = 10 * HOUR + 20 * S;
        // Not settled yet.
        assert_eq!(
            due(&hourly(), Some(10 * HOUR), Some(asked), asked + S, settle),
            None
        );
        assert_eq!(
            due(
                &hourly(),
                Some(10 * HOUR),
                Some(asked),
                asked + settle,
                settle
            ),
            Some(Due {
                from_us: 10 * HOUR,
                to_us: asked,
                asked: true
            })
        );
        // The 10:00 firing is not sealed yet: it comes first, then the asked one.
        assert_eq!(
            due(
                &hourly(),
                Some(9 * HOUR),
                Some(asked),
                asked + settle,
                settle
            ),
            Some(Due {
                from_us: 9 * HOUR,
                to_us: 10 * HOUR,
                asked: false
            })
        );
        // Asked for a moment already sealed: nothing (the asker was told so).
        assert_eq!(
            due(
                &hourly(),
                Some(11 * HOUR),
                Some(asked),
                11 * HOUR + settle,
                settle
            ),
            None
        );
    }
}
