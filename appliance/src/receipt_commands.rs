//! `appliance receipt verify`: an auditor's offline check of a receipt.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ed25519_dalek::VerifyingKey;
use tf_receipts::Envelope;

use crate::cli::StateArgs;
use crate::offline_verify::read_capped;
use crate::output;
use tf_state::State;

/// Largest receipt file read (receipts are well under 4 KiB).
const MAX_RECEIPT_BYTES: u64 = 1 << 20;

/// The appliance public key to check against: `--public-key`, else the state directory's.
pub fn public_key(public_key: Option<&str>, state: StateArgs) -> Result<VerifyingKey, String> {
    match public_key {
        Some(hex_key) => parse_key(hex_key),
        None => State::open_existing(&crate::ctl::connect::state_dir(state.state_dir))
            .and_then(|s| s.receipt_signer())
            .map(|signer| signer.public_key())
            .map_err(|e| format!("{e}; or pass --public-key")),
    }
}

/// A receipt's place in the transparency log, to check offline.
pub struct Inclusion {
    /// The signed checkpoint.
    pub checkpoint: PathBuf,
    /// The inclusion proof under it.
    pub proof: PathBuf,
    /// The log's verifier key; default: the state directory's.
    pub log_key: Option<String>,
}

pub fn verify(
    file: &Path,
    public_key: Option<&str>,
    inclusion: Option<Inclusion>,
    state: StateArgs,
) -> ExitCode {
    let state_dir = crate::ctl::connect::state_dir(state.state_dir.clone());
    let key = match self::public_key(public_key, state) {
        Ok(key) => key,
        Err(message) => return unreadable(&message),
    };
    let text = match read_limited(file) {
        Ok(text) => text,
        Err(message) => return unreadable(&message),
    };
    let envelope = match Envelope::from_json(&text) {
        Ok(envelope) => envelope,
        Err(message) => return unreadable(&format!("{}: {message}", file.display())),
    };
    match tf_receipts::verify(&envelope, &key) {
        Ok(receipt) => {
            output::line(format!(
                "genuine receipt, signed by appliance key {}",
                receipt.appliance_key_id
            ));
            if let Some(inclusion) = inclusion {
                match in_log(&envelope, receipt.ledger_seq, &inclusion, &state_dir) {
                    Ok(message) => output::line(message),
                    Err(InLog::Unreadable(message)) => return unreadable(&message),
                    Err(InLog::Not(message)) => {
                        eprintln!("not in the log: {}: {message}", file.display());
                        return ExitCode::from(1);
                    }
                }
            }
            let pretty =
                serde_json::to_string_pretty(&receipt).expect("a receipt always serialises");
            output::line(pretty);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("not genuine: {}: {error}", file.display());
            ExitCode::from(1)
        }
    }
}

/// Why a receipt's inclusion was not shown.
enum InLog {
    /// The files could not be read.
    Unreadable(String),
    /// They do not show it.
    Not(String),
}

/// Checks the receipt against a signed checkpoint and its inclusion proof.
fn in_log(
    envelope: &Envelope,
    ledger_seq: u64,
    inclusion: &Inclusion,
    state_dir: &Path,
) -> Result<String, InLog> {
    let vkey = match &inclusion.log_key {
        Some(vkey) => vkey.clone(),
        None => tf_log::LogDir::at(&state_dir.join(tf_state::layout::LOG_DIR))
            .vkey()
            .ok()
            .flatten()
            .ok_or_else(|| {
                InLog::Unreadable(
                    "--log-key: the log's verifier key is needed (partner.toml, or `appliance \
                     log checkpoint` on the appliance's host)"
                        .into(),
                )
            })?,
    };
    let note = read_limited(&inclusion.checkpoint).map_err(InLog::Unreadable)?;
    let proof_text = read_limited(&inclusion.proof).map_err(InLog::Unreadable)?;
    let proof: tf_log::InclusionProofFile = serde_json::from_str(&proof_text)
        .map_err(|e| InLog::Unreadable(format!("{}: {e}", inclusion.proof.display())))?;
    if proof.index != ledger_seq {
        return Err(InLog::Not(format!(
            "the proof is for entry {}, the receipt's ledger sequence number is {ledger_seq}",
            proof.index
        )));
    }
    let checkpoint = tf_log::verified_checkpoint(&note, &vkey).map_err(|e| match e {
        tf_log::InclusionError::Malformed(why) => InLog::Unreadable(why),
        other => InLog::Not(other.to_string()),
    })?;
    tf_log::check_inclusion(&envelope.to_json(), &proof, &checkpoint)
        .map_err(|e| InLog::Not(e.to_string()))?;
    Ok(format!(
        "in the transparency log: entry {} of {} under the checkpoint of {} signed by {}",
        proof.index, checkpoint.size, checkpoint.origin, vkey
    ))
}

pub(crate) fn parse_key(text: &str) -> Result<VerifyingKey, String> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim().trim_start_matches("0x"), &mut bytes).map_err(|_| {
        "--public-key: expected 64 hex digits (from `appliance keys show`)".to_owned()
    })?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| "--public-key: not an Ed25519 public key".to_owned())
}

fn read_limited(file: &Path) -> Result<String, String> {
    let bytes = read_capped(file, MAX_RECEIPT_BYTES, "a receipt")?;
    String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", file.display()))
}

fn unreadable(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}
