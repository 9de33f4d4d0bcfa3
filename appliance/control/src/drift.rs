//! The drift guard against this appliance's own decision log: a candidate bundle and a stored
//! revision (the one in force by default) replayed side by side over a recent window. Shared
//! by `appliance bundle drift` (reading a state directory) and the admin API's drift route.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use tf_bundles::{Bundle, BundleFiles};
use tf_decisions::DecisionLog;
use tf_drift::{BundleRef, Drift, Judging, Registrations, Report, Terms};
use tf_ledger::{Ledger, SqliteLedger};
use tf_state::KeyStore;

/// Where a live judgement reads: the decision log, the ledger's stored bundles, and the keys
/// partners registered.
pub struct LiveLog<'a> {
    /// `decisions.sqlite`.
    pub decisions: &'a Path,
    /// `ledger.sqlite`, opened read-only.
    pub ledger: &'a Path,
    /// The registered keys.
    pub keystore: &'a KeyStore,
}

/// What to judge: the candidate, against which revision, over how long, within what.
pub struct Asked<'a> {
    /// The bundle proposed.
    pub candidate: &'a Bundle,
    /// The stored revision to compare against (`None`: the one in force).
    pub against: Option<u64>,
    /// How far back from `to_us` to replay, microseconds.
    pub window_us: u64,
    /// The end of the window, Unix microseconds.
    pub to_us: u64,
    /// The largest bound that passes, a fraction.
    pub tolerance: f64,
}

/// Replays the window under both bundles and judges the drift; `keep_going` is asked at every
/// event, and a judgement it stops is an error.
pub fn judge_live(
    live: &LiveLog<'_>,
    asked: &Asked<'_>,
    keep_going: &dyn Fn() -> bool,
) -> Result<Report, String> {
    let baseline = stored_bundle(live.ledger, asked.against)?;
    let candidate = asked.candidate;
    let from_us = asked.to_us.saturating_sub(asked.window_us);
    let warm_from = tf_scenarios::warm_from(&[&baseline, candidate], from_us);
    let log = DecisionLog::open_read(live.decisions).map_err(|e| e.to_string())?;
    let registered = crate::scenarios::registrations(live.keystore, &[&baseline, candidate])?;
    let not_recorded = log
        .not_recorded(from_us, asked.to_us)
        .map_err(|e| e.to_string())?;
    let judging = Judging {
        baseline: reference(&baseline),
        candidate: reference(candidate),
        from_us,
        to_us: asked.to_us,
        tolerance: asked.tolerance,
        not_recorded,
        notes: weight_changes(&baseline, candidate),
    };
    let mut stopped = false;
    let report = replay_both(&baseline, candidate, &registered, judging, |drift| {
        log.scan_while(warm_from, asked.to_us, |event| {
            drift.feed(&event);
            stopped = !keep_going();
            !stopped
        })
        .map_err(|e| e.to_string())
    })?;
    if stopped {
        return Err("the judgement was stopped before it ended".to_owned());
    }
    Ok(report)
}

/// Streams events (`feed` hands them over) through both bundles' replays and judges them.
pub fn replay_both(
    baseline: &Bundle,
    candidate: &Bundle,
    registered: &Registrations,
    judging: Judging,
    feed: impl FnOnce(&mut Drift<'_, '_>) -> Result<(), String>,
) -> Result<Report, String> {
    let (before, after) = (Terms::promoted(baseline), Terms::of(candidate));
    let mut drift = Drift::new(&before, &after, registered, judging);
    feed(&mut drift)?;
    Ok(drift.finish())
}

/// The bundle stored in `ledger` at `revision`, else the one in force (stored bundles were
/// checked when promoted).
pub fn stored_bundle(ledger: &Path, revision: Option<u64>) -> Result<Bundle, String> {
    let ledger = SqliteLedger::open_read_only(ledger).map_err(|e| e.to_string())?;
    let revision = match revision {
        Some(revision) => revision,
        None => ledger
            .active_revision()
            .map_err(|e| e.to_string())?
            .ok_or("no bundle was ever promoted here; pass --against REV, or promote one first")?,
    };
    let archive = ledger
        .archive(revision)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("revision {revision} is not stored in this appliance's ledger"))?;
    let files = BundleFiles::from_tar_gz(&archive).map_err(|p| p.to_string())?;
    tf_bundles::open(files, None, &tf_engine::Limits::DEFAULT)
        .map_err(|refusal| format!("stored revision {revision}: {refusal}"))
}

/// A bundle as a report names it.
pub fn reference(bundle: &Bundle) -> BundleRef {
    BundleRef {
        revision: bundle.revision(),
        hash: bundle.hash.clone(),
    }
}

/// What differs between the bundles that admission replay does not judge.
pub fn weight_changes(baseline: &Bundle, candidate: &Bundle) -> Vec<String> {
    let weights = |b: &Bundle| -> HashMap<String, usize> {
        b.content
            .tenants
            .iter()
            .map(|t| (t.id.clone(), t.weight))
            .collect()
    };
    let (before, after) = (weights(baseline), weights(candidate));
    let changed: Vec<String> = after
        .iter()
        .filter_map(|(id, weight)| {
            let old = before.get(id)?;
            (old != weight).then(|| format!("{id} {old} → {weight}"))
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if changed.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "tenant weights change ({}): they share verification work under contention, \
             which replay of admission does not judge",
            changed.join(", ")
        )]
    }
}
