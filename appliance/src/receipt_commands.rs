//! `appliance receipt verify`: an auditor's offline check of a receipt.

use std::path::Path;
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
        None => State::open_existing(&State::resolve(state.state_dir))
            .and_then(|s| s.receipt_signer())
            .map(|signer| signer.public_key())
            .map_err(|e| format!("{e}; or pass --public-key")),
    }
}

pub fn verify(file: &Path, public_key: Option<&str>, state: StateArgs) -> ExitCode {
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

fn parse_key(text: &str) -> Result<VerifyingKey, String> {
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
