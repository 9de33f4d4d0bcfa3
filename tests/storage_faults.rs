//! Storage faults under the ledger, for real where the kernel allows it. A full disk: the
//! appliance runs with its state directory on a small tmpfs of its own, the test fills it under
//! load, then frees it. A failing device (EIO) and a file system remounted read-only (EROFS):
//! tests/storagefault/storagefault.c, preloaded, fails the ledger's writes and syncs with that
//! errno while the test says so (a tmpfs cannot be remounted read-only while the ledger is open
//! for writing). Each time partners are answered `Unavailable` (nothing charged, no receipt),
//! the probes, metrics and log name the fault with what to do, nothing acknowledged is lost,
//! and the appliance resumes by itself.

#[path = "support/preload.rs"]
mod preload;
#[path = "support/server.rs"]
mod server;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use server::{ROLE_TOKENS, Server, get, http, signed, with_admin_tokens};
use tf_ledger::StorageFault;
use tf_partner::{DatasetClass, Partner, PartnerError, Submission, VerdictReply};

/// Every P0 attempt of acme's is charged 1 against a cap far above what the test spends, so
/// the cap's use counts exactly the charges kept.
const CONFIG: &str = r#"
[server]
shards = 2

[[tenants]]
id = "acme"
rate_per_sec = 100000
burst = 100000
[[tenants.caps]]
purpose = "capped"
class = "P0"
limit = 10000000
window = "day"
"#;

/// Above preflight's floor (64 MiB free) so the appliance starts; the test fills the rest.
const DISK_MIB: u64 = 160;

fn submission(n: u64) -> Submission {
    signed(7, n, "capped", DatasetClass::P0)
}

/// Fills the file system holding `dir` until it refuses another byte; returns the filler.
fn fill(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler created");
    let chunk = vec![0xA5u8; 1 << 20];
    loop {
        if let Err(error) = file.write_all(&chunk) {
            assert_eq!(error.raw_os_error(), Some(libc::ENOSPC), "filling: {error}");
            break;
        }
    }
    // What is left of the last chunk, page by page.
    let page = vec![0xA5u8; 4096];
    while file.write_all(&page).is_ok() {}
    path
}

fn receipt_seq(reply: &VerdictReply) -> u64 {
    let receipt: tf_receipts::Receipt =
        serde_json::from_slice(&reply.receipt.payload).expect("receipt payload");
    receipt.ledger_seq
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in the scrape:\n{text}"))
        .parse()
        .expect("a number")
}

/// The payload of stored receipt `seq`, as the admin API gives its envelope back.
fn stored_payload(admin: std::net::SocketAddr, seq: u64) -> Option<Vec<u8>> {
    let (status, body) = http(
        admin,
        "GET",
        &format!("/api/v1/receipts/{seq}"),
        &[("Authorization", "Bearer auditor-token")],
        b"",
    );
    if status == 404 {
        return None;
    }
    assert_eq!(status, 200, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let payload = reply["envelope"]["payload"].as_str().expect("an envelope");
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(payload)
            .expect("base64"),
    )
}

/// Waits until the cap's use, as the appliance reports it to its partner, is `expected`
/// (charges given back reach the tenant's home shard beside the answers, not before them).
async fn wait_used(partner: &Partner, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let caps = partner.budgets().await.expect("budgets answered");
        let used = caps
            .iter()
            .find(|c| c.purpose == "capped")
            .expect("the capped purpose's cap")
            .used;
        if used == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the cap counts {used}, the receipts acknowledged {expected}: charges of requests \
             answered Unavailable must be given back, and only those"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_full_disk_is_answered_unavailable_loses_nothing_and_passes_by_itself() {
    let server = Server::start_on_small_disk(
        &with_admin_tokens(CONFIG, &ROLE_TOKENS),
        &["acme"],
        DISK_MIB,
    );
    let state = server.state.clone();
    fault_then_recovery(
        &server,
        StorageFault::DiskFull,
        || fill(&state),
        |filler| std::fs::remove_file(filler).expect("filler removed"),
    )
    .await;
}

#[tokio::test]
async fn a_failing_device_is_answered_unavailable_loses_nothing_and_passes_by_itself() {
    failing_writes("EIO", StorageFault::Io).await;
}

#[tokio::test]
async fn a_read_only_file_system_is_answered_unavailable_loses_nothing_and_passes_by_itself() {
    failing_writes("EROFS", StorageFault::ReadOnly).await;
}

/// The ledger's writes and syncs fail with `errno` while the control file says so.
async fn failing_writes(errno: &str, fault: StorageFault) {
    let dir = tempfile::tempdir().expect("temp dir");
    let library = preload::build("storagefault", dir.path());
    let control = dir.path().join("fault");
    let server = Server::start_with_env(
        &with_admin_tokens(CONFIG, &ROLE_TOKENS),
        &["acme"],
        &[],
        &[
            ("LD_PRELOAD", library.to_str().expect("utf-8 path")),
            ("TF_STORAGEFAULT_PREFIX", "ledger.sqlite"),
            (
                "TF_STORAGEFAULT_CONTROL",
                control.to_str().expect("utf-8 path"),
            ),
        ],
    );
    fault_then_recovery(
        &server,
        fault,
        || std::fs::write(&control, errno).expect("fault set"),
        |()| std::fs::remove_file(&control).expect("fault cleared"),
    )
    .await;
}

