//! Partner invites as an operator makes them with `appliance ctl invites`: the text shown once,
//! pinning the appliance's CA; only a digest of its secret in the ledger; listed, revoked,
//! refused with the reason; on the bundle timeline; and not made by an appliance whose `[tls]`
//! is another PKI's (it cannot issue partners' certificates).

#[path = "support/server.rs"]
mod server;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::Value;
use server::{ROLE_TOKENS as TOKENS, Server, with_admin_tokens};
use sha2::{Digest, Sha256};
use tf_wire::InviteCode;

const BASE: &str = "[[tenants]]\nid = \"demo\"\n";

fn create<'a>(tenant: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "invites",
        "create",
        "--tenant",
        tenant,
        "--purpose",
        "kyc",
        "--class",
        "P1",
        "--cap",
        "P1:day:100000",
        "--reason",
        "pilot with initech",
    ];
    args.extend(extra);
    args
}

#[test]
fn an_operator_makes_lists_and_revokes_invites_that_pin_the_appliances_ca() {
    let mut server = Server::start(&with_admin_tokens(BASE, &TOKENS), &[], &[]);

    // A viewer may list but not make.
    let (code, _, err) = server.ctl("viewer-token", &create("initech", &[]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("may not make or revoke partner invites"),
        "{err}"
    );

    // Made: its text once, pinning the state directory's CA.
    let (code, out, err) = server.ctl("sre-token", &create("initech", &["--expires-in", "2d"]));
    assert_eq!(code, 0, "{err}");
    let text = out
        .split_whitespace()
        .find(|w| w.starts_with("tfi1."))
        .unwrap_or_else(|| panic!("an invite in {out}"));
    let invite: InviteCode = text.parse().expect("an invite");
    let ca = CertificateDer::from_pem_file(server.state.join("ca.pem")).expect("the CA");
    assert_eq!(invite.ca_fingerprint[..], Sha256::digest(ca.as_ref())[..16]);
    let secret = hex::encode(invite.secret);

    // Listed, never with its secret; the ledger holds its digest, not the secret.
    let (code, out, err) = server.ctl("viewer-token", &["invites", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(&secret), "{out}");
    let listed: Value = serde_json::from_str(&out).expect("JSON");
    let entry = &listed["invites"][0];
    assert_eq!(entry["id"], invite.id);
    assert_eq!(
        (entry["tenant"].as_str(), entry["status"].as_str()),
        (Some("initech"), Some("open"))
    );
    assert_eq!(entry["template"]["caps"][0]["max_limit"], 100_000);
    assert_eq!(entry["created_by"], "oncall");
    let path = server.state.join("ledger.sqlite");
    let stored: Vec<u8> = rusqlite::Connection::open(&path)
        .expect("open")
        .query_row(
            "SELECT digest FROM invites WHERE id = ?1",
            [invite.id as i64],
            |row| row.get(0),
        )
        .expect("stored");
    assert_eq!(stored, Sha256::digest(invite.secret).to_vec());
    for file in ["ledger.sqlite", "ledger.sqlite-wal"] {
        let bytes = std::fs::read(server.state.join(file)).unwrap_or_default();
        assert!(
            !bytes.windows(16).any(|w| w == invite.secret),
            "the secret is not in {file}"
        );
    }

    // Bad input is refused (a usage error: exit 2), naming what to fix, and nothing is made.
    for (args, says) in [
        (create("Not A Tenant", &[]), "tenant"),
        (create("initech", &["--expires-in", "60d"]), "expires_in"),
        (create("initech", &["--class", "P9"]), "classes"),
        (create("initech", &["--cap", "P1:fortnight:5"]), "window"),
        (
            create("initech", &["--cap", "P2:day:5"]),
            "template's classes",
        ),
    ] {
        let (code, _, err) = server.ctl("sre-token", &args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let (_, out, _) = server.ctl("viewer-token", &["invites", "list", "--json"]);
    let listed: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        listed["invites"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    // Revoked once, with who and why; not twice; not one that does not exist.
    let id = invite.id.to_string();
    let revoke = [
        "invites",
        "revoke",
        id.as_str(),
        "--reason",
        "sent to the wrong address",
    ];
    let (code, out, err) = server.ctl("author-token", &revoke);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("revoked") && out.contains("policy-team"),
        "{out}"
    );
    let (code, _, err) = server.ctl("author-token", &revoke);
    assert_eq!(code, 1);
    assert!(err.contains("already") || err.contains("revoked"), "{err}");
    let (code, _, err) = server.ctl(
        "sre-token",
        &["invites", "revoke", "999", "--reason", "no such"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no invite 999"), "{err}");

    // On the bundle timeline: made and revoked, with who and why.
    let (code, out, err) = server.ctl("viewer-token", &["timeline"]);
    assert_eq!(code, 0, "{err}");
    let made = format!("invite #{} for tenant initech by oncall", invite.id);
    assert!(
        out.contains("invite.created") && out.contains(&made),
        "{out}"
    );
    assert!(
        out.contains("invite.revoked") && out.contains("revoked by policy-team"),
        "{out}"
    );

    // An appliance whose partners' CA is another PKI's makes none: it could not issue their
    // certificates.
    let material = server.dir.path().join("pki");
    std::fs::create_dir(&material).expect("folder");
    std::fs::copy(server.state.join("ca.pem"), material.join("ca.pem")).expect("copied");
    let config = format!(
        "{}\n[tls]\nclient_ca = \"{}\"\n",
        with_admin_tokens(BASE, &TOKENS),
        material.join("ca.pem").display()
    );
    std::fs::write(server.dir.path().join("appliance.toml"), config).expect("config");
    server.restart();
    let (code, _, err) = server.ctl("sre-token", &create("initech", &[]));
    assert_eq!(code, 1);
    assert!(err.contains("cannot onboard partners"), "{err}");
}

/// The session's CSRF token, from a console page's meta tag.
fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf meta")
        .to_owned()
}

#[test]
fn the_console_makes_shows_once_and_revokes_invites_behind_csrf_and_roles() {
    let server = Server::start(&with_admin_tokens(BASE, &TOKENS), &[], &[]);
    let admin = server.admin_address();
    let cookie = server::console_cookie(admin, "author-token");
    let (status, page) = server::http(
        admin,
        "GET",
        "/console/invites",
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"create-form\""), "{page}");
    let csrf = csrf_of(&page);
    let form = |csrf: &str| {
        format!(
            "csrf={csrf}&tenant=pilot-*&purposes=kyc%2C+payments&classes=P1&classes=P2&\
             max_rate=10&max_burst=5&max_keys=2&caps=P1%3Aday%3A1000&expires_in=1d&\
             reason=pilot+partners"
        )
    };
    let post = |path: &str, body: &str| {
        server::http(
            admin,
            "POST",
            path,
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
    };
    // Without the session's CSRF token: refused, nothing made.
    let (status, _) = post("/console/invites/create", &form("wrong"));
    assert_eq!(status, 403);
    let (status, page) = post("/console/invites/create", &form(&csrf));
    assert_eq!(status, 200, "{page}");
    let text = page
        .split("<code id=\"invite\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("the invite shown once: {page}"));
    let invite: InviteCode = text.parse().expect("an invite");
    // Listed with its terms, and never shown again.
    let (_, page) = server::http(
        admin,
        "GET",
        "/console/invites",
        &[("Cookie", &cookie)],
        b"",
    );
    assert!(!page.contains(text), "shown only once");
    let row = page
        .split(&format!("id=\"invite-{}\"", invite.id))
        .nth(1)
        .expect("a row");
    assert!(
        row.contains("pilot-*") && row.contains("kyc, payments; P1, P2"),
        "{row}"
    );
    // Bad input says what to fix.
    let bad = form(&csrf).replace("caps=P1%3Aday%3A1000", "caps=P1%3Aday");
    let (status, page) = post("/console/invites/create", &bad);
    assert_eq!(status, 400);
    assert!(page.contains("CLASS:WINDOW:LIMIT"), "{page}");
    // Revoked from its row.
    let revoke = format!("/console/invites/{}/revoke", invite.id);
    let (status, page) = post(&revoke, &format!("csrf={csrf}&reason=no+longer+needed"));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"revoked\""), "{page}");
    let (status, _) = post(&revoke, &format!("csrf={csrf}&reason=again"));
    assert_eq!(status, 409);

    // A viewer sees the list, not the form, and may not post it.
    let viewer = server::console_cookie(admin, "viewer-token");
    let (_, page) = server::http(
        admin,
        "GET",
        "/console/invites",
        &[("Cookie", &viewer)],
        b"",
    );
    assert!(
        page.contains("id=\"invites\"") && !page.contains("create-form"),
        "{page}"
    );
    let (status, _) = server::http(
        admin,
        "POST",
        "/console/invites/create",
        &[
            ("Cookie", &viewer),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form(&csrf_of(&page)).as_bytes(),
    );
    assert_eq!(status, 403);
}
