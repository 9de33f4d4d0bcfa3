//! A partner's evidence preview: the bundle an auditor would get (`appliance evidence
//! export`), over the receipts of sandbox submissions the partner names, signed by the
//! appliance key and marked as a preview, with the log's inclusion proofs and the budget
//! statements. Made in memory and sent over QUIC; the partner checks it as an auditor does.

use tf_evidence::{Assembler, Closing, EvidenceFiles, ReceiptEntry};
use tf_seam::clock::unix_micros;
use tf_wire::{
    ErrorCode, EvidenceFile, EvidencePreview, EvidencePreviewQuery, MAX_PREVIEW_RECEIPTS, Message,
};

use crate::desk::DeskWorker;

/// Answers a tenant's `EvidencePreviewQuery`.
pub(crate) async fn answer(
    desk: &DeskWorker,
    tenant: &str,
    query: &EvidencePreviewQuery,
) -> Result<Message, ErrorCode> {
    let mut seqs = query.receipts.clone();
    seqs.sort_unstable();
    seqs.dedup();
    if seqs.is_empty() || seqs.len() > MAX_PREVIEW_RECEIPTS {
        return Err(ErrorCode::Malformed {
            detail: format!(
                "name 1 to {MAX_PREVIEW_RECEIPTS} receipts of your sandbox submissions \
                 (their ledger_seq)"
            ),
        });
    }
    let internal = |error: &dyn std::fmt::Display| {
        tracing::error!(%error, tenant, "making a partner's evidence preview failed");
        ErrorCode::Internal
    };
    let mut receipts = Vec::with_capacity(seqs.len());
    for seq in seqs {
        let found = desk.ledger.receipt(seq).map_err(|e| internal(&e))?;
        match found {
            Some((owner, receipt))
                if owner == tenant && receipt.purpose == tf_budgets::SANDBOX_PURPOSE =>
            {
                receipts.push(receipt);
            }
            _ => {
                return Err(ErrorCode::Denied {
                    reason: format!(
                        "receipt {seq} is not one of your sandbox submissions' (purpose \
                         sandbox) in the ledger: a preview covers those only"
                    ),
                });
            }
        }
    }
    let from_us = receipts.iter().map(|r| r.decided_us).min().unwrap_or(0);
    let to_us = receipts.iter().map(|r| r.decided_us).max().unwrap_or(0) + 1;
    let mut files = EvidenceFiles::default();
    let mut bundle = Assembler::new(tenant, from_us, to_us, &mut files);
    for receipt in &receipts {
        bundle
            .add_receipt(&ReceiptEntry {
                seq: receipt.seq,
                envelope_json: &receipt.envelope_json,
                purpose: &receipt.purpose,
                dataset_class: &receipt.dataset_class,
                verdict: &receipt.verdict,
                charged: receipt.charged,
            })
            .map_err(|e| internal(&e))?;
    }
    let closing = Closing {
        log: desk.log_dir.as_ref(),
        pruned: Vec::new(),
        preview: true,
        now_us: unix_micros(),
    };
    bundle
        .finish(closing, &mut desk.signer.borrow_mut())
        .map_err(|e| internal(&e))?;
    Ok(Message::EvidencePreview(EvidencePreview {
        request_id: query.request_id,
        files: files
            .iter()
            .map(|(path, bytes)| EvidenceFile {
                path: path.to_owned(),
                bytes: bytes.to_vec(),
            })
            .collect(),
    }))
}
