//! `appliance bundle drift`: what a candidate bundle would change for recorded traffic.

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

use tf_bundles::{Bundle, BundleFiles};
use tf_config::Config;
use tf_control::drift::{Asked, LiveLog, judge_live, reference, replay_both, weight_changes};
use tf_decisions::{DecisionLog, sample};
use tf_drift::{Judgement, Judging, Registrations, render};
use tf_ledger::{Ledger, SqliteLedger};
use tf_state::{KeyStore, State, layout};

use crate::cli::{DecisionsWhat, DriftArgs, DriftFormat};
use crate::output;

/// Runs `appliance bundle drift`.
pub fn drift(args: DriftArgs) -> ExitCode {
    let judged = args.approval.approval().and_then(|approval| {
        let mut report = judge(&args)?;
        if let Some(approval) = approval {
            report.overrule(approval);
        }
        Ok(report)
    });
    match judged {
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
                _ if report.passes() => ExitCode::SUCCESS,
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
    let candidate = open_candidate(&args.candidate)?;
    if let Some(sample) = &args.sample {
        return judge_sample(args, sample, &candidate, tolerance);
    }
    let window_us = span(&args.window, "--window")?;
    let state = open_state(args.config.as_deref(), args.state.state_dir.clone())?;
    let keystore = KeyStore::new(&state);
    let live = LiveLog {
        decisions: &state.path(layout::DECISIONS),
        ledger: &state.path(layout::LEDGER),
        keystore: &keystore,
    };
    judge_live(
        &live,
        &Asked {
            candidate: &candidate,
            against: args.against,
            window_us,
            to_us: tf_seam::clock::unix_micros(),
            tolerance,
        },
        &|| true,
    )
}

/// The drift guard on a sample: its window, against the bundle in force when it was taken.
fn judge_sample(
    args: &DriftArgs,
    path: &Path,
    candidate: &Bundle,
    tolerance: f64,
) -> Result<tf_drift::Report, String> {
    let public_key = args
        .public_key
        .as_deref()
        .map(crate::receipt_commands::parse_key)
        .transpose()?;
    let file = |path: &Path| {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let opened = sample::open_sample(file(path)?, public_key.as_ref())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let manifest = &opened.manifest;
    let baseline = BundleFiles::from_tar_gz(&opened.bundle_archive)
        .map_err(|p| p.to_string())
        .and_then(|files| {
            tf_bundles::open(files, None, &tf_engine::Limits::DEFAULT).map_err(|r| r.to_string())
        })
        .map_err(|e| format!("{}: the sample's bundle: {e}", path.display()))?;
    let listed: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&opened.registrations_json)
            .map_err(|e| format!("{}: the sample's registrations: {e}", path.display()))?;
    let mut registered = Registrations::default();
    for (tenant, keys) in &listed {
        for key in keys {
            let mut id = [0u8; 32];
            hex::decode_to_slice(key, &mut id)
                .map_err(|_| format!("{}: a registered key id is not hex", path.display()))?;
            registered.add(tenant, tf_engine::KeyId(id));
        }
    }
    let mut notes = weight_changes(&baseline, candidate);
    if !opened.signer_named {
        notes.push(format!(
            "the sample was checked against the key it names itself ({}): pass --public-key \
             to check it is your appliance's",
            manifest.appliance_key_id
        ));
    }
    let judging = Judging {
        baseline: reference(&baseline),
        candidate: reference(candidate),
        from_us: manifest.from_us,
        to_us: manifest.to_us,
        tolerance,
        not_recorded: manifest.not_recorded,
        notes,
    };
    replay_both(&baseline, candidate, &registered, judging, |drift| {
        sample::sample_events(
            || std::fs::File::open(path).map(std::io::BufReader::new),
            &opened,
            |event| drift.feed(&event),
        )
        .map_err(|e| format!("{}: {e}", path.display()))
    })
}

/// Runs one `appliance decisions` command.
pub fn decisions(what: DecisionsWhat) -> ExitCode {
    let done = match what {
        DecisionsWhat::Show { config, state } => show(config.as_deref(), state.state_dir),
        DecisionsWhat::Export {
            window,
            out,
            config,
            state,
        } => export(&window, &out, config.as_deref(), state.state_dir),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("appliance decisions: {message}");
            ExitCode::from(2)
        }
    }
}

fn show(config: Option<&Path>, state_dir: Option<std::path::PathBuf>) -> Result<(), String> {
    let state = open_state(config, state_dir)?;
    let path = state.path(layout::DECISIONS);
    let log = DecisionLog::open_read(&path).map_err(|e| e.to_string())?;
    let stats = log.stats().map_err(|e| e.to_string())?;
    let not_recorded = log.not_recorded(0, u64::MAX).map_err(|e| e.to_string())?;
    output::line(format!("decision log {}", path.display()));
    if stats.blocks == 0 {
        output::line("  empty: no decision recorded yet");
        return Ok(());
    }
    output::line(format!(
        "  {} events (decisions and settlements) in {} blocks, {} bytes ({:.1} per event)",
        stats.decisions,
        stats.blocks,
        stats.bytes,
        stats.bytes as f64 / stats.decisions.max(1) as f64
    ));
    output::line(format!(
        "  from {} to {}",
        tf_budgets::format_utc(stats.first_us / 1_000_000),
        tf_budgets::format_utc(stats.last_us / 1_000_000)
    ));
    output::line(format!(
        "  {not_recorded} decisions not recorded (the writer fell behind)"
    ));
    Ok(())
}

