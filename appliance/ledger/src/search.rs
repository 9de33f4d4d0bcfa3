//! Searching stored receipts: one statement built for the filters given, walking the one
//! index that yields matching receipts in the order answered (newest first: decision time,
//! then sequence number), so a page reads about as many receipts as it returns. The index is
//! named (`INDEXED BY`), so the plan does not depend on statistics SQLite may not have.

use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use crate::error::storage_error;
use crate::read::{COLUMNS, JOINS, record, sql_int};
use crate::{LedgerError, LedgerRecord, ReceiptSearch};

/// Runs `search`.
pub(crate) fn run(
    connection: &Connection,
    path: &Path,
    search: &ReceiptSearch,
) -> Result<Vec<LedgerRecord>, LedgerError> {
    let storage = storage_error(path);
    let (sql, values) = statement(search);
    let mut query = connection.prepare_cached(&sql).map_err(&storage)?;
    let mut rows = query.query(params_from_iter(values)).map_err(&storage)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next().map_err(&storage)? {
        records.push(record(row, path)?);
    }
    Ok(records)
}

/// The index a search walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Drive {
    /// `receipts_by_tenant_request`: a request id's few receipts, then sorted.
    Request,
    /// `receipts_by_tenant_time`: a tenant's receipts, in order.
    TenantTime,
    /// `receipts_not_valid_by_verdict_time`: the receipts of a verdict other than `valid`,
    /// in order.
    VerdictTime,
    /// `receipts_by_time`: every receipt, in order.
    Time,
}

impl Drive {
    /// The index that serves `search` best.
    pub(crate) fn of(search: &ReceiptSearch) -> Drive {
        let not_valid = search.verdict.as_deref().is_some_and(|v| v != "valid");
        match &search.tenant {
            _ if search.request_id.is_some() => Drive::Request,
            // Verdicts other than `valid` are few: a tenant's are found among them rather
            // than among all of its receipts.
            _ if not_valid => Drive::VerdictTime,
            Some(_) => Drive::TenantTime,
            // Valid receipts are nearly all of them: walking every receipt in order finds a
            // page of them at once.
            None => Drive::Time,
        }
    }

    fn index(self) -> &'static str {
        match self {
            Drive::Request => "receipts_by_tenant_request",
            Drive::TenantTime => "receipts_by_tenant_time",
            Drive::VerdictTime => "receipts_not_valid_by_verdict_time",
            Drive::Time => "receipts_by_time",
        }
    }
}

/// The statement for `search` and its values (`?1`, `?2`, ... in order).
pub(crate) fn statement(search: &ReceiptSearch) -> (String, Vec<Value>) {
    let drive = Drive::of(search);
    let mut conditions: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut bind = |value: Value| {
        values.push(value);
        format!("?{}", values.len())
    };
    match &search.tenant {
        Some(tenant) => conditions.push(format!(
            "r.tenant = (SELECT id FROM tenant_names WHERE name = {})",
            bind(Value::Text(tenant.clone()))
        )),
        // The request index starts with the tenant: every tenant's part of it is looked in.
        None if drive == Drive::Request => {
            conditions.push("r.tenant IN (SELECT id FROM tenant_names)".to_owned());
        }
        None => {}
    }
    if let Some(id) = search.request_id {
        // Stored as the i64 of the u64's bits.
        conditions.push(format!(
            "r.request_id = {}",
            bind(Value::Integer(id as i64))
        ));
    }
    if let Some(verdict) = &search.verdict {
        conditions.push(format!(
            "r.verdict = (SELECT id FROM verdict_names WHERE name = {})",
            bind(Value::Text(verdict.clone()))
        ));
    }
    if drive == Drive::VerdictTime {
        // What the partial index holds, said so the planner may walk it.
        conditions.push("r.reason IS NOT NULL".to_owned());
    }
    if let Some(from) = search.from_us {
        conditions.push(format!(
            "r.decided_us >= {}",
            bind(Value::Integer(sql_int(from)))
        ));
    }
    if let Some(to) = search.to_us {
        conditions.push(format!(
            "r.decided_us < {}",
            bind(Value::Integer(sql_int(to)))
        ));
    }
    if let Some(after) = search.after {
        // Older, or as old with a lower number: the first term bounds the walk, the second
        // skips the receipts of that microsecond already shown.
        let decided = bind(Value::Integer(sql_int(after.decided_us)));
        let seq = bind(Value::Integer(sql_int(after.seq)));
        conditions.push(format!(
            "r.decided_us <= {decided} AND (r.decided_us < {decided} OR r.seq < {seq})"
        ));
    }
    let limit = bind(Value::Integer(
        i64::try_from(search.limit).unwrap_or(i64::MAX),
    ));
    let filter = match conditions.is_empty() {
        true => String::new(),
        false => format!("WHERE {} ", conditions.join(" AND ")),
    };
    let sql = format!(
        "{COLUMNS}FROM receipts r INDEXED BY {index} {JOINS}{filter}\
         ORDER BY r.decided_us DESC, r.seq DESC LIMIT {limit}",
        index = drive.index()
    );
    (sql, values)
}

