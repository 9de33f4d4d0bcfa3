//! `appliance init`, `appliance tenants issue` and `appliance keys show`.

use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::cli::StateArgs;
use tf_state::{DEMO_TENANT, State, layout};

pub fn init(args: StateArgs) -> ExitCode {
    let root = State::resolve(args.state_dir);
    match State::open_or_init(&root, &tf_state::server_names()) {
        Ok(state) => {
            let verb = if state.created {
                "created"
            } else {
                "kept the existing"
            };
            crate::output::line(format!("{verb} state directory {}", root.display()));
            crate::output::line(format!(
                "  CA certificate:            {}",
                state.path(layout::CA_CERT).display()
            ));
            crate::output::line(format!(
                "  demo tenant {DEMO_TENANT:?} identity: {}",
                state.path(layout::DEMO_CLIENT_CERT).display()
            ));
            match state.receipt_signer() {
                Ok(signer) => {
                    crate::output::line(format!(
                        "  receipt key id:            {}",
                        signer.key_id()
                    ));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            }
        }
        Err(e) => fail(&e.to_string()),
    }
}

pub fn issue_tenant(id: &str, args: StateArgs) -> ExitCode {
    if !tf_config::is_valid_tenant_id(id) {
        return fail(&format!(
            "{id:?} is not a tenant id: use 1 to 64 characters of a-z, 0-9, - and _"
        ));
    }
    let root = State::resolve(args.state_dir);
    let issued = State::open_existing(&root).and_then(|state| state.issue_tenant(id));
    match issued {
        Ok((cert, key)) => {
            crate::output::line(format!("issued a client certificate for tenant {id:?}"));
            crate::output::line(format!("  certificate: {}", cert.display()));
            crate::output::line(format!("  key:         {}", key.display()));
            crate::output::line(format!(
                "  add [[tenants]] id = {id:?} to the config for it to be served"
            ));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

pub fn keys_show(args: StateArgs, as_json: bool) -> ExitCode {
    let root = State::resolve(args.state_dir);
    // The webhook key is made on first use, here as when the appliance first signs with it.
    let keys =
        State::open_existing(&root).and_then(|s| Ok((s.receipt_signer()?, s.webhook_secret()?)));
    let (signer, webhook_secret) = match keys {
        Ok(keys) => keys,
        Err(e) => return fail(&e.to_string()),
    };
    let public = signer.public_key();
    let webhook_key = tf_webhooks::WebhookPublicKey::from(
        ed25519_dalek::SigningKey::from_bytes(&webhook_secret).verifying_key(),
    );
    if as_json {
        let shown = json!({
            "algorithm": "ed25519",
            "key_id": signer.key_id().to_string(),
            "public_key_hex": hex::encode(public.as_bytes()),
            "public_key_base64": STANDARD.encode(public.as_bytes()),
            "webhook_public_key": webhook_key.to_string(),
        });
        crate::output::line(shown.to_string());
    } else {
        crate::output::line("receipt signing key (Ed25519)");
        crate::output::line(format!("  key id:     {}", signer.key_id()));
        crate::output::line(format!("  public key: {}", hex::encode(public.as_bytes())));
        crate::output::line("webhook signing key (Ed25519, Standard Webhooks v1a)");
        crate::output::line(format!("  public key: {webhook_key}"));
    }
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}