fn export(
    window: &str,
    out: &Path,
    config: Option<&Path>,
    state_dir: Option<std::path::PathBuf>,
) -> Result<(), String> {
    let window_us = span(window, "--window")?;
    if out.exists() {
        return Err(format!(
            "{} exists; choose another file (a sample is never overwritten)",
            out.display()
        ));
    }
    let state = open_state(config, state_dir)?;
    let ledger =
        SqliteLedger::open_read_only(&state.path(layout::LEDGER)).map_err(|e| e.to_string())?;
    let revision = ledger
        .active_revision()
        .map_err(|e| e.to_string())?
        .ok_or("no bundle was ever promoted here: drift needs the bundle in force")?;
    let archive = ledger
        .archive(revision)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("revision {revision} is not stored in the ledger"))?;
    let bundle = BundleFiles::from_tar_gz(&archive)
        .map_err(|p| p.to_string())
        .and_then(|files| {
            tf_bundles::open(files, None, &tf_engine::Limits::DEFAULT).map_err(|r| r.to_string())
        })?;
    let to_us = tf_seam::clock::unix_micros();
    let from_us = to_us.saturating_sub(window_us);
    let registered: std::collections::BTreeMap<String, Vec<String>> = {
        let tenants: Vec<String> = bundle
            .content
            .tenants
            .iter()
            .map(|t| t.id.clone())
            .collect();
        let loaded = KeyStore::new(&state)
            .registered_by(&tenants)
            .map_err(|e| e.to_string())?;
        let mut by_tenant = std::collections::BTreeMap::<String, Vec<String>>::new();
        for (key, owners) in &loaded.keys {
            for owner in owners {
                by_tenant
                    .entry(owner.clone())
                    .or_default()
                    .push(key.id.to_string());
            }
        }
        by_tenant
    };
    let registrations_json = serde_json::to_vec_pretty(&registered).expect("a map serialises");
    let log = DecisionLog::open_read(&state.path(layout::DECISIONS)).map_err(|e| e.to_string())?;
    let mut signer = state.receipt_signer().map_err(|e| e.to_string())?;
    // Owner-only: a sample names tenants, purposes and keys.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    let parts = sample::SampleParts {
        from_us,
        to_us,
        warm_from_us: tf_scenarios::warm_from(&[&bundle], from_us),
        bundle_archive: &archive,
        revision,
        bundle_hash: &bundle.hash,
        registrations_json: &registrations_json,
    };
    let written = sample::write_sample(&log, &parts, &mut signer, std::io::BufWriter::new(file));
    let manifest = match written {
        Ok(manifest) => manifest,
        Err(error) => {
            let _ = std::fs::remove_file(out);
            return Err(error.to_string());
        }
    };
    output::line(format!(
        "sample written to {}: {} events in {} blocks from {} to {} (window from {}), \
         bundle revision {}, signed by key {}",
        out.display(),
        manifest.events,
        manifest.blocks,
        tf_budgets::format_utc(manifest.warm_from_us / 1_000_000),
        tf_budgets::format_utc(manifest.to_us / 1_000_000),
        tf_budgets::format_utc(manifest.from_us / 1_000_000),
        manifest.revision,
        manifest.appliance_key_id
    ));
    Ok(())
}

fn span(text: &str, flag: &str) -> Result<u64, String> {
    tf_config::parse_span_us(text).ok_or_else(|| {
        format!("{flag} {text:?} is not a span: a whole number and m, h or d, such as 7d")
    })
}

pub(crate) fn open_state(
    config: Option<&Path>,
    state_dir: Option<std::path::PathBuf>,
) -> Result<State, String> {
    open_config_and_state(config, state_dir).map(|(_, state)| state)
}

/// The configuration (or the embedded defaults) and the existing state directory it, or
/// `state_dir`, names.
pub(crate) fn open_config_and_state(
    config: Option<&Path>,
    state_dir: Option<std::path::PathBuf>,
) -> Result<(Config, State), String> {
    let config = Config::load_or_default(config).map_err(|e| e.to_string())?;
    let root = State::resolve(state_dir.or(config.server.state_dir.clone()));
    let state = State::open_existing(&root).map_err(|e| e.to_string())?;
    Ok((config, state))
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

pub(crate) fn open_candidate(path: &Path) -> Result<Bundle, String> {
    let files = BundleFiles::read(path).map_err(|p| format!("{}: {p}", path.display()))?;
    tf_bundles::open(files, None, &tf_engine::Limits::DEFAULT)
        .map_err(|refusal| format!("{}: {refusal}", path.display()))
}

/// The stored bundle at `revision`, else the one in force.
pub(crate) fn stored_bundle(state: &State, revision: Option<u64>) -> Result<Bundle, String> {
    tf_control::drift::stored_bundle(&state.path(layout::LEDGER), revision)
}

/// The keys the bundles' tenants registered themselves.
pub(crate) fn registrations(state: &State, bundles: &[&Bundle]) -> Result<Registrations, String> {
    tf_control::scenarios::registrations(&KeyStore::new(state), bundles)
}
