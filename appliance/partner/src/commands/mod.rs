//! The `partner` command line.

mod budgets;
mod demo;
mod evidence;
mod keys;
mod offline;
mod onboard;
mod output;
mod prove;
mod receipt;
mod steps;
mod submit;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use tf_partner::{ApplianceAddress, DatasetClass, PartnerConfig, PartnerError, Retry};

pub use output::Output;

/// Talk to a Trust Fabric appliance as a tenant. Run from the folder where `appliance serve`
/// runs, every command finds the demo identity, CA and address in ./appliance-state.
#[derive(Debug, Parser)]
#[command(name = "partner", version, about)]
pub struct Cli {
    /// Where to connect and as whom.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Print the result as one JSON document on stdout, and nothing else there (messages for
    /// people go to stderr; an error is `{"error": {"kind", "message", "retry_after_ms"}}`,
    /// and a refused invite's has its `reason` too).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the appliance is and who this partner is.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The appliance's state directory, whose partner.toml says where and as whom to connect.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "appliance-state"
    )]
    pub state_dir: PathBuf,
    /// The appliance's address, HOST:PORT (a DNS name or an IP address), instead of
    /// partner.toml (needs --ca, --cert and --key, except to onboard).
    // `requires_all` would hold for `onboard` too, which takes no identity: checked in `run`.
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub connect: Option<ApplianceAddress>,
    /// The CA certificate (PEM) that issued the appliance's certificate.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// This tenant's client certificate (PEM).
    #[arg(long, global = true, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// This tenant's private key (PEM).
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The name the appliance's certificate must carry; default: the host of --connect, or
    /// partner.toml's server_name.
    #[arg(long, global = true, value_name = "NAME")]
    pub server_name: Option<String>,
    /// Seconds to wait for each answer.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Times to ask again when the appliance answers busy (or not ready) with a time to
    /// retry after, waiting what it asks, 30 s in all at most; 0: never.
    #[arg(long, global = true, value_name = "N", default_value_t = 4)]
    pub retries: u32,
}

impl ConnectionArgs {
    /// How to retry what the appliance asks to be asked again.
    pub fn retry(&self) -> Retry {
        Retry::retries(self.retries)
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verifying keys.
    Keys {
        /// What to do.
        #[command(subcommand)]
        what: keys::KeysCommand,
    },
    /// Submit a statement and print its verdict. Exit 0 = valid, 1 = invalid, 2 = rejected
    /// as malformed, 3 = refused (busy, unknown key, ...) or not reachable.
    Submit {
        /// What to submit.
        #[command(subcommand)]
        what: submit::SubmitCommand,
    },
    /// Submit a mix of valid and invalid BLS signatures and Groth16 proofs and print the
    /// verdicts and receipts (saved under --out).
    Demo(demo::DemoArgs),
    /// This tenant's privacy budgets: remaining per purpose and class, and when each window
    /// resets.
    Budgets(budgets::BudgetsArgs),
    /// Receipts: check them offline, and prove them in the appliance's transparency log.
    Receipt {
        /// What to do.
        #[command(subcommand)]
        what: receipt::ReceiptCommand,
    },
    /// Become a tenant with an operator's invite: make a key pair here, have the appliance
    /// certify it, and write the identity and a partner.toml into a folder (--out) that every
    /// other command reads with --state-dir. Needs --connect. Exit 0 onboarded, 1 the invite
    /// refused (used, expired, revoked, unknown, another tenant), 2 a bad flag or folder, 3
    /// not reachable, not trusted or too many attempts.
    Onboard(onboard::OnboardArgs),
    /// Your terms: ask for another rate, burst, key quota or budget caps.
    Terms {
        /// What to do.
        #[command(subcommand)]
        what: steps::TermsCommand,
    },
    /// Where your onboarding stands: each step, done or what to do; once all are done, the
    /// checklist signed by the appliance (--out FILE). Exit 0 complete, 4 steps left to do.
    Checklist(steps::ChecklistArgs),
    /// Evidence bundles: a preview over your sandbox submissions, made and signed by the
    /// appliance as an auditor gets it; and checking a bundle offline.
    Evidence {
        /// What to do.
        #[command(subcommand)]
        what: evidence::EvidenceCommand,
    },
}

/// Purpose and dataset class of a submission.
#[derive(Debug, Args)]
pub struct PurposeArgs {
    /// Why the data is processed (budgets are kept per purpose).
    #[arg(long, default_value = "demo")]
    pub purpose: String,
    /// The dataset's sensitivity class (P0 is the most sensitive).
    #[arg(long, value_enum, default_value_t = Class::P2)]
    pub class: Class,
}

/// A dataset class on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Class {
    /// Most sensitive.
    #[value(name = "P0")]
    P0,
    /// Sensitive.
    #[value(name = "P1")]
    P1,
    /// Least sensitive.
    #[value(name = "P2")]
    P2,
}

