//! The OpenAPI document the appliance serves describes what it answers. A real appliance is
//! promoted, rolled back, asked for a receipt and a compliance snapshot (listed, then
//! downloaded as an archive), given webhook endpoints (added up to the limit, changed, their
//! deliveries listed and replayed), searched for receipts (found, paged past, refused with the
//! parameter named), read the overview's history, and refused in every way a caller can reach
//! (401, 403, 404, 409, 422, 400); a partner onboarded with an invite asks for other terms,
//! granted and declined; every answer's body is checked against the schema the served
//! document gives for its route and status, by Python's `jsonschema` (Debian's
//! python3-jsonschema, installed by tests/run), an implementation independent of the
//! appliance's. The document's routes are the contract's (`tf_admin_api::ROUTES`), and the
//! server answers no route the document does not describe: anything else under `/api` is 404
//! with the same error body.

#[path = "support/partners.rs"]
mod partners;
#[path = "support/server.rs"]
mod server;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use server::{
    ROLE_TOKENS as TOKENS, Server, http_from, http_with_head, wait_for_async, with_admin_tokens,
    without_policy,
};
use tf_bundles::BundleFiles;
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, PartnerConfig, Statement, Submission, VerdictCode};
use tf_wire::{Message, TermsCap, TermsRequest};

/// Error statuses a caller can bring about, each of which must be checked wherever the
/// document lists it (except where [`UNREACHABLE`] says why not).
const REACHABLE: [u16; 6] = [400, 401, 403, 404, 409, 422];

/// Documented answers no caller can bring about on a healthy appliance, and why.
const UNREACHABLE: [(&str, &str, u16, &str); 19] = [
    ("GET", "/api/v1/status", 403, "every role may read"),
    ("GET", "/api/v1/fleet", 403, "every role may read"),
    (
        "GET",
        "/api/v1/fleet",
        200,
        "in fleet mode only (tests/fleet_console.rs checks its answers against this document)",
    ),
    ("GET", "/api/v1/invites", 403, "every role may read"),
    ("GET", "/api/v1/terms-requests", 403, "every role may read"),
    (
        "POST",
        "/api/v1/invites",
        422,
        "this appliance uses its own CA (one with [tls] of another PKI: tests/invites.rs)",
    ),
    ("GET", "/api/v1/canary", 403, "every role may read"),
    (
        "POST",
        "/api/v1/canary/run",
        422,
        "the canary runs here (one that cannot: tests/canary_golden.rs)",
    ),
    (
        "POST",
        "/api/v1/canary/silences/{id}/lift",
        422,
        "the canary runs here (one that cannot: tests/canary_golden.rs)",
    ),
    (
        "POST",
        "/api/v1/canary/baseline/reset",
        422,
        "the canary runs here (one that cannot: tests/canary_golden.rs)",
    ),
    ("GET", "/api/v1/scenarios", 403, "every role may read"),
    ("GET", "/api/v1/overview", 403, "every role may read"),
    (
        "GET",
        "/api/v1/overview/history",
        403,
        "every role may read",
    ),
    ("GET", "/api/v1/tenants", 403, "every role may read"),
    ("GET", "/api/v1/budgets", 403, "every role may read"),
    ("GET", "/api/v1/bundles", 403, "every role may read"),
    ("GET", "/api/v1/openapi.json", 403, "every role may read"),
    (
        "GET",
        "/api/v1/bundles/{revision}/diff",
        403,
        "every role may read",
    ),
    (
        "POST",
        "/api/v1/bundles/rollback",
        404,
        "a revision that was in force is stored; only a damaged ledger loses it",
    ),
];

/// Also documented but unreachable here: a stored bundle that no longer opens (diff and
/// rollback 422).
const UNREACHABLE_REFUSALS: [(&str, &str); 2] = [
    ("GET", "/api/v1/bundles/{revision}/diff"),
    ("POST", "/api/v1/bundles/rollback"),
];

/// Checkpoints every 100 ms so an asked snapshot is made within seconds; the schedule fires
/// once a year, so only the snapshot asked for is made.
fn config() -> String {
    with_admin_tokens(
        "[server]\nshards = 2\n\n[log]\ncheckpoint_interval_ms = 100\n\n\
         [compliance]\nschedule = \"0 0 1 1 *\"\n\n\
         [canary]\ninterval_ms = 3600000\n\n\
         [[tenants]]\nid = \"demo\"\n\n[[tenants]]\nid = \"acme\"\n\n\
         [[tenants]]\nid = \"canary\"\nmax_registered_keys = 8\n",
        &TOKENS,
    )
}

/// The example bundle with `edit` applied to its policies, built and signed as `revision`.
fn bundle(server: &Server, revision: u64, edit: impl Fn(&str) -> String) -> Vec<u8> {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    let mut files = BundleFiles::from_dir(&example).expect("example bundle");
    let policies =
        String::from_utf8(files.get("policies.cedar").expect("policies").to_vec()).expect("utf-8");
    files.insert("policies.cedar", edit(&policies).into_bytes());
    let source = server.dir.path().join(format!("source-{revision}"));
    files.write_dir(&source).expect("source written");
    let note = format!("revision {revision}");
    std::fs::read(server.build_bundle(&source, revision, &note, None)).expect("archive")
}

/// One answer, as the checker reads it.
struct Answer {
    method: &'static str,
    template: &'static str,
    status: u16,
    content_type: String,
    head: String,
    body: String,
}

/// Calls the live admin API and keeps every answer for the schema check.
struct Caller {
    admin: SocketAddr,
    answers: Vec<Answer>,
}

impl Caller {
    /// Calls `method path` (an instance of `template`) with these headers and body; checks the
    /// status is `expected` and returns the body as JSON.
    fn call(
        &mut self,
        route: (&'static str, &'static str),
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        expected: u16,
    ) -> Value {
        self.call_from(None, route, path, headers, body, expected)
    }

