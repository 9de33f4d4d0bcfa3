//! Budgets in words: the over-budget paragraph and the lines of `partner budgets`.

use std::time::{SystemTime, UNIX_EPOCH};

use tf_budgets::format_utc;
use tf_wire::{CapState, OverBudget, OverBudgetReason};

/// The wall clock in Unix milliseconds.
pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `2026-11-24T10:00:00Z` for a Unix millisecond.
pub fn utc(unix_ms: u64) -> String {
    format_utc(unix_ms / 1000)
}

/// Which requests a cap limits, in words.
pub fn scope(cap: &CapState) -> String {
    let purpose = if cap.purpose.is_empty() {
        "all purposes".to_owned()
    } else {
        format!("purpose {:?}", cap.purpose)
    };
    format!(
        "tenant {:?}, {purpose}, class {}, window {}",
        cap.tenant,
        cap.dataset_class.name(),
        cap.window
    )
}

/// When a cap frees up, relative to `now_ms`, in words.
pub fn when_free(cap: &CapState, now_ms: u64) -> String {
    if cap.resets_at_unix_ms == 0 {
        return "never by waiting".to_owned();
    }
    let secs = cap.resets_at_unix_ms.saturating_sub(now_ms).div_ceil(1000);
    let wait = match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs.div_ceil(60)),
        _ => format!("{:.1} h", secs as f64 / 3600.0),
    };
    format!("at {} (in {wait})", utc(cap.resets_at_unix_ms))
}

/// One line of `partner budgets`: which requests the cap limits, what remains of what this
/// appliance may spend (in a fleet, its share of the cap, named as such), what is used and
/// held, and when it frees up.
pub fn cap_line(cap: &CapState, now_ms: u64) -> String {
    let in_flight = if cap.reserved > 0 {
        format!(" ({} held by requests in flight)", cap.reserved)
    } else {
        String::new()
    };
    let frees = if cap.window.starts_with("rolling") {
        if cap.resets_at_unix_ms == 0 {
            "nothing charged yet".to_owned()
        } else {
            format!("oldest charge ages out {}", when_free(cap, now_ms))
        }
    } else {
        format!("resets {}", when_free(cap, now_ms))
    };
    let of = if cap.granted == cap.limit {
        cap.limit.to_string()
    } else {
        format!(
            "this appliance's share of {} (the cap allows {} across the fleet)",
            cap.granted, cap.limit
        )
    };
    format!(
        "{}: {} of {of} remaining, {} used{in_flight}; {frees}",
        scope(cap),
        cap.remaining,
        cap.used
    )
}

/// The over-budget error as one paragraph: the cap hit, the numbers, when it frees up and how
/// to ask for more; or, when only this appliance's share of the cap ran out, that share and
/// that another try (later, or on another appliance of the fleet) may pass.
pub fn over_budget_paragraph(over: &OverBudget, now_ms: u64) -> String {
    let cap = &over.cap;
    let in_flight = if cap.reserved > 0 {
        format!(", {} held by requests still being verified", cap.reserved)
    } else {
        String::new()
    };
    if over.reason == OverBudgetReason::FleetShare {
        return format!(
            "Over budget on this appliance, not verified and not charged: its share of the cap \
             for {}, leased from its fleet, is {} of the {} allowed per window; {} used{in_flight}, \
             {} remaining, and this request costs {} (short by {}). The share ran out, or the \
             fleet could not lease it more: the cap itself may still have room. Retry in a few \
             seconds, or on another appliance of the fleet. If it persists: {}.",
            scope(cap),
            cap.granted,
            cap.limit,
            cap.used,
            cap.remaining,
            over.requested,
            over.requested.saturating_sub(cap.remaining),
            over.contact.trim_end_matches('.'),
        );
    }
    let wait = if cap.resets_at_unix_ms == 0 {
        format!(
            "The request is larger than the whole cap of {}, so waiting will not help.",
            cap.limit
        )
    } else if cap.window.starts_with("rolling") {
        format!(
            "Enough ages out of the rolling window {}.",
            when_free(cap, now_ms)
        )
    } else {
        format!("The window resets {}.", when_free(cap, now_ms))
    };
    format!(
        "Over budget, not verified and not charged: the cap for {} allows {} per window; {} used{in_flight}, \
         {} remaining, and this request costs {} (short by {}). {wait} To get more: {}.",
        scope(cap),
        cap.limit,
        cap.used,
        cap.remaining,
        over.requested,
        over.requested.saturating_sub(cap.remaining),
        over.contact.trim_end_matches('.'),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_wire::DatasetClass;

    fn over(resets_at_unix_ms: u64) -> OverBudget {
        OverBudget {
            cap: CapState {
                tenant: "demo".into(),
                purpose: "budget-demo".into(),
                dataset_class: DatasetClass::P0,
                window: "day".into(),
                limit: 5,
                used: 4,
                reserved: 1,
                remaining: 0,
                resets_at_unix_ms,
                granted: 5,
            },
            requested: 1,
            contact: "ask the operator.".into(),
            reason: OverBudgetReason::Cap,
        }
    }

    #[test]
    fn the_paragraph_names_the_cap_the_numbers_the_reset_and_the_contact() {
        // 2026-11-24T10:00:00Z, and the reset at the next midnight.
        let now = 1_795_514_400_000;
        let text = over_budget_paragraph(&over(1_795_564_800_000), now);
        assert_eq!(
            text,
            "Over budget, not verified and not charged: the cap for tenant \"demo\", purpose \
             \"budget-demo\", class P0, window day allows 5 per window; 4 used, 1 held by requests \
             still being verified, 0 remaining, and this request costs 1 (short by 1). The window \
             resets at 2026-11-25T00:00:00Z (in 14.0 h). To get more: ask the operator."
        );
        let never = over_budget_paragraph(&over(0), now);
        assert!(never.contains("larger than the whole cap of 5"), "{never}");
    }

    #[test]
    fn a_budget_line_names_a_fleet_share_apart_from_the_cap() {
        let now = 1_795_514_400_000;
        let mut cap = over(1_795_564_800_000).cap;
        assert_eq!(
            cap_line(&cap, now),
            "tenant \"demo\", purpose \"budget-demo\", class P0, window day: 0 of 5 remaining, \
             4 used (1 held by requests in flight); resets at 2026-11-25T00:00:00Z (in 14.0 h)"
        );
        cap.limit = 100;
        let line = cap_line(&cap, now);
        assert!(
            line.contains(
                "0 of this appliance's share of 5 (the cap allows 100 across the fleet) remaining"
            ),
            "{line}"
        );
    }

    #[test]
    fn a_spent_fleet_share_is_told_apart_from_the_cap_with_the_share_and_a_retry() {
        let mut share = over(1_795_564_800_000);
        share.reason = OverBudgetReason::FleetShare;
        share.cap.limit = 100;
        share.cap.granted = 5;
        let text = over_budget_paragraph(&share, 1_795_514_400_000);
        assert_eq!(
            text,
            "Over budget on this appliance, not verified and not charged: its share of the cap \
             for tenant \"demo\", purpose \"budget-demo\", class P0, window day, leased from its \
             fleet, is 5 of the 100 allowed per window; 4 used, 1 held by requests still being \
             verified, 0 remaining, and this request costs 1 (short by 1). The share ran out, or \
             the fleet could not lease it more: the cap itself may still have room. Retry in a \
             few seconds, or on another appliance of the fleet. If it persists: ask the operator."
        );
    }
}
