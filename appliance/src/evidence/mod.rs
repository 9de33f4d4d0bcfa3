//! `appliance evidence`: export a tenant's receipts and budget statements over a period as a
//! signed bundle, and verify a bundle offline.

mod export;
mod log_part;
mod time;

use std::path::Path;
use std::process::ExitCode;

use tf_ledger::SqliteLedger;

use crate::cli::StateArgs;
use crate::output;
use tf_state::{State, layout};

/// `appliance evidence export`.
pub fn export(tenant: &str, from: &str, to: &str, out: &Path, state: StateArgs) -> ExitCode {
    let run = || -> anyhow::Result<export::Exported> {
        let from_us = time::parse(from).map_err(|e| anyhow::anyhow!("--from: {e}"))?;
        let to_us = time::parse(to).map_err(|e| anyhow::anyhow!("--to: {e}"))?;
        let state = State::open_existing(&State::resolve(state.state_dir))?;
        let path = state.path(layout::LEDGER);
        if !path.exists() {
            anyhow::bail!(
                "{}: no ledger yet (it is created by the first `appliance serve`)",
                path.display()
            );
        }
        let ledger = SqliteLedger::open_read_only(&path)?;
        let mut signer = state.receipt_signer()?;
        let log_dir = tf_log::LogDir::at(&state.path(layout::LOG_DIR));
        export::export(&ledger, &mut signer, &log_dir, tenant, from_us, to_us, out)
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
                    time::format(part.decided_from_us),
                    time::format(part.decided_to_us),
                    part.sealed_by
                ));
            }
            output::line(format!(
                "check it offline: appliance evidence verify {}",
                out.display()
            ));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("appliance evidence export: {error:#}");
            ExitCode::from(2)
        }
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
                "evidence intact: {} receipt(s) of tenant {} decided from {} to {}, every file \
                 matches the manifest signed by appliance key {}",
                m.receipts.count,
                m.tenant,
                time::format(m.from_unix_us),
                time::format(m.to_unix_us),
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
