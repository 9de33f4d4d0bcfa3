//! Where the ledger's disk is heading: its size, its growth per day at the recent rate, and
//! the days until the disk is full — or the size it levels off at when retention prunes as
//! fast as it fills. For `appliance preflight` and `/metrics`.

use crate::{Ledger, LedgerError};

/// Microseconds in a day.
pub const DAY_US: u64 = 86_400_000_000;

/// The ledger's storage outlook.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outlook {
    /// Bytes the ledger takes (database pages in use and the write-ahead log).
    pub bytes: u64,
    /// Bytes one receipt takes, on average over those stored.
    pub bytes_per_receipt: f64,
    /// Growth per day at the rate of the last day (or of the history there is, if shorter).
    pub bytes_per_day: f64,
    /// Free bytes on the ledger's filesystem.
    pub free_bytes: u64,
    /// What the ledger levels off at with this retention (growth × retention), if any.
    pub steady_bytes: Option<f64>,
    /// Days until the disk is full at this rate; `None` when it never fills (no growth, or
    /// retention levels the ledger off within the free space).
    pub days_until_full: Option<f64>,
    /// The history the rate was measured over, microseconds (at most a day): a rate from a
    /// few minutes of traffic is a poor forecast.
    pub history_us: u64,
}

impl Outlook {
    /// Reads the ledger's size and recent rate at `now_us`, with `free_bytes` on its disk and
    /// receipts kept `retention_us` (`None`: kept for ever).
    pub fn of(
        ledger: &dyn Ledger,
        now_us: u64,
        free_bytes: u64,
        retention_us: Option<u64>,
    ) -> Result<Outlook, LedgerError> {
        let stats = ledger.storage()?;
        let free_pages_bytes = stats.free_pages * stats.page_size;
        let used = stats.file_bytes.saturating_sub(free_pages_bytes);
        // The rate over the last day, or over the history there is when it is shorter.
        let span_us = match ledger.oldest_retained()? {
            Some((_, oldest_us)) => now_us.saturating_sub(oldest_us).clamp(1, DAY_US),
            None => DAY_US,
        };
        let recent = ledger.decided_since(now_us.saturating_sub(span_us))?;
        Ok(Outlook::estimate(Sample {
            used_bytes: used,
            reusable_bytes: free_pages_bytes,
            wal_bytes: stats.wal_bytes,
            receipts: stats.receipts,
            recent_receipts: recent,
            recent_span_us: span_us,
            free_bytes,
            retention_us,
        }))
    }

    /// The outlook from one sample (pure, for tests).
    pub fn estimate(sample: Sample) -> Outlook {
        let bytes_per_receipt = match sample.receipts {
            0 => 0.0,
            n => sample.used_bytes as f64 / n as f64,
        };
        let per_day =
            sample.recent_receipts as f64 * (DAY_US as f64 / sample.recent_span_us.max(1) as f64);
        let bytes_per_day = bytes_per_receipt * per_day;
        let steady_bytes = sample
            .retention_us
            .map(|retention| bytes_per_day * retention as f64 / DAY_US as f64);
        // Room left: the free disk, plus pages pruning freed inside the file.
        let room = (sample.free_bytes + sample.reusable_bytes) as f64;
        let days_until_full = match steady_bytes {
            _ if bytes_per_day <= 0.0 => None,
            Some(steady) if steady <= sample.used_bytes as f64 + room => None,
            _ => Some(room / bytes_per_day),
        };
        Outlook {
            bytes: sample.used_bytes + sample.reusable_bytes + sample.wal_bytes,
            bytes_per_receipt,
            bytes_per_day,
            free_bytes: sample.free_bytes,
            steady_bytes,
            days_until_full,
            history_us: sample.recent_span_us,
        }
    }
}

/// What an outlook is estimated from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Database bytes holding data.
    pub used_bytes: u64,
    /// Database bytes in free pages (reused before the file grows).
    pub reusable_bytes: u64,
    /// The write-ahead log's size.
    pub wal_bytes: u64,
    /// Receipts stored.
    pub receipts: u64,
    /// Receipts decided within the recent span.
    pub recent_receipts: u64,
    /// The recent span, microseconds.
    pub recent_span_us: u64,
    /// Free bytes on the filesystem.
    pub free_bytes: u64,
    /// How long receipts are kept, if pruned.
    pub retention_us: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sample {
        Sample {
            used_bytes: 170_000_000,
            reusable_bytes: 0,
            wal_bytes: 0,
            receipts: 1_000_000,
            recent_receipts: 1_000_000,
            recent_span_us: DAY_US,
            free_bytes: 1_700_000_000,
            retention_us: None,
        }
    }

    #[test]
    fn without_retention_the_disk_fills_at_the_recent_rate() {
        let outlook = Outlook::estimate(sample());
        assert_eq!(outlook.bytes_per_receipt, 170.0);
        assert_eq!(outlook.bytes_per_day, 170_000_000.0);
        assert_eq!(outlook.days_until_full, Some(10.0));
    }

    #[test]
    fn a_shorter_history_is_scaled_to_a_day() {
        let outlook = Outlook::estimate(Sample {
            recent_receipts: 1_000,
            recent_span_us: DAY_US / 1000,
            ..sample()
        });
        assert_eq!(outlook.bytes_per_day, 170_000_000.0);
    }

    #[test]
    fn retention_that_levels_off_within_the_disk_never_fills_it() {
        let within = Outlook::estimate(Sample {
            retention_us: Some(5 * DAY_US),
            ..sample()
        });
        assert_eq!(within.steady_bytes, Some(850_000_000.0));
        assert_eq!(within.days_until_full, None);
        let beyond = Outlook::estimate(Sample {
            retention_us: Some(30 * DAY_US),
            ..sample()
        });
        assert_eq!(beyond.days_until_full, Some(10.0));
    }

    #[test]
    fn an_idle_ledger_never_fills_the_disk() {
        let outlook = Outlook::estimate(Sample {
            recent_receipts: 0,
            ..sample()
        });
        assert_eq!(outlook.days_until_full, None);
    }
}