impl From<Class> for DatasetClass {
    fn from(class: Class) -> Self {
        match class {
            Class::P0 => DatasetClass::P0,
            Class::P1 => DatasetClass::P1,
            Class::P2 => DatasetClass::P2,
        }
    }
}

/// Exit codes.
pub mod exit {
    /// Valid.
    pub const VALID: u8 = 0;
    /// Invalid.
    pub const INVALID: u8 = 1;
    /// Rejected as malformed (by the appliance or locally).
    pub const REJECTED: u8 = 2;
    /// Refused by the appliance, or not reachable.
    pub const REFUSED: u8 = 3;
}

/// Runs a command.
pub fn run(cli: Cli) -> ExitCode {
    if let Err(error) = check_identity_flags(&cli) {
        let _ = error.print();
        return ExitCode::from(exit::REJECTED);
    }
    let out = Output::new(cli.json);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let message = format!("starting the async runtime failed: {error}");
            return out.error("local", &message, None, exit::REFUSED);
        }
    };
    runtime.block_on(async {
        match &cli.command {
            Command::Receipt { what } => return receipt::run(what, &cli.connection, out).await,
            Command::Onboard(args) => return onboard::run(args, &cli.connection, out).await,
            Command::Evidence {
                what: evidence::EvidenceCommand::Verify(args),
            } => return evidence::verify(args, &cli.connection, out).await,
            _ => {}
        }
        // Settings that cannot be built mean no connection: refused, as documented.
        let config = match config(&cli.connection) {
            Ok(config) => config,
            Err(error) => return out.error(error.kind(), &error.to_string(), None, exit::REFUSED),
        };
        let retry = cli.connection.retry();
        match cli.command {
            Command::Keys { what } => keys::run(what, &config, retry, out).await,
            Command::Submit { what } => submit::run(what, &config, retry, out).await,
            Command::Demo(args) => demo::run(args, &config, out).await,
            Command::Budgets(args) => budgets::run(args, &config, retry, out).await,
            Command::Terms { what } => steps::terms(what, &config, retry, out).await,
            Command::Checklist(args) => steps::checklist(args, &config, retry, out).await,
            Command::Evidence {
                what: evidence::EvidenceCommand::Preview(args),
            } => evidence::preview(args, &config, retry, out).await,
            Command::Receipt { .. }
            | Command::Onboard(_)
            | Command::Evidence {
                what: evidence::EvidenceCommand::Verify(_),
            } => unreachable!("handled above"),
        }
    })
}

/// A usage error, as clap reports its own, when the identity flags do not fit the command:
/// `--connect` names a tenant with `--ca`, `--cert` and `--key`; `onboard` needs `--connect`
/// and takes none of the three (it makes the key and receives the certificate and the CA).
fn check_identity_flags(cli: &Cli) -> Result<(), clap::Error> {
    let args = &cli.connection;
    let given = [
        ("--ca", args.ca.is_some()),
        ("--cert", args.cert.is_some()),
        ("--key", args.key.is_some()),
    ];
    let usage = |kind, message: String| Err(Cli::command().error(kind, message));
    if let Command::Onboard(_) = cli.command {
        if args.connect.is_none() {
            return usage(
                ErrorKind::MissingRequiredArgument,
                "partner onboard needs --connect HOST:PORT, the appliance's address".into(),
            );
        }
        if given.iter().any(|(_, given)| *given) {
            return usage(
                ErrorKind::ArgumentConflict,
                "partner onboard makes its own key and receives its certificate and the CA: \
                 leave out --ca, --cert and --key"
                    .into(),
            );
        }
    } else if args.connect.is_some() {
        let missing: Vec<&str> = given
            .iter()
            .filter(|(_, given)| !given)
            .map(|(flag, _)| *flag)
            .collect();
        if !missing.is_empty() {
            return usage(
                ErrorKind::MissingRequiredArgument,
                format!(
                    "--connect needs --ca, --cert and --key (missing: {})",
                    missing.join(", ")
                ),
            );
        }
    }
    Ok(())
}

/// The connection settings from flags, else from partner.toml; `--server-name` overrides
/// either.
pub fn config(args: &ConnectionArgs) -> Result<PartnerConfig, PartnerError> {
    let mut config = match (&args.connect, &args.ca, &args.cert, &args.key) {
        (Some(address), Some(ca), Some(cert), Some(key)) => {
            PartnerConfig::from_files(address.clone(), ca, cert, key)?
        }
        _ => PartnerConfig::from_state_dir(&args.state_dir)?,
    };
    if let Some(name) = &args.server_name {
        config.server_name = name.clone();
    }
    config.request_timeout = Duration::from_secs(args.timeout.max(1));
    Ok(config)
}
