//! `GET /api/v1/receipts`: stored receipts found by tenant, decision time, request id and
//! verdict, newest first, a page at a time. Each search opens a read-only connection of its
//! own on a blocking thread, so a long one holds up neither the admin server nor the ledger's
//! writer; at most [`MAX_SEARCHES`] run at once (more are answered `busy`). The `*_value`
//! function is shared with the console.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{HttpRequest, web};
use tf_admin_api::{ErrorBody, ErrorCode, ReceiptsQuery, ReceiptsReply};
use tf_ledger::{Ledger, ReceiptSearch, SqliteLedger};

use super::{Answer, ApiState, authorize, convert, extracted};
use crate::auth::Permission;

/// Searches run at once.
pub const MAX_SEARCHES: usize = 2;

/// The page of receipts `query` asks for.
pub async fn search_receipts_value(
    state: &ApiState,
    query: &ReceiptsQuery,
) -> Result<ReceiptsReply, ErrorBody> {
    let Some(ledger) = state.ledger.clone() else {
        return Err(ErrorBody::new(
            ErrorCode::Internal,
            "this admin server has no ledger to search",
        ));
    };
    let running = Running::start(state)?;
    let query = query.clone();
    let found = actix_web::rt::task::spawn_blocking(move || {
        let _running = running;
        one_page(&ledger, &query)
    })
    .await;
    found.unwrap_or_else(|_| Err(internal("the search stopped before it ended")))
}

/// `GET /api/v1/receipts`.
pub(super) async fn search(
    request: HttpRequest,
    state: web::Data<ApiState>,
    query: Result<web::Query<ReceiptsQuery>, actix_web::Error>,
) -> Answer<ReceiptsReply> {
    authorize(&request, &state, Permission::ReadReceipts)?;
    let query = extracted("the query", query)?;
    Ok(web::Json(search_receipts_value(&state, &query).await?))
}

/// Runs `query` on a read-only connection to the ledger at `path`: one page, and where the
/// next one starts if there is one.
fn one_page(path: &Path, query: &ReceiptsQuery) -> Result<ReceiptsReply, ErrorBody> {
    let ledger = SqliteLedger::open_read_only(path).map_err(|e| internal(&e.to_string()))?;
    let after = match query.before {
        None => None,
        Some(seq) => match ledger.receipt(seq).map_err(|e| internal(&e.to_string()))? {
            Some((_, stored)) => Some(stored.place()),
            None => {
                return Err(ErrorBody::new(
                    ErrorCode::BadRequest,
                    format!(
                        "before: no stored receipt has ledger sequence number {seq}: pass the \
                         previous page's next_before"
                    ),
                ));
            }
        },
    };
    let page = query.page_size() as usize;
    let mut found = ledger
        .search_receipts(&ReceiptSearch {
            tenant: query.tenant.as_ref().map(|t| t.0.clone()),
            from_us: query.from.map(|t| t.unix_micros()),
            to_us: query.to.map(|t| t.unix_micros()),
            request_id: query.request_id,
            verdict: query.verdict.map(|v| v.name().to_owned()),
            after,
            // One more than a page: whether there is a next one.
            limit: page + 1,
        })
        .map_err(|e| internal(&e.to_string()))?;
    let more = found.len() > page;
    found.truncate(page);
    Ok(ReceiptsReply {
        next_before: found.last().filter(|_| more).map(|last| last.seq()),
        receipts: found
            .iter()
            .map(|record| convert::receipt(&record.tenant, &record.receipt))
            .collect(),
    })
}

fn internal(what: &str) -> ErrorBody {
    tracing::error!(error = what, "a receipt search failed");
    ErrorBody::new(ErrorCode::Internal, format!("the ledger: {what}"))
}

/// A search counted in [`ApiState::searches`] until dropped (on the blocking thread, when the
/// search ends, even if its caller went away).
/// One read on a blocking thread (a receipt search, the scenario results, the fleet's
/// status), counted while it runs.
pub(super) struct Running {
    searches: Arc<AtomicUsize>,
}

impl Running {
    /// Counts a read, or answers `busy` when [`MAX_SEARCHES`] already run.
    pub(super) fn start(state: &ApiState) -> Result<Running, ErrorBody> {
        let searches = state.searches.clone();
        if searches.fetch_add(1, Ordering::AcqRel) >= MAX_SEARCHES {
            searches.fetch_sub(1, Ordering::AcqRel);
            return Err(ErrorBody::new(
                ErrorCode::Busy,
                format!(
                    "{MAX_SEARCHES} searches (receipts, scenario results, the fleet's status) are \
                     running: retry in a few seconds"
                ),
            ));
        }
        Ok(Running { searches })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.searches.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests;
