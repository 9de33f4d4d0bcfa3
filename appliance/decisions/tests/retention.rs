//! Retention deletes: a block wholly older than the retention goes and a newer one (or one
//! reaching past the cutoff) stays; over the size bound the oldest blocks go first until the
//! rest fit; a scenario run 91 days old goes and one 89 days old stays. Real SQLite files in
//! a temporary directory; "now" is passed in, as the writer and the scheduler pass theirs.

use std::path::Path;

use tf_budgets::Work;
use tf_decisions::{DecisionLog, RunRow};
use tf_drift::Outcome;
use tf_drift::block::{Block, BlockWriter, Record};
use tf_wire::DatasetClass;

const DAY_US: u64 = 86_400_000_000;
const HOUR_US: u64 = 3_600_000_000;
/// "Now" in every test: 2026-12-01T00:00:00Z.
const NOW_US: u64 = 1_796_083_200_000_000;
/// The appliance run the blocks belong to.
const RUN: u64 = NOW_US - 60 * DAY_US;

#[test]
fn a_block_older_than_the_retention_goes_and_newer_ones_stay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = open(&dir.path().join("decisions.sqlite"));
    let retention_us = 30 * DAY_US;
    let old = block(NOW_US - 31 * DAY_US, NOW_US - 31 * DAY_US + HOUR_US, 10);
    // Its first decision is past the retention, its last is not: kept until all of it is.
    let straddling = block(
        NOW_US - 30 * DAY_US - HOUR_US,
        NOW_US - 30 * DAY_US + HOUR_US,
        10,
    );
    let recent = block(NOW_US - 29 * DAY_US, NOW_US - 29 * DAY_US + HOUR_US, 10);
    append(&mut log, [&old, &straddling, &recent]);
    assert_eq!(log.stats().expect("stats").blocks, 3);

    // As the writer prunes: the cutoff is now less the retention.
    let deleted = log.prune(NOW_US - retention_us, u64::MAX).expect("pruned");
    assert_eq!(deleted, 1);
    let stats = log.stats().expect("stats");
    assert_eq!(stats.blocks, 2);
    assert_eq!(stats.first_us, straddling.first_us);
    assert_eq!(stats.last_us, recent.last_us);
    assert_eq!(
        log.read(0, u64::MAX).expect("read").events.len(),
        20,
        "the old block's decisions are gone, the others' all there"
    );
    // Pruning again at the same time deletes nothing more.
    assert_eq!(
        log.prune(NOW_US - retention_us, u64::MAX).expect("pruned"),
        0
    );
}

#[test]
fn over_the_size_bound_the_oldest_blocks_go_first_until_the_rest_fit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = open(&dir.path().join("decisions.sqlite"));
    // Five blocks a day apart, all within any retention: only the size bound prunes here.
    let blocks: Vec<Block> = (0..5)
        .map(|n| {
            let first_us = NOW_US - (5 - n) * DAY_US;
            block(first_us, first_us + HOUR_US, 200)
        })
        .collect();
    append(&mut log, &blocks);
    let size = |b: &Block| b.data.len() as u64;
    let total: u64 = blocks.iter().map(size).sum();
    assert_eq!(log.stats().expect("stats").bytes, total);

    // At the bound exactly, nothing goes.
    assert_eq!(log.prune(0, total).expect("pruned"), 0);

    // One byte more over the bound than the oldest block holds: deleting it alone does not
    // fit, so the next oldest goes too, and no more. (`max_bytes` is `[decisions] max_mib`
    // times 2^20; a bound in bytes keeps the test small.)
    let max_bytes = total - size(&blocks[0]) - 1;
    assert_eq!(log.prune(0, max_bytes).expect("pruned"), 2);
    let stats = log.stats().expect("stats");
    assert!(
        stats.bytes <= max_bytes,
        "{} bytes over {max_bytes}",
        stats.bytes
    );
    assert_eq!(stats.bytes, total - size(&blocks[0]) - size(&blocks[1]));
    assert_eq!(
        (stats.blocks, stats.first_us, stats.last_us),
        (3, blocks[2].first_us, blocks[4].last_us),
        "the two oldest went, the three newest stayed"
    );

    // A bound below the newest block alone leaves nothing.
    assert_eq!(log.prune(0, size(&blocks[4]) - 1).expect("pruned"), 3);
    assert_eq!(log.stats().expect("stats").blocks, 0);
}

#[test]
fn scenario_runs_are_kept_90_days() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(&dir.path().join("decisions.sqlite"));
    log.record_run(&run("ninety-one-days-old", NOW_US - 91 * DAY_US))
        .expect("recorded");
    log.record_run(&run("eighty-nine-days-old", NOW_US - 89 * DAY_US))
        .expect("recorded");

    // As the scheduler prunes: before the first time kept at now.
    let deleted = log
        .prune_runs(tf_scenarios::kept_from(NOW_US))
        .expect("pruned");
    assert_eq!(deleted, 1);
    let kept: Vec<String> = log
        .runs_since(0, false)
        .expect("runs")
        .into_iter()
        .map(|r| r.pack)
        .collect();
    assert_eq!(kept, ["eighty-nine-days-old"]);
}

fn open(path: &Path) -> DecisionLog {
    let log = DecisionLog::open(path).expect("the log opens");
    log.begin_run(RUN, 1).expect("run noted");
    log
}

fn append<'a>(log: &mut DecisionLog, blocks: impl IntoIterator<Item = &'a Block>) {
    let blocks: Vec<(u16, Block, u64)> = blocks.into_iter().map(|b| (0, b.clone(), 0)).collect();
    log.append(RUN, &blocks).expect("appended");
}

/// A block of `decisions` admitted decisions spread from `first_us` to `last_us`.
fn block(first_us: u64, last_us: u64, decisions: u64) -> Block {
    let mut writer = BlockWriter::default();
    let step = (last_us - first_us) / (decisions - 1).max(1);
    for n in 0..decisions {
        let at_us = if n + 1 == decisions {
            last_us
        } else {
            first_us + n * step
        };
        writer.push(&Record {
            seq: n + 1,
            at_us,
            mono_us: at_us - RUN,
            tenant: "acme",
            purpose: "kyc",
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
    }
    let block = writer.finish().expect("a decision was pushed");
    assert_eq!((block.first_us, block.last_us), (first_us, last_us));
    block
}

/// A run of pack `pack` started at `started_us`, passed.
fn run(pack: &str, started_us: u64) -> RunRow {
    RunRow {
        pack: pack.into(),
        slot_us: started_us,
        started_us,
        finished_us: started_us + 60_000_000,
        passed: true,
        decisions: 1_000,
        flips: 0,
        upper_bound: 0.003,
        result: "{}".into(),
        ran: true,
        applicable: true,
    }
}
