//! The API as a client sees it, over actix-web's test service: the routes of the contract, each
//! guarded by its permission, every error an `ErrorBody` of a code the contract lists for the
//! route. The `Bundles` actor is gone (its mailbox closed), so every question to it is answered
//! `stopping`: no ledger or shard is needed. No compliance worker or webhook outbox runs
//! either, so their routes answer `compliance-not-running` and `webhooks-not-running`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use actix::{AsyncContext, Context};
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::test::{self, TestRequest};
use actix_web::{App, web};
use tf_admin_api::{ErrorBody, ErrorCode, Method, ROUTES, Role, Route};
use tf_control::Bundles;
use tf_metrics::MetricsHub;
use tf_seam::Board;

use super::{ApiState, MAX_BODY_BYTES, configure, handler};
use crate::auth::{Principal, Tokens};

/// What came back.
pub(super) struct Answered {
    pub(super) status: StatusCode,
    pub(super) headers: header::HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Answered {
    /// The body as the contract's error, checked against the status it came with.
    pub(super) fn error(&self) -> ErrorBody {
        let error: ErrorBody = serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not an ErrorBody ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        });
        assert_eq!(self.status.as_u16(), error.status(), "{error:?}");
        error
    }
}

/// A token per role, named `<role>-token`.
fn token(role: Role) -> String {
    format!("{}-token", role.name())
}

/// The API's state, with the `Bundles` actor's mailbox closed.
fn state() -> web::Data<ApiState> {
    web::Data::new(api_state())
}

/// [`state`], before it is shared.
pub(super) fn api_state() -> ApiState {
    let context: Context<Bundles> = Context::new();
    let bundles = context.address();
    drop(context);
    let tokens: Vec<(String, Principal)> = Role::ALL
        .iter()
        .map(|role| {
            let principal = Principal {
                name: role.name().to_owned(),
                roles: vec![*role],
            };
            (token(*role), principal)
        })
        .collect();
    let tokens: Vec<(&str, Principal)> = tokens
        .iter()
        .map(|(token, principal)| (token.as_str(), principal.clone()))
        .collect();
    ApiState::new(
        bundles,
        Tokens::new(&tokens),
        Arc::new(Board::new(2)),
        Arc::new(MetricsHub::new(vec!["demo".into()], 2)),
    )
}

/// `route`'s path with every number parameter set to 1 and every name to a snapshot's.
fn concrete(route: &Route) -> String {
    route
        .path
        .replace("{revision}", "1")
        .replace("{seq}", "1")
        .replace("{name}", "snapshot-20260102T030405Z")
        .replace("{id}", "1")
}

pub(super) fn request(method: Method, path: &str, token: Option<&str>) -> TestRequest {
    let mut request = match method {
        Method::Post => TestRequest::post(),
        _ => TestRequest::get(),
    }
    .uri(path);
    if let Some(token) = token {
        request = request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
    }
    request
}

pub(super) async fn send<S, R, B>(app: &S, request: R) -> Answered
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await.to_vec();
    Answered {
        status,
        headers,
        body,
    }
}

pub(super) fn run(test: impl std::future::Future<Output = ()>) {
    actix_web::rt::System::new().block_on(test);
}

#[test]
fn every_route_of_the_contract_has_a_handler() {
    for route in &ROUTES {
        assert!(handler(route).is_some(), "{} {}", route.method, route.path);
    }
}

#[test]
fn each_role_gets_exactly_the_routes_its_permissions_allow() {
    run(async {
        let state = state();
        let app = test::init_service(App::new().app_data(state.clone()).configure(configure)).await;
        for route in &ROUTES {
            let path = concrete(route);
            for role in Role::ALL {
                let token = token(role);
                let answered = send(
                    &app,
                    request(route.method, &path, Some(&token)).to_request(),
                )
                .await;
                let what = format!("{role:?} {} {path}", route.method);
                if !role.allows(route.permission) {
                    assert_eq!(answered.error().error, ErrorCode::Forbidden, "{what}");
                    continue;
                }
                assert!(
                    answered.status.is_success() || answered.status.as_u16() >= 400,
                    "{what}: {}",
                    answered.status
                );
                if !answered.status.is_success() {
                    let error = answered.error();
                    assert!(
                        route.errors().any(|e| e == error.error),
                        "{what}: {error:?} is not among the route's documented errors"
                    );
                    assert!(
                        !matches!(
                            error.error,
                            ErrorCode::Unauthenticated | ErrorCode::Forbidden
                        ),
                        "{what}: {error:?}"
                    );
                }
            }
        }
    });
}

