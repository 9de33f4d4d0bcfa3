//! `/metrics` lines for the disk the ledger and the transparency log live on: the ledger's
//! size, its growth per day and the days until the disk is full, and the log's latest
//! checkpoint. Read at each scrape through a read-only ledger connection (a few indexed
//! lookups), so they need no worker and say what the files say now.

use std::fmt::Write as _;
use std::path::PathBuf;

use tf_ledger::{Outlook, SqliteLedger};
use tf_log::LogDir;

/// Where the state lives, for the storage metrics.
#[derive(Clone, Debug)]
pub struct StoragePaths {
    /// The ledger file.
    pub ledger: PathBuf,
    /// The transparency log's directory.
    pub log: LogDir,
    /// `[ledger] retention`, microseconds.
    pub retention_us: u64,
}

/// Appends the storage metrics to a scrape; a value that cannot be read is left out (and
/// `trust_fabric_ledger_outlook_errors` says so) rather than failing the scrape.
pub fn render(paths: &StoragePaths, now_us: u64, out: &mut String) {
    let outlook = SqliteLedger::open_read_only(&paths.ledger)
        .map_err(|e| e.to_string())
        .and_then(|ledger| {
            let directory = paths.ledger.parent().unwrap_or(paths.ledger.as_path());
            let free = tf_ledger::free_bytes(directory).ok_or("free space unknown")?;
            Outlook::of(&ledger, now_us, free, Some(paths.retention_us)).map_err(|e| e.to_string())
        });
    gauge(
        out,
        "trust_fabric_ledger_outlook_errors",
        "1 when the ledger's size could not be read at this scrape.",
        u8::from(outlook.is_err()) as f64,
    );
    if let Ok(outlook) = outlook {
        gauge(
            out,
            "trust_fabric_ledger_size_bytes",
            "Bytes the ledger takes on disk (database and write-ahead log).",
            outlook.bytes as f64,
        );
        gauge(
            out,
            "trust_fabric_ledger_receipt_size_bytes",
            "Average bytes per stored receipt.",
            outlook.bytes_per_receipt,
        );
        gauge(
            out,
            "trust_fabric_ledger_growth_bytes_per_day",
            "Ledger growth per day at the rate of the last day.",
            outlook.bytes_per_day,
        );
        gauge(
            out,
            "trust_fabric_ledger_disk_free_bytes",
            "Free bytes on the ledger's filesystem.",
            outlook.free_bytes as f64,
        );
        gauge(
            out,
            "trust_fabric_ledger_disk_full_days",
            "Days until the ledger's disk is full at the current rate; +Inf when retention levels it off first or it does not grow.",
            outlook.days_until_full.unwrap_or(f64::INFINITY),
        );
    }
    if let Ok(Some(size)) = tf_log::checkpoint_size(&paths.log) {
        gauge(
            out,
            "trust_fabric_log_checkpoint_entries",
            "Entries in the transparency log's latest signed checkpoint.",
            size as f64,
        );
    }
}

/// One gauge with its help and type lines; +Inf written as Prometheus writes it.
pub(crate) fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    let value = match value {
        v if v == f64::INFINITY => "+Inf".to_owned(),
        v => format!("{v}"),
    };
    let _ = write!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
    );
}
