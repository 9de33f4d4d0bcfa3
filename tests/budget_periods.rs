//! A calendar window that ends while the appliance is down. Started again within the same
//! hour, the hour's charges restored from the ledger still count; started again in the next
//! hour (its clock moved an hour on with faketime, as if it had been down that long), the
//! hourly cap is whole again while the charges stay in the ledger.

#[path = "support/server.rs"]
mod server;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use server::{Server, signed};
use tf_partner::{DatasetClass, Partner, PartnerError, Submission};

const CONFIG: &str = r#"
[[tenants]]
id = "acme"
[[tenants.caps]]
purpose = "hourly"
class = "P0"
limit = 3
window = "hour"
"#;

/// The command that runs `serve` with its wall clock an hour on: libfaketime (the thread-safe
/// one) preloaded, the monotonic clock left alone (timers, quotas). `env` execs the appliance,
/// so signals reach it.
fn an_hour_later() -> Vec<String> {
    let library = std::fs::read_dir("/usr/lib")
        .expect("/usr/lib")
        .filter_map(|entry| {
            let candidate = entry.ok()?.path().join("faketime/libfaketimeMT.so.1");
            candidate.exists().then_some(candidate)
        })
        .next()
        .expect("libfaketime (Debian package faketime; tests/run installs it)");
    vec![
        "env".to_owned(),
        format!("LD_PRELOAD={}", library.display()),
        "FAKETIME=+1h".to_owned(),
        "FAKETIME_DONT_FAKE_MONOTONIC=1".to_owned(),
    ]
}

fn submission(n: u64) -> Submission {
    signed(17, n, "hourly", DatasetClass::P0)
}

/// Spends what is left of the hour's cap, `expected` requests, then is refused.
async fn spend_all(server: &Server, first: u64, expected: u64) -> tf_wire::OverBudget {
    let partner = Partner::connect(&server.partner("acme"))
        .await
        .expect("connects");
    for n in first..first + expected {
        partner.submit(submission(n)).await.expect("within the cap");
    }
    let over = match partner.submit(submission(first + expected)).await {
        Err(PartnerError::OverBudget(over)) => *over,
        other => panic!("expected over budget after {expected}, got {other:?}"),
    };
    partner.close().await;
    over
}

async fn used(server: &Server) -> u64 {
    let partner = Partner::connect(&server.partner("acme"))
        .await
        .expect("connects");
    let caps = partner.budgets().await.expect("budgets");
    partner.close().await;
    caps[0].used
}

#[tokio::test]
async fn an_hourly_cap_restored_within_its_hour_still_counts_and_is_whole_in_the_next() {
    // The same-hour restart must happen within the hour: start clear of its end.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    let into_hour = now.as_secs() % 3600;
    if into_hour > 3600 - 120 {
        tokio::time::sleep(Duration::from_secs(3600 - into_hour + 1)).await;
    }
    let mut server = Server::start(CONFIG, &["acme"], &[]);
    let over = spend_all(&server, 0, 3).await;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let resets = over.cap.resets_at_unix_ms;
    assert!(
        resets % 3_600_000 == 0 && resets > now_ms && resets <= now_ms + 3_600_000,
        "refused until the hour ends: {over:?}"
    );

    // Down and up again within the hour: the three charges are restored from the ledger.
    assert!(server.terminate().success(), "{}", server.log());
    server.start_again();
    assert_eq!(used(&server).await, 3);
    spend_all(&server, 100, 0).await;

    // Down, and up in the next hour: the window ended while it was down.
    assert!(server.terminate().success(), "{}", server.log());
    let wrapper = an_hour_later();
    server.start_again_under(&wrapper.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(used(&server).await, 0, "a new hour, a whole cap");
    let over = spend_all(&server, 200, 3).await;
    assert_eq!((over.cap.used, over.cap.limit), (3, 3));
    assert!(server.terminate().success(), "{}", server.log());

    // The ledger keeps all six charges, three in each hour.
    let db = rusqlite::Connection::open_with_flags(
        server.state_path("ledger.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("ledger opens");
    let hours: Vec<(i64, i64)> = db
        .prepare(
            "SELECT decided_us / 3600000000, SUM(charged) FROM receipts_readable \
             WHERE purpose = 'hourly' GROUP BY 1 ORDER BY 1",
        )
        .expect("query")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("read");
    assert_eq!(hours.len(), 2, "{hours:?}");
    assert_eq!((hours[0].1, hours[1].1), (3, 3), "{hours:?}");
    assert_eq!(hours[1].0, hours[0].0 + 1, "consecutive hours: {hours:?}");
}