#[test]
fn every_route_wants_a_known_token_and_answers_no_other_method() {
    run(async {
        let app = test::init_service(App::new().app_data(state()).configure(configure)).await;
        for (at, route) in ROUTES.iter().enumerate() {
            let path = concrete(route);
            // Each route from an address of its own: more unknown tokens than one address is
            // let through in a row.
            let peer: std::net::SocketAddr = format!("10.0.{at}.1:4000").parse().expect("addr");
            for token in [None, Some("not-a-token")] {
                let answered = send(
                    &app,
                    request(route.method, &path, token)
                        .peer_addr(peer)
                        .to_request(),
                )
                .await;
                assert_eq!(
                    answered.error().error,
                    ErrorCode::Unauthenticated,
                    "{} {path}",
                    route.method
                );
                assert_eq!(
                    answered.headers.get(header::WWW_AUTHENTICATE),
                    Some(&header::HeaderValue::from_static("Bearer"))
                );
            }
            let (other, other_method) = match route.method {
                Method::Get => (TestRequest::post(), Method::Post),
                _ => (TestRequest::get(), Method::Get),
            };
            // A path with a route for each method (the compliance snapshots) has no other.
            if ROUTES
                .iter()
                .any(|r| r.path == route.path && r.method == other_method)
            {
                continue;
            }
            let answered = send(&app, other.uri(&path).to_request()).await;
            let error = answered.error();
            assert_eq!(error.error, ErrorCode::NotFound, "{path}");
            assert!(
                error.message.contains(route.method.as_str()),
                "{path}: says which method it takes: {}",
                error.message
            );
        }
        for unknown in [
            "/api",
            "/api/v1",
            "/api/v1/receipt",
            "/api/v1/bundles/1",
            "/api/v1/overview/history/1",
            "/api/v2/status",
        ] {
            for method in [Method::Get, Method::Post] {
                let answered = send(
                    &app,
                    request(method, unknown, Some("viewer-token")).to_request(),
                )
                .await;
                assert_eq!(answered.error().error, ErrorCode::NotFound, "{unknown}");
            }
        }
    });
}

#[test]
fn the_openapi_document_served_is_the_contracts() {
    run(async {
        let app = test::init_service(App::new().app_data(state()).configure(configure)).await;
        let answered = send(
            &app,
            request(Method::Get, "/api/v1/openapi.json", Some("viewer-token")).to_request(),
        )
        .await;
        assert_eq!(answered.status, StatusCode::OK);
        assert_eq!(
            answered.headers.get(header::CONTENT_TYPE),
            Some(&header::HeaderValue::from_static("application/json"))
        );
        let served: serde_json::Value = serde_json::from_slice(&answered.body).expect("JSON");
        let built = serde_json::to_value(tf_admin_api::openapi::document()).expect("serialises");
        assert_eq!(served, built);
    });
}

#[test]
fn past_the_mailbox_the_control_plane_is_busy_and_says_when_to_retry() {
    run(async {
        let state = state();
        let app = test::init_service(App::new().app_data(state.clone()).configure(configure)).await;
        state
            .asking
            .store(tf_control::bundles::MAILBOX, Ordering::Release);
        let answered = send(
            &app,
            request(Method::Get, "/api/v1/status", Some("viewer-token")).to_request(),
        )
        .await;
        assert_eq!(answered.error().error, ErrorCode::Busy);
        assert_eq!(
            answered.headers.get(header::RETRY_AFTER),
            Some(&header::HeaderValue::from(
                ErrorCode::BUSY_RETRY_AFTER_SECONDS
            ))
        );
        assert_eq!(
            state.asking.load(Ordering::Acquire),
            tf_control::bundles::MAILBOX,
            "a refused question is not counted"
        );
        // Below the bound the question is sent; the actor is gone, so: stopping.
        state.asking.store(0, Ordering::Release);
        let answered = send(
            &app,
            request(Method::Get, "/api/v1/status", Some("viewer-token")).to_request(),
        )
        .await;
        assert_eq!(answered.error().error, ErrorCode::Stopping);
        assert_eq!(state.asking.load(Ordering::Acquire), 0);
    });
}

