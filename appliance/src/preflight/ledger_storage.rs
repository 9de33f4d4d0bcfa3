//! The ledger's disk: its size, its growth per day at the recent rate, and the days until the
//! disk is full (or where retention levels it off), with a warning well before it fills.

use std::path::Path;

use tf_ledger::{Outlook, SqliteLedger};

use super::checks::{Check, Status, check};

/// Fewer days than this until the disk is full: warn.
const WARN_DAYS: f64 = 30.0;
/// Fewer than this: refuse to start (the ledger would stop taking receipts within a day).
const FAIL_DAYS: f64 = 1.0;
/// Less history than this is too little to forecast from: reported, not judged.
const MIN_HISTORY_US: u64 = 3_600_000_000;

/// Reads the ledger in `state_dir`, if there is one, and judges its outlook.
pub fn check_state_dir(state_dir: &Path, retention_us: u64) -> Check {
    let path = state_dir.join(tf_state::layout::LEDGER);
    if !path.exists() {
        return judge(None, retention_us);
    }
    let outlook = SqliteLedger::open_read_only(&path)
        .map_err(|e| e.to_string())
        .and_then(|ledger| {
            let free = tf_ledger::free_bytes(state_dir).ok_or("free space unknown")?;
            Outlook::of(
                &ledger,
                tf_seam::clock::unix_micros(),
                free,
                Some(retention_us),
            )
            .map_err(|e| e.to_string())
        });
    judge(Some(outlook), retention_us)
}

/// The check for an outlook (`None`: no ledger yet).
pub fn judge(outlook: Option<Result<Outlook, String>>, retention_us: u64) -> Check {
    let retention = tf_config::format_span_us(retention_us);
    let fix = format!(
        "free disk space, shorten [ledger] retention (now {retention}), or move the \
         state directory to a larger disk; receipts older than the retention are pruned once \
         a compliance snapshot holds them"
    );
    let outlook = match outlook {
        None => {
            return check(
                "ledger storage",
                Status::Pass,
                "no ledger yet (the first serve creates it)".into(),
                "",
            );
        }
        Some(Err(why)) => {
            return check(
                "ledger storage",
                Status::Warn,
                format!("cannot read the ledger's size: {why}"),
                "check that the state directory's ledger.sqlite is readable",
            );
        }
        Some(Ok(outlook)) => outlook,
    };
    let mut detail = format!(
        "{} ({:.0} B/receipt), growing {}/day, {} free",
        size(outlook.bytes as f64),
        outlook.bytes_per_receipt,
        size(outlook.bytes_per_day),
        size(outlook.free_bytes as f64)
    );
    let status = match outlook.days_until_full {
        None => {
            if let Some(steady) = outlook.steady_bytes {
                detail.push_str(&format!(
                    "; levels off near {} with {retention} retention",
                    size(steady)
                ));
            }
            Status::Pass
        }
        Some(days) if outlook.history_us < MIN_HISTORY_US => {
            detail.push_str(&format!(
                "; {days:.1} days to a full disk at the rate of the last {} minutes (too \
                 little history to judge)",
                outlook.history_us / 60_000_000
            ));
            Status::Pass
        }
        Some(days) => {
            detail.push_str(&format!(
                "; the disk is full in {days:.1} days at this rate"
            ));
            if days < FAIL_DAYS {
                Status::Fail
            } else if days < WARN_DAYS {
                Status::Warn
            } else {
                Status::Pass
            }
        }
    };
    check("ledger storage", status, detail, &fix)
}

/// Bytes in MiB or GiB.
fn size(bytes: f64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    const MIB: f64 = (1u64 << 20) as f64;
    if bytes >= GIB {
        format!("{:.1} GiB", bytes / GIB)
    } else {
        format!("{:.1} MiB", bytes / MIB)
    }
}

#[cfg(test)]
mod tests {
    use tf_ledger::{DAY_US, Sample};

    use super::*;

    fn outlook(free_bytes: u64, retention_days: u64) -> Outlook {
        Outlook::estimate(Sample {
            used_bytes: 1 << 30,
            reusable_bytes: 0,
            wal_bytes: 0,
            receipts: 6_000_000,
            recent_receipts: 6_000_000,
            recent_span_us: DAY_US,
            free_bytes,
            retention_us: Some(retention_days * DAY_US),
        })
    }

    #[test]
    fn a_disk_that_fills_soon_warns_then_fails() {
        // About 1 GiB a day.
        let roomy = judge(Some(Ok(outlook(100 << 30, 30))), 30 * DAY_US);
        assert_eq!(roomy.status, Status::Pass, "{roomy:?}");
        assert!(roomy.detail.contains("levels off near"), "{}", roomy.detail);
        let tight = judge(Some(Ok(outlook(10 << 30, 30))), 30 * DAY_US);
        assert_eq!(tight.status, Status::Warn, "{tight:?}");
        assert!(
            tight.detail.contains("the disk is full in 10.0 days"),
            "{}",
            tight.detail
        );
        assert!(tight.fix.contains("retention (now 30d)"), "{}", tight.fix);
        let full = judge(Some(Ok(outlook(100 << 20, 30))), 30 * DAY_US);
        assert_eq!(full.status, Status::Fail, "{full:?}");
    }

    #[test]
    fn too_little_history_is_reported_not_judged() {
        let mut short = outlook(10 << 30, 30);
        short.history_us = 600_000_000;
        let judged = judge(Some(Ok(short)), 30 * DAY_US);
        assert_eq!(judged.status, Status::Pass, "{judged:?}");
        assert!(
            judged.detail.contains("too little history"),
            "{}",
            judged.detail
        );
    }

    #[test]
    fn no_ledger_yet_passes_and_an_unreadable_one_warns() {
        assert_eq!(judge(None, DAY_US).status, Status::Pass);
        assert_eq!(
            judge(Some(Err("locked".into())), DAY_US).status,
            Status::Warn
        );
    }
}
