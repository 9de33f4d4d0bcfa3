//! The ops console. Over plain HTTP: login exchanges a token for an HttpOnly, SameSite=Strict
//! session, every change needs the session's CSRF token and a same-site origin, and a viewer
//! gets no promote or rollback, and no compliance or webhooks page (nor, outside fleet mode, a
//! Fleet page); an auditor adds a public webhook endpoint but may not mark one local. In a real
//! browser: headless Chromium, driven through chromedriver, logs in, promotes a bundle, rolls
//! it back with the button, and the timeline shows both; an SRE asks for a compliance snapshot
//! with the button, the page lists it with its period, receipts and status, and its download
//! link gives the archive; an SRE adds a local webhook endpoint, the reference receiver (a
//! second process) gets each receipt made once, the pages count and list the acknowledgements,
//! a replay reaches the receiver as a duplicate, and the row's form pauses the endpoint. The
//! console tells the truth and remembers: a demo of invalid proofs shows them as invalid
//! verdicts and 0 errors, and the overview draws its last hour; an auditor finds a known
//! receipt by tenant and request id and pages through the rest; each timeline row's diff shows
//! what that switch changed; a bad console address gives a page that leads back. Screenshots
//! are kept in `target/test-artifacts/`.

#[path = "support/browser.rs"]
mod browser;
#[path = "support/server.rs"]
mod server;
#[path = "support/tlog.rs"]
mod tlog;
#[path = "support/webhooks.rs"]
mod webhooks;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use browser::Browser;
use serde_json::{Value, json};
use server::{Server, free_port, http, http_with_head, with_admin_tokens, without_policy};
use tf_bundles::BundleFiles;
use tf_partner::{Partner, Statement, Submission, VerdictCode};
use webhooks::{Receiver, wait_for};

const TOKENS: [(&str, &str, &str); 4] = [
    ("author-token", "policy-team", "policy-author"),
    ("viewer-token", "dashboard", "viewer"),
    ("sre-token", "oncall", "sre"),
    ("auditor-token", "audit", "auditor"),
];

/// Checkpoints every 100 ms so an asked snapshot is made within seconds; the schedule fires
/// once a year, so only the snapshot asked for is made.
fn config() -> String {
    with_admin_tokens(
        "[log]\ncheckpoint_interval_ms = 100\n\n[compliance]\nschedule = \"0 0 1 1 *\"\n\n\
         [[tenants]]\nid = \"demo\"\n\n[[tenants]]\nid = \"acme\"\n",
        &TOKENS,
    )
}

/// Builds the example bundle as `revision`, signed with the development author key; returns
/// the archive's path.
fn build(server: &Server, revision: u64, note: &str) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    server.build_bundle(&example, revision, note, None)
}

/// A policy of the example bundle that a later revision drops, so its diff shows a change.
const DROPPED_POLICY: &str = "bls-on-p1-and-p2";

/// The example bundle without [`DROPPED_POLICY`], built as `revision`.
fn build_without_policy(server: &Server, revision: u64, note: &str) -> PathBuf {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/bundle");
    let mut files = BundleFiles::from_dir(&example).expect("example bundle");
    let policies =
        String::from_utf8(files.get("policies.cedar").expect("policies").to_vec()).expect("utf-8");
    files.insert(
        "policies.cedar",
        without_policy(&policies, DROPPED_POLICY).into_bytes(),
    );
    let source = server.dir.path().join(format!("source-{revision}"));
    files.write_dir(&source).expect("source written");
    server.build_bundle(&source, revision, note, None)
}

/// Request `n` with its signature over another message: well formed, and it does not verify.
fn invalid_submission(n: u64) -> Submission {
    let mut submission = tlog::submission(n);
    if let Statement::BlsSingle { message, .. } = &mut submission.statement {
        message.push(0xff);
    }
    submission
}

/// The request id a saved receipt answers.
fn request_id(saved: &tlog::Saved) -> u64 {
    let envelope: Value = serde_json::from_str(&saved.json).expect("envelope JSON");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().expect("a payload"))
        .expect("base64");
    let receipt: Value = serde_json::from_slice(&payload).expect("receipt JSON");
    receipt["request_id"].as_u64().expect("a request id")
}

/// Opens the console in `browser` and logs in with `token`.
fn log_in(browser: &Browser, base: &str, token: &str) {
    browser.go(&format!("{base}/console"));
    browser.type_into("#token", token);
    browser.click("#login");
    browser.wait_for_text("h1", "Overview");
}

