//! `GET /api/v1/openapi.json`: the OpenAPI document `tf_admin_api` builds from the route table
//! and the body types, served as it is.

use std::sync::OnceLock;

use actix_web::{HttpRequest, HttpResponse, web};
use tf_admin_api::{ErrorBody, ErrorCode};

use super::{ApiError, ApiState, authorize};
use crate::auth::Permission;

/// `GET /api/v1/openapi.json`.
pub(super) async fn openapi(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &state, Permission::Read)?;
    let text = document()
        .as_ref()
        .map_err(|e| ErrorBody::new(ErrorCode::Internal, e.clone()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(text.as_str()))
}

/// The document's text, built once.
fn document() -> &'static Result<String, String> {
    static TEXT: OnceLock<Result<String, String>> = OnceLock::new();
    TEXT.get_or_init(|| {
        tf_admin_api::openapi::document()
            .to_pretty_json()
            .map_err(|e| format!("the OpenAPI document did not serialise: {e}"))
    })
}
