//! `appliance canary golden build|show`: the golden canary's known-answer set, signed with
//! the appliance's receipt key so that the canary refuses a set changed after it was built.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

use tf_canary::golden::{GoldenItem, GoldenSet, verdict_name};
use tf_engine::KeyId;
use tf_partner::fixtures::{BLS12_381_KEY, BN254_KEY};
use tf_partner::{DatasetClass, formats, golden};
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
    let mut keys = Vec::new();
    let mut ids = Vec::new();
    for json in [BN254_KEY, BLS12_381_KEY] {
        let (curve, bytes) = formats::verifying_key_json(json)?;
        ids.push(KeyId::of_canonical_bytes(&bytes));
        keys.push((curve, bytes));
    }
    let items = golden::known_answers(ids[0], ids[1])?
        .into_iter()
        .map(|answer| GoldenItem {
            label: answer.label.to_owned(),
            expect: answer.expect,
            purpose: purpose.to_owned(),
            dataset_class: DatasetClass::P2,
            statement: answer.statement,
        })
        .collect();
    let set = GoldenSet {
        created_unix_s: tf_seam::clock::unix_micros() / 1_000_000,
        keys,
        items,
    };
    let mut signer = state.receipt_signer().map_err(|e| e.to_string())?;
    let sealed = set.seal(&mut signer).map_err(|e| e.to_string())?;
    // Checked as the canary will check it before it is written.
    GoldenSet::open(&sealed, &signer.public_key(), &limits).map_err(|e| e.to_string())?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(out)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    file.write_all(sealed.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("{}: {e}", out.display()))?;
    output::line(format!(
        "golden set written to {}: {} requests, {} Groth16 keys, signed by key {}",
        out.display(),
        set.items.len(),
        set.keys.len(),
        signer.key_id()
    ));
    Ok(())
}

/// The file's text, refused past the largest golden set before all of it is read.
fn read_bounded(file: &Path) -> Result<String, String> {
    let opened = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut bytes = Vec::new();
    std::io::Read::take(opened, tf_canary::golden::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    if bytes.len() > tf_canary::golden::MAX_FILE_BYTES {
        return Err(format!(
            "{}: over the {} bytes a golden set may take",
            file.display(),
            tf_canary::golden::MAX_FILE_BYTES
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8", file.display()))
}

fn show(file: &Path, json: bool, config: Option<&Path>, state: StateArgs) -> Result<(), String> {
    let (state, limits) = open_state(config, state)?;
    let key = state
        .receipt_signer()
        .map_err(|e| e.to_string())?
        .public_key();
    let text = read_bounded(file)?;
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