    /// [`Caller::call`] from loopback address `source`.
    fn call_from(
        &mut self,
        source: Option<Ipv4Addr>,
        (method, template): (&'static str, &'static str),
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        expected: u16,
    ) -> Value {
        let (status, head, text) = http_from(source, self.admin, method, path, headers, body);
        assert_eq!(status, expected, "{method} {path}: {text}");
        let head = head.to_ascii_lowercase();
        let content_type = head
            .lines()
            .find_map(|l| l.strip_prefix("content-type:"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.answers.push(Answer {
            method,
            template,
            status,
            content_type,
            head,
            body: text,
        });
        value
    }

    /// [`Caller::call`] with a bearer token.
    fn with_token(
        &mut self,
        route: (&'static str, &'static str),
        path: &str,
        token: &str,
        body: &[u8],
        expected: u16,
    ) -> Value {
        let bearer = format!("Bearer {token}");
        self.call(
            route,
            path,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/json"),
            ],
            body,
            expected,
        )
    }
}

const STATUS: (&str, &str) = ("GET", "/api/v1/status");
const OVERVIEW: (&str, &str) = ("GET", "/api/v1/overview");
const TENANTS: (&str, &str) = ("GET", "/api/v1/tenants");
const BUDGETS: (&str, &str) = ("GET", "/api/v1/budgets");
const TIMELINE: (&str, &str) = ("GET", "/api/v1/bundles");
const DIFF: (&str, &str) = ("GET", "/api/v1/bundles/{revision}/diff");
const VALIDATE: (&str, &str) = ("POST", "/api/v1/bundles/validate");
const PROMOTE: (&str, &str) = ("POST", "/api/v1/bundles/promote");
const ROLLBACK: (&str, &str) = ("POST", "/api/v1/bundles/rollback");
const RECEIPT: (&str, &str) = ("GET", "/api/v1/receipts/{seq}");
const OPENAPI: (&str, &str) = ("GET", "/api/v1/openapi.json");
const SNAPSHOTS: (&str, &str) = ("GET", "/api/v1/compliance/snapshots");
const ASK_SNAPSHOT: (&str, &str) = ("POST", "/api/v1/compliance/snapshots");
const ARCHIVE: (&str, &str) = ("GET", "/api/v1/compliance/snapshots/{name}/archive");
const WEBHOOKS: (&str, &str) = ("GET", "/api/v1/webhooks");
const ADD_WEBHOOK: (&str, &str) = ("POST", "/api/v1/webhooks");
const CHANGE_WEBHOOK: (&str, &str) = ("POST", "/api/v1/webhooks/{id}");
const DELIVERIES: (&str, &str) = ("GET", "/api/v1/webhooks/{id}/deliveries");
const REPLAY: (&str, &str) = ("POST", "/api/v1/webhooks/{id}/replay");
const HISTORY: (&str, &str) = ("GET", "/api/v1/overview/history");
const RECEIPTS: (&str, &str) = ("GET", "/api/v1/receipts");
const SCENARIOS: (&str, &str) = ("GET", "/api/v1/scenarios");
const DRIFT: (&str, &str) = ("POST", "/api/v1/bundles/drift");
const CANARY: (&str, &str) = ("GET", "/api/v1/canary");
const RUN_CANARY: (&str, &str) = ("POST", "/api/v1/canary/run");
const SILENCE: (&str, &str) = ("POST", "/api/v1/canary/silences");
const LIFT: (&str, &str) = ("POST", "/api/v1/canary/silences/{id}/lift");
const RESET: (&str, &str) = ("POST", "/api/v1/canary/baseline/reset");
const INVITES: (&str, &str) = ("GET", "/api/v1/invites");
const CREATE_INVITE: (&str, &str) = ("POST", "/api/v1/invites");
const REVOKE_INVITE: (&str, &str) = ("POST", "/api/v1/invites/{id}/revoke");
const TERMS_REQUESTS: (&str, &str) = ("GET", "/api/v1/terms-requests");
const GRANT_TERMS: (&str, &str) = ("POST", "/api/v1/terms-requests/{id}/grant");
const DECLINE_TERMS: (&str, &str) = ("POST", "/api/v1/terms-requests/{id}/decline");
const FLEET: (&str, &str) = ("GET", "/api/v1/fleet");

/// Every route, with a path that reaches it.
const EVERY_ROUTE: [((&str, &str), &str); 35] = [
    (STATUS, "/api/v1/status"),
    (OVERVIEW, "/api/v1/overview"),
    (TENANTS, "/api/v1/tenants"),
    (BUDGETS, "/api/v1/budgets"),
    (TIMELINE, "/api/v1/bundles"),
    (DIFF, "/api/v1/bundles/1/diff"),
    (VALIDATE, "/api/v1/bundles/validate"),
    (PROMOTE, "/api/v1/bundles/promote"),
    (ROLLBACK, "/api/v1/bundles/rollback"),
    (RECEIPT, "/api/v1/receipts/1"),
    (OPENAPI, "/api/v1/openapi.json"),
    (SNAPSHOTS, "/api/v1/compliance/snapshots"),
    (ASK_SNAPSHOT, "/api/v1/compliance/snapshots"),
    (
        ARCHIVE,
        "/api/v1/compliance/snapshots/snapshot-20260102T030405Z/archive",
    ),
    (WEBHOOKS, "/api/v1/webhooks"),
    (ADD_WEBHOOK, "/api/v1/webhooks"),
    (CHANGE_WEBHOOK, "/api/v1/webhooks/1"),
    (DELIVERIES, "/api/v1/webhooks/1/deliveries"),
    (REPLAY, "/api/v1/webhooks/1/replay"),
    (HISTORY, "/api/v1/overview/history"),
    (RECEIPTS, "/api/v1/receipts"),
    (SCENARIOS, "/api/v1/scenarios"),
    (DRIFT, "/api/v1/bundles/drift"),
    (CANARY, "/api/v1/canary"),
    (RUN_CANARY, "/api/v1/canary/run"),
    (SILENCE, "/api/v1/canary/silences"),
    (LIFT, "/api/v1/canary/silences/1/lift"),
    (RESET, "/api/v1/canary/baseline/reset"),
    (INVITES, "/api/v1/invites"),
    (CREATE_INVITE, "/api/v1/invites"),
    (REVOKE_INVITE, "/api/v1/invites/1/revoke"),
    (TERMS_REQUESTS, "/api/v1/terms-requests"),
    (GRANT_TERMS, "/api/v1/terms-requests/1/grant"),
    (DECLINE_TERMS, "/api/v1/terms-requests/1/decline"),
    (FLEET, "/api/v1/fleet"),
];

/// An invite's template: kyc on P1, rate 10, burst 5, 2 keys, a daily P1 cap of 1000.
fn invite_template() -> Value {
    json!({
        "purposes": ["kyc"],
        "classes": ["P1"],
        "max_rate_per_sec": 10,
        "max_burst": 5,
        "max_registered_keys": 2,
        "caps": [{"class": "P1", "window": "day", "max_limit": 1000}],
    })
}

/// Partner invites: made (and refused: malformed, for a viewer), listed, revoked (and
/// refused: revoked already, no such invite).
fn call_invite_routes(caller: &mut Caller) {
    let template = invite_template();
    let create = |tenant: &str| {
        json!({"tenant": tenant, "template": template, "expires_in": "1d", "reason": "openapi"})
            .to_string()
            .into_bytes()
    };
    let made = caller.with_token(
        CREATE_INVITE,
        "/api/v1/invites",
        "sre-token",
        &create("pilot-*"),
        200,
    );
    assert!(
        made["invite"]
            .as_str()
            .is_some_and(|text| text.starts_with(&format!("tfi1.{}.", made["entry"]["id"]))),
        "{made}"
    );
    assert_eq!(made["entry"]["status"], "open", "{made}");
    caller.with_token(
        CREATE_INVITE,
        "/api/v1/invites",
        "sre-token",
        &create("Not A Tenant"),
        400,
    );
    caller.with_token(
        CREATE_INVITE,
        "/api/v1/invites",
        "viewer-token",
        &create("x"),
        403,
    );
    let listed = caller.with_token(INVITES, "/api/v1/invites", "viewer-token", b"", 200);
    assert_eq!(listed["invites"][0]["tenant"], "pilot-*", "{listed}");
    let revoke = format!("/api/v1/invites/{}/revoke", made["entry"]["id"]);
    let reason = br#"{"reason": "sent to the wrong partner"}"#;
    let revoked = caller.with_token(REVOKE_INVITE, &revoke, "author-token", reason, 200);
    assert_eq!(revoked["status"], "revoked", "{revoked}");
    caller.with_token(REVOKE_INVITE, &revoke, "author-token", reason, 409);
    caller.with_token(
        REVOKE_INVITE,
        "/api/v1/invites/999/revoke",
        "sre-token",
        reason,
        404,
    );
    caller.with_token(REVOKE_INVITE, &revoke, "sre-token", b"{}", 400);
    caller.with_token(REVOKE_INVITE, &revoke, "auditor-token", reason, 403);
}

/// Partners' terms requests: a partner onboarded with an invite asks twice above its
/// template over its own connection; one is granted (and refused: decided already, no such
/// request, no reason, a role without the permission), the other declined (likewise); a third,
/// once a rollback has taken the partner out of the bundle in force, is refused.
async fn call_terms_routes(caller: &mut Caller, server: &Server) {
    let invite =
        json!({"tenant": "terms-partner", "template": invite_template(), "reason": "openapi"});
    let made = caller.with_token(
        CREATE_INVITE,
        "/api/v1/invites",
        "sre-token",
        invite.to_string().as_bytes(),
        200,
    );
    let before = caller.with_token(STATUS, "/api/v1/status", "viewer-token", b"", 200);
    let home = server.dir.path().join("terms-partner");
    let invite = made["invite"].as_str().expect("an invite");
    let (code, out, err) = partners::onboard(server, invite, "terms-partner", &home);
    assert_eq!(code, 0, "{out}{err}");
    let partner = Partner::connect(&PartnerConfig::from_state_dir(&home).expect("onboarded"))
        .await
        .expect("the partner connects");
    let granted = ask_above_template(&partner, 20).await;
    let declined = ask_above_template(&partner, 30).await;

    let listed = caller.with_token(
        TERMS_REQUESTS,
        "/api/v1/terms-requests",
        "viewer-token",
        b"",
        200,
    );
    assert_eq!(
        listed["requests"][0]["id"], declined,
        "newest first: {listed}"
    );
    assert_eq!(listed["requests"][0]["status"], "pending", "{listed}");
    assert_eq!(
        listed["requests"][0]["in_force"]["rate_per_sec"], 10,
        "{listed}"
    );
    let reason = br#"{"reason": "volume agreed"}"#;
    let grant = format!("/api/v1/terms-requests/{granted}/grant");
    let switched = caller.with_token(GRANT_TERMS, &grant, "sre-token", reason, 200);
    assert_eq!(switched["action"], "terms", "{switched}");
    caller.with_token(GRANT_TERMS, &grant, "author-token", reason, 409);
    caller.with_token(GRANT_TERMS, &grant, "sre-token", b"{}", 400);
    caller.with_token(GRANT_TERMS, &grant, "auditor-token", reason, 403);
    caller.with_token(
        GRANT_TERMS,
        "/api/v1/terms-requests/999/grant",
        "sre-token",
        reason,
        404,
    );
    let decline = format!("/api/v1/terms-requests/{declined}/decline");
    let entry = caller.with_token(DECLINE_TERMS, &decline, "author-token", reason, 200);
    assert_eq!(
        (entry["status"].as_str(), entry["decided_by"].as_str()),
        (Some("declined"), Some("policy-team")),
        "{entry}"
    );
    assert_eq!(
        entry["in_force"]["rate_per_sec"], 20,
        "the granted rate: {entry}"
    );
    caller.with_token(DECLINE_TERMS, &decline, "author-token", reason, 409);
    caller.with_token(
        DECLINE_TERMS,
        &decline,
        "sre-token",
        br#"{"reason": ""}"#,
        400,
    );
    caller.with_token(DECLINE_TERMS, &decline, "viewer-token", reason, 403);
    caller.with_token(
        DECLINE_TERMS,
        "/api/v1/terms-requests/999/decline",
        "sre-token",
        reason,
        404,
    );

    // Rolled back to before the partner was onboarded: it is no partner any more.
    let late = ask_above_template(&partner, 40).await;
    partner.close().await;
    // Refused unless dropping the partner is asked for.
    let back = json!({"reason": "partner withdrawn", "to": before["revision"]});
    caller.with_token(
        ROLLBACK,
        "/api/v1/bundles/rollback",
        "sre-token",
        back.to_string().as_bytes(),
        422,
    );
    let back = json!({"reason": "partner withdrawn", "to": before["revision"],
                      "allow_partners_dropped": true});
    caller.with_token(
        ROLLBACK,
        "/api/v1/bundles/rollback",
        "sre-token",
        back.to_string().as_bytes(),
        200,
    );
    let refused = caller.with_token(
        GRANT_TERMS,
        &format!("/api/v1/terms-requests/{late}/grant"),
        "sre-token",
        reason,
        422,
    );
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("not onboarded with an invite")),
        "{refused}"
    );
    let listed = caller.with_token(
        TERMS_REQUESTS,
        "/api/v1/terms-requests",
        "auditor-token",
        b"",
        200,
    );
    assert_eq!(listed["requests"][0]["in_force"], Value::Null, "{listed}");
    assert_eq!(listed["partners"], json!([]), "{listed}");
}

