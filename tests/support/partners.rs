//! A partner brought on as an operator and a partner do it: an invite made with
//! `appliance ctl invites create`, redeemed with `partner onboard` into a folder of its own.
//!
//! Included beside support/server.rs (as `mod server`), whose commands it runs.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;

use crate::server::{Server, run_partner_in};

/// An invite for `tenant` (a name, or a prefix ending in `*`) made by the sre token for kyc on
/// P1, with `extra` arguments to `ctl invites create` (`--reason` among them); its text.
pub fn invite(server: &Server, tenant: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "invites",
        "create",
        "--tenant",
        tenant,
        "--purpose",
        "kyc",
        "--class",
        "P1",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = server.ctl("sre-token", &args);
    assert_eq!(code, 0, "{err}");
    out.split_whitespace()
        .find(|w| w.starts_with("tfi1."))
        .unwrap_or_else(|| panic!("an invite in {out}"))
        .to_owned()
}

/// Redeems `invite` as `tenant` with `partner onboard --json` into `out`, over the server's
/// QUIC port: its exit code, stdout and stderr.
pub fn onboard(server: &Server, invite: &str, tenant: &str, out: &Path) -> (i32, String, String) {
    let connect = format!("localhost:{}", server.address.port());
    run_partner_in(
        server.dir.path(),
        &[
            "--json",
            "--retries",
            "0",
            "onboard",
            "--invite",
            invite,
            "--connect",
            &connect,
            "--tenant",
            tenant,
            "--out",
            out.to_str().expect("utf-8"),
        ],
    )
}
