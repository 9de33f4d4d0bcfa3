//! The compliance worker's turns over a real ledger file and a real log directory: a packet
//! at the schedule's end of a period and not before, receipts pruned only once a packet holds
//! them and the retention has passed, a receipt stored after its period's packet stopping
//! pruning, and old packets removed once the ledger no longer holds their receipts.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tf_compliance::{
    CheckStatus, PreflightResult, Sha256Digest, SnapshotContext, list_packets, snapshot_name,
};
use tf_ledger::{Ledger, SqliteLedger};
use tf_log::LogDir;
use tf_receipts::ReceiptSigner;
use tf_seam::Board;

use super::follow::{append, follow_until};
use crate::compliance::{Compliance, CompliancePlan};
use crate::log::{TransparencyLog, WORKER_NAME};

const DAY_US: u64 = 86_400_000_000;
const APPLIANCE_KEY: [u8; 32] = [5; 32];

fn log(dir: &Path) -> TransparencyLog {
    let dir = LogDir::open(&dir.join("log")).expect("log dir");
    TransparencyLog::new(dir, "test.invalid/log", &[9; 32], Duration::from_millis(5)).expect("log")
}

fn worker(dir: &Path, board: Arc<Board>, keep: usize) -> Compliance {
    let plan = CompliancePlan {
        ledger: Box::new(SqliteLedger::open(&dir.join("ledger.sqlite")).expect("ledger")),
        log: LogDir::at(&dir.join("log")),
        signer: ReceiptSigner::from_secret(&APPLIANCE_KEY),
        packets_dir: dir.join("compliance"),
        schedule: "0 0 * * *".parse().expect("daily"),
        keep,
        retention_us: 1_000_000,
        configured_window_us: 0,
        settle: Duration::from_secs(2),
        anchors: None,
        followers: vec![WORKER_NAME],
        context: Box::new(|| SnapshotContext {
            appliance_version: "test".into(),
            active_bundle: None,
            config_sha256: Sha256Digest::of(b""),
            preflight: PreflightResult {
                status: CheckStatus::Pass,
                checks: Vec::new(),
            },
        }),
        board,
    };
    Compliance::new(plan).expect("worker").0
}

fn packet_names(dir: &Path) -> Vec<String> {
    let key = ReceiptSigner::from_secret(&APPLIANCE_KEY).public_key();
    list_packets(&dir.join("compliance"), &key)
        .expect("list")
        .into_iter()
        .map(|p| p.name)
        .collect()
}

#[test]
fn receipts_go_only_once_a_packet_holds_them_and_packets_go_once_their_receipts_have() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path).expect("ledger");
    let board = Arc::new(Board::new(1));
    // Receipts decided in the first microseconds of 1970-01-01, logged.
    append(&mut ledger, &board, 300);
    follow_until(&path, board.clone(), log(dir.path()), 300);
    let mut compliance = worker(dir.path(), board.clone(), 1);

    // The day has not ended (and settled): no packet, and nothing pruned although the
    // retention has long passed.
    compliance.turn(DAY_US + 1_000_000);
    assert!(packet_names(dir.path()).is_empty());
    assert_eq!(ledger.oldest_retained().expect("oldest"), Some((1, 2_001)));

    // Settled: the packet of [0, day 1) is made, then what it holds is pruned.
    compliance.turn(DAY_US + 2_000_000);
    let first = snapshot_name(DAY_US);
    assert_eq!(packet_names(dir.path()), std::slice::from_ref(&first));
    let ranges = ledger.pruned_ranges().expect("ranges");
    assert_eq!(ranges.len(), 1, "{ranges:?}");
    assert_eq!((ranges[0].from_seq, ranges[0].to_seq), (1, 300));
    assert_eq!(ranges[0].sealed_by, first);
    assert_eq!(ledger.oldest_retained().expect("oldest"), None);
    assert_eq!(compliance.handle_status().last_error, None);
    assert_eq!(compliance.handle_status().pruning_stopped, None);

    // Five receipts decided on day 0 reach the ledger only now: the packet of day 0 does not
    // hold them, nor does the next one; pruning stops before them and says so.
    append(&mut ledger, &board, 5);
    follow_until(&path, board.clone(), log(dir.path()), 305);
    compliance.turn(2 * DAY_US + 2_000_000);
    let second = snapshot_name(2 * DAY_US);
    assert_eq!(
        packet_names(dir.path()),
        [second],
        "keep = 1: the first packet goes, its receipts are pruned"
    );
    assert_eq!(
        ledger.oldest_retained().expect("oldest"),
        Some((301, 2_301))
    );
    let error = compliance
        .handle_status()
        .pruning_stopped
        .expect("reported");
    assert!(
        error.contains("receipt 301") && error.contains("in no snapshot"),
        "{error}"
    );
}
