//! The sd_notify protocol as systemd sees it: the test owns the notification socket, runs the
//! real appliance with `NOTIFY_SOCKET` and `WATCHDOG_USEC`, and checks READY=1 comes once the
//! QUIC port answers, WATCHDOG=1 keeps coming, STATUS= reports the live rate, SIGHUP brings
//! RELOADING=1 then READY=1, and STOPPING=1 comes on SIGTERM.

#[path = "support/server.rs"]
mod server;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use server::Server;
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, Statement, Submission, VerdictCode};

/// Receives notifications until one satisfies `wanted` or `within` passes; returns all seen.
fn receive_until(
    socket: &UnixDatagram,
    within: Duration,
    mut wanted: impl FnMut(&str) -> bool,
) -> (bool, Vec<String>) {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buffer) {
            let message = String::from_utf8_lossy(&buffer[..n]).into_owned();
            let found = wanted(&message);
            seen.push(message);
            if found {
                return (true, seen);
            }
        }
    }
    (false, seen)
}

#[tokio::test]
async fn ready_watchdog_status_and_stopping_reach_the_service_manager() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("notify.sock");
    let manager = UnixDatagram::bind(&path).expect("notification socket");
    manager
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let mut server = Server::start_with_env(
        "",
        &[],
        &[],
        &[
            ("NOTIFY_SOCKET", path.to_str().expect("utf-8")),
            ("WATCHDOG_USEC", "1000000"),
        ],
    );

    let (ready, seen) = receive_until(&manager, Duration::from_secs(30), |m| {
        m.lines().any(|l| l == "READY=1")
    });
    assert!(ready, "no READY=1; got {seen:?}\n{}", server.log());
    assert!(
        seen.iter().any(|m| m.starts_with("STATUS=starting")),
        "start-up status first: {seen:?}"
    );

    // READY=1 means the QUIC port answers now.
    let partner = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("connects right after READY=1");
    let (signature, public_key) = bls::sign(&[9; 32], b"ready").expect("signs");
    let reply = partner
        .submit(Submission {
            purpose: "test".into(),
            dataset_class: DatasetClass::P1,
            statement: Statement::BlsSingle {
                public_key: public_key.to_bytes(),
                message: b"ready".to_vec(),
                signature: signature.to_bytes(),
            },
        })
        .await
        .expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Valid);

    // Watchdog at 1 s: pings every half second while the shards beat.
    let mut pings = 0;
    let (_, seen) = receive_until(&manager, Duration::from_secs(10), |m| {
        if m == "WATCHDOG=1" {
            pings += 1;
        }
        pings >= 3
    });
    assert!(pings >= 3, "fewer than 3 watchdog pings: {seen:?}");
    let (status, seen) = receive_until(&manager, Duration::from_secs(10), |m| {
        m.starts_with("STATUS=serving") && m.contains("answers/s") && m.contains("connection(s)")
    });
    assert!(status, "no live status line: {seen:?}");

    // SIGHUP (ExecReload=): RELOADING=1, then READY=1 again.
    server.signal("HUP");
    let (reloading, seen) = receive_until(&manager, Duration::from_secs(10), |m| {
        m.lines().any(|l| l == "RELOADING=1")
    });
    assert!(reloading, "no RELOADING=1 on SIGHUP: {seen:?}");
    let (ready, seen) = receive_until(&manager, Duration::from_secs(10), |m| {
        m.lines().any(|l| l == "READY=1")
    });
    assert!(ready, "no READY=1 after the reload: {seen:?}");

    server.signal("TERM");
    let (stopping, seen) = receive_until(&manager, Duration::from_secs(10), |m| {
        m.lines().any(|l| l == "STOPPING=1")
    });
    assert!(stopping, "no STOPPING=1 on SIGTERM: {seen:?}");
    drop(partner);
    let status = server.wait_exit();
    assert!(status.success(), "{}", server.log());
}
