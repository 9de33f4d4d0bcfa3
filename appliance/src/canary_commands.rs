//! `appliance canary golden build|show`: the golden canary's known-answer set, signed with
//! the appliance's receipt key so that the canary refuses a set changed after it was built.

use std::path::Path;
use std::process::ExitCode;

use tf_canary::golden::{GoldenSet, verdict_name};
use tf_state::State;
use tf_wire::WireLimits;

use crate::cli::{CanaryWhat, GoldenWhat, StateArgs};
use crate::output;

/// Runs one `appliance canary` command.
pub fn run(what: CanaryWhat) -> ExitCode {
    let CanaryWhat::Golden { what } = what;
    let done = match what {
        GoldenWhat::Build {
            out,
            purpose,
            config,
            state,
        } => build(&out, &purpose, config.as_deref(), state),
        GoldenWhat::Show {
            file,
            json,
            config,
            state,
        } => show(&file, json, config.as_deref(), state),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("appliance canary: {message}");
            ExitCode::from(2)
        }
    }
}

/// The state directory, and the wire limits the configuration sets.
fn open_state(config: Option<&Path>, state: StateArgs) -> Result<(State, WireLimits), String> {
    let (config, state) = crate::drift_commands::open_config_and_state(config, state.state_dir)?;
    Ok((state, crate::run::wire_limits(&config)))
}

fn build(out: &Path, purpose: &str, config: Option<&Path>, state: StateArgs) -> Result<(), String> {
    if out.exists() {
        return Err(format!(
            "{} exists; choose another file (a golden set is never overwritten)",
            out.display()
        ));
    }
    let (state, limits) = open_state(config, state)?;
    let mut signer = state.receipt_signer().map_err(|e| e.to_string())?;
    let set = crate::golden_file::built_in_set(purpose)?;
    crate::golden_file::write_sealed(out, &set, &mut signer, &limits)?;
    output::line(format!(
        "golden set written to {}: {} requests, {} Groth16 keys, signed by key {}",
        out.display(),
        set.items.len(),
        set.keys.len(),
        signer.key_id()
    ));
    Ok(())
}

fn show(file: &Path, json: bool, config: Option<&Path>, state: StateArgs) -> Result<(), String> {
    let (state, limits) = open_state(config, state)?;
    let key = state
        .receipt_signer()
        .map_err(|e| e.to_string())?
        .public_key();
    let text = crate::golden_file::read_bounded(file)?;
    let set =
        GoldenSet::open(&text, &key, &limits).map_err(|e| format!("{}: {e}", file.display()))?;
    if json {
        let items: Vec<serde_json::Value> = set
            .items
            .iter()
            .map(|item| {
                serde_json::json!({
                    "label": item.label,
                    "expect": verdict_name(item.expect),
                    "purpose": item.purpose,
                    "dataset_class": item.dataset_class.name(),
                })
            })
            .collect();
        let shown = serde_json::json!({
            "created_unix_s": set.created_unix_s,
            "keys": set.keys.len(),
            "items": items,
        });
        output::line(serde_json::to_string_pretty(&shown).expect("JSON serialises"));
        return Ok(());
    }
    output::line(format!(
        "{}: signed by this appliance, built {}, {} Groth16 keys",
        file.display(),
        tf_budgets::format_utc(set.created_unix_s),
        set.keys.len()
    ));
    for item in &set.items {
        output::line(format!("  {:<9} {}", verdict_name(item.expect), item.label));
    }
    Ok(())
}
