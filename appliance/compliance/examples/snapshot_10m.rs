//! Fills a ledger and a transparency log with N signed receipts (default 10,000,000), then
//! makes the compliance snapshot of their period and verifies it, timing each step and
//! reporting the peak resident memory of each (VmHWM, reset between steps).
//!
//!     cargo run --release -p tf-compliance --example snapshot_10m -- [N] [--no-verify] [--dir DIR] [--keep]
//!
//! Every receipt is signed, as the ledger thread signs it, so the packet verifies. Disk: about
//! 170 bytes per receipt for the ledger and 1.3 KB for the packet (10 million: about 15 GB in
//! `DIR`, in a temporary folder removed at the end unless `--keep`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use tf_compliance::{
    CheckStatus, Period, PreflightResult, Sha256Digest, SnapshotContext, SnapshotRequest,
    make_snapshot, verify_packet,
};
use tf_ledger::{Ledger, SqliteLedger, TimelineEvent, sign_and_append};
use tf_log::LogDir;
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};
use tf_tlog::{Checkpoint, NoteSigner, Tree};

/// Receipts per commit: the ledger thread's groups are far smaller, but filling is not what
/// is measured here.
const BATCH: u64 = 20_000;
/// Tenants the receipts are spread over, round robin.
const TENANTS: [&str; 8] = [
    "acme", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
];
/// The period starts here (2026-11-01T00:00:00Z) and receipts are decided 10 µs apart.
const START_US: u64 = 1_793_491_200_000_000;
const STEP_US: u64 = 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: u64 = match args.iter().find(|a| !a.starts_with("--")) {
        Some(n) => n.replace('_', "").parse()?,
        None => 10_000_000,
    };
    let verify = !args.iter().any(|a| a == "--no-verify");
    let temporary = tempfile::tempdir_in(match args.iter().position(|a| a == "--dir") {
        Some(at) => PathBuf::from(args.get(at + 1).ok_or("--dir needs a folder")?),
        None => std::env::temp_dir(),
    })?;
    let dir = temporary.path();

    let started = Instant::now();
    let mut signer = ReceiptSigner::from_secret(&[3; 32]);
    let log_signer = NoteSigner::new("example.invalid/log", &[7; 32])?;
    let log = LogDir::open(&dir.join("log"))?;
    log.save_vkey(&log_signer.vkey())?;
    fill(
        &dir.join("ledger.sqlite"),
        &log,
        &log_signer,
        &mut signer,
        count,
    )?;
    let fill_secs = started.elapsed().as_secs_f64();
    println!(
        "filled {count} receipts in {fill_secs:.1} s ({:.0} receipts/s: sign, store, log); ledger {}",
        count as f64 / fill_secs,
        megabytes(size_of(&dir.join("ledger.sqlite")))
    );

    let before = reset_peak_memory();
    let ledger = SqliteLedger::open_read_only(&dir.join("ledger.sqlite"))?;
    let packets = dir.join("packets");
    let end_us = START_US + count * STEP_US;
    let started = Instant::now();
    let snapshot = make_snapshot(SnapshotRequest {
        ledger: &ledger,
        log: &log,
        signer: &mut signer,
        packets_dir: &packets,
        period: Period::new(START_US, end_us)?,
        now_us: end_us + 60_000_000,
        context: SnapshotContext {
            appliance_version: env!("CARGO_PKG_VERSION").into(),
            active_bundle: None,
            config_sha256: Sha256Digest::of(b""),
            preflight: PreflightResult {
                status: CheckStatus::Pass,
                checks: Vec::new(),
            },
        },
        previous: None,
    })?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "snapshot {} of {} receipts in {secs:.1} s ({:.0} receipts/s); packet {} in {} files; \
         peak RSS {} (resident before: {before})",
        snapshot.name,
        snapshot.summary.receipts,
        snapshot.summary.receipts as f64 / secs,
        megabytes(size_of(&snapshot.path)),
        count_files(&snapshot.path),
        memory("VmHWM:")
    );

    if verify {
        let before = reset_peak_memory();
        let started = Instant::now();
        let verified = verify_packet(&snapshot.path, &signer.public_key(), None).map_err(|p| {
            let shown: Vec<String> = p.iter().take(10).map(ToString::to_string).collect();
            shown.join("\n")
        })?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "verified {} receipts in {secs:.1} s ({:.0} receipts/s); peak RSS {} (resident \
             before: {before})",
            verified.summary.receipts,
            verified.summary.receipts as f64 / secs,
            memory("VmHWM:")
        );
    }
    if args.iter().any(|a| a == "--keep") {
        println!("kept {}", temporary.keep().display());
    }
    Ok(())
}