/// Logs in over HTTP; returns the cookie pair and the session's CSRF token.
fn login(admin: SocketAddr, token: &str) -> (String, String) {
    let body = format!("token={token}");
    let (status, head, _) = http_with_head(
        admin,
        "POST",
        "/console/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    assert_eq!(status, 303, "{head}");
    let set_cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap_or_else(|| panic!("a session cookie: {head}"));
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().expect("pair").to_owned();
    let (status, page) = http(
        admin,
        "GET",
        "/console/bundles",
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(status, 200, "{page}");
    let csrf = page
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf meta")
        .to_owned();
    (cookie, csrf)
}

#[test]
fn sessions_csrf_and_roles_guard_every_console_change() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();

    // Not logged in: pages send the browser to the login page; a wrong token is refused.
    let (status, head, _) = http_with_head(admin, "GET", "/console/bundles", &[], b"");
    assert_eq!(status, 303);
    assert!(head.contains("location: /console/login"), "{head}");
    let (status, page) = http(
        admin,
        "POST",
        "/console/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"token=not-a-token",
    );
    assert_eq!(status, 401);
    assert!(page.contains("not one this appliance accepts"), "{page}");

    let (cookie, csrf) = login(admin, "author-token");
    let archive = std::fs::read(build(&server, 1, "first")).expect("archive");
    // The session reaches the API, but a change without the session's CSRF token is refused.
    let (status, body) = http(
        admin,
        "POST",
        "/api/v1/bundles/promote",
        &[("Cookie", &cookie)],
        &archive,
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("csrf"), "{body}");
    let (status, body) = http(
        admin,
        "POST",
        "/api/v1/bundles/promote",
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        &archive,
    );
    assert_eq!(status, 200, "{body}");
    let archive = std::fs::read(build(&server, 2, "second")).expect("archive");
    let (status, body) = http(
        admin,
        "POST",
        "/api/v1/bundles/promote",
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        &archive,
    );
    assert_eq!(status, 200, "{body}");

    // The rollback form: a wrong CSRF token or another site's origin is refused.
    let form = |token: &str| format!("csrf={token}&to=1&reason=bad+change");
    let form_headers = |origin: &'static str| {
        let mut headers = vec![
            ("Cookie", cookie.clone()),
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
        ];
        if !origin.is_empty() {
            headers.push(("Origin", origin.to_owned()));
        }
        headers
    };
    let post = |headers: Vec<(&str, String)>, body: String| {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        http(
            admin,
            "POST",
            "/console/rollback",
            &headers,
            body.as_bytes(),
        )
    };
    let (status, _) = post(form_headers(""), form("0000"));
    assert_eq!(status, 403);
    let (status, _) = post(form_headers("http://evil.example"), form(&csrf));
    assert_eq!(status, 403);
    let status_revision = || {
        let (_, body) = http(admin, "GET", "/api/v1/status", &[("Cookie", &cookie)], b"");
        serde_json::from_str::<Value>(&body).expect("json")["revision"]
            .as_u64()
            .expect("revision")
    };
    assert_eq!(status_revision(), 2, "refused forms changed nothing");
    let (status, page) = post(form_headers(""), form(&csrf));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Rolled back: revision 3"), "{page}");
    assert_eq!(status_revision(), 3);

    // A viewer sees the timeline but no promote form, and may not roll back.
    let (viewer, viewer_csrf) = login(admin, "viewer-token");
    let (_, page) = http(
        admin,
        "GET",
        "/console/bundles",
        &[("Cookie", &viewer)],
        b"",
    );
    assert!(page.contains("rollback"), "timeline shown: {page}");
    assert!(!page.contains("promote-form"), "{page}");
    // Not in fleet mode: no Fleet page in the navigation, and its address says why.
    assert!(page.contains("href=\"/console/partners\""), "{page}");
    assert!(!page.contains("/console/fleet"), "{page}");
    let (status, page) = http(admin, "GET", "/console/fleet", &[("Cookie", &viewer)], b"");
    assert_eq!(status, 404, "{page}");
    assert!(page.contains("not in fleet mode"), "{page}");
    let (status, _) = http(
        admin,
        "GET",
        "/console/rollback?to=1",
        &[("Cookie", &viewer)],
        b"",
    );
    assert_eq!(status, 403);
    let body = format!("csrf={viewer_csrf}&to=1&reason=no");
    let (status, _) = http(
        admin,
        "POST",
        "/console/rollback",
        &[
            ("Cookie", &viewer),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    );
    assert_eq!(status, 403);
    assert_eq!(status_revision(), 3);

    // The compliance page: an auditor reads it without the SRE's button, a viewer may not
    // read it, and may not ask for a snapshot either.
    let (auditor, auditor_csrf) = login(admin, "auditor-token");
    let (status, page) = http(
        admin,
        "GET",
        "/console/compliance",
        &[("Cookie", &auditor)],
        b"",
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"snapshots\""), "{page}");
    assert!(!page.contains("ask-snapshot"), "{page}");
    let (status, _) = http(
        admin,
        "GET",
        "/console/compliance",
        &[("Cookie", &viewer)],
        b"",
    );
    assert_eq!(status, 403);
    for (session, csrf) in [(&viewer, &viewer_csrf), (&auditor, &auditor_csrf)] {
        let body = format!("csrf={csrf}");
        let (status, page) = http(
            admin,
            "POST",
            "/console/compliance/snapshot",
            &[
                ("Cookie", session),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        );
        assert_eq!(status, 403, "{page}");
    }
    let (status, body) = http(
        admin,
        "GET",
        "/api/v1/compliance/snapshots",
        &[("Cookie", &auditor)],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(listed["snapshots"], json!([]), "nothing was asked for");

    // Logging out ends the session.
    let body = format!("csrf={csrf}");
    let (status, _) = http(
        admin,
        "POST",
        "/console/logout",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    );
    assert_eq!(status, 303);
    let (status, _) = http(admin, "GET", "/api/v1/status", &[("Cookie", &cookie)], b"");
    assert_eq!(status, 401);
    let log = server.log();
    for (token, _, _) in TOKENS {
        assert!(!log.contains(token), "{token} in the log");
    }
}

#[test]
fn webhook_pages_keep_local_endpoints_for_sres_and_changes_behind_csrf() {
    let server = Server::start(&config(), &[], &[]);
    let admin = server.admin_address();
    let (viewer, viewer_csrf) = login(admin, "viewer-token");
    let (auditor, auditor_csrf) = login(admin, "auditor-token");
    let (sre, _) = login(admin, "sre-token");
    let page = |session: &str, path: &str| http(admin, "GET", path, &[("Cookie", session)], b"");
    let post = |session: &str, path: &str, body: &str| {
        http(
            admin,
            "POST",
            path,
            &[
                ("Cookie", session),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
    };
    let add_form = |csrf: &str, url: &str, extra: &str| {
        format!(
            "csrf={csrf}&url={url}&events=receipt.issued&schemes=v1&tenants=&rate_per_s=\
             &batch_max=&description=audit+firm&reason=TICKET-88{extra}"
        )
    };
    let listed = || {
        let (status, body) = http(
            admin,
            "GET",
            "/api/v1/webhooks",
            &[("Authorization", "Bearer auditor-token")],
            b"",
        );
        assert_eq!(status, 200, "{body}");
        let reply: Value = serde_json::from_str(&body).expect("json");
        reply["endpoints"].as_array().expect("endpoints").clone()
    };

    // A viewer may not read the endpoints, nor change them.
    let (status, _) = page(&viewer, "/console/webhooks");
    assert_eq!(status, 403);
    let (status, _) = page(&viewer, "/console/webhooks/1");
    assert_eq!(status, 403);
    let external = "https%3A%2F%2Faudit.example.com%2Fhook";
    let (status, _) = post(
        &viewer,
        "/console/webhooks/add",
        &add_form(&viewer_csrf, external, ""),
    );
    assert_eq!(status, 403);

    // An auditor sees the page and the add form, without the SRE's `local` checkbox; an SRE
    // has it.
    let (status, shown) = page(&auditor, "/console/webhooks");
    assert_eq!(status, 200, "{shown}");
    for part in [
        "id=\"endpoints\"",
        "No endpoint yet",
        "id=\"public-key\">whpk_",
        "id=\"add-form\"",
    ] {
        assert!(shown.contains(part), "{part}: {shown}");
    }
    assert!(!shown.contains("id=\"local\""), "{shown}");
    let (_, shown) = page(&sre, "/console/webhooks");
    assert!(shown.contains("id=\"local\""), "{shown}");

    // An auditor may not mark an endpoint local, over the form or the API.
    let loopback = "http%3A%2F%2F127.0.0.1%3A9%2Fhook";
    let (status, shown) = post(
        &auditor,
        "/console/webhooks/add",
        &add_form(&auditor_csrf, loopback, "&local=on"),
    );
    assert_eq!(status, 403, "{shown}");
    assert!(
        shown.contains("audit may not mark a webhook endpoint local, or change a local one (sre)"),
        "{shown}"
    );
    assert!(!shown.contains("id=\"added\""), "{shown}");
    let add = json!({
        "url": "http://127.0.0.1:9/hook",
        "settings": {"events": ["receipt.issued"], "schemes": ["v1"], "local": true},
        "reason": "TICKET-88",
    });
    let (status, body) = http(
        admin,
        "POST",
        "/api/v1/webhooks",
        &[("Authorization", "Bearer auditor-token")],
        add.to_string().as_bytes(),
    );
    assert_eq!(status, 403, "{body}");
    let refused: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(refused["error"], "forbidden", "{body}");
    // Nor add one without the session's CSRF token, or from another site.
    let (status, shown) = post(
        &auditor,
        "/console/webhooks/add",
        &add_form("", external, ""),
    );
    assert_eq!(status, 403, "{shown}");
    assert!(shown.contains("CSRF token"), "{shown}");
    let (status, _) = http(
        admin,
        "POST",
        "/console/webhooks/add",
        &[
            ("Cookie", &auditor),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "http://evil.example"),
        ],
        add_form(&auditor_csrf, external, "").as_bytes(),
    );
    assert_eq!(status, 403);
    assert_eq!(listed(), Vec::<Value>::new(), "refused forms added nothing");

    // A public https endpoint is the auditor's to add: its secret is shown once, and the
    // page lists it (nothing is owed it: no receipt was made since).
    let (status, shown) = post(
        &auditor,
        "/console/webhooks/add",
        &add_form(&auditor_csrf, external, ""),
    );
    assert_eq!(status, 200, "{shown}");
    let notice = shown
        .split("id=\"added\">")
        .nth(1)
        .unwrap_or_else(|| panic!("an added notice: {shown}"));
    let secret = notice
        .split("<code id=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("a secret in {notice}"));
    assert!(secret.starts_with("whsec_"), "{secret}");
    let endpoints = listed();
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    let id = endpoints[0]["id"].as_u64().expect("id");
    assert!(
        notice.starts_with(&format!("Endpoint {id} added.")),
        "{notice}"
    );
    assert_eq!(endpoints[0]["url"], "https://audit.example.com/hook");
    assert_eq!(endpoints[0]["settings"]["local"], false);
    assert_eq!(endpoints[0]["settings"]["description"], "audit firm");
    let (_, shown) = page(&auditor, "/console/webhooks");
    let row = shown
        .split(&format!("id=\"endpoint-{id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("endpoint {id} listed: {shown}"));
    assert!(
        row.contains("<code>https://audit.example.com/hook</code>"),
        "{row}"
    );
    assert!(row.contains("class=\"status active\""), "{row}");
    assert!(!shown.contains(secret), "the secret is shown only once");
    let (status, shown) = page(&auditor, &format!("/console/webhooks/{id}"));
    assert_eq!(status, 200, "{shown}");
    assert!(shown.contains("No message yet"), "{shown}");
    assert!(shown.contains("id=\"replay-form\""), "{shown}");
}

#[test]
fn in_chromium_an_admin_promotes_and_rolls_back_and_the_timeline_shows_both() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();
    let bundle = build(&server, 1, "allow the example tenants");
    let base = format!("http://{admin}");
    let browser = Browser::start();

    browser.go(&format!("{base}/console"));
    browser.type_into("#token", "author-token");
    browser.click("#login");
    browser.wait_for_text("h1", "Overview");
    // The live overview fills its rate after its second reading, without a reload.
    browser.wait_for_text("#live-rate", "/s");

    browser.go(&format!("{base}/console/bundles"));
    browser.wait_for_text("#active-revision", "revision 0");
    browser.type_into("#bundle-file", &bundle.display().to_string());
    browser.click("#promote");
    browser.wait_for_text("#promote-result", "Revision 1 is in force");
    // The page reloads itself after a promotion.
    browser.wait_for_text("#active-revision", "revision 1");

    // Roll back to the configuration in force before (revision 0 has no bundle), so promote a
    // second revision (without one of the first's policies) and roll back to the first with
    // the button.
    let second = build_without_policy(&server, 2, "second");
    browser.type_into("#bundle-file", &second.display().to_string());
    browser.click("#promote");
    browser.wait_for_text("#active-revision", "revision 2");
    browser.click("#rollback-previous");
    browser.wait_for_text("h1", "Roll back to revision 1?");
    browser.type_into("#reason", "second revision misbehaves");
    browser.click("#confirm-rollback");
    browser.wait_for_text(".notice", "Rolled back: revision 3");

    browser.go(&format!("{base}/console/bundles"));
    let timeline = browser.wait_for_text("#timeline", "rollback");
    assert!(timeline.contains("promote"), "{timeline}");
    assert!(
        timeline.contains("second revision misbehaves"),
        "{timeline}"
    );
    assert!(timeline.contains("policy-team"), "{timeline}");
    browser.wait_for_text("#active-revision", "revision 3");
    // Each row's diff is what that switch changed, against the revision before it: the first
    // promotion had only the configuration file before it.
    let first = browser.text("#event-1").expect("the first promotion's row");
    assert!(first.contains("the first bundle"), "{first}");
    assert_eq!(browser.count("#event-1 a.changes"), 0);
    browser.click("#event-2 a.changes");
    browser.wait_for_text("h1", "Revision 2: what changes from revision 1");
    let diff = browser.wait_for_text("table.diff", DROPPED_POLICY);
    assert!(diff.contains("removed"), "{diff}");
    assert_eq!(browser.count("table.diff tbody tr"), 1, "{diff}");
    browser.go(&format!("{base}/console/bundles"));
    browser.click("#event-3 a.changes");
    browser.wait_for_text("h1", "Revision 3: what changes from revision 2");
    let diff = browser.wait_for_text("table.diff", DROPPED_POLICY);
    assert!(diff.contains("added"), "the rollback put it back: {diff}");
    browser.go(&format!("{base}/console/bundles"));
    browser.wait_for_text("#active-revision", "revision 3");
    let artifact =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/console-timeline.png");
    browser.screenshot(&artifact);
    assert!(
        std::fs::metadata(&artifact).expect("artifact").len() > 1000,
        "a real screenshot"
    );

    // The API agrees with what the page showed.
    let (_, body) = http(
        admin,
        "GET",
        "/api/v1/bundles",
        &[("Authorization", "Bearer viewer-token")],
        b"",
    );
    let events: Value = serde_json::from_str(&body).expect("json");
    let actions: Vec<&str> = events["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["promote", "promote", "rollback"]);
}

#[test]
fn in_chromium_an_sre_asks_for_a_snapshot_and_downloads_it_from_the_list() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(tlog::submit(server.partner("acme"), 0, 2));
    // A snapshot seals what was decided before the whole second it is asked in.
    std::thread::sleep(Duration::from_millis(1100));
    let base = format!("http://{admin}");
    let browser = Browser::start();

    browser.go(&format!("{base}/console"));
    browser.type_into("#token", "sre-token");
    browser.click("#login");
    browser.wait_for_text("h1", "Overview");
    browser.go(&format!("{base}/console/compliance"));
    browser.wait_for_text("#snapshots", "No snapshot yet");
    browser.click("#ask-snapshot");
    let notice = browser.wait_for_text(".notice", "Asked for snapshot-");
    let name = notice
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.strip_suffix(':'))
        .unwrap_or_else(|| panic!("a name in {notice:?}"))
        .to_owned();

    // The page lists it once made and anchored (reloaded until then).
    let row = format!("tr[id=\"{name}\"]");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        browser.go(&format!("{base}/console/compliance"));
        let text = browser.text("#snapshots").unwrap_or_default();
        if text.contains(&name) && text.contains("receipts-held") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never listed as receipts-held: {text}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let shown = browser.text(&row).expect("the row");
    assert!(shown.contains("1970-01-01T00:00:00Z → "), "{shown}");
    let receipts = browser.text(&format!("{row} td:nth-child(3)"));
    assert_eq!(receipts.as_deref(), Some("2"), "{shown}");
    assert_eq!(
        browser.text(&format!("{row} td.status")).as_deref(),
        Some("receipts-held")
    );
    let artifact = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/test-artifacts/console-compliance.png");
    browser.screenshot(&artifact);

    // The download link is the archive route, and a console session opens it.
    let href = browser.attribute(&format!("{row} a.archive"), "href");
    let path = format!("/api/v1/compliance/snapshots/{name}/archive");
    assert!(href.ends_with(&path), "{href}");
    let (cookie, _) = login(admin, "sre-token");
    let (status, head, _) = http_with_head(admin, "GET", &path, &[("Cookie", &cookie)], b"");
    assert_eq!(status, 200, "{head}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: application/gzip"), "{head}");
    assert!(
        head.contains(&format!(
            "filename=\"{}.tar.gz\"",
            name.to_ascii_lowercase()
        )),
        "{head}"
    );
}

#[test]
fn in_chromium_an_sre_adds_a_local_endpoint_whose_receiver_gets_each_receipt_once() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();
    let base = format!("http://{admin}");
    // The receiver needs the secret, shown only once the endpoint is added, so the endpoint
    // names a port reserved now and the receiver listens on it afterwards.
    let port = free_port();
    let browser = Browser::start();

    browser.go(&format!("{base}/console"));
    browser.type_into("#token", "sre-token");
    browser.click("#login");
    browser.wait_for_text("h1", "Overview");
    browser.go(&format!("{base}/console/webhooks"));
    browser.wait_for_text("#endpoints", "No endpoint yet");
    browser.type_into("#url", &format!("http://127.0.0.1:{port}/hooks"));
    browser.click("#local");
    browser.type_into("#description", "reference receiver");
    browser.type_into("#reason", "end-to-end check");
    browser.click("#add-endpoint");
    let notice = browser.wait_for_text("#added", "added");
    let id: u64 = notice
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("an id in {notice:?}"));
    let secret = browser.text("code#secret").expect("the secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let row = format!("tr#endpoint-{id}");
    assert_eq!(
        browser.text(&format!("{row} td.status")).as_deref(),
        Some("active")
    );

    let out = server.dir.path().join("received");
    let receiver = Receiver::for_endpoint(port, &out, &secret, &server.state, &[]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut made: Vec<u64> = runtime
        .block_on(tlog::submit(server.partner("acme"), 0, 3))
        .iter()
        .map(|saved| saved.seq)
        .collect();
    made.sort_unstable();
    // The seqs of the receipts recorded, sorted, repeats kept.
    let recorded = || {
        let mut seqs = receiver.recorded();
        seqs.sort_unstable();
        seqs
    };
    wait_for(
        "the receiver to record each receipt made",
        Duration::from_secs(30),
        || recorded() == made,
        || {
            let (log, served) = (receiver.log(), server.log());
            format!("it has {:?}, not {made:?}: {log}\n{served}", recorded())
        },
    );
    // A batch's receipts are on disk before its message's line: wait for the lines to cover
    // every receipt before counting the messages.
    let carried = || -> u64 {
        receiver
            .lines("messages.jsonl")
            .iter()
            .map(|line| line["receipts"].as_u64().expect("receipts"))
            .sum()
    };
    wait_for(
        "the receiver's message lines to cover each receipt",
        Duration::from_secs(30),
        || carried() == made.len() as u64,
        || receiver.log(),
    );
    let messages = receiver.lines("messages.jsonl").len() as u64;
    assert!((1..=3).contains(&messages), "{}", receiver.log());

    // The row counts the acknowledgements (reloaded until it does), and the deliveries page
    // lists each message as acknowledged.
    let acknowledged = format!("{row} td.acknowledged");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        browser.go(&format!("{base}/console/webhooks"));
        let shown = browser.text(&acknowledged).unwrap_or_default();
        if shown == messages.to_string() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{acknowledged} shows {shown:?}, not {messages}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    browser.click(&format!("{row} a[href=\"/console/webhooks/{id}\"]"));
    browser.wait_for_text("h1", &format!("Webhook endpoint {id}"));
    for number in 1..=messages {
        assert_eq!(
            browser
                .text(&format!("tr#message-{number} td.status"))
                .as_deref(),
            Some("acknowledged"),
            "message {number}"
        );
    }

    // Replaying the newest message sends it again with its id: the receiver answers it as a
    // duplicate and still holds each receipt once.
    let newest = format!("tr#message-{messages}");
    let replayed_id = browser
        .text(&format!("{newest} td:nth-child(2)"))
        .expect("its webhook-id");
    assert!(replayed_id.starts_with("msg_receipts_"), "{replayed_id}");
    browser.click(&format!("{newest} button.replay-one"));
    browser.wait_for_text("#replayed", "1 sent again");
    let duplicate = format!("id={replayed_id:?} type=- receipts=- status=200 verdict=duplicate");
    wait_for(
        "the receiver to answer the replay as a duplicate",
        Duration::from_secs(30),
        || receiver.log().contains(&duplicate),
        || format!("no {duplicate:?}: {}", receiver.log()),
    );
    assert_eq!(recorded(), made, "each receipt once");
    assert_eq!(receiver.lines("messages.jsonl").len() as u64, messages);
    let again = format!("tr#message-{}", messages + 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        browser.go(&format!("{base}/console/webhooks/{id}"));
        if browser.text(&format!("{again} td.status")).as_deref() == Some("acknowledged") {
            break;
        }
        assert!(Instant::now() < deadline, "the replay never acknowledged");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        browser.text(&format!("{again} td:nth-child(2)")),
        Some(replayed_id),
        "the same webhook-id"
    );

    // Pausing with the row's form: the state cell says so.
    browser.go(&format!("{base}/console/webhooks"));
    browser.type_into(&format!("{row} input[name=\"reason\"]"), "receiver upgrade");
    browser.click(&format!("{row} button[value=\"pause\"]"));
    browser.wait_for_text("#changed", "pause done");
    assert_eq!(
        browser.text(&format!("{row} td.status")).as_deref(),
        Some("paused")
    );
    let artifact =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/console-webhooks.png");
    browser.screenshot(&artifact);
    assert!(
        std::fs::metadata(&artifact).expect("artifact").len() > 1000,
        "a real screenshot"
    );
    let (status, body) = http(
        admin,
        "GET",
        "/api/v1/webhooks",
        &[("Authorization", "Bearer sre-token")],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).expect("json");
    let endpoint = &listed["endpoints"][0];
    assert_eq!(endpoint["state"], "paused", "{endpoint}");
    assert_eq!(endpoint["settings"]["local"], true, "{endpoint}");
    assert_eq!(endpoint["delivery"]["acknowledged"], messages + 1);
}

#[test]
fn in_chromium_invalid_proofs_are_no_errors_and_the_overview_draws_its_last_hour() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // A demo that submits invalid proofs on purpose: four of them, and three valid ones.
    let verdicts = runtime.block_on(async {
        let partner = Partner::connect(&server.partner("acme"))
            .await
            .expect("connects");
        let mut verdicts = Vec::new();
        for n in 0..7 {
            let submission = match n < 4 {
                true => invalid_submission(n),
                false => tlog::submission(n),
            };
            let reply = partner.submit(submission).await.expect("answered");
            verdicts.push(reply.verdict);
        }
        partner.close().await;
        verdicts
    });
    let invalid = verdicts
        .iter()
        .filter(|v| **v == VerdictCode::Invalid)
        .count();
    assert_eq!(invalid, 4, "{verdicts:?}");

    let base = format!("http://{admin}");
    let browser = Browser::start();
    log_in(&browser, &base, "viewer-token");
    // Invalid verdicts are counted apart; not one of them is an error.
    browser.wait_for_text("#invalid-acme", "4");
    browser.wait_for_text("#live-invalid", "4");
    assert_eq!(browser.text("#valid-acme").as_deref(), Some("3"));
    assert_eq!(browser.text("#refused-acme").as_deref(), Some("0"));
    assert_eq!(browser.text("#errors-acme").as_deref(), Some("0"));
    assert_eq!(browser.text("#live-errors").as_deref(), Some("0"));
    browser.wait_for_text("#errors-rate-acme", "0.00");

    // The last hour: once a sample is taken (every 10 s), the charts draw acme's requests, and
    // its invalid verdicts apart from errors; the page puts them in place without a reload.
    let deadline = Instant::now() + Duration::from_secs(60);
    let drawn = loop {
        let shown = browser.text("#history").unwrap_or_default();
        if shown.contains("acme") && shown.contains("invalid verdicts") {
            break shown;
        }
        assert!(
            Instant::now() < deadline,
            "the history was never drawn: {shown}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(drawn.contains("Requests per second"), "{drawn}");
    assert!(drawn.contains("Decision latency p99"), "{drawn}");
    assert!(drawn.contains("Refusals per second"), "{drawn}");
    assert!(browser.count("#chart-requests svg polyline, #chart-requests svg circle") > 0);
    let artifact =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/console-overview.png");
    browser.screenshot(&artifact);
    assert!(
        std::fs::metadata(&artifact).expect("artifact").len() > 1000,
        "a real screenshot"
    );

    // The history the page drew is the API's: acme's invalid verdicts in it, no error.
    let (status, body) = http(
        admin,
        "GET",
        "/api/v1/overview/history",
        &[("Authorization", "Bearer viewer-token")],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    let history: Value = serde_json::from_str(&body).expect("json");
    let acme = history["tenants"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["tenant"] == "acme"))
        .unwrap_or_else(|| panic!("acme in {history}"));
    let sum = |series: &str| -> f64 {
        acme[series]
            .as_array()
            .expect("a series")
            .iter()
            .filter_map(Value::as_f64)
            .sum()
    };
    assert!(sum("invalid_per_second") > 0.0, "{acme}");
    assert!(
        sum("requests_per_second") > sum("invalid_per_second"),
        "{acme}"
    );
    assert_eq!(sum("errors_per_second"), 0.0, "{acme}");
}

#[test]
fn in_chromium_an_auditor_finds_a_known_receipt_and_a_bad_address_leads_back() {
    let server = Server::start(&config(), &["acme"], &[]);
    let admin = server.admin_address();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let saved = runtime.block_on(tlog::submit(server.partner("acme"), 0, 5));
    let known = &saved[2];
    let known_id = request_id(known);
    let base = format!("http://{admin}");
    let browser = Browser::start();
    log_in(&browser, &base, "auditor-token");

    // Found by its tenant and request id: that receipt alone, and its page.
    browser.go(&format!("{base}/console/receipts"));
    browser.type_into("#tenant", "acme");
    browser.type_into("#request_id", &known_id.to_string());
    browser.click("#find");
    let row = format!("#receipt-{}", known.seq);
    let shown = browser.wait_for_text(&row, "acme");
    assert!(shown.contains("valid"), "{shown}");
    assert_eq!(browser.count("#results tbody tr"), 1);
    browser.click(&format!("{row} a"));
    browser.wait_for_text("h2", &format!("Receipt {}", known.seq));
    let receipt = browser.text("#receipt").expect("the receipt");
    assert!(receipt.contains(&known_id.to_string()), "{receipt}");

    // Two at a time, newest first, to the last page.
    browser.go(&format!("{base}/console/receipts?tenant=acme&limit=2"));
    let mut pages: Vec<Vec<u64>> = Vec::new();
    loop {
        browser.find("#results");
        let page: Vec<u64> = saved
            .iter()
            .rev()
            .map(|s| s.seq)
            .filter(|seq| browser.count(&format!("#receipt-{seq}")) == 1)
            .collect();
        pages.push(page);
        if browser.count("#older") == 0 {
            break;
        }
        assert!(pages.len() < 5, "{pages:?}");
        browser.click("#older");
        browser.wait_for_text("#newest", "Newest");
    }
    let seqs: Vec<u64> = saved.iter().rev().map(|s| s.seq).collect();
    assert_eq!(
        pages,
        [seqs[0..2].to_vec(), seqs[2..4].to_vec(), seqs[4..].to_vec()]
    );
    let artifact =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/console-receipts.png");
    browser.screenshot(&artifact);

    // A search the console cannot run says why, on the page.
    browser.go(&format!("{base}/console/receipts?from=yesterday"));
    let notice = browser.wait_for_text(".notice", "from:");
    assert!(!notice.to_lowercase().contains("deserialize"), "{notice}");

    // Addresses the console does not have give a page that leads back, not a parser's words.
    for (path, title) in [
        ("/console/no-such-page", "Not found"),
        ("/console/bundles/x/diff", "Not found"),
        ("/console/bundles/1/diff?against=x", "Not understood"),
    ] {
        browser.go(&format!("{base}{path}"));
        browser.wait_for_text("h1", title);
        let page = browser.text("main").unwrap_or_default();
        assert!(
            !page.to_lowercase().contains("deserialize"),
            "{path}: {page}"
        );
        assert_eq!(browser.count("a#back"), 1, "{path}");
    }
    browser.click("a#back");
    browser.wait_for_text("h1", "Overview");
    let (status, head, page) = http_with_head(admin, "GET", "/console/no-such-page", &[], b"");
    assert_eq!(status, 404, "{head}");
    assert!(head.contains("text/html"), "{head}");
    assert!(page.contains("href=\"/console\""), "{page}");
}

#[test]
fn in_chromium_a_viewer_sees_last_nights_packs_with_a_chart_each() {
    let mut server = Server::start(&config(), &[], &[]);
    // Three nights of one pack, the last failing, and one night of another, stored while
    // the appliance is stopped, as the scheduler stores them.
    assert!(server.terminate().success(), "{}", server.log());
    {
        let log = tf_decisions::DecisionLog::open(&server.state_path("decisions.sqlite"))
            .expect("the decision log");
        let now_us = tf_seam::clock::unix_micros();
        let day_us = 86_400_000_000;
        let night = |pack: &str, ago: u64, passed: bool, bound: f64| tf_decisions::RunRow {
            pack: pack.to_owned(),
            slot_us: now_us - ago * day_us,
            started_us: now_us - ago * day_us,
            finished_us: now_us - ago * day_us + 1_000_000,
            passed,
            decisions: 5_000,
            flips: (bound * 5_000.0) as u64,
            upper_bound: bound,
            result: serde_json::json!({
                "expectations": [
                    { "what": "drift below 1 %", "held": passed, "detail": format!("{bound}") },
                ],
            })
            .to_string(),
            ran: true,
            applicable: true,
        };
        for run in [
            night("drop-globex", 2, true, 0.002),
            night("drop-globex", 1, true, 0.004),
            night("drop-globex", 0, false, 0.02),
            night("surge <x>", 0, true, 0.001),
        ] {
            log.record_run(&run).expect("stored");
        }
    }
    server.start_again();
    let base = format!("http://{}", server.admin_address());
    let browser = Browser::start();
    browser.go(&format!("{base}/console"));
    browser.type_into("#token", "viewer-token");
    browser.click("#login");
    browser.wait_for_text("h1", "Overview");
    browser.click("header a[href=\"/console/scenarios\"]");
    browser.wait_for_text("h1", "Scenario packs");

    let cell = |row: usize, class: &str| {
        browser
            .text(&format!("tr#pack-{row} td.{class}"))
            .unwrap_or_default()
    };
    assert_eq!(browser.attribute("tr#pack-0", "data-pack"), "drop-globex");
    assert_eq!(cell(0, "status"), "failed");
    assert_eq!(cell(0, "drift"), "2.000%");
    assert_eq!(cell(0, "since-last"), "+1.600");
    assert_eq!(cell(1, "name"), "surge <x>");
    assert_eq!(cell(1, "status"), "passed");
    assert!(
        browser
            .text("#chart-0 li.failed")
            .unwrap_or_default()
            .starts_with("drift below 1 %"),
        "the failed expectation is listed"
    );
    assert_eq!(browser.attribute("#nights-0", "data-nights"), "3");
    assert_eq!(browser.count("#nights-0 circle.failed-night"), 1);
    assert_eq!(browser.attribute("#nights-1", "data-nights"), "1");
}
