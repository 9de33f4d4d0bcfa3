//! The ops console: server-rendered pages on the admin server, over the same data and
//! permissions as the admin API. A token is exchanged at login for an HttpOnly, SameSite=Strict
//! session cookie; every change carries the session's CSRF token (forms in a hidden field, the
//! upload script in `X-CSRF-Token`). Its CSS and script are served from the binary: nothing is
//! fetched from elsewhere.

mod canary;
mod charts;
mod compliance;
mod fleet;
mod html;
mod invites;
mod overview;
mod pages;
mod partners;
mod receipts;
mod scenarios;
mod webhooks;

use std::time::Instant;

use actix_web::error::{InternalError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{LOCATION, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use html::{esc, page};
use serde::Deserialize;
use tf_admin_api::ErrorBody;

use crate::api::{ApiState, authenticate, console_session, session_id, status_of};
use crate::auth::Permission;
use crate::session::{self, COOKIE, Session};
use crate::throttle::retry_after_seconds;

/// The largest form read: a login carries a 64-character token, the others a CSRF token and
/// a reason (at most 2000 characters, percent-encoded); adding a webhook endpoint also its URL
/// and up to 1000 tenant ids.
const FORM_LIMIT: usize = 96 * 1024;

const CSS: &str = include_str!("console.css");
const JS: &str = include_str!("console.js");

/// Who may post one of the console's forms, as the gate checks it before reading the form.
#[derive(Clone, Copy, Debug)]
pub enum FormCaller {
    /// Anyone not blocked by the login throttle (the login itself).
    Anyone,
    /// A logged-in user whose roles allow this, if anything is named.
    Session(Option<Permission>),
}

/// The console's form routes (all `POST`), and who may post each.
pub fn form(path: &str) -> Option<FormCaller> {
    match path {
        "/console/login" => Some(FormCaller::Anyone),
        "/console/logout" => Some(FormCaller::Session(None)),
        "/console/rollback" => Some(FormCaller::Session(Some(Permission::Rollback))),
        "/console/compliance/snapshot" => Some(FormCaller::Session(Some(Permission::Snapshot))),
        "/console/canary/run" => Some(FormCaller::Session(Some(Permission::Canary))),
        "/console/webhooks/add" => Some(FormCaller::Session(Some(Permission::Webhooks))),
        "/console/invites/create" => Some(FormCaller::Session(Some(Permission::Invite))),
        _ if numbered(path, "/console/invites/", &["/revoke"])
            || numbered(path, "/console/partners/requests/", &["/grant", "/decline"]) =>
        {
            Some(FormCaller::Session(Some(Permission::Invite)))
        }
        _ if numbered(path, "/console/webhooks/", &["/change", "/replay"]) => {
            Some(FormCaller::Session(Some(Permission::Webhooks)))
        }
        _ => None,
    }
}

/// Whether `path` is `prefix`, a number, then one of `suffixes`
/// (`/console/invites/{id}/revoke`).
fn numbered(path: &str, prefix: &str, suffixes: &[&str]) -> bool {
    let Some(rest) = path.strip_prefix(prefix) else {
        return false;
    };
    suffixes.iter().any(|suffix| {
        rest.strip_suffix(suffix)
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Whether `caller` may post a form, from the request's headers; else the page to answer.
pub fn admit_form(
    request: &HttpRequest,
    state: &ApiState,
    caller: FormCaller,
    now: Instant,
) -> Result<(), HttpResponse> {
    match caller {
        FormCaller::Anyone => {
            let source = crate::throttle::Source::of(request.peer_addr());
            match state.throttle.sources.check(&source, now) {
                Ok(()) => Ok(()),
                Err(wait) => Err(too_many_attempts(retry_after_seconds(wait))),
            }
        }
        FormCaller::Session(permission) => {
            let session = logged_in(request, state)?;
            match permission {
                Some(permission) if !session.principal.may(permission) => Err(forbidden(&format!(
                    "{} may not {}",
                    session.principal.name,
                    permission.describe()
                ))),
                _ => Ok(()),
            }
        }
    }
}

/// Registers the console's routes, and answers any other address (outside `/api`) with a
/// page that leads back to the console; so is a console address whose path or query does not
/// parse (the API's routes answer those in their own words).
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .app_data(
            web::FormConfig::default()
                .limit(FORM_LIMIT)
                .error_handler(form_error),
        )
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .default_service(web::to(not_found))
        .route("/", web::get().to(to_console))
        .route("/console", web::get().to(overview::show))
        .route(
            "/console/overview/history",
            web::get().to(overview::history),
        )
        .route("/console/login", web::get().to(login_form))
        .route("/console/login", web::post().to(login))
        .route("/console/logout", web::post().to(logout))
        .route("/console/tenants", web::get().to(pages::tenants))
        .route("/console/bundles", web::get().to(pages::bundles))
        .route(
            "/console/bundles/{revision}/diff",
            web::get().to(pages::diff),
        )
        .route("/console/rollback", web::get().to(pages::confirm_rollback))
        .route("/console/rollback", web::post().to(pages::rollback))
        .route("/console/receipts", web::get().to(receipts::search))
        .route("/console/receipt", web::get().to(receipts::one))
        .route("/console/compliance", web::get().to(compliance::snapshots))
        .route(
            "/console/compliance/snapshot",
            web::post().to(compliance::ask),
        )
        .route("/console/scenarios", web::get().to(scenarios::packs))
        .route("/console/canary", web::get().to(canary::status))
        .route("/console/canary/run", web::post().to(canary::run))
        .route("/console/webhooks", web::get().to(webhooks::endpoints))
        .route("/console/webhooks/add", web::post().to(webhooks::add))
        .route(
            "/console/webhooks/{id}",
            web::get().to(webhooks::deliveries),
        )
        .route(
            "/console/webhooks/{id}/change",
            web::post().to(webhooks::change),
        )
        .route(
            "/console/webhooks/{id}/replay",
            web::post().to(webhooks::replay),
        )
        .route("/console/invites", web::get().to(invites::list))
        .route("/console/invites/create", web::post().to(invites::create))
        .route(
            "/console/invites/{id}/revoke",
            web::post().to(invites::revoke),
        )
        .route("/console/partners", web::get().to(partners::list))
        .route(
            "/console/partners/requests/{id}/grant",
            web::post().to(partners::grant),
        )
        .route(
            "/console/partners/requests/{id}/decline",
            web::post().to(partners::decline),
        )
        .route("/console/fleet", web::get().to(fleet::show))
        .route("/console/assets/console.css", web::get().to(css))
        .route("/console/assets/console.js", web::get().to(js));
}

/// A form that could not be read: too large, not a form, or too slow to arrive.
fn form_error(error: actix_web::error::UrlencodedError, _: &HttpRequest) -> actix_web::Error {
    let expired = crate::deadline::expired(&actix_web::Error::from(error));
    let (status, message) = if expired {
        (
            StatusCode::REQUEST_TIMEOUT,
            "The form did not arrive in time. Go back and send it again.",
        )
    } else {
        (
            StatusCode::BAD_REQUEST,
            "The form could not be read. Go back, reload the page and try again.",
        )
    };
    let page = page(status, "Not read", "", None, &html::notice("bad", message));
    actix_web::error::InternalError::from_response("form not read", page).into()
}

/// An address the console does not have.
async fn not_found(request: HttpRequest) -> HttpResponse {
    lost(
        &request,
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no page at this address.",
    )
}

/// A console address whose path does not parse (`/console/bundles/x/diff`): no such page.
fn path_error(_: PathError, request: &HttpRequest) -> actix_web::Error {
    let page = lost(
        request,
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no page at this address.",
    );
    InternalError::from_response("no such console page", page).into()
}

/// A console address whose query does not parse (`?against=x`).
fn query_error(_: QueryPayloadError, request: &HttpRequest) -> actix_web::Error {
    let page = lost(
        request,
        StatusCode::BAD_REQUEST,
        "Not understood",
        "This address asks the console for something it does not understand.",
    );
    InternalError::from_response("console query not understood", page).into()
}

/// A page that says what went wrong and leads back to the console (with the navigation, for
/// a logged-in user).
fn lost(request: &HttpRequest, status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let session = request
        .app_data::<web::Data<ApiState>>()
        .and_then(|state| console_session(request, state));
    let body = format!(
        "{}<p><a href=\"/console\" id=\"back\">Back to the console</a></p>",
        html::notice("bad", message)
    );
    page(status, title, "", session.as_ref(), &body)
}

/// The login page while the caller must wait, with `Retry-After`.
fn too_many_attempts(seconds: u32) -> HttpResponse {
    let message = format!("Too many attempts. Try again in {seconds} s.");
    let mut answer = login_page(StatusCode::TOO_MANY_REQUESTS, Some(&message));
    answer.headers_mut().insert(
        RETRY_AFTER,
        actix_web::http::header::HeaderValue::from(seconds),
    );
    answer
}

async fn to_console() -> HttpResponse {
    see_other("/console")
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(CSS)
}

async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(JS)
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// The logged-in session, or the answer that sends the browser to the login page.
fn logged_in(request: &HttpRequest, state: &ApiState) -> Result<Session, HttpResponse> {
    console_session(request, state).ok_or_else(|| see_other("/console/login"))
}

/// A form post from another site is refused even before its CSRF token is looked at: browsers
/// send `Origin` with every POST, and ours must match the host the console was loaded from.
fn same_origin(request: &HttpRequest) -> Result<(), HttpResponse> {
    let Some(origin) = request
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(());
    };
    let host = request.connection_info().host().to_owned();
    let expected = [format!("http://{host}"), format!("https://{host}")];
    if expected.iter().any(|e| e == origin) {
        Ok(())
    } else {
        Err(forbidden("this form was posted from another site"))
    }
}

fn forbidden(why: &str) -> HttpResponse {
    page(
        StatusCode::FORBIDDEN,
        "Refused",
        "",
        None,
        &html::notice(
            "bad",
            &format!("{why}. Go back, reload the page and try again."),
        ),
    )
}

/// The session posting a form, once the form's origin and CSRF field are checked; else the
/// answer to give.
fn form_session(
    request: &HttpRequest,
    state: &ApiState,
    csrf: &str,
) -> Result<Session, HttpResponse> {
    let session = logged_in(request, state)?;
    same_origin(request).and_then(|()| csrf_ok(&session, csrf))?;
    Ok(session)
}

/// Checks a form's CSRF field against the session.
fn csrf_ok(session: &Session, presented: &str) -> Result<(), HttpResponse> {
    if session::csrf_matches(session, presented) {
        Ok(())
    } else {
        Err(forbidden("the form's CSRF token is not this session's"))
    }
}

fn login_page(status: StatusCode, message: Option<&str>) -> HttpResponse {
    let mut body = String::new();
    if let Some(message) = message {
        body.push_str(&html::notice("bad", message));
    }
    body.push_str(
        "<p class=\"muted\">Log in with an admin token (<code>appliance ctl token new</code> creates one; on a \
         development appliance the state directory's <code>admin.token</code> holds every \
         role).</p>\
         <form method=\"post\" action=\"/console/login\">\
         <label for=\"token\">Admin token</label>\
         <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" required>\
         <p><button type=\"submit\" id=\"login\">Log in</button></p></form>",
    );
    page(status, "Log in", "", None, &body)
}

async fn login_form(request: HttpRequest, state: web::Data<ApiState>) -> HttpResponse {
    if console_session(&request, &state).is_some() {
        return see_other("/console");
    }
    login_page(StatusCode::OK, None)
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    request: HttpRequest,
    state: web::Data<ApiState>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    if let Err(answer) = same_origin(&request) {
        return answer;
    }
    let now = Instant::now();
    let principal = match authenticate(&request, &state, &form.token, now) {
        Ok(principal) => principal,
        Err(error) => {
            if let Some(seconds) = error.retry_after {
                return too_many_attempts(seconds);
            }
            tracing::info!("console login refused: unknown token");
            return login_page(
                StatusCode::UNAUTHORIZED,
                Some("That token is not one this appliance accepts."),
            );
        }
    };
    // Each token starts only so many sessions in a short time (its holder's own sessions make
    // room for the next, see `Sessions::start`).
    if let Err(wait) = state.throttle.tokens.check(&principal.name, now) {
        return too_many_attempts(retry_after_seconds(wait));
    }
    state.throttle.tokens.count(&principal.name, now);
    tracing::info!(user = %principal.name, "console login");
    let (id, _) = state.sessions.start(principal, state.fleet.is_some());
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/console"))
        .insert_header(("Set-Cookie", cookie(&state, &id, "")))
        .finish()
}

/// The session cookie: `Secure` when the server speaks TLS, so a browser never sends it over
/// plain HTTP.
fn cookie(state: &ApiState, value: &str, extra: &str) -> String {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{extra}")
}

/// A console form whose only field is its CSRF token (logout, asking for a snapshot).
#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// A console form of a change that needs a reason (revoking an invite, deciding a terms
/// request).
#[derive(Deserialize)]
struct ReasonForm {
    csrf: String,
    reason: String,
}

async fn logout(
    request: HttpRequest,
    state: web::Data<ApiState>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    if let Err(answer) = form_session(&request, &state, &form.csrf) {
        return answer;
    }
    if let Some(id) = session_id(&request) {
        state.sessions.end(id);
    }
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/console/login"))
        .insert_header(("Set-Cookie", cookie(&state, "", "; Max-Age=0")))
        .finish()
}

/// The status and message of an error from the API functions.
fn error_text(error: &ErrorBody) -> (StatusCode, String) {
    (status_of(error), html::error_message(error))
}

/// Renders an error from the API functions as a console page.
fn error_page(error: &ErrorBody, session: &Session, here: &str) -> HttpResponse {
    let (status, message) = error_text(error);
    page(
        status,
        "Not done",
        here,
        Some(session),
        &html::notice("bad", &message),
    )
}

/// A value for a table cell, escaped.
fn text(value: impl std::fmt::Display) -> String {
    esc(&value.to_string())
}

/// An optional value for a table cell: escaped, or a dash when there is none.
fn text_or_dash(value: Option<impl std::fmt::Display>) -> String {
    value.map_or_else(|| "–".to_owned(), text)
}
