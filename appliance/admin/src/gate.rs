//! The gate every request passes before routing: its `Host` must be one the server answers to,
//! and a request that may carry a body must come from a caller allowed to send it, decided from
//! its headers alone, before a byte of the body is read. Refusals close the connection with
//! the body unread. An admitted body must then arrive before its deadline.
//!
//! Only the routes the gate knows take bodies: the API's changes (from [`ROUTES`]) and the
//! console's forms. Any other method than GET or HEAD anywhere else is answered `not-found`
//! here, so a route added later cannot read bodies from anyone by mistake.

use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::HOST;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use tf_admin_api::{ErrorBody, ErrorCode, ROUTES};

use crate::api::{ApiError, ApiState, authorize};
use crate::console;
use crate::deadline;
use crate::hosts::AllowedHosts;

/// How long request headers may take to arrive; also the deadline of a console form's body,
/// which is tiny and, for the login, read before the caller is known.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// What the gate checks against.
pub struct Gate {
    /// The `Host` values answered.
    pub hosts: AllowedHosts,
    /// The deadline of an admitted API body (`[admin] body_timeout_ms`).
    pub body_timeout: Duration,
}

/// The middleware (`actix_web::middleware::from_fn(gate::check)`); needs [`Gate`] and
/// [`ApiState`] as app data.
pub async fn check(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (Some(gate), Some(state)) = (
        request.app_data::<web::Data<Gate>>().cloned(),
        request.app_data::<web::Data<ApiState>>().cloned(),
    ) else {
        // `serve` registers both; a server built without them must not answer at all.
        return Err(actix_web::error::ErrorInternalServerError(
            "the admin server's gate has no configuration",
        ));
    };
    if let Err(error) = gate.hosts.check(host(request.request())) {
        return Ok(request.into_response(ApiError(error).error_response()));
    }
    match admit(request.request(), &state, &gate) {
        Err(refusal) => Ok(request.into_response(refusal)),
        Ok(None) => Ok(next.call(request).await?.map_into_boxed_body()),
        Ok(Some(timeout)) => {
            let payload = request.take_payload();
            request.set_payload(deadline::limit(payload, timeout));
            Ok(next.call(request).await?.map_into_boxed_body())
        }
    }
}

/// The host a request names: its `Host` header, or for HTTP/2 its `:authority`.
fn host(request: &HttpRequest) -> Option<&str> {
    match request.headers().get(HOST) {
        Some(value) => value.to_str().ok(),
        None => request.uri().authority().map(|a| a.as_str()),
    }
}

/// `Ok(None)` for a request without a body to read (GET, HEAD), `Ok(Some(deadline))` for one
/// whose body may be read for that long, else the answer.
fn admit(
    request: &HttpRequest,
    state: &ApiState,
    gate: &Gate,
) -> Result<Option<Duration>, HttpResponse> {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return Ok(None);
    }
    let pattern = request.match_pattern();
    let route = ROUTES.iter().find(|r| {
        r.method.as_str() == request.method().as_str() && Some(r.path) == pattern.as_deref()
    });
    if let Some(route) = route {
        authorize(request, state, route.permission)
            .map_err(|error| ApiError(error).error_response())?;
        return Ok(Some(gate.body_timeout));
    }
    if *request.method() == Method::POST
        && let Some(caller) = console::form(request.path())
    {
        console::admit_form(request, state, caller, Instant::now())?;
        return Ok(Some(HEADER_TIMEOUT));
    }
    Err(ApiError(ErrorBody::new(
        ErrorCode::NotFound,
        format!("nothing at {} takes {}", request.path(), request.method()),
    ))
    .error_response())
}
