//! `appliance scenarios run`: what-if packs against the decision log and the bundle in force,
//! by hand (the scheduler runs the same packs every night).

use std::path::Path;
use std::process::ExitCode;

use tf_bundles::Bundle;
use tf_decisions::DecisionLog;
use tf_scenarios::{Pack, PackResult};
use tf_state::layout;

use crate::cli::{DriftFormat, ScenariosWhat};
use crate::drift_commands::{
    open_candidate, open_config_and_state, open_state, registrations, stored_bundle,
};
use crate::output;

/// Runs one `appliance scenarios` command.
pub fn run(what: ScenariosWhat) -> ExitCode {
    let (packs, format, config, state) = match what {
        ScenariosWhat::Run {
            packs,
            format,
            config,
            state,
        } => (packs, format, config, state),
        ScenariosWhat::Results {
            json,
            config,
            state,
        } => return results(json, config.as_deref(), state.state_dir),
    };
    match run_packs(&packs, config.as_deref(), state.state_dir) {
        Ok(results) => {
            match format {
                DriftFormat::Json => {
                    output::line(serde_json::to_string_pretty(&results).expect("results serialise"))
                }
                _ => results.iter().for_each(print),
            }
            // A failure outranks a pack that did not apply: 1 before 2.
            let failed = results
                .iter()
                .any(|r| matches!(r, ByHand::Ran(result) if !result.passed));
            let not_applicable = results
                .iter()
                .any(|r| matches!(r, ByHand::NotApplicable { .. }));
            match (failed, not_applicable) {
                (true, _) => ExitCode::from(1),
                (false, true) => ExitCode::from(2),
                (false, false) => ExitCode::SUCCESS,
            }
        }
        Err(message) => {
            eprintln!("appliance scenarios: {message}");
            ExitCode::from(2)
        }
    }
}

/// Each pack's latest run and its trend, as `appliance ctl scenarios` shows them, read from
/// the state directory; exit 1 when a latest run failed.
fn results(json: bool, config: Option<&Path>, state_dir: Option<std::path::PathBuf>) -> ExitCode {
    let reply = open_config_and_state(config, state_dir).and_then(|(config, state)| {
        let scenarios = config.scenarios;
        let log =
            DecisionLog::open_read(&state.path(layout::DECISIONS)).map_err(|e| e.to_string())?;
        let now_us = tf_seam::clock::unix_micros();
        let runs = log
            .runs_since(tf_scenarios::kept_from(now_us), false)
            .map_err(|e| e.to_string())?;
        let latest = log.latest_runs().map_err(|e| e.to_string())?;
        Ok(tf_admin::api::scenarios_reply(
            scenarios.enabled.then_some(scenarios.schedule),
            &runs,
            &latest,
        ))
    });
    let reply = match reply {
        Ok(reply) => reply,
        Err(message) => {
            eprintln!("appliance scenarios: {message}");
            return ExitCode::from(2);
        }
    };
    if json {
        output::line(serde_json::to_string_pretty(&reply).expect("results serialise"));
    } else {
        crate::ctl::show::scenarios::results(&reply)
            .into_iter()
            .for_each(output::line);
    }
    if reply.failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// What became of a pack run by hand.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum ByHand {
    /// Run, its expectations judged.
    Ran(Box<PackResult>),
    /// Not run: it names tenants the bundle in force lacks (as at night).
    NotApplicable {
        pack: String,
        outcome: &'static str,
        missing_tenants: Vec<String>,
    },
}

/// Every pack in turn: one that does not apply is reported and the others still run; a pack
/// that cannot be read or run stops them all.
fn run_packs(
    paths: &[std::path::PathBuf],
    config: Option<&Path>,
    state_dir: Option<std::path::PathBuf>,
) -> Result<Vec<ByHand>, String> {
    let state = open_state(config, state_dir)?;
    let active = stored_bundle(&state, None)?;
    let now_us = tf_seam::clock::unix_micros();
    let log_path = state.path(layout::DECISIONS);
    let mut results = Vec::new();
    for path in paths {
        let text = read_pack(path)?;
        let pack = Pack::parse(&text, &path.display().to_string()).map_err(|e| e.to_string())?;
        let candidate = match &pack.change.bundle {
            Some(bundle) => Some(open_candidate(
                &path.parent().unwrap_or(Path::new(".")).join(bundle),
            )?),
            None => None,
        };
        // As at night: a pack naming tenants this bundle lacks does not apply (exit 2).
        let known: Vec<&Bundle> = std::iter::once(&active).chain(&candidate).collect();
        let missing = tf_scenarios::missing_tenants(&pack, &known);
        if !missing.is_empty() {
            results.push(ByHand::NotApplicable {
                pack: pack.name,
                outcome: "not-applicable",
                missing_tenants: missing,
            });
            continue;
        }
        let candidate = match candidate {
            Some(candidate) => candidate,
            None => tf_scenarios::apply(&active, &pack.change, now_us / 1_000_000)
                .map_err(|e| format!("{}: {e}", path.display()))?,
        };
        let registered = registrations(&state, &[&active, &candidate])?;
        let mut recorded =
            |from_us: u64, to_us: u64, each: &mut dyn FnMut(tf_drift::Event) -> bool| {
                let log = DecisionLog::open_read(&log_path).map_err(|e| e.to_string())?;
                log.scan_while(from_us, to_us, each)
                    .map_err(|e| e.to_string())?;
                log.not_recorded(from_us, to_us).map_err(|e| e.to_string())
            };
        let result = tf_scenarios::run(
            &pack,
            &active,
            &candidate,
            &registered,
            now_us,
            &mut recorded,
            &mut || true,
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        results.push(ByHand::Ran(Box::new(result)));
    }
    Ok(results)
}

fn read_pack(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    use std::io::Read;
    file.take(tf_scenarios::MAX_PACK_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text)
}

fn print(result: &ByHand) {
    let result = match result {
        ByHand::Ran(result) => result,
        ByHand::NotApplicable {
            pack,
            missing_tenants,
            ..
        } => {
            output::line(format!(
                "N/A  {pack}: not applicable, not run: the bundle in force has no tenant {}",
                missing_tenants.join(", ")
            ));
            return;
        }
    };
    let report = &result.report;
    output::line(format!(
        "{} {}: {} decisions, {} flips (upper bound {:.3} %)",
        if result.passed { "PASS" } else { "FAIL" },
        result.pack,
        report.sample.decisions,
        report.flips,
        report.upper_bound * 100.0
    ));
    for expectation in &result.expectations {
        output::line(format!(
            "  {} {}: {}",
            if expectation.held { "held  " } else { "FAILED" },
            expectation.what,
            expectation.detail
        ));
    }
    for change in &report.changes {
        output::line(format!("  {:>8}  {}", change.count, change.change));
    }
}