/// Asks for `rate` requests per second, above the template's 10, over the partner's own
/// connection; the request's number, waiting for an operator.
async fn ask_above_template(partner: &Partner, rate: u32) -> u64 {
    let request = Message::TermsRequest(TermsRequest {
        request_id: u64::from(rate),
        rate_per_sec: rate,
        burst: 5,
        max_registered_keys: 2,
        caps: vec![TermsCap {
            dataset_class: DatasetClass::P1,
            window: "day".into(),
            limit: 1000,
        }],
    });
    match partner.request(&request).await.expect("answered") {
        Message::TermsReply(reply) if reply.revision == 0 => reply.terms_request,
        other => panic!("waiting for an operator, not {other:?}"),
    }
}

/// An endpoint's settings as JSON; `local` ones need the sre role.
fn webhook_settings(local: bool) -> Value {
    json!({"events": ["receipt.issued"], "schemes": ["v1", "v1a"], "local": local})
}

/// Webhook endpoints: added (and refused: malformed, local for an auditor, over the limit),
/// listed, changed in every way and in a state that does not allow it, their deliveries
/// listed and replayed, and each refused for an endpoint that does not exist.
fn call_webhook_routes(caller: &mut Caller) {
    let add = |url: &str, local: bool| {
        json!({"url": url, "settings": webhook_settings(local), "reason": "openapi"})
            .to_string()
            .into_bytes()
    };
    let added = caller.with_token(
        ADD_WEBHOOK,
        "/api/v1/webhooks",
        "auditor-token",
        &add("https://audit.example/hook", false),
        200,
    );
    assert!(
        added["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_")),
        "{added}"
    );
    let id = added["endpoint"]["id"].as_u64().expect("an id");
    caller.with_token(
        ADD_WEBHOOK,
        "/api/v1/webhooks",
        "auditor-token",
        &add("http://127.0.0.1:9/hook", true),
        403,
    );
    caller.with_token(
        ADD_WEBHOOK,
        "/api/v1/webhooks",
        "sre-token",
        &add("ftp://audit.example/hook", false),
        400,
    );
    caller.with_token(ADD_WEBHOOK, "/api/v1/webhooks", "sre-token", b"{", 400);
    let listed = caller.with_token(WEBHOOKS, "/api/v1/webhooks", "auditor-token", b"", 200);
    assert!(
        listed["public_key"]
            .as_str()
            .is_some_and(|k| k.starts_with("whpk_")),
        "{listed}"
    );

    let at = |id: u64| format!("/api/v1/webhooks/{id}");
    let action = |action: &str| {
        json!({"action": action, "reason": "openapi"})
            .to_string()
            .into_bytes()
    };
    caller.with_token(
        CHANGE_WEBHOOK,
        &at(id),
        "auditor-token",
        &action("pause"),
        200,
    );
    caller.with_token(
        CHANGE_WEBHOOK,
        &at(id),
        "auditor-token",
        &action("pause"),
        409,
    );
    caller.with_token(CHANGE_WEBHOOK, &at(id), "sre-token", &action("resume"), 200);
    let rotated = caller.with_token(CHANGE_WEBHOOK, &at(id), "sre-token", &action("rotate"), 200);
    assert!(rotated["secret"].is_string(), "{rotated}");
    let change =
        json!({"action": "change", "settings": webhook_settings(false), "reason": "openapi"});
    caller.with_token(
        CHANGE_WEBHOOK,
        &at(id),
        "auditor-token",
        change.to_string().as_bytes(),
        200,
    );
    caller.with_token(CHANGE_WEBHOOK, &at(id), "sre-token", &action("change"), 400);
    caller.with_token(
        CHANGE_WEBHOOK,
        &at(9999),
        "sre-token",
        &action("pause"),
        404,
    );

    let deliveries = format!("/api/v1/webhooks/{id}/deliveries");
    caller.with_token(DELIVERIES, &deliveries, "auditor-token", b"", 200);
    caller.with_token(
        DELIVERIES,
        &format!("{deliveries}?limit=0"),
        "sre-token",
        b"",
        400,
    );
    caller.with_token(
        DELIVERIES,
        "/api/v1/webhooks/9999/deliveries",
        "sre-token",
        b"",
        404,
    );

    let replay = format!("/api/v1/webhooks/{id}/replay");
    let range = |from: u64, to: u64| {
        json!({"from": from, "to": to, "reason": "openapi"})
            .to_string()
            .into_bytes()
    };
    let replayed = caller.with_token(REPLAY, &replay, "auditor-token", &range(1, 5), 200);
    assert!(replayed.is_object(), "{replayed}");
    caller.with_token(REPLAY, &replay, "sre-token", &range(0, 5), 400);
    caller.with_token(
        REPLAY,
        "/api/v1/webhooks/9999/replay",
        "sre-token",
        &range(1, 5),
        404,
    );

    // Up to the limit of endpoints, then one too many; then the first removed.
    let mut count = listed["endpoints"].as_array().map_or(0, Vec::len);
    loop {
        let url = format!("https://audit{count}.example/hook");
        let (status, _, _) = http_with_head(
            caller.admin,
            "POST",
            "/api/v1/webhooks",
            &[
                ("Authorization", "Bearer sre-token"),
                ("Content-Type", "application/json"),
            ],
            &add(&url, false),
        );
        if status != 200 {
            break;
        }
        count += 1;
        assert!(count <= 1000, "no limit on endpoints");
    }
    let refused = caller.with_token(
        ADD_WEBHOOK,
        "/api/v1/webhooks",
        "sre-token",
        &add("https://one-more.example/hook", false),
        409,
    );
    assert_eq!(refused["error"], "wrong-state", "{refused}");
    caller.with_token(CHANGE_WEBHOOK, &at(id), "sre-token", &action("remove"), 200);
    caller.with_token(CHANGE_WEBHOOK, &at(id), "sre-token", &action("resume"), 404);
}

