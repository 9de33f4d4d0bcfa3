//! Reading a receipt and checking it, and its place in the transparency log, offline: what
//! `partner receipt verify` and `partner receipt prove` share.

use std::path::Path;
use std::process::ExitCode;

use ed25519_dalek::VerifyingKey;
use tf_partner::{InclusionError, InclusionProofFile, PartnerConfig};
use tf_receipts::{Envelope, Receipt};

use super::{ConnectionArgs, exit};

/// Largest receipt, checkpoint or proof file read (each is a few KiB).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// Why a receipt command stopped, and its exit code.
pub enum Failure {
    /// A file, flag or setting is unusable: exit 2.
    Unusable(String),
    /// The receipt or its proof does not check out: exit 1.
    NotShown(String),
}

impl Failure {
    /// Prints the failure and returns its exit code.
    pub fn exit(self) -> ExitCode {
        let (message, code) = match self {
            Failure::Unusable(message) => (message, exit::REJECTED),
            Failure::NotShown(message) => (message, exit::INVALID),
        };
        eprintln!("partner: {message}");
        ExitCode::from(code)
    }
}

/// Reads a receipt and verifies its signature with `--public-key` or partner.toml's key.
pub fn genuine(
    file: &Path,
    public_key: Option<&str>,
    connection: &ConnectionArgs,
) -> Result<(Envelope, Receipt), Failure> {
    let key = public_key_for(public_key, connection).map_err(Failure::Unusable)?;
    let text = read(file)?;
    let envelope = Envelope::from_json(&text).map_err(|problem| {
        Failure::Unusable(format!(
            "{}: not a receipt envelope: {problem}",
            file.display()
        ))
    })?;
    let receipt = tf_receipts::verify(&envelope, &key)
        .map_err(|error| Failure::NotShown(format!("{}: {error}", file.display())))?;
    Ok((envelope, receipt))
}

/// Checks that the receipt in `file` is in the log under `note` by `proof`; the line to print.
pub fn in_log(
    file: &Path,
    envelope: &Envelope,
    receipt: &Receipt,
    note: &str,
    proof: &InclusionProofFile,
    vkey: &str,
) -> Result<String, Failure> {
    let checkpoint = tf_partner::verify_inclusion(envelope, receipt.ledger_seq, note, proof, vkey)
        .map_err(|error| match error {
            InclusionError::Malformed(why) => Failure::Unusable(why),
            other => Failure::NotShown(format!("not in the log: {}: {other}", file.display())),
        })?;
    Ok(format!(
        "in the transparency log: entry {} of {} under the checkpoint of {} signed by {vkey}",
        proof.index, checkpoint.size, checkpoint.origin
    ))
}

/// `--log-key`, else partner.toml's `log_key`.
pub fn log_key_for(flag: Option<&str>, connection: &ConnectionArgs) -> Result<String, Failure> {
    if let Some(vkey) = flag {
        tf_tlog::NoteVerifier::from_vkey(vkey.trim())
            .map_err(|e| Failure::Unusable(format!("--log-key: {e}")))?;
        return Ok(vkey.trim().to_owned());
    }
    PartnerConfig::log_key_from_state_dir(&connection.state_dir)
        .map_err(|e| Failure::Unusable(format!("{e}; or pass --log-key")))?
        .ok_or_else(|| {
            Failure::Unusable(
                "partner.toml has no log_key (an appliance from before the transparency log); \
                 pass --log-key (`appliance log checkpoint` on the appliance's host prints it)"
                    .into(),
            )
        })
}

/// A file of at most [`MAX_FILE_BYTES`], as text.
pub fn read(file: &Path) -> Result<String, Failure> {
    let unusable = |problem: String| Failure::Unusable(format!("{}: {problem}", file.display()));
    let length = std::fs::metadata(file)
        .map_err(|e| unusable(e.to_string()))?
        .len();
    if length > MAX_FILE_BYTES {
        return Err(unusable(format!(
            "{length} bytes; receipts, checkpoints and proofs are a few KiB: is this the right \
             file?"
        )));
    }
    std::fs::read_to_string(file).map_err(|e| unusable(e.to_string()))
}

/// An inclusion proof file (`InclusionProofFile` JSON).
pub fn read_proof(file: &Path) -> Result<InclusionProofFile, Failure> {
    serde_json::from_str(&read(file)?).map_err(|e| {
        Failure::Unusable(format!(
            "{}: not an inclusion proof file: {e}",
            file.display()
        ))
    })
}

fn public_key_for(flag: Option<&str>, connection: &ConnectionArgs) -> Result<VerifyingKey, String> {
    let bytes = match flag {
        Some(text) => tf_partner::formats::hex_array::<32>("--public-key", text)?,
        None => super::config(connection)
            .map_err(|e| e.to_string())?
            .receipt_public_key
            .ok_or("partner.toml has no receipt_public_key; pass --public-key")?,
    };
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("the public key is not usable: {e}"))
}
