//! Bytes on disk per receipt: fills a ledger in a temporary directory with N receipts (argument
//! 1, default 100,000) of a realistic mix, signed with a real key and stored the way the
//! ledger thread stores them, checkpoints the write-ahead log, and prints the file size per
//! receipt (index, dictionaries and bundles included), and the same for the same receipts
//! stored as schema version 3 stored them (every field as text, the envelope JSON verbatim):
//! the size before and after the compact form. Then prunes the older half in steps of 1,000
//! receipts and prints how long a step takes.
//!
//!     cargo run -p tf-ledger --example bytes_per_receipt [N]

use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "../tests/common/v3.rs"]
mod v3;

use rusqlite::Connection;
use tf_ledger::{Ledger, PruneBounds, SqliteLedger, TimelineEvent, sign_and_append};
use tf_receipts::{Receipt, ReceiptSigner, VerdictLabel};

const TENANTS: [&str; 10] = [
    "acme-bank",
    "globex",
    "initech",
    "umbrella-health",
    "stark-payments",
    "wayne-finance",
    "hooli",
    "vandelay-imports",
    "soylent-insurance",
    "tyrell-id",
];
const PURPOSES: [&str; 3] = ["kyc", "aml-screening", "age-verification"];
const CLASSES: [&str; 3] = ["P0", "P1", "P2"];
/// Kinds with their share of requests in percent.
const KINDS: [(&str, u64); 4] = [
    ("groth16-bn254", 40),
    ("groth16-bls12-381", 20),
    ("bls-single", 25),
    ("bls-aggregate", 15),
];
/// What the engine says when a statement does not verify, or is refused.
const INVALID: [&str; 2] = [
    "the proof does not verify against the verifying key and public inputs",
    "the signature does not match the public key(s) and message(s)",
];
const REJECTED: &str = "proof.a: not a point on the curve";
/// Receipts signed and stored per commit: about the ledger thread's group at 800 requests/s.
const GROUP: usize = 16;
/// Receipts per pruning step.
const PRUNE_STEP: usize = 1_000;
/// Two promotions: receipts name the revision in force and its hash.
const REVISIONS: [u64; 2] = [41, 42];

fn main() -> Result<(), Box<dyn Error>> {
    let count: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|e| format!("N {arg:?}: {e}"))?,
        None => 100_000,
    };
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ledger.sqlite");
    let mut ledger = SqliteLedger::open(&path)?;
    let mut signer = ReceiptSigner::from_secret(&[7; 32]);
    let mut random = SplitMix(0x5eed);
    let hashes = REVISIONS.map(|_| hex(&random.bytes32()));
    for (i, (revision, hash)) in REVISIONS.iter().zip(&hashes).enumerate() {
        ledger.record_switch(&promotion(*revision, hash, i as u64), &random.bytes32())?;
    }

    let mut request_ids = [0u64; TENANTS.len()];
    let mut decided_us = 1_795_479_445_000_000u64;
    let mut made = 0;
    while made < count {
        let group = (count - made).min(GROUP as u64);
        let mut receipts: Vec<Receipt> = (0..group)
            .map(|i| {
                // 800 requests/s: 1,250 us apart on average.
                decided_us += 500 + random.below(1_500);
                let revision = usize::from(made + i >= count / 2);
                receipt(
                    &mut random,
                    &mut request_ids,
                    decided_us,
                    REVISIONS[revision],
                    &hashes[revision],
                )
            })
            .collect();
        let (_, stored) = sign_and_append(&mut ledger, &mut signer, receipts.iter_mut());
        stored?;
        made += group;
    }
    let stats = ledger.storage()?;
    drop(ledger);

    let connection = Connection::open(&path)?;
    connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    // Receipts whose payload or whole envelope had to be kept verbatim: 0 for the appliance's
    // own receipts, or the figure below is not the compact one.
    let (payloads, envelopes): (i64, i64) = connection.query_row(
        "SELECT COUNT(payload), COUNT(envelope) FROM receipts",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    drop(connection);
    let file = size(&path);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = size(Path::new(&wal));
    println!(
        "{count} receipts: {file} bytes in the file, {wal} in the WAL after a checkpoint; \
         {:.1} bytes per receipt (before the checkpoint: {} pages of {} bytes, {} free; \
         kept verbatim: {payloads} payloads, {envelopes} envelopes)",
        (file + wal) as f64 / count.max(1) as f64,
        stats.file_bytes / stats.page_size.max(1),
        stats.page_size,
        stats.free_pages,
    );
    let compact = (file + wal) as f64 / count.max(1) as f64;
    let before = version_3_bytes(&SqliteLedger::open(&path)?, &dir.path().join("v3.sqlite"))?;
    println!(
        "the same receipts as schema version 3 stored them: {:.1} bytes per receipt; the compact \
         form takes {:.1} % of that",
        before / count.max(1) as f64,
        compact * count.max(1) as f64 / before * 100.0
    );
    let steps = prune_half(&mut SqliteLedger::open(&path)?, count)?;
    if let (Some(median), Some(slowest)) = (steps.get(steps.len() / 2), steps.last()) {
        println!(
            "pruning the older half in {} steps of {PRUNE_STEP} receipts: median {median:?}, \
             slowest {slowest:?} per step (each a transaction holding the write lock)",
            steps.len()
        );
    }
    Ok(())
}

