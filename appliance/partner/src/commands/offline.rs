//! Reading a receipt and checking it, and its place in the transparency log, offline: what
//! `partner receipt verify` and `partner receipt prove` share.

use std::path::Path;
use std::process::ExitCode;

use ed25519_dalek::VerifyingKey;
use tf_partner::{About, InclusionError, InclusionProofFile, Partner, PartnerConfig, PartnerError};
use tf_receipts::{Envelope, Receipt};

use super::{ConnectionArgs, Output, exit};

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
    pub fn exit(self, out: Output) -> ExitCode {
        let (kind, message, code) = match self {
            Failure::Unusable(message) => ("unusable", message, exit::REJECTED),
            Failure::NotShown(message) => ("not-shown", message, exit::INVALID),
        };
        out.error(kind, &message, None, code)
    }
}

/// The keys that check what the appliance signs: from the flags, else from the appliance
/// itself when `--connect` is given (asked once, over the tenant's authenticated
/// connection), else from partner.toml.
pub struct Keys<'a> {
    connection: &'a ConnectionArgs,
    about: Option<About>,
}

impl<'a> Keys<'a> {
    /// Keys for the connection settings given.
    pub fn new(connection: &'a ConnectionArgs) -> Self {
        Keys {
            connection,
            about: None,
        }
    }

    /// The receipt key: `--public-key`, the appliance's answer, or partner.toml's.
    pub async fn receipt(&mut self, flag: Option<&str>) -> Result<VerifyingKey, Failure> {
        let bytes = match flag {
            Some(text) => tf_partner::formats::hex_array::<32>("--public-key", text)
                .map_err(Failure::Unusable)?,
            None if self.connection.connect.is_some() => self.about().await?.receipt_public_key,
            None => super::config(self.connection)
                .map_err(|e| Failure::Unusable(e.to_string()))?
                .receipt_public_key
                .ok_or_else(|| {
                    Failure::Unusable(
                        "partner.toml has no receipt_public_key; pass --public-key".into(),
                    )
                })?,
        };
        VerifyingKey::from_bytes(&bytes)
            .map_err(|e| Failure::Unusable(format!("the public key is not usable: {e}")))
    }

    /// The log's verifier key: `--log-key`, the appliance's answer, or partner.toml's.
    pub async fn log(&mut self, flag: Option<&str>) -> Result<String, Failure> {
        if let Some(vkey) = flag {
            return checked_vkey(vkey).map_err(|e| Failure::Unusable(format!("--log-key: {e}")));
        }
        if self.connection.connect.is_some() {
            let vkey = self.about().await?.log_key.clone();
            if vkey.is_empty() {
                return Err(Failure::Unusable(
                    "the appliance keeps no transparency log".into(),
                ));
            }
            return checked_vkey(&vkey)
                .map_err(|e| Failure::NotShown(format!("the appliance's log key: {e}")));
        }
        PartnerConfig::log_key_from_state_dir(&self.connection.state_dir)
            .map_err(|e| Failure::Unusable(format!("{e}; or pass --log-key")))?
            .ok_or_else(|| {
                Failure::Unusable(
                    "partner.toml has no log_key (an appliance from before the transparency \
                     log); pass --log-key (`appliance log checkpoint` on the appliance's host \
                     prints it)"
                        .into(),
                )
            })
    }

    async fn about(&mut self) -> Result<&About, Failure> {
        if self.about.is_none() {
            let asked = async {
                let config = super::config(self.connection)?;
                let partner = Partner::connect(&config).await?;
                let about = self.connection.retry().run(|| partner.about()).await;
                partner.close().await;
                about
            };
            let about = asked.await.map_err(|e| {
                Failure::Unusable(format!("asking the appliance for its keys: {e}"))
            })?;
            self.about = Some(about);
        }
        Ok(self.about.as_ref().expect("just asked"))
    }
}

fn checked_vkey(vkey: &str) -> Result<String, String> {
    tf_tlog::NoteVerifier::from_vkey(vkey.trim()).map_err(|e| e.to_string())?;
    Ok(vkey.trim().to_owned())
}

/// Reads a receipt and verifies its signature with `key`.
pub fn genuine(file: &Path, key: &VerifyingKey) -> Result<(Envelope, Receipt), Failure> {
    let text = read(file)?;
    tf_partner::sdk::genuine_receipt(&text, key).map_err(|error| match error {
        PartnerError::ReceiptInvalid { detail } => {
            Failure::NotShown(format!("{}: {detail}", file.display()))
        }
        PartnerError::Local { problem, .. } => {
            Failure::Unusable(format!("{}: {problem}", file.display()))
        }
        other => Failure::Unusable(format!("{}: {other}", file.display())),
    })
}

/// A receipt's place in the log, as checked.
pub struct InLog {
    /// The entry.
    pub index: u64,
    /// The size of the tree its checkpoint signs.
    pub tree_size: u64,
    /// The log's origin line.
    pub origin: String,
    /// The key the checkpoint is signed with.
    pub vkey: String,
}

impl InLog {
    /// In words.
    pub fn line(&self) -> String {
        format!(
            "in the transparency log: entry {} of {} under the checkpoint of {} signed by {}",
            self.index, self.tree_size, self.origin, self.vkey
        )
    }

    /// For `--json`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "index": self.index,
            "tree_size": self.tree_size,
            "origin": self.origin,
            "log_key": self.vkey,
        })
    }
}

/// Checks that the receipt in `file` is in the log under `note` by `proof`.
pub fn in_log(
    file: &Path,
    envelope: &Envelope,
    receipt: &Receipt,
    note: &str,
    proof: &InclusionProofFile,
    vkey: &str,
) -> Result<InLog, Failure> {
    let checkpoint = tf_partner::verify_inclusion(envelope, receipt.ledger_seq, note, proof, vkey)
        .map_err(|error| match error {
            InclusionError::Malformed(why) => Failure::Unusable(why),
            other => Failure::NotShown(format!("not in the log: {}: {other}", file.display())),
        })?;
    Ok(InLog {
        index: proof.index,
        tree_size: checkpoint.size,
        origin: checkpoint.origin.clone(),
        vkey: vkey.to_owned(),
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
