//! `partner onboard`: redeem an operator's invite for a tenant identity, with a key pair made
//! here.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tf_partner::sdk::tenant_name;
use tf_partner::{IdentityDir, InviteCode, Onboarding, onboard_to_dir};

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
    let onboarding = Onboarding::from_parts(args.invite, address.clone(), args.tenant.clone())
        .with_options(
            args.out.clone(),
            connection.server_name.clone(),
            Duration::from_secs(connection.timeout.max(1)),
            connection.retry(),
        );
    let key_written = |identity: &IdentityDir| {
        out.say(format_args!(
            "made a key pair, its private key in {} (it never leaves this machine); asking \
             {address} to onboard tenant {}",
            identity.key().display(),
            args.tenant
        ))
    };
    let onboarded = match onboard_to_dir(&onboarding, key_written).await {
        Ok(onboarded) => onboarded,
        Err(error) => return out.fail(&error),
    };
    if out.is_json() {
        out.result(&serde_json::to_value(&onboarded).expect("an answer serialises"));
    } else {
        println!(
            "onboarded: tenant {} is in force (policy bundle revision {})",
            onboarded.tenant, onboarded.revision
        );
        println!(
            "wrote {}: client.key, client.pem, ca.pem and partner.toml",
            onboarded.dir.display()
        );
        println!(
            "next: partner --state-dir {} budgets",
            onboarded.dir.display()
        );
    }
    ExitCode::SUCCESS
}