/// Copies every receipt of `ledger` into a version 3 file at `path`, as version 3's append
/// stored it (same groups of [`GROUP`]), and returns the file's bytes after a checkpoint.
fn version_3_bytes(ledger: &SqliteLedger, path: &Path) -> Result<f64, Box<dyn Error>> {
    let mut connection = v3::version_3_file(path);
    let mut after = 0;
    loop {
        let records = ledger.receipts_after(after, GROUP)?;
        let Some(last) = records.last() else { break };
        after = last.seq();
        let transaction = connection.transaction()?;
        for record in &records {
            let json = &record.receipt.envelope_json;
            let envelope = tf_receipts::Envelope::from_json(json)?;
            let receipt: Receipt = serde_json::from_slice(&envelope.payload)?;
            v3::insert_v3(&transaction, &receipt, json);
        }
        transaction.commit()?;
    }
    connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(connection);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    Ok((size(path) + size(Path::new(&wal))) as f64)
}

/// Prunes the older half of the receipts (after the size was measured) in steps of
/// [`PRUNE_STEP`], as a retention job would; returns each step's time, sorted.
fn prune_half(ledger: &mut SqliteLedger, count: u64) -> Result<Vec<Duration>, Box<dyn Error>> {
    let mut steps = Vec::new();
    loop {
        let start = Instant::now();
        let pruned = ledger.prune(
            PruneBounds::up_to(count / 2, u64::MAX, PRUNE_STEP),
            "snapshot-1",
            0,
        )?;
        if pruned.deleted == 0 {
            break;
        }
        steps.push(start.elapsed());
    }
    steps.sort();
    Ok(steps)
}

fn receipt(
    random: &mut SplitMix,
    request_ids: &mut [u64; TENANTS.len()],
    decided_us: u64,
    bundle_revision: u64,
    bundle_hash: &str,
) -> Receipt {
    let tenant = random.below(TENANTS.len() as u64) as usize;
    request_ids[tenant] += 1;
    let mut pick = random.below(100);
    let kind = KINDS
        .iter()
        .find(|(_, share)| {
            let here = pick < *share;
            pick = pick.saturating_sub(*share);
            here
        })
        .map_or(KINDS[0].0, |(kind, _)| kind);
    let (verdict, reason) = match random.below(100) {
        0 => (VerdictLabel::Rejected, Some(REJECTED.to_owned())),
        1..=9 => {
            let why = INVALID[usize::from(kind.starts_with("bls"))];
            (VerdictLabel::Invalid, Some(why.to_owned()))
        }
        _ => (VerdictLabel::Valid, None),
    };
    let cost = match kind {
        "bls-aggregate" => 1 + random.below(6),
        _ => 1,
    };
    let charged = match verdict {
        VerdictLabel::Valid => cost,
        _ => 0,
    };
    Receipt {
        tenant: TENANTS[tenant].to_owned(),
        request_id: request_ids[tenant],
        statement_digest: hex(&random.bytes32()),
        kind: kind.to_owned(),
        verdict,
        reason,
        purpose: PURPOSES[random.below(3) as usize].to_owned(),
        dataset_class: CLASSES[random.below(3) as usize].to_owned(),
        budget_charged: charged,
        budget_remaining: (random.below(10) != 0).then(|| random.below(1_000_000)),
        ledger_seq: 0,
        shard: random.below(2) as u16,
        received_at_unix_us: decided_us - 1_000 - random.below(20_000),
        decided_at_unix_us: decided_us,
        appliance_key_id: String::new(),
        bundle_revision,
        bundle_hash: bundle_hash.to_owned(),
    }
}

fn promotion(revision: u64, hash: &str, seq: u64) -> TimelineEvent {
    TimelineEvent {
        seq: 0,
        at_us: 1_795_479_000_000_000 + seq,
        action: "promote".into(),
        actor: "sre".into(),
        reason: format!("revision {revision}"),
        from_revision: revision - 1,
        to_revision: revision,
        links: vec![],
        bundle_hash: hash.to_owned(),
        drift: None,
        canary: None,
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A small deterministic generator (SplitMix64): the same mix every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0; 32];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        out
    }
}