/// Serves, brings the fault on under load (`inject`), checks what partners, probes, metrics
/// and the log say while it lasts, takes it away (`clear`), and checks that the appliance
/// resumes by itself having lost nothing it acknowledged.
async fn fault_then_recovery<T>(
    server: &Server,
    fault: StorageFault,
    inject: impl FnOnce() -> T,
    clear: impl FnOnce(T),
) {
    let name = fault.name();
    let admin = server.admin_address();
    let partner = Arc::new(
        Partner::connect(&server.partner("acme"))
            .await
            .expect("connects"),
    );
    let mut acknowledged: HashMap<u64, Vec<u8>> = HashMap::new();
    for n in 0..20 {
        let reply = partner.submit(submission(n)).await.expect("a verdict");
        acknowledged.insert(receipt_seq(&reply), reply.receipt.payload.clone());
    }

    let injected = inject();
    // Under load from several streams: on a full disk the write-ahead log soon needs room it
    // cannot get; until then commits still fit in pages the file system had given it.
    let mut next = 1_000u64;
    let mut unavailable = None;
    let deadline = Instant::now() + Duration::from_secs(300);
    while unavailable.is_none() {
        assert!(
            Instant::now() < deadline,
            "no commit failed with {name} after {} receipts: {}",
            acknowledged.len(),
            server.log()
        );
        let mut answers = tokio::task::JoinSet::new();
        for i in 0..16 {
            let partner = partner.clone();
            answers.spawn(async move { partner.submit(submission(next + i)).await });
        }
        next += 16;
        while let Some(answer) = answers.join_next().await {
            match answer.expect("submitter") {
                Ok(reply) => {
                    let seq = receipt_seq(&reply);
                    let previous = acknowledged.insert(seq, reply.receipt.payload.clone());
                    assert!(previous.is_none(), "sequence number {seq} given twice");
                }
                Err(PartnerError::Unavailable {
                    retry_after_ms,
                    detail,
                }) => unavailable = Some((retry_after_ms, detail)),
                Err(other) => panic!("only verdicts and Unavailable, got: {other}"),
            }
        }
    }
    assert_eq!(
        unavailable,
        Some((1000, name.to_owned())),
        "the partner is told why and when to retry"
    );

    // While the fault is in force, new work is refused at once, and said so everywhere.
    match partner.submit(submission(next)).await {
        Err(PartnerError::Unavailable { detail, .. }) => assert_eq!(detail, name),
        other => panic!("a new request during {name}: {other:?}"),
    }
    let (status, body) = get(admin, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains(&format!("the ledger cannot commit ({name}"))
            && body.contains(fault.what_to_do()),
        "{body}"
    );
    assert_eq!(get(admin, "/livez").0, 200, "alive: it resumes by itself");
    let (_, scrape) = get(admin, "/metrics");
    for other in StorageFault::ALL {
        let flag = format!(
            "trust_fabric_ledger_storage_fault{{fault=\"{}\"}}",
            other.name()
        );
        let expected = if other == fault { 1.0 } else { 0.0 };
        assert_eq!(metric(&scrape, &flag), expected, "{flag}");
    }
    let failed = format!("trust_fabric_ledger_failed_commits_total{{fault=\"{name}\"}}");
    assert!(metric(&scrape, &failed) >= 1.0, "{failed}");
    assert!(
        server
            .log()
            .contains("the ledger cannot commit: requests are answered Unavailable"),
        "{}",
        server.log()
    );
    // Requests verified but not stored were given their charges back: the cap counts exactly
    // the receipts acknowledged.
    wait_used(&partner, acknowledged.len() as u64).await;

    // The fault gone: the appliance finds out by itself and takes requests.
    clear(injected);
    let freed = Instant::now();
    let first = loop {
        match partner.submit(submission(next)).await {
            Ok(reply) => break reply,
            Err(PartnerError::Unavailable { .. }) => {
                assert!(
                    freed.elapsed() < Duration::from_secs(120),
                    "still unavailable two minutes after {name} ended: {}",
                    server.log()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(other) => panic!("after {name} ended: {other}"),
        }
    };
    eprintln!(
        "recovery: {} ms from the end of {name} to the first receipt",
        freed.elapsed().as_millis()
    );
    acknowledged.insert(receipt_seq(&first), first.receipt.payload.clone());
    let (status, body) = get(admin, "/readyz");
    assert_eq!(status, 200, "{body}");
    let (_, scrape) = get(admin, "/metrics");
    let flag = format!("trust_fabric_ledger_storage_fault{{fault=\"{name}\"}}");
    assert_eq!(metric(&scrape, &flag), 0.0, "{flag}");
    assert!(server.log().contains("the ledger commits again"));
    wait_used(&partner, acknowledged.len() as u64).await;
    if let Ok(partner) = Arc::try_unwrap(partner) {
        partner.close().await;
    }

    // Every receipt a partner holds is in the ledger as issued, with no gap in the sequence:
    // read back through the admin API (the ledger lives in the appliance's own mount
    // namespace, which SQLite in this process cannot open).
    let last = acknowledged.keys().max().copied().expect("receipts");
    for seq in 1..=last {
        let payload = stored_payload(admin, seq)
            .unwrap_or_else(|| panic!("receipt {seq} missing: the sequence has a gap"));
        if let Some(issued) = acknowledged.get(&seq) {
            assert_eq!(&payload, issued, "receipt {seq} as the partner got it");
        }
    }
    eprintln!(
        "{} receipts acknowledged, none lost, sequence 1 to {last} whole",
        acknowledged.len()
    );
}
