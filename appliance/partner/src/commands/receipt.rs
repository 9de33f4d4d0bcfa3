//! `partner receipt verify`: check a receipt offline against the appliance's public key.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use ed25519_dalek::VerifyingKey;
use tf_receipts::Envelope;

use super::{ConnectionArgs, exit};

/// `partner receipt`.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Verify a receipt's signature and print what it says. Exit 0 = genuine, 1 = altered or
    /// not signed by this key, 2 = unreadable input.
    Verify {
        /// The receipt (DSSE JSON envelope).
        file: PathBuf,
        /// The appliance's public key (64 hex digits, from `appliance keys show`); default:
        /// the one in partner.toml.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
}

pub fn run(command: &ReceiptCommand, connection: &ConnectionArgs) -> ExitCode {
    let ReceiptCommand::Verify { file, public_key } = command;
    let key = match public_key_for(public_key.as_deref(), connection) {
        Ok(key) => key,
        Err(problem) => {
            eprintln!("partner: {problem}");
            return ExitCode::from(exit::REJECTED);
        }
    };
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("partner: {}: {error}", file.display());
            return ExitCode::from(exit::REJECTED);
        }
    };
    let envelope = match Envelope::from_json(&text) {
        Ok(envelope) => envelope,
        Err(problem) => {
            eprintln!(
                "partner: {}: not a receipt envelope: {problem}",
                file.display()
            );
            return ExitCode::from(exit::REJECTED);
        }
    };
    match tf_receipts::verify(&envelope, &key) {
        Ok(receipt) => {
            println!(
                "genuine: tenant {} request {} {} {} (shard {}, decided at {} µs)",
                receipt.tenant,
                receipt.request_id,
                receipt.kind,
                verdict_word(receipt.verdict),
                receipt.shard,
                receipt.decided_at_unix_us
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("partner: {}: {error}", file.display());
            ExitCode::from(exit::INVALID)
        }
    }
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

fn verdict_word(verdict: tf_receipts::VerdictLabel) -> &'static str {
    match verdict {
        tf_receipts::VerdictLabel::Valid => "valid",
        tf_receipts::VerdictLabel::Invalid => "invalid",
        _ => "rejected",
    }
}
