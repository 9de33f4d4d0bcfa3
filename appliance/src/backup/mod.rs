//! `appliance backup` and `appliance restore`: a copy of the state directory taken while the
//! appliance serves (every file, each SQLite database as of one commit, a manifest of digests)
//! and its restore into a new state directory on this host or another.

mod manifest;
mod restore;
mod take;

use std::process::ExitCode;

use crate::cli::{BackupArgs, RestoreArgs};

pub fn backup(args: BackupArgs) -> ExitCode {
    let state = tf_state::State::resolve(args.state.state_dir);
    match take::take(&state, &args.out) {
        Ok(manifest) => {
            let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
            crate::output::line(format!(
                "backed up {} into {}: {} files, {:.1} MiB",
                state.display(),
                args.out.display(),
                manifest.files.len(),
                bytes as f64 / (1 << 20) as f64
            ));
            summary(&manifest);
            crate::output::line(format!(
                "  keep it off this host, owner-only; restore with `appliance restore {} --state-dir NEW_DIR`",
                args.out.display()
            ));
            ExitCode::SUCCESS
        }
        Err(failure) => failure.report("appliance backup"),
    }
}

pub fn restore(args: RestoreArgs) -> ExitCode {
    let target = tf_state::State::resolve(args.state.state_dir);
    let done = if args.check {
        restore::check(&args.backup)
    } else {
        restore::restore(&args.backup, &target)
    };
    match done {
        Ok(manifest) => {
            let verb = if args.check {
                format!("{} verifies", args.backup.display())
            } else {
                format!(
                    "restored {} into {}",
                    args.backup.display(),
                    target.display()
                )
            };
            crate::output::line(format!(
                "{verb}: {} files, taken {} from {}",
                manifest.files.len(),
                manifest.taken_at,
                manifest.source
            ));
            summary(&manifest);
            if !args.check {
                crate::output::line(
                    "  start the appliance on it: budgets are rebuilt from the ledger; tell auditors \
                     the log's size restored (docs/runbook.md, \"Back up and restore\")",
                );
            }
            ExitCode::SUCCESS
        }
        Err(failure) => failure.report("appliance restore"),
    }
}

fn summary(manifest: &manifest::Manifest) {
    crate::output::line(format!(
        "  ledger up to sequence {}; bundle in force: {}; receipt key id {}",
        manifest.last_seq,
        manifest
            .bundle_revision
            .map_or("none promoted".to_owned(), |r| format!("revision {r}")),
        manifest.receipt_key_id
    ));
}
