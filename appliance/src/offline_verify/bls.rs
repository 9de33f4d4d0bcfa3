//! `appliance verify bls`.

use serde_json::json;
use tf_engine::bls::{self, PublicKey, Signature};
use tf_engine::{Field, Limits, Rejection, StatementDigest, Verdict};

use super::Report;
use crate::cli::BlsArgs;

pub fn verify(args: &BlsArgs, limits: &Limits) -> Report {
    match decode_and_verify(args, limits) {
        Ok(report) => report,
        Err(message) => Report::rejected_input(message),
    }
}

fn decode_and_verify(args: &BlsArgs, limits: &Limits) -> Result<Report, String> {
    let keys_hex = args
        .pubkeys
        .iter()
        .enumerate()
        .map(|(i, h)| hex_arg("--pubkey", i, h))
        .collect::<Result<Vec<_>, _>>()?;
    let messages = args
        .messages
        .iter()
        .enumerate()
        .map(|(i, h)| hex_arg("--message", i, h))
        .collect::<Result<Vec<_>, _>>()?;
    let signature_bytes = hex_arg("--signature", 0, &args.signature)?;
    let mut details = serde_json::Map::new();
    let verdict = match check(limits, &keys_hex, &messages, &signature_bytes) {
        Ok((keys, signature)) => {
            let kind = match (keys.len(), messages.len()) {
                (1, 1) => "bls-single",
                (_, 1) => "bls-fast-aggregate",
                _ => "bls-aggregate",
            };
            details.insert("kind".into(), json!(kind));
            let pairs: Vec<(&[u8], &[u8])> = if messages.len() == 1 {
                keys_hex
                    .iter()
                    .map(|k| (k.as_slice(), messages[0].as_slice()))
                    .collect()
            } else {
                keys_hex
                    .iter()
                    .zip(&messages)
                    .map(|(k, m)| (k.as_slice(), m.as_slice()))
                    .collect()
            };
            details.insert(
                "statement_digest".into(),
                json!(StatementDigest::bls(kind, pairs.into_iter()).to_string()),
            );
            match kind {
                "bls-single" => bls::verify(&keys[0], &messages[0], &signature),
                "bls-fast-aggregate" => bls::fast_aggregate_verify(&keys, &messages[0], &signature),
                _ => {
                    let messages: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
                    bls::aggregate_verify(&keys, &messages, &signature)
                }
            }
        }
        Err(rejection) => Verdict::Rejected(rejection),
    };
    Ok(Report::verdict(verdict, details))
}

fn check(
    limits: &Limits,
    keys: &[Vec<u8>],
    messages: &[Vec<u8>],
    signature: &[u8],
) -> Result<(Vec<PublicKey>, Signature), Rejection> {
    if messages.len() != 1 && messages.len() != keys.len() {
        return Err(Rejection::CountMismatch {
            field: Field::new("messages"),
            expected: keys.len(),
            actual: messages.len(),
        });
    }
    for (i, message) in messages.iter().enumerate() {
        bls::check_message(limits, message, Field::at("messages", i))?;
    }
    let keys = bls::decode_public_keys(limits, keys.iter().map(Vec::as_slice))?;
    let signature = Signature::decode(signature, Field::new("signature"))?;
    Ok((keys, signature))
}

fn hex_arg(flag: &str, index: usize, text: &str) -> Result<Vec<u8>, String> {
    hex::decode(text.trim().trim_start_matches("0x"))
        .map_err(|e| format!("{flag} #{}: not hex: {e}", index + 1))
}
