//! `appliance evidence export`: a tenant's receipts over a period, its budget statements and a
//! signed manifest, read from the ledger (alongside a running appliance, read-only).

use std::path::Path;

use tf_evidence::{
    BUDGETS_FILE, BudgetStatements, FileDigest, MANIFEST_FILE, Manifest, PAYLOAD_TYPE,
    RECEIPTS_DIR, ReceiptRange, receipt_path, sha256_hex,
};
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
    std::fs::create_dir_all(out.join(RECEIPTS_DIR))?;
    let mut files = Vec::new();
    let mut seqs = Vec::new();
    let mut envelopes: Vec<(u64, String)> = Vec::new();
    let mut statements = BudgetStatements {
        tenant: tenant.to_owned(),
        from_unix_us: from_us,
        to_unix_us: to_us,
        lines: Vec::new(),
    };
    let mut write_error: Option<std::io::Error> = None;
    ledger.receipts_between(tenant, from_us, to_us, &mut |stored| {
        let path = receipt_path(stored.seq);
        let bytes = stored.envelope_json.as_bytes();
        if let Err(error) = std::fs::write(out.join(&path), bytes) {
            write_error.get_or_insert(error);
        }
        files.push(FileDigest {
            path,
            sha256: sha256_hex(bytes),
            bytes: bytes.len() as u64,
        });
        seqs.push(stored.seq);
        envelopes.push((stored.seq, stored.envelope_json.clone()));
        statements.add(
            &stored.purpose,
            &stored.dataset_class,
            &stored.verdict,
            stored.charged,
        );
        Ok(())
    })?;
    if let Some(error) = write_error {
        return Err(error.into());
    }
    statements.sort();
    let budgets = serde_json::to_vec_pretty(&statements)?;
    std::fs::write(out.join(BUDGETS_FILE), &budgets)?;
    files.push(FileDigest {
        path: BUDGETS_FILE.to_owned(),
        sha256: sha256_hex(&budgets),
        bytes: budgets.len() as u64,
    });
    let charged = statements.lines.iter().map(|l| l.charged).sum();
    let log = super::log_part::write(log_dir, &envelopes, out, &mut files)?;
    let pruned = super::log_part::pruned_parts(ledger, from_us, to_us)?;
    let manifest = Manifest {
        tenant: tenant.to_owned(),
        from_unix_us: from_us,
        to_unix_us: to_us,
        exported_at_unix_us: tf_seam::clock::unix_micros(),
        appliance_key_id: signer.key_id().as_str().to_owned(),
        receipts: ReceiptRange {
            count: seqs.len() as u64,
            seqs,
        },
        files,
        log,
        pruned,
    };
    let payload = serde_json::to_vec_pretty(&manifest)?;
    let envelope = signer.sign_payload(PAYLOAD_TYPE, payload);
    std::fs::write(out.join(MANIFEST_FILE), envelope.to_json())?;
    Ok(Exported {
        receipts: manifest.receipts.count,
        charged,
        not_yet_logged: manifest.log.as_ref().map(|l| l.not_yet_logged.len()),
        pruned: manifest.pruned,
    })
}
