//! A shard that panics takes the process down with exit code 70 (EX_SOFTWARE), naming its
//! thread, so the supervisor restarts the appliance rather than leave it limping with a dead
//! shard; started again, it serves, and no receipt acknowledged before is lost.

#[path = "support/server.rs"]
mod server;

use server::{Server, fault_build, signed};
use tf_partner::{DatasetClass, Partner, Submission};

fn submission(n: u64) -> Submission {
    signed(13, n, "kyc", DatasetClass::P0)
}

#[tokio::test]
async fn a_shard_panic_exits_70_and_the_appliance_serves_again_after_a_restart() {
    fault_build();
    let dir = tempfile::tempdir().expect("temp dir");
    let switch = dir.path().join("panic");
    let mut server = Server::start_with_env(
        "",
        &[],
        &[],
        &[
            ("TF_FAULT_PANIC", "1"),
            ("TF_FAULT_SWITCH", switch.to_str().expect("utf-8")),
        ],
    );
    let mut config = server.demo_from_state_dir();
    // A killed process sends no close: the partner gives up waiting after this.
    config.request_timeout = std::time::Duration::from_secs(3);
    let partner = Partner::connect(&config).await.expect("connects");
    let before = partner.submit(submission(1)).await.expect("served before");
    std::fs::write(&switch, b"on").expect("switch on");
    let failed = partner.submit(submission(2)).await;
    assert!(failed.is_err(), "no verdict from a shard that panicked");
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(70), "{}", server.log());
    let log = server.log();
    assert!(
        log.contains("panic") && log.contains("TF_FAULT_PANIC"),
        "the panic is logged with its thread: {log}"
    );

    std::fs::remove_file(&switch).expect("switch off");
    server.start_again();
    let partner = Partner::connect(&server.demo_from_state_dir())
        .await
        .expect("connects after the restart");
    partner
        .submit(submission(3))
        .await
        .expect("served after the restart");
    let ledger = tf_ledger::SqliteLedger::open_read_only(&server.state_path("ledger.sqlite"))
        .expect("ledger opens");
    let receipt: tf_receipts::Receipt =
        serde_json::from_slice(&before.receipt.payload).expect("receipt");
    assert!(
        tf_ledger::Ledger::receipt(&ledger, receipt.ledger_seq)
            .expect("readable")
            .is_some(),
        "the receipt acknowledged before the panic is kept"
    );
    partner.close().await;
}
