//! `appliance evidence export`: a tenant's receipts over a period, its budget statements and a
//! signed manifest, read from the ledger (alongside a running appliance, read-only).

use std::path::Path;

use tf_evidence::{Assembler, Closing, FolderSink, ReceiptEntry};
use tf_ledger::{Ledger, SqliteLedger};
use tf_receipts::ReceiptSigner;

/// What was exported.
pub struct Exported {
    /// Receipts written.
    pub receipts: u64,
    /// Budget units charged over the period.
    pub charged: u64,
    /// Receipts not yet in a log checkpoint; `None` when the appliance has no log yet.
    pub not_yet_logged: Option<usize>,
    /// Parts of the period pruned, and the snapshots that hold them.
    pub pruned: Vec<tf_evidence::PrunedPart>,
}

/// Writes the bundle into `out`, which must not exist or be empty, for `from_us < to_us`.
pub fn export(
    ledger: &SqliteLedger,
    signer: &mut ReceiptSigner,
    log_dir: &tf_log::LogDir,
    tenant: &str,
    from_us: u64,
    to_us: u64,
    out: &Path,
) -> anyhow::Result<Exported> {
    // The caller checked the period and that `out` is new or empty.
    std::fs::create_dir_all(out)?;
    let mut sink = FolderSink(out.to_owned());
    let mut bundle = Assembler::new(tenant, from_us, to_us, &mut sink);
    let mut write_error = None;
    ledger.receipts_between(tenant, from_us, to_us, &mut |stored| {
        let added = bundle.add_receipt(&ReceiptEntry {
            seq: stored.seq,
            envelope_json: &stored.envelope_json,
            purpose: &stored.purpose,
            dataset_class: &stored.dataset_class,
            verdict: &stored.verdict,
            charged: stored.charged,
        });
        if let Err(error) = added {
            write_error.get_or_insert(error);
        }
        Ok(())
    })?;
    if let Some(error) = write_error {
        return Err(error.into());
    }
    let charged = bundle.charged();
    let closing = Closing {
        log: Some(log_dir),
        pruned: super::pruned::pruned_parts(ledger, from_us, to_us)?,
        preview: false,
        now_us: tf_seam::clock::unix_micros(),
    };
    let manifest = bundle.finish(closing, signer)?;
    Ok(Exported {
        receipts: manifest.receipts.count,
        charged,
        not_yet_logged: manifest.log.as_ref().map(|l| l.not_yet_logged.len()),
        pruned: manifest.pruned,
    })
}
