//! `GET /api/v1/receipts/{seq}`: a stored receipt by ledger sequence number. The `*_value`
//! function is shared with the console.

use actix_web::{HttpRequest, web};
use tf_admin_api::{ErrorBody, ErrorCode, ReceiptPath, ReceiptReply};
use tf_control::bundles as messages;

use super::{Answer, ApiState, ask_book, authorize, convert, extracted};
use crate::auth::Permission;

/// The stored receipt with ledger sequence number `seq`.
pub async fn receipt_value(state: &ApiState, seq: u64) -> Result<ReceiptReply, ErrorBody> {
    let found = ask_book(state, messages::Receipt { seq }).await?;
    let Some((tenant, stored)) = found else {
        return Err(ErrorBody::new(
            ErrorCode::NotFound,
            format!("no receipt has ledger sequence number {seq}"),
        ));
    };
    Ok(convert::receipt(&tenant, &stored))
}

/// `GET /api/v1/receipts/{seq}`.
pub(super) async fn receipt(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: Result<web::Path<ReceiptPath>, actix_web::Error>,
) -> Answer<ReceiptReply> {
    authorize(&request, &state, Permission::ReadReceipts)?;
    let path = extracted("the sequence number in the path", path)?;
    Ok(web::Json(receipt_value(&state, path.seq).await?))
}
