//! `appliance log monitor`: an auditor's watch over the log. Each round fetches the latest
//! checkpoint, checks its signature with the pinned log key, and checks that it extends the
//! last checkpoint verified (a consistency proof computed from the log's own tiles). A log
//! that goes back, or shows two different trees, is a fork: the monitor prints both signed
//! checkpoints (the evidence) and exits 1.

use std::path::Path;
use std::time::Duration;

use tf_tlog::Checkpoint;

use super::source::LogSource;
use super::{Failure, verified};
use crate::output;

/// The last verified checkpoint (a signed note) in the monitor's directory.
const LAST_CHECKPOINT: &str = "checkpoint";
/// The log key pinned at the first run.
const PINNED_KEY: &str = "vkey";

/// Follows the log until it forks (or once).
pub fn run(
    source: &LogSource,
    vkey: Option<&str>,
    state: &Path,
    interval: u64,
    once: bool,
) -> Result<(), Failure> {
    std::fs::create_dir_all(state)
        .map_err(|e| Failure::Unusable(format!("{}: {e}", state.display())))?;
    let vkey = pinned_key(state, vkey)?;
    loop {
        match round(source, &vkey, state) {
            Ok(()) => {}
            Err(Failure::Unusable(why)) if !once => {
                eprintln!("warning: {why}; trying again in {interval} s");
            }
            Err(failure) => return Err(failure),
        }
        if once {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(interval.max(1)));
    }
}

/// The key given now, checked against the one pinned at the first run.
fn pinned_key(state: &Path, given: Option<&str>) -> Result<String, Failure> {
    let path = state.join(PINNED_KEY);
    let pinned = std::fs::read_to_string(&path)
        .ok()
        .map(|text| text.trim().to_owned());
    match (pinned, given) {
        (Some(pinned), Some(given)) if pinned != given.trim() => Err(Failure::Unusable(format!(
            "--vkey {given} is not the key pinned in {} ({pinned}); a log's key never changes: \
             use a new --state for a new log",
            path.display()
        ))),
        (Some(pinned), _) => Ok(pinned),
        (None, Some(given)) => {
            write(&path, &format!("{}\n", given.trim()))?;
            Ok(given.trim().to_owned())
        }
        (None, None) => Err(Failure::Unusable(format!(
            "no log key pinned in {}: pass --vkey the first time (the log's verifier key, from \
             the appliance's operator)",
            state.display()
        ))),
    }
}

/// One check.
fn round(source: &LogSource, vkey: &str, state: &Path) -> Result<(), Failure> {
    let (note, latest) = verified(source, vkey)?;
    let last_path = state.join(LAST_CHECKPOINT);
    let last = match std::fs::read_to_string(&last_path) {
        Ok(last_note) => {
            let last = tf_log::verified_checkpoint(&last_note, vkey)
                .map_err(|e| Failure::Unusable(format!("{}: {e}", last_path.display())))?;
            Some((last_note, last))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Failure::Unusable(format!("{}: {e}", last_path.display()))),
    };
    if let Some((last_note, last)) = &last {
        match extends(source, last, &latest) {
            Ok(()) => {}
            Err(Break::Fork(why)) => return Err(fork(&why, last_note, &note)),
            Err(Break::Unreadable(why)) => return Err(Failure::Unusable(why)),
        }
    }
    if last
        .as_ref()
        .is_none_or(|(_, last)| last.size != latest.size)
    {
        write(&last_path, &note)?;
    }
    let grown = last.map_or(latest.size, |(_, last)| latest.size - last.size);
    output::line(format!(
        "verified: {} at size {} (+{grown}), root {}",
        latest.origin,
        latest.size,
        latest.root.to_base64()
    ));
    Ok(())
}

/// Why a checkpoint could not be shown to extend the last one.
enum Break {
    /// It does not: a fork.
    Fork(String),
    /// The tiles for the proof could not be read (try again).
    Unreadable(String),
}

/// Whether `latest` extends `last`.
fn extends(source: &LogSource, last: &Checkpoint, latest: &Checkpoint) -> Result<(), Break> {
    if latest.origin != last.origin {
        return Err(Break::Fork(format!(
            "the origin changed from {} to {}",
            last.origin, latest.origin
        )));
    }
    if latest.size < last.size {
        return Err(Break::Fork(format!(
            "the log went back from {} to {} entries",
            last.size, latest.size
        )));
    }
    if latest.size == last.size {
        return match latest.root == last.root {
            true => Ok(()),
            false => Err(Break::Fork(format!(
                "two different trees of {} entries",
                last.size
            ))),
        };
    }
    let tiles = source.tiles(latest.size);
    let proof = tf_tlog::consistency_proof(last.size, latest.size, &tiles)
        .map_err(|e| Break::Unreadable(format!("reading the log's tiles: {e}")))?;
    tf_tlog::verify_consistency(last.size, &last.root, latest.size, &latest.root, &proof).map_err(
        |e| {
            Break::Fork(format!(
                "the tree of {} entries does not extend the one of {}: {e}",
                latest.size, last.size
            ))
        },
    )
}

/// The failure for a fork, with both signed checkpoints as evidence.
fn fork(why: &str, last_note: &str, latest_note: &str) -> Failure {
    Failure::NotVerified(format!(
        "THE LOG FORKED: {why}.\n--- last verified checkpoint ---\n{}\n--- latest \
         checkpoint ---\n{}\nKeep both signed checkpoints: together they prove the log showed \
         two histories.",
        last_note.trim_end(),
        latest_note.trim_end()
    ))
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| Failure::Unusable(format!("{}: {e}", path.display())))
}
