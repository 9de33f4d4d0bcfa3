//! `appliance bundle drift`: what a candidate bundle would change for recorded traffic.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::ExitCode;

use tf_bundles::{Bundle, BundleFiles};
use tf_config::Config;
use tf_decisions::DecisionLog;
use tf_drift::{BundleRef, Drift, Judgement, Judging, Registrations, Terms, render};
use tf_ledger::{Ledger, SqliteLedger};
use tf_state::{KeyStore, State, layout};

use crate::cli::{DriftArgs, DriftFormat};
use crate::output;

/// Runs `appliance bundle drift`.
pub fn drift(args: DriftArgs) -> ExitCode {
    match judge(&args) {
        Ok(report) => {
            let printed = match args.format {
                DriftFormat::Text => render::text(&report),
                DriftFormat::Markdown => render::markdown(&report),
                DriftFormat::Json => {
                    serde_json::to_string_pretty(&report).expect("a report serialises") + "\n"
                }
            };
            output::line(printed.trim_end());
            match report.judgement {
                Judgement::Pass => ExitCode::SUCCESS,
                Judgement::Block => ExitCode::from(1),
                Judgement::TooFewDecisions => ExitCode::from(2),
            }
        }
        Err(message) => {
            eprintln!("appliance bundle drift: {message}");
            ExitCode::from(2)
        }
    }
}

fn judge(args: &DriftArgs) -> Result<tf_drift::Report, String> {
    let tolerance = parse_tolerance(&args.tolerance)?;
    let window_us = tf_config::parse_span_us(&args.window).ok_or_else(|| {
        format!(
            "--window {:?} is not a span: a whole number and m, h or d, such as 7d",
            args.window
        )
    })?;
    let config = Config::load_or_default(args.config.as_deref()).map_err(|e| e.to_string())?;
    let root = State::resolve(
        args.state
            .state_dir
            .clone()
            .or(config.server.state_dir.clone()),
    );
    let state = State::open_existing(&root).map_err(|e| e.to_string())?;
    let candidate = open_candidate(&args.candidate)?;
    let baseline = stored_bundle(&state, args.against)?;

    let to_us = tf_seam::clock::unix_micros();
    let from_us = to_us.saturating_sub(window_us);
    // Budgets stand where earlier decisions left them: replay from as far back as the longest
    // cap window of either bundle needs.
    let warm_from = [&baseline, &candidate]
        .iter()
        .flat_map(|b| b.content.tenants.iter())
        .flat_map(|t| t.caps.iter().filter_map(|c| c.spec()))
        .map(|cap| cap.window.counts_since(from_us))
        .min()
        .unwrap_or(from_us)
        .min(from_us);
    let log = DecisionLog::open_read(&state.path(layout::DECISIONS)).map_err(|e| e.to_string())?;
    let registered = registrations(&state, &[&baseline, &candidate])?;
    let (before, after) = (Terms::of(&baseline), Terms::of(&candidate));
    let mut drift = Drift::new(
        &before,
        &after,
        &registered,
        Judging {
            baseline: reference(&baseline),
            candidate: reference(&candidate),
            from_us,
            to_us,
            tolerance,
            not_recorded: log
                .not_recorded(from_us, to_us)
                .map_err(|e| e.to_string())?,
            not_replayed: not_replayed(&baseline, &candidate),
        },
    );
    log.scan(warm_from, to_us, |event| drift.feed(&event))
        .map_err(|e| e.to_string())?;
    Ok(drift.finish())
}

fn parse_tolerance(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(percent) if percent > 0.0 && percent <= 100.0 => Ok(percent / 100.0),
        _ => Err(format!(
            "--tolerance {text:?} is not a percentage above 0 and at most 100, such as 0.5"
        )),
    }
}

fn open_candidate(path: &Path) -> Result<Bundle, String> {
    let files = BundleFiles::read(path).map_err(|p| format!("{}: {p}", path.display()))?;
    tf_bundles::open(files, None, &tf_engine::Limits::DEFAULT)
        .map_err(|refusal| format!("{}: {refusal}", path.display()))
}

/// The stored bundle at `revision`, else the one in force (stored bundles were checked when
/// promoted).
fn stored_bundle(state: &State, revision: Option<u64>) -> Result<Bundle, String> {
    let ledger =
        SqliteLedger::open_read_only(&state.path(layout::LEDGER)).map_err(|e| e.to_string())?;
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

/// The keys the bundles' tenants registered themselves (a tenant neither lists is denied
/// before its keys matter).
fn registrations(state: &State, bundles: &[&Bundle]) -> Result<Registrations, String> {
    let tenants: Vec<String> = bundles
        .iter()
        .flat_map(|b| b.content.tenants.iter().map(|t| t.id.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let loaded = KeyStore::new(state)
        .registered_by(&tenants)
        .map_err(|e| e.to_string())?;
    let mut registered = Registrations::default();
    for (key, owners) in &loaded.keys {
        for owner in owners {
            registered.add(owner, key.id);
        }
    }
    Ok(registered)
}

fn reference(bundle: &Bundle) -> BundleRef {
    BundleRef {
        revision: bundle.revision(),
        hash: bundle.hash.clone(),
    }
}

/// What differs between the bundles that admission replay does not judge.
fn not_replayed(baseline: &Bundle, candidate: &Bundle) -> Vec<String> {
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
