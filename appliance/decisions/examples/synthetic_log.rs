//! Writes a decision log of N synthetic verified requests (four tenants at 800/s, ending
//! now) to measure `appliance bundle drift` on a log of production size:
//! `cargo run --release -p tf-decisions --example synthetic_log -- FILE N`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use tf_budgets::Work;
use tf_decisions::DecisionLog;
use tf_drift::Outcome;
use tf_drift::block::{BlockWriter, Record, SettlementRecord};
use tf_receipts::VerdictLabel;
use tf_wire::DatasetClass;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(count)) = (args.next(), args.next()) else {
        eprintln!("usage: synthetic_log FILE DECISIONS");
        std::process::exit(2);
    };
    let path = PathBuf::from(path);
    let count: u64 = count.parse().expect("a number of decisions");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as u64;
    let step = 1250;
    let start = now - count * step;
    let mut log = DecisionLog::open(&path).expect("the log opens");
    let run = start - 1;
    log.begin_run(run, 1).expect("run noted");
    let tenants = ["acme", "globex", "demo", "initech"];
    let purposes = ["kyc", "payments", "audit", "age"];
    let mut writer = BlockWriter::default();
    let mut blocks = Vec::new();
    for i in 0..count {
        let at_us = start + i * step;
        writer.push(&Record {
            seq: 2 * i + 1,
            at_us,
            mono_us: i * step,
            tenant: tenants[(i % 4) as usize],
            purpose: purposes[((i / 4) % 4) as usize],
            class: DatasetClass::P1,
            kind: "bls-single",
            key: None,
            work: Work {
                keys: 1,
                pairings: 1,
                public_inputs: 0,
            },
            cost: 1,
            revision: 1,
            key_known: true,
            outcome: Outcome::Admitted,
        });
        writer.settle(&SettlementRecord {
            seq: 2 * i + 2,
            admitted_seq: 2 * i + 1,
            at_us: at_us + 900,
            verdict: VerdictLabel::Valid,
            charged: 1,
        });
        if writer.len() >= 4096 {
            blocks.push((0u16, writer.finish().expect("full"), 0u64));
        }
        if blocks.len() == 64 {
            log.append(run, &blocks).expect("appended");
            blocks.clear();
        }
    }
    blocks.extend(writer.finish().map(|b| (0u16, b, 0u64)));
    log.append(run, &blocks).expect("appended");
    let stats = log.stats().expect("stats");
    println!(
        "{} decisions in {} blocks, {} bytes ({:.1} per decision)",
        count,
        stats.blocks,
        stats.bytes,
        stats.bytes as f64 / count as f64
    );
}
