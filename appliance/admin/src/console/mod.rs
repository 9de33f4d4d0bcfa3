//! The ops console: server-rendered pages on the admin server, over the same data and
//! permissions as the admin API. A token is exchanged at login for an HttpOnly, SameSite=Strict
//! session cookie; every change carries the session's CSRF token (forms in a hidden field, the
//! upload script in `X-CSRF-Token`). Its CSS and script are served from the binary: nothing is
//! fetched from elsewhere.

mod html;
mod pages;

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use html::{esc, page};
use serde::Deserialize;
use tf_admin_api::ErrorBody;

use crate::api::{ApiState, console_session, session_id, status_of};
use crate::session::{self, COOKIE, Session};

const CSS: &str = include_str!("console.css");
const JS: &str = include_str!("console.js");

/// Registers the console's routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(to_console))
        .route("/console", web::get().to(pages::overview))
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
        .route("/console/receipts", web::get().to(pages::receipts))
        .route("/console/assets/console.css", web::get().to(css))
        .route("/console/assets/console.js", web::get().to(js));
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
        "<p class=\"muted\">Log in with an admin token (`appliance ctl token` creates one; on a \
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
    let Some(principal) = state.tokens.authenticate(&form.token).cloned() else {
        tracing::info!("console login refused: unknown token");
        return login_page(
            StatusCode::UNAUTHORIZED,
            Some("That token is not one this appliance accepts."),
        );
    };
    tracing::info!(user = %principal.name, "console login");
    let (id, _) = state.sessions.start(principal);
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/console"))
        .insert_header((
            "Set-Cookie",
            format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict"),
        ))
        .finish()
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    request: HttpRequest,
    state: web::Data<ApiState>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let session = match logged_in(&request, &state) {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    if let Err(answer) = same_origin(&request).and_then(|()| csrf_ok(&session, &form.csrf)) {
        return answer;
    }
    if let Some(id) = session_id(&request) {
        state.sessions.end(id);
    }
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/console/login"))
        .insert_header((
            "Set-Cookie",
            format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        ))
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
