//! `appliance evidence`: export a tenant's receipts and budget statements over a period as a
//! signed bundle, and verify a bundle offline.

mod export;
mod pruned;

use std::path::Path;
use std::process::ExitCode;

use tf_ledger::{Ledger, SqliteLedger};

use crate::cli::StateArgs;
use crate::exit::Failure;
use crate::{output, times};
use tf_state::{State, layout};

/// The period when none is given.
const DEFAULT_PERIOD_US: u64 = 24 * 3_600 * 1_000_000;

/// `appliance evidence export`: exit 0 written, 1 failed, 2 bad usage.
pub fn export(
    tenant: &str,
    from: Option<&str>,
    to: Option<&str>,
    out: &Path,
    state: StateArgs,
) -> ExitCode {
    let now = times::now_utc();
    let run = || -> Result<export::Exported, Failure> {
        let to_us = match to {
            Some(to) => times::parse(to, &now).map_err(|e| Failure::Usage(format!("--to: {e}")))?,
            None => times::parse("now", &now).map_err(Failure::Usage)?,
        };
        let from_us = match from {
            Some(from) => {
                times::parse(from, &now).map_err(|e| Failure::Usage(format!("--from: {e}")))?
            }
            None => to_us.saturating_sub(DEFAULT_PERIOD_US),
        };
        if from_us >= to_us {
            return Err(Failure::Usage(format!(
                "--from ({}) must be before --to ({})",
                times::format(from_us),
                times::format(to_us)
            )));
        }
        if out.exists() && std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some())
        {
            return Err(Failure::Usage(format!(
                "{}: the folder is not empty; export into a new folder",
                out.display()
            )));
        }
        let failed = |e: anyhow::Error| Failure::Failed(format!("{e:#}"));
        let state = State::open_existing(&crate::ctl::connect::state_dir(state.state_dir))
            .map_err(|e| Failure::Usage(e.to_string()))?;
        let path = state.path(layout::LEDGER);
        if !path.exists() {
            return Err(Failure::Usage(format!(
                "{}: no ledger yet (it is created by the first `appliance serve`)",
                path.display()
            )));
        }
        let ledger = SqliteLedger::open_read_only(&path).map_err(|e| failed(e.into()))?;
        let known = ledger.tenants().map_err(|e| failed(e.into()))?;
        if !known.iter().any(|name| name == tenant) {
            return Err(Failure::Usage(format!(
                "tenant {tenant:?} has no receipt in this ledger; tenants with receipts: {}",
                match known.is_empty() {
                    true => "none yet".to_owned(),
                    false => known.join(", "),
                }
            )));
        }
        output::line(format!(
            "period: {} to {}{}",
            times::format(from_us),
            times::format(to_us),
            match (from, to) {
                (None, None) => " (the last 24 hours; --from and --to choose another)",
                (None, Some(_)) => " (the 24 hours before --to)",
                _ => "",
            }
        ));
        let mut signer = state.receipt_signer().map_err(|e| failed(e.into()))?;
        let log_dir = tf_log::LogDir::at(&state.path(layout::LOG_DIR));
        export::export(&ledger, &mut signer, &log_dir, tenant, from_us, to_us, out).map_err(failed)
    };
    match run() {
        Ok(done) => {
            output::line(format!(
                "exported {} receipt(s) of tenant {tenant} ({} budget unit(s) charged) to {}",
                done.receipts,
                done.charged,
                out.display()
            ));
            match done.not_yet_logged {
                None => output::line(
                    "no transparency log yet: the bundle has no inclusion proofs (the log starts with the appliance)",
                ),
                Some(0) => output::line("every receipt's inclusion proof in the log is included"),
                Some(missing) => output::line(format!(
                    "{missing} receipt(s) are not in a log checkpoint yet (the manifest lists them); export again once the appliance has logged them"
                )),
            }
            for part in &done.pruned {
                output::line(format!(
                    "pruned: receipts {} to {} (decided {} to {}) are no longer in the ledger; compliance snapshot {} holds them",
                    part.from_seq,
                    part.to_seq,
                    times::format(part.decided_from_us),
                    times::format(part.decided_to_us),
                    part.sealed_by
                ));
            }
            output::line(format!(
                "check it offline: appliance evidence verify {}",
                out.display()
            ));
            ExitCode::SUCCESS
        }
        Err(failure) => failure.report("appliance evidence export"),
    }
}

/// `appliance evidence verify`: exit 0 intact, 1 altered (each problem printed), 2 unusable
/// input.
pub fn verify(dir: &Path, public_key: Option<&str>, state: StateArgs) -> ExitCode {
    let key = match crate::receipt_commands::public_key(public_key, state) {
        Ok(key) => key,
        Err(message) => {
            eprintln!("appliance evidence verify: {message}");
            return ExitCode::from(2);
        }
    };
    if !dir.is_dir() {
        eprintln!("appliance evidence verify: {}: not a folder", dir.display());
        return ExitCode::from(2);
    }
    match tf_evidence::verify_dir(dir, &key) {
        Ok(verified) => {
            let m = verified.manifest;
            if let Some(log) = &m.log {
                output::line(format!(
                    "every receipt is in the transparency log under the checkpoint of {} entries signed by {}{}",
                    log.tree_size,
                    log.vkey,
                    match log.not_yet_logged.len() {
                        0 => String::new(),
                        n => format!(" (but {n} not yet logged when exported)"),
                    }
                ));
            }
            for part in &m.pruned {
                output::line(format!(
                    "not in this bundle: receipts {} to {} were pruned; compliance snapshot {} holds them",
                    part.from_seq, part.to_seq, part.sealed_by
                ));
            }
            output::line(format!(
                "evidence intact{}: {} receipt(s) of tenant {} decided from {} to {}, every file \
                 matches the manifest signed by appliance key {}",
                if m.preview {
                    " (a partner's preview: the sandbox receipts it named, not the period's every receipt)"
                } else {
                    ""
                },
                m.receipts.count,
                m.tenant,
                times::format(m.from_unix_us),
                times::format(m.to_unix_us),
                m.appliance_key_id
            ));
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprintln!("evidence NOT intact ({} problem(s)):", problems.len());
            for problem in problems {
                eprintln!("  {problem}");
            }
            ExitCode::from(1)
        }
    }
}
