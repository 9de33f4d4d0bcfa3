//! The keys a receiver trusts: webhook signing keys from the flags and the secret file, and
//! the appliance's receipt key.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use tf_webhooks::{VerifierKey, WebhookPublicKey, WebhookSecret};

use crate::cli::StateArgs;
use crate::cli::webhooks::ReceiveArgs;
use crate::offline_verify::read_capped;
use crate::receipt_commands;

/// Largest secret file read: room for any rotation, with comments.
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Every `--secret`, the secrets of `--secret-file` and every `--public-key`; at least one.
pub fn webhook_keys(args: &ReceiveArgs) -> Result<Vec<VerifierKey>, String> {
    let mut keys = Vec::new();
    for text in &args.secret {
        let secret = WebhookSecret::parse(text).map_err(|e| format!("--secret: {e}"))?;
        keys.push(VerifierKey::from(secret));
    }
    if let Some(file) = &args.secret_file {
        keys.extend(secret_file(file)?.into_iter().map(VerifierKey::from));
    }
    for text in &args.public_key {
        let key = WebhookPublicKey::parse(text).map_err(|e| format!("--public-key: {e}"))?;
        keys.push(VerifierKey::from(key));
    }
    if keys.is_empty() {
        return Err(
            "no key to check webhook signatures with: pass --secret whsec_..., \
                    --secret-file FILE or --public-key whpk_... (the endpoint's, from the \
                    appliance's operator)"
                .into(),
        );
    }
    Ok(keys)
}

/// `--receipt-key`, else the state directory's; required, since any batch may need it.
pub fn receipt_key(hex_key: Option<&str>, state: StateArgs) -> Result<VerifyingKey, String> {
    // The shared loader names its own command's flag; this command calls it --receipt-key
    // (--public-key here is the webhook key).
    receipt_commands::public_key(hex_key, state).map_err(|e| {
        format!(
            "the receipt key: {}",
            e.replace("--public-key", "--receipt-key")
        )
    })
}

fn secret_file(file: &Path) -> Result<Vec<WebhookSecret>, String> {
    let bytes = read_capped(file, MAX_SECRET_FILE_BYTES, "a secret file")?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", file.display()))?;
    let mut secrets = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The line itself is not echoed: it is a secret.
        let secret = WebhookSecret::parse(line)
            .map_err(|e| format!("{} line {}: {e}", file.display(), i + 1))?;
        secrets.push(secret);
    }
    if secrets.is_empty() {
        return Err(format!("{}: holds no whsec_ secret", file.display()));
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_file_takes_one_secret_a_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("secrets");
        std::fs::write(
            &file,
            "# rotating\nwhsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n\n  whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA  \n",
        )
        .expect("written");
        assert_eq!(secret_file(&file).expect("two secrets").len(), 2);

        std::fs::write(&file, "# nothing\n").expect("written");
        assert!(secret_file(&file).expect_err("empty").contains("no whsec_"));
        std::fs::write(&file, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\nwhpk_oops\n")
            .expect("written");
        let error = secret_file(&file).expect_err("refused");
        assert!(
            error.contains("line 2") && !error.contains("oops"),
            "{error}"
        );
    }
}