/// Appends `count` receipts in batches, each signed, and logs each as the log worker does.
fn fill(
    path: &Path,
    log: &LogDir,
    log_signer: &NoteSigner,
    signer: &mut ReceiptSigner,
    count: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut ledger = SqliteLedger::open(path)?;
    ledger.record_switch(
        &TimelineEvent {
            seq: 0,
            at_us: START_US - 1,
            action: "promote".into(),
            actor: "ops".into(),
            reason: "baseline".into(),
            from_revision: 0,
            to_revision: 1,
            links: Vec::new(),
            bundle_hash: format!("{:064x}", 1),
            drift: None,
            canary: None,
        },
        b"archive",
    )?;
    let mut tree = Tree::empty();
    tree.append(&[0x47; 32]);
    let mut receipts: Vec<Receipt> = Vec::with_capacity(BATCH as usize);
    let mut made = 0u64;
    while made < count {
        receipts.clear();
        for i in made..count.min(made + BATCH) {
            receipts.push(receipt(i));
        }
        made += receipts.len() as u64;
        let (envelopes, stored) = sign_and_append(&mut ledger, signer, receipts.iter_mut());
        stored?;
        for envelope in &envelopes {
            // The ledger gives the envelope back exactly as `to_json` renders it.
            tree.append(&tf_log::receipt_entry(&envelope.to_json()));
        }
        log.write_tiles(&tree.take_tiles())?;
    }
    let checkpoint = Checkpoint {
        origin: log_signer.name().to_owned(),
        size: tree.size(),
        root: tree.root(),
    };
    log.save_checkpoint(&log_signer.sign(&checkpoint.to_text()))?;
    Ok(())
}

/// Receipt `i`: its tenant, purpose, class and verdict vary so budgets have several lines.
fn receipt(i: u64) -> Receipt {
    let verdict = match i / 8 % 10 {
        0 => VerdictLabel::Invalid,
        1 => VerdictLabel::Rejected,
        _ => VerdictLabel::Valid,
    };
    let decided = START_US + i * STEP_US;
    Receipt {
        tenant: TENANTS[(i % TENANTS.len() as u64) as usize].into(),
        request_id: i,
        statement_digest: format!("{:064x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        kind: "groth16-bn254".into(),
        verdict,
        reason: (verdict != VerdictLabel::Valid).then(|| "pairing check failed".into()),
        purpose: ["kyc", "aml", "age"][(i % 3) as usize].into(),
        dataset_class: ["P0", "P1", "P2"][(i / 3 % 3) as usize].into(),
        budget_charged: i / 5 % 4,
        budget_remaining: Some(1_000_000),
        ledger_seq: 0,
        shard: (i % 2) as u16,
        received_at_unix_us: decided - 2_000,
        decided_at_unix_us: decided,
        appliance_key_id: String::new(),
        bundle_revision: 1,
        bundle_hash: format!("{:064x}", 1),
    }
}

/// Resets the process's peak resident set (VmHWM) to its current size (Linux 4.0+), and
/// returns that size: memory the allocator kept from earlier steps counts in the peak after.
fn reset_peak_memory() -> String {
    // Best effort: without it the peak reported includes what filling took.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    memory("VmRSS:")
}

/// A line of /proc/self/status (`VmHWM:` is the peak resident set).
fn memory(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .map(|value| value.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn size_of(path: &Path) -> u64 {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| size_of(&entry.path()))
            .sum(),
        Ok(meta) => meta.len(),
        Err(_) => 0,
    }
}

fn count_files(path: &Path) -> u64 {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| count_files(&entry.path()))
            .sum(),
        Ok(_) => 1,
        Err(_) => 0,
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