#[test]
fn unreadable_paths_queries_and_bodies_are_bad_requests_once_the_caller_is_known() {
    run(async {
        let app = test::init_service(App::new().app_data(state()).configure(configure)).await;
        let cases: [(Method, &str, &str, Vec<u8>); 16] = [
            (
                Method::Get,
                "/api/v1/receipts/abc",
                "auditor-token",
                Vec::new(),
            ),
            (
                Method::Get,
                "/api/v1/bundles/x/diff",
                "viewer-token",
                Vec::new(),
            ),
            (
                Method::Get,
                "/api/v1/bundles/1/diff?against=x",
                "viewer-token",
                Vec::new(),
            ),
            (
                Method::Post,
                "/api/v1/bundles/promote?allow_cap_below_spent=maybe",
                "policy-author-token",
                Vec::new(),
            ),
            (
                Method::Post,
                "/api/v1/bundles/validate?allow_partners_dropped=maybe",
                "sre-token",
                Vec::new(),
            ),
            (
                Method::Post,
                "/api/v1/bundles/validate",
                "sre-token",
                vec![0; MAX_BODY_BYTES + 1],
            ),
            (
                Method::Post,
                "/api/v1/bundles/rollback",
                "sre-token",
                b"{}".to_vec(),
            ),
            // The webhook routes read their paths, queries and bodies before asking the
            // outbox (none runs here).
            (
                Method::Post,
                "/api/v1/webhooks",
                "auditor-token",
                br#"{"url": "https://audit.example.com/hook"}"#.to_vec(),
            ),
            (
                Method::Post,
                "/api/v1/webhooks/abc",
                "sre-token",
                br#"{"action": "pause", "reason": "r"}"#.to_vec(),
            ),
            (
                Method::Get,
                "/api/v1/webhooks/1/deliveries?limit=x",
                "auditor-token",
                Vec::new(),
            ),
            (
                Method::Post,
                "/api/v1/webhooks/1/replay",
                "sre-token",
                br#"{"from": 1, "reason": "r"}"#.to_vec(),
            ),
            // A receipt search's parameters are read before the ledger is opened (none here).
            (
                Method::Get,
                "/api/v1/receipts?limit=0",
                "auditor-token",
                Vec::new(),
            ),
            (
                Method::Get,
                "/api/v1/receipts?verdict=ok",
                "auditor-token",
                Vec::new(),
            ),
            (
                Method::Get,
                "/api/v1/receipts?from=yesterday",
                "sre-token",
                Vec::new(),
            ),
            (
                Method::Get,
                "/api/v1/receipts?from=2026-11-25&to=2026-11-24",
                "sre-token",
                Vec::new(),
            ),
            (
                Method::Get,
                "/api/v1/receipts?seq=4",
                "sre-token",
                Vec::new(),
            ),
        ];
        for (method, path, token, body) in cases {
            let answered = send(
                &app,
                request(method, path, Some(token))
                    .set_payload(body.clone())
                    .to_request(),
            )
            .await;
            let error = answered.error();
            assert_eq!(error.error, ErrorCode::BadRequest, "{path}: {error:?}");
            assert!(!error.message.is_empty());
            // In the API's words, never actix's.
            assert!(
                !error.message.to_lowercase().contains("deserialize error"),
                "{path}: {}",
                error.message
            );
            let answered = send(
                &app,
                request(method, path, None).set_payload(body).to_request(),
            )
            .await;
            assert_eq!(
                answered.error().error,
                ErrorCode::Unauthenticated,
                "{path}: parsed before the caller was known"
            );
        }
    });
}

