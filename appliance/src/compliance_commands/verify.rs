//! `appliance compliance verify`: a packet checked offline with the appliance's public key
//! and the log's key, every problem printed with its file; with `--previous`, also that the
//! packet follows the one before it.

use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use tf_compliance::{Problem, VerifiedSnapshot, verify_chain, verify_packet};

use super::{Failure, utc};
use crate::cli::StateArgs;
use crate::output;

/// Verifies `dir` (and that it follows `previous`).
pub(super) fn run(
    dir: &Path,
    previous: Option<&Path>,
    public_key: Option<&str>,
    log_key: Option<String>,
    state_dir: Option<PathBuf>,
) -> Result<(), Failure> {
    let key = crate::receipt_commands::public_key(
        public_key,
        StateArgs {
            state_dir: state_dir.clone(),
        },
    )
    .map_err(Failure::Usage)?;
    let log_key = match log_key {
        Some(vkey) => Some(vkey),
        None => state_log_key(state_dir)?,
    };
    for folder in std::iter::once(dir).chain(previous) {
        if !folder.is_dir() {
            return Err(Failure::Usage(format!(
                "{}: not a folder (unpack the snapshot's archive first)",
                folder.display()
            )));
        }
    }
    let previous = match previous {
        Some(folder) => Some(verified(folder, &key, log_key.as_deref())?),
        None => None,
    };
    let snapshot = verified(dir, &key, log_key.as_deref())?;
    if let Some(previous) = &previous {
        verify_chain(previous, &snapshot)
            .map_err(|problems| not_verified(&snapshot.summary.snapshot, dir, &problems))?;
    }
    let summary = &snapshot.summary;
    let log = match &log_key {
        Some(vkey) => format!("signed by {vkey}"),
        None => format!(
            "signed by the key the packet names for {} (pass --log-key to pin it)",
            snapshot.checkpoint.origin
        ),
    };
    output::line(format!(
        "{} verified: {} receipt(s) of {} tenant(s) decided from {} to {} ({} budget unit(s) \
         charged); every file matches the index signed by appliance key {}; every receipt is \
         in the transparency log under its checkpoint of {} entries {log}",
        summary.snapshot,
        summary.receipts,
        summary.tenants.len(),
        utc(summary.from_unix_us),
        utc(summary.to_unix_us),
        summary.charged,
        summary.appliance_key_id,
        snapshot.checkpoint.size,
    ));
    if let Some(previous) = &previous {
        output::line(format!(
            "it follows {}: the log's tree grew from {} to {} entries without rewriting",
            previous.summary.snapshot, previous.checkpoint.size, snapshot.checkpoint.size
        ));
    }
    Ok(())
}

/// The packet in `folder`, verified; its problems, each with its file, otherwise.
fn verified(
    folder: &Path,
    key: &VerifyingKey,
    log_key: Option<&str>,
) -> Result<VerifiedSnapshot, Failure> {
    verify_packet(folder, key, log_key).map_err(|problems| {
        let name = folder.file_name().map_or_else(
            || folder.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        not_verified(&name, folder, &problems)
    })
}

/// Prints every problem (stderr) and returns the failure.
fn not_verified(name: &str, folder: &Path, problems: &[Problem]) -> Failure {
    eprintln!(
        "{name} NOT verified ({} problem(s)) in {}:",
        problems.len(),
        folder.display()
    );
    for problem in problems {
        eprintln!("  {problem}");
    }
    Failure::Failed(format!("{name} does not verify"))
}

/// The state directory's published log key, if it has one.
fn state_log_key(state_dir: Option<PathBuf>) -> Result<Option<String>, Failure> {
    let root = crate::ctl::connect::state_dir(state_dir);
    tf_log::LogDir::at(&root.join(tf_state::layout::LOG_DIR))
        .vkey()
        .map_err(|e| Failure::Usage(e.to_string()))
}
