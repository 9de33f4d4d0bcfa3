//! Faults for testing the golden canary, compiled in only with the `fault-injection` feature
//! and inert unless asked for by environment variables read once:
//!
//! - `TF_FAULT_WRONG_VERDICT_EVERY=N`: every Nth verdict is turned around (valid to invalid,
//!   invalid to valid; a rejection due is left alone and passes the turn to the next verdict
//!   that can be turned, so every N verdicts hold one wrong one whatever the traffic's mix);
//! - `TF_FAULT_VERIFY_DELAY_MS=D`: each batch's verification first stalls its shard D ms;
//! - `TF_FAULT_PANIC=1`: the next batch's verification panics its shard, as a bug would;
//! - `TF_FAULT_SWITCH=FILE`: each applies only while FILE exists, so a test lets the canary
//!   build its baseline (or the appliance serve) first, then turns them on.
//!
//! Never deploy a build with the feature (`serve` warns when it is compiled in).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tf_engine::{InvalidReason, Verdict};

/// The faults asked for.
#[derive(Debug)]
struct Faults {
    wrong_every: Option<u64>,
    delay: Option<Duration>,
    panic: bool,
    switch: Option<PathBuf>,
    verdicts: AtomicU64,
    /// A turn fell on a rejection: the next valid or invalid verdict is turned instead.
    owed: AtomicBool,
    /// The first stall was said in the log (a test waits for it; once, not per batch).
    stall_said: AtomicBool,
}

fn faults() -> &'static Faults {
    static FAULTS: OnceLock<Faults> = OnceLock::new();
    FAULTS.get_or_init(|| {
        let number = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.trim().parse::<u64>().ok())
                .filter(|n| *n > 0)
        };
        Faults {
            wrong_every: number("TF_FAULT_WRONG_VERDICT_EVERY"),
            delay: number("TF_FAULT_VERIFY_DELAY_MS").map(Duration::from_millis),
            panic: number("TF_FAULT_PANIC").is_some(),
            switch: std::env::var_os("TF_FAULT_SWITCH").map(PathBuf::from),
            verdicts: AtomicU64::new(0),
            owed: AtomicBool::new(false),
            stall_said: AtomicBool::new(false),
        }
    })
}

/// The faults asked for, in words, for `serve`'s warning (`None`: none).
pub fn active() -> Option<String> {
    let faults = faults();
    let mut said = Vec::new();
    if let Some(every) = faults.wrong_every {
        said.push(format!("every {every}th verdict turned around"));
    }
    if let Some(delay) = faults.delay {
        said.push(format!("{} ms added to each batch", delay.as_millis()));
    }
    if faults.panic {
        said.push("a shard panics at its next batch".to_owned());
    }
    (!said.is_empty()).then(|| match &faults.switch {
        Some(switch) => format!("{} while {} exists", said.join(", "), switch.display()),
        None => said.join(", "),
    })
}

fn started(faults: &Faults) -> bool {
    faults.switch.as_ref().is_none_or(|switch| switch.exists())
}

/// Stalls before a batch is verified, or panics, when asked.
pub(crate) fn before_batch() {
    let faults = faults();
    if faults.panic && started(faults) {
        panic!("TF_FAULT_PANIC: a shard panics while verifying, as a bug would");
    }
    if let Some(delay) = faults.delay.filter(|_| started(faults)) {
        if !faults.stall_said.swap(true, Ordering::Relaxed) {
            eprintln!(
                "TEST BUILD: TF_FAULT_VERIFY_DELAY_MS: a batch stalls its shard {} ms (said for the first only)",
                delay.as_millis()
            );
        }
        std::thread::sleep(delay);
    }
}

/// Turns every Nth verdict around, when asked.
pub(crate) fn after_batch(verdicts: &mut [Verdict]) {
    let faults = faults();
    let Some(every) = faults.wrong_every.filter(|_| started(faults)) else {
        return;
    };
    for verdict in verdicts {
        let count = faults.verdicts.fetch_add(1, Ordering::Relaxed) + 1;
        let (by_count, owed) = (
            count.is_multiple_of(every),
            faults.owed.swap(false, Ordering::Relaxed),
        );
        if !(by_count || owed) {
            continue;
        }
        if by_count && owed {
            // Two turns fall on this verdict: the second waits for the next.
            faults.owed.store(true, Ordering::Relaxed);
        }
        match verdict {
            Verdict::Valid => *verdict = Verdict::Invalid(InvalidReason::SignatureMismatch),
            Verdict::Invalid(_) => *verdict = Verdict::Valid,
            // Rejections (and any later kind of verdict) are left alone: the next one is owed.
            _ => faults.owed.store(true, Ordering::Relaxed),
        }
    }
}
