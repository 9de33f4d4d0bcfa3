//! `appliance log`: the transparency log read as any C2SP tlog-tiles client reads it, from the
//! admin server or a mirrored directory. Every answer is checked before it is printed: the
//! checkpoint's signature with the log's key, each proof against the checkpoint's root.

mod monitor;
mod source;

use std::path::PathBuf;
use std::process::ExitCode;

use tf_log::{ConsistencyProofFile, InclusionProofFile};
use tf_tlog::Checkpoint;

use crate::cli::{LogArgs, LogWhat};
use crate::output;
use source::LogSource;

/// Exit codes: verified, did not verify (or forked), unusable.
const VERIFIED: u8 = 0;
const NOT_VERIFIED: u8 = 1;
const UNUSABLE: u8 = 2;

/// Why a command stopped.
pub(crate) enum Failure {
    /// Something does not verify: exit 1.
    NotVerified(String),
    /// Arguments, files or the network: exit 2.
    Unusable(String),
}

/// Runs one `appliance log` command.
pub fn run(args: LogArgs) -> ExitCode {
    let outcome = (|| {
        let state_dir = tf_state::State::resolve(args.state_dir.clone());
        let ca = args
            .ca
            .clone()
            .unwrap_or_else(|| state_dir.join(tf_state::layout::CA_CERT));
        let source = LogSource::new(&args.url, &ca);
        let vkey = log_key(args.vkey.clone(), &state_dir);
        match args.what {
            LogWhat::Checkpoint => checkpoint(&source, &vkey?),
            LogWhat::Prove { seq, out } => prove(&source, &vkey?, seq, out),
            LogWhat::Consistency { old, new } => consistency(&source, &vkey?, old, new),
            LogWhat::Monitor {
                state,
                interval,
                once,
            } => monitor::run(&source, args.vkey.as_deref(), &state, interval, once),
        }
    })();
    match outcome {
        Ok(()) => ExitCode::from(VERIFIED),
        Err(Failure::NotVerified(why)) => {
            eprintln!("error: {why}");
            ExitCode::from(NOT_VERIFIED)
        }
        Err(Failure::Unusable(why)) => {
            eprintln!("error: {why}");
            ExitCode::from(UNUSABLE)
        }
    }
}

/// `--vkey`, else the state directory's published log key.
fn log_key(flag: Option<String>, state_dir: &std::path::Path) -> Result<String, Failure> {
    if let Some(vkey) = flag {
        return Ok(vkey);
    }
    let dir = tf_log::LogDir::at(&state_dir.join(tf_state::layout::LOG_DIR));
    dir.vkey()
        .map_err(|e| Failure::Unusable(e.to_string()))?
        .ok_or_else(|| {
            Failure::Unusable(format!(
                "no log key: pass --vkey (from `appliance log checkpoint` on the appliance's \
                 host, or partner.toml), or --state-dir of an appliance that has run ({} has \
                 none)",
                dir.root().display()
            ))
        })
}

/// The latest checkpoint, its signature checked.
fn verified(source: &LogSource, vkey: &str) -> Result<(String, Checkpoint), Failure> {
    let note = source.checkpoint().map_err(Failure::Unusable)?;
    let checkpoint = tf_log::verified_checkpoint(&note, vkey)
        .map_err(|e| Failure::NotVerified(e.to_string()))?;
    Ok((note, checkpoint))
}

fn checkpoint(source: &LogSource, vkey: &str) -> Result<(), Failure> {
    let (note, checkpoint) = verified(source, vkey)?;
    output::line(format!("origin: {}", checkpoint.origin));
    output::line(format!("size:   {}", checkpoint.size));
    output::line(format!("root:   {}", checkpoint.root.to_base64()));
    output::line(format!("key:    {vkey}"));
    output::line("signature verified; the signed note:");
    output::line(note.trim_end());
    Ok(())
}

fn prove(source: &LogSource, vkey: &str, seq: u64, out: Option<PathBuf>) -> Result<(), Failure> {
    let (note, checkpoint) = verified(source, vkey)?;
    if seq >= checkpoint.size {
        return Err(Failure::Unusable(format!(
            "entry {seq} is not in the log yet: the latest checkpoint covers 0 to {} (a new \
             checkpoint comes within [log] checkpoint_interval_ms)",
            checkpoint.size - 1
        )));
    }
    let tiles = source.tiles(checkpoint.size);
    let hashes = tf_tlog::inclusion_proof(seq, checkpoint.size, &tiles)
        .map_err(|e| Failure::Unusable(e.to_string()))?;
    // The entry itself, from its entry bundle, so the proof is checked end to end.
    let entry = tf_tlog::stored_entry(seq, checkpoint.size, &tiles)
        .map_err(|e| Failure::Unusable(e.to_string()))?;
    let leaf = tf_tlog::leaf_hash(&entry);
    tf_tlog::verify_inclusion(leaf, seq, checkpoint.size, &hashes, &checkpoint.root)
        .map_err(|e| Failure::NotVerified(format!("the log's own proof for {seq}: {e}")))?;
    let proof = InclusionProofFile::new(seq, checkpoint.size, &hashes);
    let json = serde_json::to_string_pretty(&proof).expect("a proof always serialises");
    match out {
        Some(path) => {
            let checkpoint_path = path.with_extension("checkpoint");
            std::fs::write(&path, format!("{json}\n"))
                .and_then(|()| std::fs::write(&checkpoint_path, &note))
                .map_err(|e| Failure::Unusable(format!("{}: {e}", path.display())))?;
            output::line(format!(
                "entry {seq} is in the log of {} entries: proof in {}, checkpoint in {}",
                checkpoint.size,
                path.display(),
                checkpoint_path.display()
            ));
        }
        None => output::line(json),
    }
    Ok(())
}

fn consistency(source: &LogSource, vkey: &str, old: u64, new: u64) -> Result<(), Failure> {
    let (_, checkpoint) = verified(source, vkey)?;
    if old == 0 || old > new || new > checkpoint.size {
        return Err(Failure::Unusable(format!(
            "sizes must be 1 <= OLD <= NEW <= {} (the latest checkpoint's size)",
            checkpoint.size
        )));
    }
    let tiles = source.tiles(checkpoint.size);
    let root =
        |size| tf_tlog::tree_root(size, &tiles).map_err(|e| Failure::Unusable(e.to_string()));
    let (old_root, new_root) = (root(old)?, root(new)?);
    if new == checkpoint.size && new_root != checkpoint.root {
        return Err(Failure::NotVerified(
            "the log's tiles do not give the signed checkpoint's root".into(),
        ));
    }
    let hashes = tf_tlog::consistency_proof(old, new, &tiles)
        .map_err(|e| Failure::Unusable(e.to_string()))?;
    tf_tlog::verify_consistency(old, &old_root, new, &new_root, &hashes)
        .map_err(|e| Failure::NotVerified(format!("the log's own consistency proof: {e}")))?;
    let proof = ConsistencyProofFile::new((old, old_root), (new, new_root), &hashes);
    output::line(serde_json::to_string_pretty(&proof).expect("a proof always serialises"));
    Ok(())
}
