//! Partners' terms requests as an operator decides them, end to end against the real binary:
//! a bundle promoted, an invite made with `appliance ctl invites create`, redeemed with
//! `partner onboard`, then terms asked for over the partner's own QUIC connection. Within the
//! invite's template they apply at once (a `terms` switch by the tenant); above it they wait.
//! In headless Chromium a viewer sees the Partners page without buttons, and an SRE grants a
//! pending request with a reason: the page shows it granted in its revision, the timeline a
//! `terms` switch, and the partner's budgets the new cap. Another is declined with
//! `appliance ctl terms`; deciding twice, an unknown request, a viewer, and a tenant that is no
//! partner any more are refused with the reason. A bundle without the partner's terms file is
//! refused until `appliance ctl terms files` puts the file back in the author's folder, or the
//! partner is dropped on purpose (`--allow-partners-dropped`).

#[path = "support/browser.rs"]
mod browser;
#[path = "support/partners.rs"]
mod partners;
#[path = "support/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::time::Duration;

use browser::Browser;
use serde_json::Value;
use server::{ROLE_TOKENS as TOKENS, Server, run_partner_in, wait_for, with_admin_tokens};
use tf_partner::{DatasetClass, Partner, PartnerConfig};
use tf_wire::{Message, TermsCap, TermsReply, TermsRequest};

const BASE: &str = "[[tenants]]\nid = \"demo\"\n";
const TENANT: &str = "pilot-initech";

/// A server with the example bundle in force, and `TENANT` onboarded with an invite whose
/// template is kyc on P1, rate 100, burst 50, 4 keys, a daily P1 cap of 100000; the partner's
/// folder.
fn onboarded() -> (Server, PathBuf) {
    let server = Server::start(&with_admin_tokens(BASE, &TOKENS), &[], &[]);
    let bundle = server.build_bundle(&example(), 1, "in force", None);
    let (code, out, err) = server.ctl(
        "author-token",
        &["promote", bundle.to_str().expect("utf-8")],
    );
    assert_eq!(code, 0, "{out}{err}");
    let invite = partners::invite(
        &server,
        "pilot-*",
        &[
            "--max-keys",
            "4",
            "--cap",
            "P1:day:100000",
            "--reason",
            "pilot with initech",
        ],
    );
    let home = server.dir.path().join("initech");
    let (code, out, err) = partners::onboard(&server, &invite, TENANT, &home);
    assert_eq!(code, 0, "{out}{err}");
    (server, home)
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle")
}

/// Asks for terms over the partner's own connection, as `partner` would: the reply.
fn ask_terms(home: &Path, rate: u32, burst: u32, p1_day_cap: u64) -> TermsReply {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let config = PartnerConfig::from_state_dir(home).expect("the onboarded folder");
        let partner = Partner::connect(&config)
            .await
            .expect("the partner connects");
        let asked = Message::TermsRequest(TermsRequest {
            request_id: 1,
            rate_per_sec: rate,
            burst,
            max_registered_keys: 4,
            caps: vec![TermsCap {
                dataset_class: DatasetClass::P1,
                window: "day".into(),
                limit: p1_day_cap,
            }],
        });
        let reply = partner.request(&asked).await.expect("answered");
        partner.close().await;
        match reply {
            Message::TermsReply(reply) => reply,
            other => panic!("a terms reply, not {other:?}"),
        }
    })
}