#[test]
fn without_a_compliance_worker_its_routes_say_so_to_those_allowed() {
    run(async {
        let app = test::init_service(App::new().app_data(state()).configure(configure)).await;
        for (method, path, token) in [
            (Method::Get, "/api/v1/compliance/snapshots", "auditor-token"),
            (Method::Post, "/api/v1/compliance/snapshots", "sre-token"),
            (
                Method::Get,
                "/api/v1/compliance/snapshots/snapshot-20260102T030405Z/archive",
                "sre-token",
            ),
        ] {
            let answered = send(&app, request(method, path, Some(token)).to_request()).await;
            let error = answered.error();
            assert_eq!(error.error, ErrorCode::ComplianceNotRunning, "{path}");
            assert_eq!(answered.status, StatusCode::SERVICE_UNAVAILABLE);
        }
        // Asking is for SREs only; reading for auditors and SREs.
        for (method, path, token) in [
            (
                Method::Post,
                "/api/v1/compliance/snapshots",
                "auditor-token",
            ),
            (Method::Get, "/api/v1/compliance/snapshots", "viewer-token"),
            (
                Method::Get,
                "/api/v1/compliance/snapshots/snapshot-20260102T030405Z/archive",
                "policy-author-token",
            ),
        ] {
            let answered = send(&app, request(method, path, Some(token)).to_request()).await;
            assert_eq!(
                answered.error().error,
                ErrorCode::Forbidden,
                "{token} {path}"
            );
        }
    });
}

#[test]
fn without_a_webhook_outbox_its_routes_say_so_to_those_allowed() {
    run(async {
        let app = test::init_service(App::new().app_data(state()).configure(configure)).await;
        let add = r#"{"url": "https://audit.example.com/hook", "settings": {"events":
            ["receipt.issued"], "schemes": ["v1"]}, "reason": "TICKET-88"}"#;
        let pause = r#"{"action": "pause", "reason": "receiver upgrade"}"#;
        let replay = r#"{"from": 1, "to": 2, "reason": "lost them"}"#;
        for (method, path, token, body) in [
            (Method::Get, "/api/v1/webhooks", "auditor-token", ""),
            (Method::Post, "/api/v1/webhooks", "sre-token", add),
            (Method::Post, "/api/v1/webhooks", "auditor-token", add),
            (Method::Post, "/api/v1/webhooks/1", "auditor-token", pause),
            (
                Method::Get,
                "/api/v1/webhooks/1/deliveries",
                "sre-token",
                "",
            ),
            (
                Method::Post,
                "/api/v1/webhooks/1/replay",
                "sre-token",
                replay,
            ),
        ] {
            let answered = send(
                &app,
                request(method, path, Some(token))
                    .set_payload(body)
                    .to_request(),
            )
            .await;
            let error = answered.error();
            assert_eq!(error.error, ErrorCode::WebhooksNotRunning, "{path}");
            assert_eq!(answered.status, StatusCode::SERVICE_UNAVAILABLE);
        }
        // Reading is for auditors and SREs; adding, changing and replaying too, and no one
        // else.
        for (method, path, token, body) in [
            (Method::Get, "/api/v1/webhooks", "viewer-token", ""),
            (Method::Get, "/api/v1/webhooks", "policy-author-token", ""),
            (Method::Post, "/api/v1/webhooks", "viewer-token", add),
            (Method::Post, "/api/v1/webhooks", "policy-author-token", add),
            (
                Method::Post,
                "/api/v1/webhooks/1",
                "policy-author-token",
                pause,
            ),
            (
                Method::Get,
                "/api/v1/webhooks/1/deliveries",
                "viewer-token",
                "",
            ),
            (
                Method::Post,
                "/api/v1/webhooks/1/replay",
                "viewer-token",
                replay,
            ),
        ] {
            let answered = send(
                &app,
                request(method, path, Some(token))
                    .set_payload(body)
                    .to_request(),
            )
            .await;
            assert_eq!(
                answered.error().error,
                ErrorCode::Forbidden,
                "{token} {path}"
            );
        }
    });
}