#[cfg(test)]
mod tests {
    use rusqlite::params_from_iter;

    use super::*;
    use crate::{Place, SqliteLedger};

    /// Every shape of search: each filter alone, with the others, and with a page's place.
    fn shapes() -> Vec<ReceiptSearch> {
        let mut shapes = Vec::new();
        for mask in 0u32..64 {
            let has = |bit: u32| mask & (1 << bit) != 0;
            shapes.push(ReceiptSearch {
                tenant: has(0).then(|| "acme".to_owned()),
                from_us: has(1).then_some(1_000),
                to_us: has(2).then_some(9_000),
                request_id: has(3).then_some(7),
                verdict: has(4).then(|| if has(1) { "valid" } else { "invalid" }.to_owned()),
                after: has(5).then_some(Place {
                    decided_us: 5_000,
                    seq: 12,
                }),
                limit: 50,
            });
        }
        shapes
    }

    #[test]
    fn every_search_walks_its_index_in_order_and_only_a_request_ids_few_are_sorted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("open");
        for search in shapes() {
            let drive = Drive::of(&search);
            let (sql, values) = statement(&search);
            let mut plan = ledger
                .connection()
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plans");
            let details: Vec<String> = plan
                .query_map(params_from_iter(values), |row| row.get::<_, String>(3))
                .expect("plan rows")
                .collect::<Result<_, _>>()
                .expect("plan");
            let plan = details.join("\n");
            let walk = details
                .iter()
                .find(|d| d.contains(" r "))
                .unwrap_or_else(|| panic!("{search:?}: no step over receipts: {plan}"));
            assert!(
                walk.contains(&format!("INDEX {}", drive.index())),
                "{search:?}: {plan}"
            );
            // A search with any filter seeks in its index rather than walking all of it.
            let filtered = search.tenant.is_some()
                || search.verdict.is_some()
                || search.request_id.is_some()
                || search.from_us.is_some()
                || search.to_us.is_some()
                || search.after.is_some();
            if filtered {
                assert!(walk.starts_with("SEARCH"), "{search:?}: {plan}");
            }
            assert_eq!(
                plan.contains("TEMP B-TREE"),
                drive == Drive::Request,
                "{search:?}: {plan}"
            );
        }
    }

    #[test]
    fn a_tenants_rare_verdicts_are_found_among_that_verdicts_receipts() {
        let search = |verdict: &str| ReceiptSearch {
            tenant: Some("acme".into()),
            verdict: Some(verdict.into()),
            ..ReceiptSearch::default()
        };
        assert_eq!(Drive::of(&search("valid")), Drive::TenantTime);
        assert_eq!(Drive::of(&search("invalid")), Drive::VerdictTime);
        assert_eq!(Drive::of(&search("rejected")), Drive::VerdictTime);
    }
}
