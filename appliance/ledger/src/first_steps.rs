//! A partner's first steps as its receipts show them: its first valid sandbox receipt and its
//! first valid receipt for another purpose, looked for among its earliest receipts only, so
//! the cost is bounded however many receipts it has since (onboarding comes first).

use rusqlite::params;

use crate::{LedgerError, SqliteLedger};

/// What a tenant's earliest receipts show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FirstReceipts {
    /// Its first valid receipt for the sandbox purpose.
    pub sandbox: Option<u64>,
    /// Its first valid receipt for any other purpose.
    pub other: Option<u64>,
    /// How many receipts were looked at (fewer than asked: all it has kept).
    pub scanned: u64,
}

impl SqliteLedger {
    /// The first valid receipts of `tenant` for purpose `sandbox` and for any other, among
    /// its `scan` earliest receipts kept.
    pub fn first_valid_receipts(
        &self,
        tenant: &str,
        sandbox: &str,
        scan: u32,
    ) -> Result<FirstReceipts, LedgerError> {
        let read = || -> rusqlite::Result<FirstReceipts> {
            let mut query = self.connection().prepare_cached(
                "SELECT r.seq, p.name, v.name FROM ( \
                     SELECT seq, purpose, verdict FROM receipts \
                     WHERE tenant = (SELECT id FROM tenant_names WHERE name = ?1) \
                     ORDER BY decided_us LIMIT ?2) r \
                 LEFT JOIN purpose_names p ON p.id = r.purpose \
                 LEFT JOIN verdict_names v ON v.id = r.verdict \
                 ORDER BY r.seq",
            )?;
            let mut rows = query.query(params![tenant, i64::from(scan)])?;
            let mut found = FirstReceipts::default();
            while let Some(row) = rows.next()? {
                found.scanned += 1;
                let seq = row.get::<_, i64>(0)? as u64;
                let purpose: Option<String> = row.get(1)?;
                let verdict: Option<String> = row.get(2)?;
                if verdict.as_deref() != Some("valid") {
                    continue;
                }
                let slot = if purpose.as_deref() == Some(sandbox) {
                    &mut found.sandbox
                } else {
                    &mut found.other
                };
                slot.get_or_insert(seq);
            }
            Ok(found)
        };
        read().map_err(|e| self.failed(e))
    }
}