/// A BLS statement the demo tenant may submit.
fn statement() -> Submission {
    let message = b"openapi".to_vec();
    let (signature, public_key) = bls::sign(&[3; 32], &message).expect("signs");
    Submission {
        purpose: "kyc".into(),
        dataset_class: DatasetClass::P1,
        statement: Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message,
            signature: signature.to_bytes(),
        },
    }
}

/// Checks every answer against the document with Python's jsonschema; panics with each
/// disagreement.
fn check_with_jsonschema(dir: &Path, document: &str, answers: &[Answer]) {
    let path = dir.join("openapi.json");
    std::fs::write(&path, document).expect("document written");
    let cases: Vec<Value> = answers
        .iter()
        .map(|a| {
            json!({
                "method": a.method,
                "path": a.template,
                "status": a.status,
                "content_type": a.content_type,
                "body": a.body,
            })
        })
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/tools/check_openapi.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Debian's python3 runs (tests/run installs python3-jsonschema)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::Array(cases).to_string().as_bytes())
        .expect("answers written");
    let out = child.wait_with_output().expect("the checker ran");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "answers disagree with the served OpenAPI document:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains(&format!("{} answers agree", answers.len())),
        "{report}"
    );
}

/// (method, path) of every operation in a document.
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

#[tokio::test]
async fn every_answer_of_every_route_agrees_with_the_served_openapi_document() {
    let server = Server::start(&config(), &["acme"], &[]);
    let mut caller = Caller {
        admin: server.admin_address(),
        answers: Vec::new(),
    };

    // The document: the contract's routes, exactly; and the contract's own document.
    let document = caller.with_token(OPENAPI, "/api/v1/openapi.json", "viewer-token", b"", 200);
    let contract: BTreeSet<(String, String)> = tf_admin_api::ROUTES
        .iter()
        .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(operations(&document), contract);
    assert_eq!(
        document,
        serde_json::to_value(tf_admin_api::openapi::document()).expect("serialises")
    );
    let document_text = caller.answers[0].body.clone();
    let everyone: BTreeSet<(String, String)> = EVERY_ROUTE
        .iter()
        .map(|((m, t), _)| ((*m).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(everyone, contract, "this test calls every route");

    // A receipt, decided under revision 0.
    let demo = Partner::connect(&server.partner("demo"))
        .await
        .expect("connects");
    let reply = demo.submit(statement()).await.expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Valid);
    let receipt: tf_receipts::Receipt =
        serde_json::from_slice(&reply.receipt.payload).expect("receipt");

    // Before any promotion: nulls where there is no bundle, nothing to roll back or diff.
    let status = caller.with_token(STATUS, "/api/v1/status", "viewer-token", b"", 200);
    assert_eq!(
        (status["bundle"].clone(), status["revision"].clone()),
        (Value::Null, json!(0))
    );
    caller.with_token(TIMELINE, "/api/v1/bundles", "auditor-token", b"", 200);
    caller.with_token(
        ROLLBACK,
        "/api/v1/bundles/rollback",
        "sre-token",
        br#"{"reason": "nothing yet"}"#,
        409,
    );
    caller.with_token(DIFF, "/api/v1/bundles/1/diff", "viewer-token", b"", 404);

    // Two promotions, the second dropping a policy so the diff has something to show.
    let first = bundle(&server, 1, str::to_owned);
    let second = bundle(&server, 2, |p| without_policy(p, "bls-on-p1-and-p2"));
    let third = bundle(&server, 3, str::to_owned);
    caller.with_token(
        VALIDATE,
        "/api/v1/bundles/validate",
        "sre-token",
        &first,
        200,
    );
    let promoted = caller.with_token(
        PROMOTE,
        "/api/v1/bundles/promote",
        "author-token",
        &first,
        200,
    );
    assert_eq!(promoted["to_revision"], 1);
    caller.with_token(
        PROMOTE,
        "/api/v1/bundles/promote?allow_cap_below_spent=true",
        "author-token",
        &second,
        200,
    );
    // The same revision again, junk, and an unreadable query: refused, nothing changes.
    let refused = caller.with_token(
        PROMOTE,
        "/api/v1/bundles/promote",
        "author-token",
        &second,
        422,
    );
    assert_eq!(
        refused["problems"][0]["code"], "stale-revision",
        "{refused}"
    );
    caller.with_token(
        PROMOTE,
        "/api/v1/bundles/promote",
        "author-token",
        b"junk",
        422,
    );
    caller.with_token(
        VALIDATE,
        "/api/v1/bundles/validate",
        "sre-token",
        b"junk",
        422,
    );
    caller.with_token(
        PROMOTE,
        "/api/v1/bundles/promote?allow_cap_below_spent=maybe",
        "author-token",
        &third,
        400,
    );
    caller.with_token(
        VALIDATE,
        "/api/v1/bundles/validate?allow_cap_below_spent=maybe",
        "sre-token",
        &third,
        400,
    );
    caller.with_token(
        VALIDATE,
        "/api/v1/bundles/validate?allow_cap_below_spent=true",
        "author-token",
        &third,
        200,
    );
    // The drift guard on the appliance's own log: one receipt is too few to bound the drift,
    // so the bundle does not pass, and promoting it is refused until someone overrides it.
    let judged = caller.with_token(
        DRIFT,
        "/api/v1/bundles/drift?window=1d&tolerance=0.5",
        "author-token",
        &third,
        200,
    );
    assert_eq!(
        (judged["passes"].clone(), judged["judgement"].clone()),
        (json!(false), json!("too-few-decisions")),
        "{judged}"
    );
    caller.with_token(
        DRIFT,
        "/api/v1/bundles/drift?window=7x",
        "sre-token",
        &third,
        400,
    );
    caller.with_token(DRIFT, "/api/v1/bundles/drift", "sre-token", b"junk", 422);
    let blocked = caller.with_token(
        PROMOTE,
        "/api/v1/bundles/promote?allow_cap_below_spent=true",
        "author-token",
        &third,
        409,
    );
    assert_eq!(blocked["error"], "drift-blocked", "{blocked}");
    let scenarios = caller.with_token(SCENARIOS, "/api/v1/scenarios", "viewer-token", b"", 200);
    assert_eq!(scenarios["packs"], json!([]), "{scenarios}");
    // Not in fleet mode: no fleet to show, and what to add for one.
    let fleet = caller.with_token(FLEET, "/api/v1/fleet", "viewer-token", b"", 404);
    assert!(
        fleet["message"]
            .as_str()
            .is_some_and(|m| m.contains("not in fleet mode") && m.contains("add [fleet]")),
        "{fleet}"
    );

    // The golden canary: it runs only when asked here (its interval is an hour).
    let ran = caller.with_token(RUN_CANARY, "/api/v1/canary/run", "sre-token", b"", 200);
    assert_eq!(ran["latest"]["trigger"], "demand", "{ran}");
    let silence = |reason: &str| {
        json!({"comparators": ["latency"], "duration": "1h", "reason": reason})
            .to_string()
            .into_bytes()
    };
    let made = caller.with_token(
        SILENCE,
        "/api/v1/canary/silences",
        "sre-token",
        &silence("known"),
        200,
    );
    let reset = |reason: &str| json!({ "reason": reason }).to_string().into_bytes();
    let event = caller.with_token(
        RESET,
        "/api/v1/canary/baseline/reset",
        "sre-token",
        &reset("new disks"),
        200,
    );
    assert_eq!(event["kind"], "canary.baseline.reset", "{event}");
    caller.with_token(
        RESET,
        "/api/v1/canary/baseline/reset",
        "viewer-token",
        &reset("not mine to say"),
        403,
    );
    caller.with_token(
        RESET,
        "/api/v1/canary/baseline/reset",
        "sre-token",
        &reset(""),
        400,
    );
    let lift = format!("/api/v1/canary/silences/{}/lift", made["id"]);
    caller.with_token(LIFT, &lift, "sre-token", b"", 200);
    caller.with_token(LIFT, &lift, "sre-token", b"", 404);
    caller.with_token(
        SILENCE,
        "/api/v1/canary/silences",
        "sre-token",
        &json!({"comparators": ["latency"], "duration": "forever", "reason": "x"})
            .to_string()
            .into_bytes(),
        400,
    );
    // As many silences as may apply, then one more.
    for n in 0..tf_control::canary::MAX_SILENCES {
        caller.with_token(
            SILENCE,
            "/api/v1/canary/silences",
            "sre-token",
            &silence(&format!("number {n}")),
            200,
        );
    }
    caller.with_token(
        SILENCE,
        "/api/v1/canary/silences",
        "sre-token",
        &silence("one more"),
        422,
    );
    let canary = caller.with_token(CANARY, "/api/v1/canary", "viewer-token", b"", 200);
    assert_eq!(
        canary["silences"].as_array().map(Vec::len),
        Some(tf_control::canary::MAX_SILENCES + 1),
        "the lifted one is still listed"
    );

    // What is in force now, what changed, and what the shards last published: once every
    // shard admits under revision 2 and has published the example bundle's caps.
    let admin = caller.admin;
    wait_for_async(
        "every shard to admit under revision 2 and publish its caps",
        Duration::from_secs(30),
        || async move {
            let read = |path: &str| {
                let (_, _, text) = http_with_head(
                    admin,
                    "GET",
                    path,
                    &[("Authorization", "Bearer viewer-token")],
                    b"",
                );
                serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)
            };
            let switched = read("/api/v1/status")["shards"]
                .as_array()
                .is_some_and(|s| !s.is_empty() && s.iter().all(|s| s["policy_revision"] == 2));
            let capped = read("/api/v1/budgets")["caps"]
                .as_array()
                .is_some_and(|c| !c.is_empty());
            (switched && capped).then_some(())
        },
        || server.log(),
    )
    .await;
    let status = caller.with_token(STATUS, "/api/v1/status", "auditor-token", b"", 200);
    assert_eq!(
        (status["revision"].clone(), status["rollback_to"].clone()),
        (json!(2), json!(1))
    );
    // The overview counts demo's one valid request, and nothing else of demo's or acme's.
    let overview = caller.with_token(OVERVIEW, "/api/v1/overview", "viewer-token", b"", 200);
    let outcomes = |tenant: &str| {
        overview["tenants"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["tenant"] == tenant))
            .map(|t| t["outcomes"].clone())
            .unwrap_or_else(|| panic!("{tenant} in the overview: {overview}"))
    };
    let demo_outcomes = outcomes("demo");
    assert_eq!(demo_outcomes["valid"], 1, "{overview}");
    let counted: u64 = demo_outcomes
        .as_object()
        .expect("outcomes")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(counted, 1, "demo's only request: {overview}");
    let acme_outcomes = outcomes("acme");
    assert!(
        acme_outcomes
            .as_object()
            .expect("outcomes")
            .values()
            .all(|n| n == 0),
        "acme sent nothing: {overview}"
    );
    assert!(
        overview["answered"].as_u64() >= Some(1)
            && overview["decision_latency_seconds"]["count"].as_u64() >= Some(1),
        "{overview}"
    );
    caller.with_token(
        HISTORY,
        "/api/v1/overview/history",
        "viewer-token",
        b"",
        200,
    );
    caller.with_token(TENANTS, "/api/v1/tenants", "viewer-token", b"", 200);
    // Exactly the example bundle's two caps (docs/examples/bundle/budgets.toml), nothing
    // spent: demo's request was decided under revision 0, which had none.
    let budgets = caller.with_token(BUDGETS, "/api/v1/budgets", "viewer-token", b"", 200);
    let caps: BTreeSet<String> = budgets["caps"]
        .as_array()
        .expect("caps")
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {} limit {} used {} reserved {} remaining {}",
                c["tenant"],
                c["purpose"],
                c["class"],
                c["window"],
                c["limit"],
                c["used"],
                c["reserved"],
                c["remaining"]
            )
        })
        .collect();
    let expected: BTreeSet<String> = [
        r#""acme" null "P1" "day" limit 100000 used 0 reserved 0 remaining 100000"#,
        r#""demo" "budget-demo" "P0" "rolling 60s" limit 5 used 0 reserved 0 remaining 5"#,
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(caps, expected, "{budgets}");

    // Revision 1 against the one in force (2): the policy revision 2 dropped comes back, and
    // nothing else differs. The other way round, it is removed.
    let policy_change = |diff: &Value, change: &str| {
        let changes = diff["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 1, "{diff}");
        assert_eq!(
            (
                changes[0]["section"].clone(),
                changes[0]["change"].clone(),
                changes[0]["subject"].clone()
            ),
            (json!("policies"), json!(change), json!("bls-on-p1-and-p2")),
            "{diff}"
        );
    };
    let diff = caller.with_token(DIFF, "/api/v1/bundles/1/diff", "viewer-token", b"", 200);
    assert_eq!(
        (
            diff["old"]["revision"].clone(),
            diff["new"]["revision"].clone()
        ),
        (json!(2), json!(1)),
        "{diff}"
    );
    assert_eq!(
        diff["old"]["hash"], status["bundle_hash"],
        "{diff} {status}"
    );
    policy_change(&diff, "added");
    let diff = caller.with_token(
        DIFF,
        "/api/v1/bundles/2/diff?against=1",
        "viewer-token",
        b"",
        200,
    );
    policy_change(&diff, "removed");
    caller.with_token(DIFF, "/api/v1/bundles/9/diff", "viewer-token", b"", 404);
    caller.with_token(DIFF, "/api/v1/bundles/x/diff", "viewer-token", b"", 400);
    caller.with_token(
        DIFF,
        "/api/v1/bundles/1/diff?against=x",
        "viewer-token",
        b"",
        400,
    );

    // A rollback, and rollbacks that cannot be.
    let rolled_back = caller.with_token(
        ROLLBACK,
        "/api/v1/bundles/rollback",
        "sre-token",
        br#"{"reason": "revision 2 broke acme"}"#,
        200,
    );
    assert_eq!(rolled_back["republishes"], 1, "{rolled_back}");
    caller.with_token(
        ROLLBACK,
        "/api/v1/bundles/rollback",
        "author-token",
        br#"{"reason": "never in force", "to": 9}"#,
        409,
    );
    caller.with_token(
        ROLLBACK,
        "/api/v1/bundles/rollback",
        "sre-token",
        br#"{"reason": " "}"#,
        400,
    );
    caller.with_token(ROLLBACK, "/api/v1/bundles/rollback", "sre-token", b"{", 400);
    let timeline = caller.with_token(TIMELINE, "/api/v1/bundles", "viewer-token", b"", 200);
    assert_eq!(timeline["timeline"].as_array().map(Vec::len), Some(3));

    // Receipts.
    let seq = receipt.ledger_seq;
    let found = caller.with_token(
        RECEIPT,
        &format!("/api/v1/receipts/{seq}"),
        "auditor-token",
        b"",
        200,
    );
    assert_eq!(
        [
            &found["seq"],
            &found["tenant"],
            &found["request_id"],
            &found["purpose"],
            &found["dataset_class"],
            &found["verdict"],
            &found["charged"]
        ],
        [
            &json!(seq),
            &json!("demo"),
            &json!(receipt.request_id),
            &json!("kyc"),
            &json!("P1"),
            &json!("valid"),
            &json!(receipt.budget_charged)
        ],
        "{found}"
    );
    // The signed receipt as the partner got it, byte for byte, under the appliance's key.
    let payload = found["envelope"]["payload"].as_str().expect("an envelope");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(payload)
            .expect("base64"),
        reply.receipt.payload,
        "{found}"
    );
    assert_eq!(
        found["envelope"]["signatures"][0]["keyid"], receipt.appliance_key_id,
        "{found}"
    );
    caller.with_token(RECEIPT, "/api/v1/receipts/999999", "sre-token", b"", 404);
    caller.with_token(RECEIPT, "/api/v1/receipts/abc", "sre-token", b"", 400);

    // The receipt found by its tenant, and by its request id and verdict; a page past it;
    // refusals that name the parameter.
    let found = caller.with_token(
        RECEIPTS,
        "/api/v1/receipts?tenant=demo",
        "auditor-token",
        b"",
        200,
    );
    assert_eq!(found["receipts"][0]["seq"], seq, "{found}");
    assert_eq!(found["receipts"][0]["request_id"], receipt.request_id);
    assert_eq!(found["next_before"], Value::Null, "{found}");
    let by_id = format!(
        "/api/v1/receipts?request_id={}&verdict=valid&limit=1",
        receipt.request_id
    );
    let found = caller.with_token(RECEIPTS, &by_id, "sre-token", b"", 200);
    assert_eq!(found["receipts"][0]["seq"], seq, "{found}");
    let past = format!("/api/v1/receipts?tenant=demo&before={seq}");
    let found = caller.with_token(RECEIPTS, &past, "sre-token", b"", 200);
    assert_eq!(found["receipts"], json!([]), "{found}");
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("from=yesterday", "from"),
        ("verdict=ok", "verdict"),
        ("tenant=Demo!", "tenant"),
        ("before=999999", "before"),
        ("seq=1", "seq"),
    ] {
        let path = format!("/api/v1/receipts?{query}");
        let refused = caller.with_token(RECEIPTS, &path, "auditor-token", b"", 400);
        assert_eq!(refused["error"], "bad-request", "{refused}");
        let message = refused["message"].as_str().unwrap_or_default();
        assert!(message.contains(parameter), "{query}: {message}");
        assert!(!message.contains("deserialize"), "{query}: {message}");
    }

    // Compliance snapshots: one asked for, asked again before it is made, listed, archived.
    caller.with_token(
        SNAPSHOTS,
        "/api/v1/compliance/snapshots",
        "auditor-token",
        b"",
        200,
    );
    let asked = caller.with_token(
        ASK_SNAPSHOT,
        "/api/v1/compliance/snapshots",
        "sre-token",
        b"",
        202,
    );
    let name = asked["name"].as_str().expect("a name").to_owned();
    let again = caller.with_token(
        ASK_SNAPSHOT,
        "/api/v1/compliance/snapshots",
        "sre-token",
        b"",
        409,
    );
    assert_eq!(again["error"], "already-asked", "{again}");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, _, text) = http_with_head(
            caller.admin,
            "GET",
            "/api/v1/compliance/snapshots",
            &[("Authorization", "Bearer sre-token")],
            b"",
        );
        let listed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let made = listed["snapshots"].as_array().is_some_and(|s| {
            s.iter()
                .any(|s| s["name"] == name && !s["anchor_seq"].is_null())
        });
        if made {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} was never made and anchored: {listed}\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let listed = caller.with_token(
        SNAPSHOTS,
        "/api/v1/compliance/snapshots",
        "sre-token",
        b"",
        200,
    );
    assert_eq!(
        listed["snapshots"][0]["status"], "receipts-held",
        "{listed}"
    );
    caller.with_token(
        ARCHIVE,
        &format!("/api/v1/compliance/snapshots/{name}/archive"),
        "auditor-token",
        b"",
        200,
    );
    let archive = caller.answers.last().expect("answered");
    assert_eq!(archive.content_type, "application/gzip");
    assert!(
        archive.head.contains(&format!(
            "filename=\"{}.tar.gz\"",
            name.to_ascii_lowercase()
        )),
        "{}",
        archive.head
    );
    caller.with_token(
        ARCHIVE,
        "/api/v1/compliance/snapshots/snapshot-20000101T000000Z/archive",
        "sre-token",
        b"",
        404,
    );

    call_webhook_routes(&mut caller);
    call_invite_routes(&mut caller);
    call_terms_routes(&mut caller, &server).await;

    // Every route: no token, and a token this appliance does not know.
    // Unknown tokens are counted per address, and a few in a row are throttled (429), so
    // each route's comes from an address of its own.
    for (n, (route, path)) in (10u8..).zip(EVERY_ROUTE) {
        caller.call(route, path, &[], b"", 401);
        let headers = [("Authorization", "Bearer not-a-token")];
        caller.call_from(
            Some(Ipv4Addr::new(127, 0, 0, n)),
            route,
            path,
            &headers,
            b"",
            401,
        );
    }
    // Every role without the route's permission.
    for (route, path, role_token) in [
        (VALIDATE, "/api/v1/bundles/validate", "viewer-token"),
        (PROMOTE, "/api/v1/bundles/promote", "sre-token"),
        (ROLLBACK, "/api/v1/bundles/rollback", "auditor-token"),
        (RECEIPT, "/api/v1/receipts/1", "author-token"),
        (RECEIPTS, "/api/v1/receipts", "author-token"),
        (RECEIPTS, "/api/v1/receipts", "viewer-token"),
        (SNAPSHOTS, "/api/v1/compliance/snapshots", "viewer-token"),
        (
            ASK_SNAPSHOT,
            "/api/v1/compliance/snapshots",
            "auditor-token",
        ),
        (
            ARCHIVE,
            "/api/v1/compliance/snapshots/snapshot-20260102T030405Z/archive",
            "author-token",
        ),
        (WEBHOOKS, "/api/v1/webhooks", "viewer-token"),
        (ADD_WEBHOOK, "/api/v1/webhooks", "author-token"),
        (CHANGE_WEBHOOK, "/api/v1/webhooks/1", "viewer-token"),
        (DELIVERIES, "/api/v1/webhooks/1/deliveries", "author-token"),
        (REPLAY, "/api/v1/webhooks/1/replay", "viewer-token"),
        (DRIFT, "/api/v1/bundles/drift", "viewer-token"),
        (RUN_CANARY, "/api/v1/canary/run", "viewer-token"),
        (SILENCE, "/api/v1/canary/silences", "author-token"),
        (LIFT, "/api/v1/canary/silences/1/lift", "auditor-token"),
    ] {
        caller.with_token(route, path, role_token, b"{}", 403);
    }
    // A change from a console session without its CSRF token.
    let cookie = server::console_cookie(caller.admin, "author-token");
    for route in [
        VALIDATE,
        PROMOTE,
        ROLLBACK,
        ASK_SNAPSHOT,
        ADD_WEBHOOK,
        DRIFT,
    ] {
        let body = caller.call(route, route.1, &[("Cookie", &cookie)], b"{}", 403);
        assert_eq!(body["error"], "csrf", "{body}");
    }

    // Each answer's headers: 401 says how to authenticate.
    for answer in &caller.answers {
        if answer.status == 401 {
            assert!(
                answer.head.contains("www-authenticate: bearer"),
                "{} {}: {}",
                answer.method,
                answer.template,
                answer.head
            );
        }
    }

    // Every documented success, and every documented error a caller can reach, was answered.
    let answered: BTreeSet<(&str, &str, u16)> = caller
        .answers
        .iter()
        .map(|a| (a.method, a.template, a.status))
        .collect();
    for route in &tf_admin_api::ROUTES {
        let method = route.method.as_str();
        let responses = &document["paths"][route.path][method.to_lowercase()]["responses"];
        for status in responses.as_object().expect("responses").keys() {
            let status: u16 = status.parse().expect("a status code");
            let reachable = (200..300).contains(&status) || REACHABLE.contains(&status);
            let unreachable = UNREACHABLE
                .iter()
                .any(|(m, p, s, _)| (*m, *p, *s) == (method, route.path, status))
                || (status == 422 && UNREACHABLE_REFUSALS.contains(&(method, route.path)));
            if reachable && !unreachable {
                assert!(
                    answered.contains(&(method, route.path, status)),
                    "{method} {} {status}: documented and reachable, never answered",
                    route.path
                );
            }
        }
    }

    // The server answers no route the document does not describe: no other method on a
    // documented path, and nothing else under /api; each such answer is the error body.
    let admin = caller.admin;
    let not_found = |method: &str, path: &str| {
        let (status, head, body) = http_with_head(
            admin,
            method,
            path,
            &[("Authorization", "Bearer viewer-token")],
            b"",
        );
        assert_eq!(status, 404, "{method} {path} is not in the document");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{method} {path}: {head}"
        );
        let error: tf_admin_api::ErrorBody = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {path}: not an error body ({e}): {body}"));
        assert_eq!(error.error, tf_admin_api::ErrorCode::NotFound, "{body}");
    };
    let documented = operations(&document);
    for (_, path) in EVERY_ROUTE {
        let template = EVERY_ROUTE
            .iter()
            .find(|(_, p)| *p == path)
            .map(|((_, t), _)| *t)
            .expect("listed");
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if documented.contains(&(method.to_owned(), template.to_owned())) {
                continue;
            }
            not_found(method, path);
        }
    }
    for path in [
        "/api",
        "/api/v1",
        "/api/v1/",
        "/api/v1/receipt",
        "/api/v1/overview/history/1",
        "/api/v1/bundles/1",
        "/api/v1/bundles/1/diff/2",
        "/api/v1/tenants/demo",
        "/api/v1/openapi",
        "/api/v1/compliance",
        "/api/v1/compliance/snapshots/snapshot-20260102T030405Z",
        "/api/v1/webhooks/1/messages",
        "/api/v2/status",
    ] {
        for method in ["GET", "POST"] {
            not_found(method, path);
        }
    }

    // Finally, every body against the document, by an independent implementation.
    check_with_jsonschema(server.dir.path(), &document_text, &caller.answers);
}
