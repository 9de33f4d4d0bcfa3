//! A real ledger and a real transparency log in a temporary folder, filled the way the
//! appliance fills them, for the packet tests.

// Each test file uses part of this.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use tf_compliance::{
    ActiveBundle, CheckStatus, INDEX_FILE, INDEX_PAYLOAD_TYPE, Period, PreflightCheck,
    PreflightResult, PreviousSnapshot, Sha256Digest, Snapshot, SnapshotContext, SnapshotError,
    SnapshotRequest, Statement, make_snapshot,
};
use tf_ledger::{Ledger, SqliteLedger, TimelineEvent, sign_and_append};
use tf_log::LogDir;
use tf_receipts::{Envelope, Receipt, ReceiptSigner, VerdictLabel};
use tf_tlog::{Checkpoint, NoteSigner, Tree};

/// The log's origin (and note key name) in these tests.
pub const ORIGIN: &str = "test.invalid/log";

/// The period the tests seal: [1 s, 2 s) after the epoch.
pub const FROM_US: u64 = 1_000_000;
/// Its end.
pub const TO_US: u64 = 2_000_000;

/// A ledger, a log following it, and the appliance key.
pub struct Appliance {
    pub dir: tempfile::TempDir,
    pub ledger: SqliteLedger,
    pub signer: ReceiptSigner,
    pub log: LogDir,
    pub log_signer: NoteSigner,
    pub tree: Tree,
}

/// One receipt to append: tenant, purpose, class, verdict, charge, decision time.
pub struct Decided<'a>(
    pub &'a str,
    pub &'a str,
    pub &'a str,
    pub VerdictLabel,
    pub u64,
    pub u64,
);

impl Appliance {
    /// An empty ledger and a log holding only its genesis entry.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("ledger");
        let log = LogDir::open(&dir.path().join("log")).expect("log dir");
        let log_signer = NoteSigner::new(ORIGIN, &[7; 32]).expect("key name");
        log.save_vkey(&log_signer.vkey()).expect("vkey");
        let mut tree = Tree::empty();
        // Any 32 bytes: the appliance's genesis entry binds its key, which packets do not check.
        tree.append(&[0x47; 32]);
        Appliance {
            dir,
            ledger,
            signer: ReceiptSigner::from_secret(&[3; 32]),
            log,
            log_signer,
            tree,
        }
    }

    /// The folder packets are made in.
    pub fn packets(&self) -> PathBuf {
        self.dir.path().join("packets")
    }

    /// Appends receipts in one commit, as the ledger thread does.
    pub fn append(&mut self, decided: &[Decided<'_>]) {
        let mut receipts: Vec<Receipt> = decided.iter().map(receipt).collect();
        let (_, stored) = sign_and_append(&mut self.ledger, &mut self.signer, receipts.iter_mut());
        stored.expect("append");
    }

    /// Logs every receipt not yet logged (from the ledger, as the log worker reads them),
    /// writes the tiles and signs a checkpoint.
    pub fn checkpoint(&mut self) -> String {
        let records = self
            .ledger
            .receipts_after(self.tree.size() - 1, usize::MAX)
            .expect("follow");
        for record in records {
            assert_eq!(record.seq(), self.tree.size(), "entry = sequence number");
            self.tree
                .append(&tf_log::receipt_entry(&record.receipt.envelope_json));
        }
        self.log
            .write_tiles(&self.tree.take_tiles())
            .expect("tiles");
        let checkpoint = Checkpoint {
            origin: ORIGIN.into(),
            size: self.tree.size(),
            root: self.tree.root(),
        };
        let note = self.log_signer.sign(&checkpoint.to_text());
        self.log.save_checkpoint(&note).expect("checkpoint");
        note
    }

    /// Records a promotion or rollback.
    pub fn switch(&mut self, action: &str, from: u64, to: u64, at_us: u64) {
        let event = TimelineEvent {
            seq: 0,
            at_us,
            action: action.into(),
            actor: "ops".into(),
            reason: format!("{action} to {to}"),
            from_revision: from,
            to_revision: to,
            links: vec![format!("https://tickets.example/T-{to}")],
            bundle_hash: bundle_hash(to),
            drift: None,
            canary: None,
        };
        self.ledger
            .record_switch(&event, b"archive")
            .expect("switch");
    }

    /// Makes the packet of `[from_us, to_us)`.
    pub fn snapshot(
        &mut self,
        from_us: u64,
        to_us: u64,
        previous: Option<PreviousSnapshot>,
    ) -> Result<Snapshot, SnapshotError> {
        let packets = self.packets();
        make_snapshot(SnapshotRequest {
            ledger: &self.ledger,
            log: &self.log,
            signer: &mut self.signer,
            packets_dir: &packets,
            period: Period::new(from_us, to_us)?,
            now_us: to_us + 5_000_000,
            context: context(),
            previous,
        })
    }

    /// A tenant's receipts decided in `[from_us, to_us)`, as the ledger gives them.
    pub fn envelopes(&self, tenant: &str, from_us: u64, to_us: u64) -> Vec<String> {
        let mut envelopes = Vec::new();
        self.ledger
            .receipts_between(tenant, from_us, to_us, &mut |r| {
                envelopes.push(r.envelope_json);
                Ok(())
            })
            .expect("read");
        envelopes
    }
}

