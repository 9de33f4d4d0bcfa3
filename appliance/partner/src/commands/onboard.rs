//! `partner onboard`: redeem an operator's invite for a tenant identity, with a key pair made
//! here.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tf_partner::{ClientKey, IdentityDir, InviteCode, onboard_within};

use super::{ConnectionArgs, Output, exit};

/// `partner onboard` (`--json`: where the identity was written, and the appliance's keys).
#[derive(Debug, Args)]
pub struct OnboardArgs {
    /// The invite the operator gave you (tfi1.ID.SECRET.CA), whole. It is used once, and it
    /// names the appliance's CA, which is checked before anything is sent.
    #[arg(long, value_name = "TEXT")]
    pub invite: InviteCode,
    /// The tenant to become: the name the operator gave you, or one under the prefix they
    /// gave (1 to 64 of a-z, 0-9, - and _).
    #[arg(long, value_name = "NAME", value_parser = tenant_name)]
    pub tenant: String,
    /// The folder to write the key, the certificates and partner.toml into; default
    /// ./partner-<tenant>. A folder holding a client.key or a partner.toml is refused.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub async fn run(args: &OnboardArgs, connection: &ConnectionArgs, out: Output) -> ExitCode {
    let Some(address) = &connection.connect else {
        let message = "partner onboard needs --connect HOST:PORT, the appliance's address";
        return out.error("local", message, None, exit::REJECTED);
    };
    let server_name = connection
        .server_name
        .clone()
        .unwrap_or_else(|| address.host());
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("partner-{}", args.tenant)));
    let key = match ClientKey::generate(&args.tenant) {
        Ok(key) => key,
        Err(error) => return out.fail(&error),
    };
    let identity = match IdentityDir::create(&dir, &key) {
        Ok(identity) => identity,
        Err(error) => return out.fail(&error),
    };
    out.say(format_args!(
        "made a key pair, its private key in {} (it never leaves this machine); asking \
         {address} to onboard tenant {}",
        identity.key().display(),
        args.tenant
    ));
    let timeout = Duration::from_secs(connection.timeout.max(1));
    let answer = connection
        .retry()
        .run(|| {
            onboard_within(
                address,
                &server_name,
                &args.invite,
                &args.tenant,
                key.request_der().to_vec(),
                timeout,
            )
        })
        .await;
    let (onboarded, ca) = match answer {
        Ok(answer) => answer,
        Err(error) => {
            identity.discard();
            return out.fail(&error);
        }
    };
    let config = match identity.complete(address, &server_name, &onboarded, &ca) {
        Ok(config) => config,
        Err(error) => {
            let message = format!(
                "tenant {} is onboarded, but writing its files failed: {error}; the key is in {}",
                onboarded.tenant,
                identity.key().display()
            );
            return out.error(error.kind(), &message, None, exit::REJECTED);
        }
    };
    let log_key = (!onboarded.log_key.trim().is_empty()).then(|| onboarded.log_key.trim());
    if out.is_json() {
        out.result(&serde_json::json!({
            "tenant": onboarded.tenant,
            "revision": onboarded.revision,
            "dir": identity.dir().display().to_string(),
            "config": config.display().to_string(),
            "certificate": identity.certificate().display().to_string(),
            "ca": identity.ca().display().to_string(),
            "key": identity.key().display().to_string(),
            "receipt_public_key": hex::encode(onboarded.receipt_public_key),
            "log_key": log_key,
        }));
    } else {
        println!(
            "onboarded: tenant {} is in force (policy bundle revision {})",
            onboarded.tenant, onboarded.revision
        );
        println!(
            "wrote {}: client.key, client.pem, ca.pem and partner.toml",
            identity.dir().display()
        );
        println!(
            "next: partner --state-dir {} budgets",
            identity.dir().display()
        );
    }
    ExitCode::SUCCESS
}

/// A tenant name as the appliance takes it: 1 to 64 of a-z, 0-9, `-` and `_`.
fn tenant_name(text: &str) -> Result<String, String> {
    let fits = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if fits {
        Ok(text.to_owned())
    } else {
        Err("a tenant name is 1 to 64 of a-z, 0-9, - and _".into())
    }
}