/// `ctl terms list --json` as a viewer.
fn listed(server: &Server) -> Value {
    let (code, out, err) = server.ctl("viewer-token", &["terms", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("JSON")
}

fn request(list: &Value, id: u64) -> &Value {
    list["requests"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("request {id} in {list}"))
}

/// Opens the console in `browser` and logs in with `token`.
fn log_in(browser: &Browser, base: &str, token: &str) {
    browser.go(&format!("{base}/console/login"));
    browser.type_into("#token", token);
    browser.click("#login");
    browser.wait_for_text("h1", "Overview");
}

#[test]
fn in_chromium_an_sre_grants_a_partners_request_above_its_template_and_ctl_declines_another() {
    let (server, home) = onboarded();
    let admin = server.admin_address();
    let base = format!("http://{admin}");

    // Within the template: in force at once, by the template, as a `terms` switch.
    let within = ask_terms(&home, 100, 50, 50_000);
    assert!(within.revision > 1, "{within:?}");
    let list = listed(&server);
    let first = request(&list, within.terms_request);
    assert_eq!(first["status"], "granted", "{first}");
    assert_eq!(first["decided_by"], "template", "{first}");
    assert_eq!(first["revision"], within.revision, "{first}");
    assert_eq!(first["in_force"]["caps"][0]["limit"], 50_000, "{first}");

    // Above it: waiting, numbered, for an operator; nothing changed.
    let above = ask_terms(&home, 100, 50, 250_000);
    assert_eq!(above.revision, 0, "{above:?}");
    assert!(above.detail.contains("waiting"), "{above:?}");
    let other = ask_terms(&home, 500, 50, 50_000);
    assert_eq!(other.revision, 0, "{other:?}");
    let list = listed(&server);
    let pending = request(&list, above.terms_request);
    assert_eq!(
        (
            pending["status"].as_str(),
            pending["within_template"].as_bool()
        ),
        (Some("pending"), Some(false)),
        "{pending}"
    );
    assert_eq!(pending["asked"]["caps"][0]["limit"], 250_000, "{pending}");
    assert_eq!(pending["in_force"]["caps"][0]["limit"], 50_000, "{pending}");
    assert_eq!(list["partners"][0]["tenant"], TENANT, "{list}");
    let steps: Vec<(&str, bool)> = list["partners"][0]["steps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| (s["name"].as_str().unwrap_or(""), s["done"] == true))
        .collect();
    assert_eq!(
        steps,
        [
            ("onboarded", true),
            ("keys", false),
            ("terms", true),
            ("sandbox", false),
            ("first-verdict", false)
        ],
        "{list}"
    );

    let browser = Browser::start();
    let row = format!("#request-{}", above.terms_request);

    // A viewer sees the requests, without Grant or Decline, and may not post them.
    log_in(&browser, &base, "viewer-token");
    browser.click("header a[href=\"/console/partners\"]");
    browser.wait_for_text("h1", "Partners");
    let shown = browser.wait_for_text(&row, "pending");
    assert!(shown.contains("P1 day 250000"), "{shown}");
    assert_eq!(browser.count("#terms-requests button"), 0);
    assert_eq!(browser.count("#terms-requests form"), 0);
    let viewer = server::console_cookie(admin, "viewer-token");
    let (_, page) = server::http(
        admin,
        "GET",
        "/console/partners",
        &[("Cookie", &viewer)],
        b"",
    );
    let csrf = page
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf meta");
    let (status, _) = server::http(
        admin,
        "POST",
        &format!("/console/partners/requests/{}/grant", above.terms_request),
        &[
            ("Cookie", &viewer),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!("csrf={csrf}&reason=no").as_bytes(),
    );
    assert_eq!(status, 403);
    let above_id = above.terms_request.to_string();
    let grant = |reason: &'static str| ["terms", "grant", above_id.as_str(), "--reason", reason];
    let (code, _, err) = server.ctl("viewer-token", &grant("x"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("may not"), "{err}");
    browser.click("header form button");
    browser.wait_for_text("h1", "Log in");

    // An SRE grants it from the page, with a reason.
    log_in(&browser, &base, "sre-token");
    browser.click("header a[href=\"/console/partners\"]");
    browser.wait_for_text(&row, "pending");
    // The partner as it stands, with the invite it came with.
    let partner = browser.wait_for_text(&format!("#partner-{TENANT}"), "P1 day 50000");
    assert!(partner.contains("pilot with initech"), "{partner}");
    // Where its onboarding stands, with what the partner has to do next.
    let onboarding = format!("#partner-{TENANT} .onboarding");
    let steps = browser.wait_for_text(&onboarding, "2 of 5 done");
    assert!(
        steps.contains("keys to do") && steps.contains("partner keys register"),
        "{steps}"
    );
    browser.type_into(
        &format!("{row} input[name=\"reason\"]"),
        "pilot volume agreed, OPS-77",
    );
    browser.click(&format!("{row} button.grant"));
    let notice = browser.wait_for_text("#granted", "granted");
    let revision = within.revision + 1;
    assert!(notice.contains(&format!("revision {revision}")), "{notice}");
    let shown = browser.wait_for_text(&row, "granted");
    assert!(
        shown.contains(&format!("granted in revision {revision}")),
        "{shown}"
    );
    assert!(
        shown.contains("oncall") && shown.contains("OPS-77"),
        "{shown}"
    );
    browser.wait_for_text(&format!("#partner-{TENANT}"), "P1 day 250000");

    // The partner registers its key and makes a sandbox submission: the page follows.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/groth16/bn128");
    let fixture = |name: &str| fixtures.join(name).to_str().expect("utf-8").to_owned();
    let state = home.to_str().expect("utf-8");
    let (code, out, err) = run_partner_in(
        &home,
        &[
            "--state-dir",
            state,
            "--json",
            "keys",
            "register",
            &fixture("verification_key.json"),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let key_id = serde_json::from_str::<Value>(&out).expect("JSON")["key_id"]
        .as_str()
        .expect("a key id")
        .to_owned();
    let (code, out, err) = run_partner_in(
        &home,
        &[
            "--state-dir",
            state,
            "submit",
            "groth16",
            "--key-id",
            &key_id,
            "--proof",
            &fixture("proof_0.json"),
            "--public",
            &fixture("public_0.json"),
            "--purpose",
            "sandbox",
            "--class",
            "P1",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    browser.click("header a[href=\"/console/partners\"]");
    let steps = browser.wait_for_text(&onboarding, "4 of 5 done");
    assert!(
        steps.contains("sandbox done: receipt") && steps.contains("first-verdict to do"),
        "{steps}"
    );
    let artifact =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/console-partners.png");
    browser.screenshot(&artifact);
    assert!(
        std::fs::metadata(&artifact).expect("artifact").len() > 1000,
        "a real screenshot"
    );

    // The timeline shows a `terms` switch by the SRE, beside the request's events.
    let (code, out, err) = server.ctl("viewer-token", &["timeline"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("terms.requested"), "{out}");
    assert!(
        out.contains(&format!(
            "terms request #{} for tenant {TENANT} granted by oncall in revision {revision}",
            above.terms_request
        )),
        "{out}"
    );
    let (_, out, _) = server.ctl("viewer-token", &["timeline", "--json"]);
    let timeline: Value = serde_json::from_str(&out).expect("JSON");
    let switches = timeline["timeline"].as_array().expect("timeline");
    let last = switches.last().expect("an entry");
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("terms"), Some("oncall")),
        "{last}"
    );
    assert_eq!(last["to_revision"], revision, "{last}");
    let by_template = &switches[switches.len() - 2];
    assert_eq!(by_template["action"], "terms", "{by_template}");
    assert_eq!(by_template["actor"], format!("tenant {TENANT}"));

    // The partner's budgets carry the granted cap.
    let state = home.to_str().expect("utf-8");
    wait_for(
        "the granted cap in the partner's budgets",
        Duration::from_secs(30),
        || {
            let (code, out, _) =
                run_partner_in(&home, &["--state-dir", state, "--json", "budgets"]);
            code == 0 && out.contains("250000")
        },
        || server.log(),
    );

    // Another declined with ctl by a policy author: listed declined, the terms unchanged.
    let id = other.terms_request.to_string();
    let decline = [
        "terms",
        "decline",
        id.as_str(),
        "--reason",
        "rate too high for now",
    ];
    let (code, out, err) = server.ctl("author-token", &decline);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("declined by policy-team"), "{out}");
    let list = listed(&server);
    let declined = request(&list, other.terms_request);
    assert_eq!(declined["status"], "declined", "{declined}");
    assert_eq!(declined["reason"], "rate too high for now", "{declined}");
    assert_eq!(declined["revision"], Value::Null, "{declined}");
    assert_eq!(declined["in_force"]["rate_per_sec"], 100, "{declined}");
    let (code, out, _) = server.ctl("viewer-token", &["terms", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains("declined by policy-team"), "{out}");

    // Decided once: again, or a number that does not exist, is refused (exit 1).
    let (code, _, err) = server.ctl("author-token", &decline);
    assert_eq!(code, 1);
    assert!(
        err.contains("wrong-state") && err.contains("already decided"),
        "{err}"
    );
    let (code, _, err) = server.ctl("sre-token", &grant("again"));
    assert_eq!(code, 1);
    assert!(err.contains("already decided"), "{err}");
    for verb in ["grant", "decline"] {
        let (code, _, err) = server.ctl("sre-token", &["terms", verb, "99", "--reason", "x"]);
        assert_eq!(code, 1, "{verb}: {err}");
        assert!(err.contains("no terms request 99"), "{verb}: {err}");
    }
    // A reason is required: a usage error.
    let (code, _, err) = server.ctl("sre-token", &["terms", "grant", "99", "--reason", " "]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("reason"), "{err}");

    // The author's own folder, without the partner's terms file: promoting it is refused,
    // naming the partner and what to do, and nothing changes.
    let late = ask_terms(&home, 100, 80, 250_000);
    assert_eq!(late.revision, 0, "{late:?}");
    let without = server.build_bundle(&example(), revision + 1, "without partners", None);
    let without = without.to_str().expect("utf-8");
    let (code, out, err) = server.ctl("author-token", &["promote", without]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("refused")
            && err.contains(&format!("partner {TENANT}"))
            && err.contains("ctl terms files")
            && err.contains("--allow-partners-dropped"),
        "{err}"
    );
    let (code, _, err) = server.ctl("author-token", &["validate", without]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("partner {TENANT}")), "{err}");
    let (_, out, _) = server.ctl("viewer-token", &["status", "--json"]);
    let status: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(status["revision"], revision, "{status}");

    // `ctl terms files` writes the partner's file into a copy of the folder: built and
    // promoted, the partner is kept.
    let folder = server.dir.path().join("author-bundle");
    std::fs::create_dir_all(&folder).expect("mkdir");
    for entry in std::fs::read_dir(example()).expect("the example") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), folder.join(entry.file_name())).expect("copy");
    }
    let out_dir = folder.join("partners");
    let (code, out, err) = server.ctl(
        "author-token",
        &["terms", "files", "--out", out_dir.to_str().expect("utf-8")],
    );
    assert_eq!(code, 0, "{out}{err}");
    let written = out_dir.join(format!("{TENANT}.toml"));
    assert!(out.contains(&written.display().to_string()), "{out}");
    let list = listed(&server);
    assert_eq!(
        std::fs::read_to_string(&written).expect("written"),
        list["partners"][0]["file"]
            .as_str()
            .expect("the file's text"),
    );
    let kept = server.build_bundle(&folder, revision + 1, "partners kept", None);
    let (code, out, err) = server.ctl("author-token", &["promote", kept.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{out}{err}");
    let list = listed(&server);
    let partners = list["partners"].as_array().expect("partners");
    assert!(partners.iter().any(|p| p["tenant"] == TENANT), "{list}");

    // Dropped on purpose: the tenant is no partner any more, and a request it made before is
    // refused with why.
    let bundle = server.build_bundle(&example(), revision + 2, "without partners", None);
    let (code, out, err) = server.ctl(
        "author-token",
        &[
            "promote",
            bundle.to_str().expect("utf-8"),
            "--allow-partners-dropped",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let id = late.terms_request.to_string();
    let (code, _, err) = server.ctl(
        "sre-token",
        &["terms", "grant", id.as_str(), "--reason", "too late"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("refused") && err.contains("not onboarded with an invite"),
        "{err}"
    );
    let list = listed(&server);
    assert_eq!(request(&list, late.terms_request)["status"], "pending");
    assert_eq!(request(&list, late.terms_request)["in_force"], Value::Null);
    assert_eq!(list["partners"], serde_json::json!([]), "{list}");
}