/// Receipts before, in and after the period, for three tenants (one with none in it), more
/// than one tile of them, and a policy timeline around it; all logged.
pub fn filled() -> Appliance {
    let mut appliance = Appliance::new();
    appliance.switch("promote", 0, 1, 500_000);
    appliance.append(&[
        Decided("acme", "kyc", "P1", VerdictLabel::Valid, 1, 900_000),
        Decided("zeta", "kyc", "P1", VerdictLabel::Valid, 1, 950_000),
    ]);
    appliance.switch("promote", 1, 2, 1_100_000);
    appliance.append(&[
        Decided("acme", "kyc", "P1", VerdictLabel::Valid, 1, 1_200_000),
        Decided("beta", "kyc", "P2", VerdictLabel::Valid, 3, 1_200_001),
        Decided("acme", "aml", "P0", VerdictLabel::Invalid, 2, 1_300_000),
        Decided("acme", "kyc", "P1", VerdictLabel::Invalid, 0, 1_400_000),
    ]);
    let many: Vec<Decided<'_>> = (0..300)
        .map(|i| {
            Decided(
                "beta",
                "aml",
                "P2",
                VerdictLabel::Rejected,
                i % 2,
                1_500_000 + i,
            )
        })
        .collect();
    appliance.append(&many);
    appliance.switch("rollback", 2, 3, 1_600_000);
    appliance.append(&[
        // A shard's clock a little behind: decided before the receipt above, numbered after.
        Decided("acme", "kyc", "P1", VerdictLabel::Valid, 1, 1_450_000),
        Decided("acme", "kyc", "P1", VerdictLabel::Valid, 1, TO_US - 1),
        Decided("acme", "kyc", "P1", VerdictLabel::Valid, 1, TO_US),
    ]);
    appliance.checkpoint();
    appliance
}

/// A file's lines.
pub fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .expect("UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The lines of a gzipped file, as `zcat` shows them.
pub fn gzipped_lines(path: &Path) -> Vec<String> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(fs::File::open(path).expect("open"))
        .read_to_end(&mut text)
        .expect("a gzip file");
    lines(&text)
}

/// Writes `lines` to `path` gzipped, each with its newline, as `gzip` would.
pub fn write_gzipped_lines(path: &Path, lines: &[String]) {
    let mut encoder =
        flate2::write::GzEncoder::new(fs::File::create(path).expect("create"), Default::default());
    for line in lines {
        encoder.write_all(line.as_bytes()).expect("write");
        encoder.write_all(b"\n").expect("write");
    }
    encoder.finish().expect("written");
}

/// Replaces the first line of a receipts file with `envelope_json`.
pub fn replace_first_line(path: &Path, envelope_json: &str) {
    let mut lines = gzipped_lines(path);
    lines[0] = serde_json::to_string(envelope_json).expect("a string");
    write_gzipped_lines(path, &lines);
}

/// The hash tests give bundle `revision`.
pub fn bundle_hash(revision: u64) -> String {
    format!("{revision:064x}")
}

/// What the caller knows of the appliance.
pub fn context() -> SnapshotContext {
    SnapshotContext {
        appliance_version: "0.1.0-test".into(),
        active_bundle: Some(ActiveBundle {
            revision: 2,
            hash: bundle_hash(2),
        }),
        config_sha256: Sha256Digest::of(b"[serve]\n"),
        preflight: PreflightResult {
            status: CheckStatus::Warn,
            checks: vec![PreflightCheck {
                name: "memlock".into(),
                status: CheckStatus::Warn,
                detail: "64 KiB".into(),
            }],
        },
    }
}

fn receipt(decided: &Decided<'_>) -> Receipt {
    let Decided(tenant, purpose, class, verdict, charged, decided_us) = *decided;
    Receipt {
        tenant: tenant.into(),
        request_id: decided_us,
        statement_digest: format!("{decided_us:064x}"),
        kind: "bls-single".into(),
        verdict,
        reason: (verdict != VerdictLabel::Valid).then(|| "pairing check failed".to_owned()),
        purpose: purpose.into(),
        dataset_class: class.into(),
        budget_charged: charged,
        budget_remaining: Some(100),
        ledger_seq: 0,
        shard: 1,
        received_at_unix_us: decided_us - 300,
        decided_at_unix_us: decided_us,
        appliance_key_id: String::new(),
        bundle_revision: 2,
        bundle_hash: bundle_hash(2),
    }
}

/// A copy of the packet at `from` in a new folder, to tamper with.
pub fn copy_packet(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("list") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            fs::create_dir_all(&target).expect("mkdir");
            copy_packet(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Re-signs the packet's index with the appliance key after files were changed: the digests
/// then match, and only what the files say can be wrong.
pub fn resign(packet: &Path, signer: &mut ReceiptSigner) {
    let index = fs::read_to_string(packet.join(INDEX_FILE)).expect("index");
    let envelope = Envelope::from_json(&index).expect("envelope");
    let mut statement: Statement = serde_json::from_slice(&envelope.payload).expect("statement");
    for subject in &mut statement.subject {
        let bytes = fs::read(packet.join(&subject.name)).expect("subject");
        subject.digest.sha256 = Sha256Digest::of(&bytes);
    }
    let payload = serde_json::to_vec_pretty(&statement).expect("serialises");
    let signed = signer.sign_payload(INDEX_PAYLOAD_TYPE, payload);
    fs::write(packet.join(INDEX_FILE), signed.to_json()).expect("write");
}

/// Every file of a packet, as `/`-separated paths, sorted.
pub fn files(packet: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("list") {
            let entry = entry.expect("entry");
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().expect("type").is_dir() {
                walk(&entry.path(), &format!("{name}/"), out);
            } else {
                out.push(name);
            }
        }
    }
    let mut out = Vec::new();
    walk(packet, "", &mut out);
    out.sort();
    out
}
