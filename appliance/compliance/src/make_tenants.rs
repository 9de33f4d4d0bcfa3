//! Each tenant's part of the packet, streamed from the ledger one receipt at a time: its
//! receipts as issued, the charges, and the budget statements they add up to.

use std::borrow::Cow;
use std::io::Write;

use tf_evidence::BudgetStatements;
use tf_ledger::{Ledger, LedgerError, StoredReceipt};

use crate::error::{SnapshotError, io};
use crate::index::TenantSummary;
use crate::layout::{budgets_path, charges_path, receipts_path};
use crate::model::{ChargeLine, Period, SeqRange};
use crate::staging::{PacketFile, Staging};

/// What the tenants' parts hold in all.
pub(crate) struct Written {
    /// Each tenant with receipts in the period, sorted by name.
    pub(crate) tenants: Vec<TenantSummary>,
    /// First and last sequence numbers over every tenant.
    pub(crate) receipts: Option<SeqRange>,
}

/// Writes the part of every tenant with receipts in `period`. Every receipt must be in the
/// log's tree of `tree_size` entries.
pub(crate) fn write_tenants(
    staging: &mut Staging,
    ledger: &dyn Ledger,
    period: Period,
    tree_size: u64,
) -> Result<Written, SnapshotError> {
    let mut written = Written {
        tenants: Vec::new(),
        receipts: None,
    };
    for tenant in ledger.tenants()? {
        let Some(summary) = write_tenant(staging, ledger, &tenant, period, tree_size)? else {
            continue;
        };
        SeqRange::hold(&mut written.receipts, summary.seqs.first);
        SeqRange::hold(&mut written.receipts, summary.seqs.last);
        written.tenants.push(summary);
    }
    Ok(written)
}

/// One tenant's part; `None` (and no files) when it has no receipts in the period.
fn write_tenant(
    staging: &mut Staging,
    ledger: &dyn Ledger,
    tenant: &str,
    period: Period,
    tree_size: u64,
) -> Result<Option<TenantSummary>, SnapshotError> {
    let mut part: Option<TenantPart> = None;
    // The ledger's callback returns the ledger's error type: ours waits here, and the ledger
    // is stopped with a placeholder that is never shown.
    let mut failure: Option<SnapshotError> = None;
    let streamed =
        ledger.receipts_between(tenant, period.from_us(), period.to_us(), &mut |receipt| {
            let added = match &mut part {
                Some(part) => part.add(&receipt, tree_size),
                None => TenantPart::start(staging, tenant, period).and_then(|mut started| {
                    let added = started.add(&receipt, tree_size);
                    part = Some(started);
                    added
                }),
            };
            added.map_err(|error| {
                failure = Some(error);
                stopped()
            })
        });
    if let Some(failure) = failure {
        return Err(failure);
    }
    streamed?;
    match part {
        Some(part) => part.finish(staging).map(Some),
        None => Ok(None),
    }
}

/// The placeholder error that stops the ledger's stream when writing failed.
fn stopped() -> LedgerError {
    LedgerError::Storage {
        path: String::new(),
        source: "stopped by the snapshot writer".into(),
    }
}

/// A tenant's files being written, and what they add up to so far.
struct TenantPart {
    tenant: String,
    receipts: PacketFile,
    charges: PacketFile,
    statements: BudgetStatements,
    count: u64,
    charged: u64,
    seqs: Option<SeqRange>,
}

impl TenantPart {
    fn start(staging: &mut Staging, tenant: &str, period: Period) -> Result<Self, SnapshotError> {
        Ok(TenantPart {
            tenant: tenant.to_owned(),
            receipts: staging.create_gzip(&receipts_path(tenant))?,
            charges: staging.create_gzip(&charges_path(tenant))?,
            statements: BudgetStatements {
                tenant: tenant.to_owned(),
                from_unix_us: period.from_us(),
                to_unix_us: period.to_us(),
                lines: Vec::new(),
            },
            count: 0,
            charged: 0,
            seqs: None,
        })
    }

    fn add(&mut self, receipt: &StoredReceipt, tree_size: u64) -> Result<(), SnapshotError> {
        // Entry 0 is the log's genesis; a receipt's entry is its sequence number.
        if receipt.seq == 0 || receipt.seq >= tree_size {
            return Err(SnapshotError::NotYetLogged {
                seq: receipt.seq,
                tree_size,
            });
        }
        // The envelope as a JSON string: its exact bytes (which the log entry hashes) on one
        // line, though the envelope itself spans several.
        serde_json::to_writer(&mut self.receipts, receipt.envelope_json.as_str())
            .map_err(std::io::Error::from)
            .and_then(|()| self.receipts.write_all(b"\n"))
            .map_err(io(self.receipts.path()))?;
        if receipt.charged > 0 {
            let line = ChargeLine {
                seq: receipt.seq,
                decided_unix_us: receipt.decided_us,
                purpose: Cow::Borrowed(&receipt.purpose),
                dataset_class: Cow::Borrowed(&receipt.dataset_class),
                verdict: Cow::Borrowed(&receipt.verdict),
                charged: receipt.charged,
            };
            serde_json::to_writer(&mut self.charges, &line)
                .map_err(std::io::Error::from)
                .and_then(|()| self.charges.write_all(b"\n"))
                .map_err(io(self.charges.path()))?;
        }
        self.statements.add(
            &receipt.purpose,
            &receipt.dataset_class,
            &receipt.verdict,
            receipt.charged,
        );
        self.count += 1;
        self.charged += receipt.charged;
        SeqRange::hold(&mut self.seqs, receipt.seq);
        Ok(())
    }

    fn finish(mut self, staging: &mut Staging) -> Result<TenantSummary, SnapshotError> {
        staging.close(self.receipts)?;
        staging.close(self.charges)?;
        self.statements.sort();
        staging.write_json(&budgets_path(&self.tenant), &self.statements)?;
        let seqs = self
            .seqs
            .expect("a part is started by its first receipt, which sets the range");
        Ok(TenantSummary {
            tenant: self.tenant,
            receipts: self.count,
            charged: self.charged,
            seqs,
        })
    }
}
