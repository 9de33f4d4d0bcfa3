//! The `partner` command line.

mod budgets;
mod demo;
mod keys;
mod offline;
mod prove;
mod receipt;
mod submit;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tf_partner::{DatasetClass, Identity, PartnerConfig, PartnerError};

/// Talk to a Trust Fabric appliance as a tenant. Run from the folder where `appliance serve`
/// runs, every command finds the demo identity, CA and address in ./appliance-state.
#[derive(Debug, Parser)]
#[command(name = "partner", version, about)]
pub struct Cli {
    /// Where to connect and as whom.
    #[command(flatten)]
    pub connection: ConnectionArgs,
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
    /// The appliance's address, instead of partner.toml (needs --ca, --cert and --key).
    #[arg(long, global = true, value_name = "ADDR", requires_all = ["ca", "cert", "key"])]
    pub connect: Option<SocketAddr>,
    /// The CA certificate (PEM) that issued the appliance's certificate.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// This tenant's client certificate (PEM).
    #[arg(long, global = true, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// This tenant's private key (PEM).
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The name on the appliance's certificate.
    #[arg(long, global = true, value_name = "NAME", default_value = "localhost")]
    pub server_name: String,
    /// Seconds to wait for each answer.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
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
    if let Command::Receipt { what } = &cli.command {
        return receipt::run(what, &cli.connection);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("partner: starting the async runtime failed: {error}");
            return ExitCode::from(exit::REFUSED);
        }
    };
    runtime.block_on(async {
        let config = match config(&cli.connection) {
            Ok(config) => config,
            Err(error) => {
                eprintln!("partner: {error}");
                return ExitCode::from(exit::REFUSED);
            }
        };
        match cli.command {
            Command::Keys { what } => keys::run(what, &config).await,
            Command::Submit { what } => submit::run(what, &config).await,
            Command::Demo(args) => demo::run(args, &config).await,
            Command::Budgets(args) => budgets::run(args, &config).await,
            Command::Receipt { .. } => unreachable!("handled above"),
        }
    })
}

/// The connection settings from flags, else from partner.toml.
pub fn config(args: &ConnectionArgs) -> Result<PartnerConfig, PartnerError> {
    let mut config = match (&args.connect, &args.ca, &args.cert, &args.key) {
        (Some(address), Some(ca), Some(cert), Some(key)) => PartnerConfig {
            address: *address,
            server_name: args.server_name.clone(),
            identity: Identity::from_files(ca, cert, key)?,
            receipt_public_key: None,
            request_timeout: Duration::from_secs(30),
        },
        _ => PartnerConfig::from_state_dir(&args.state_dir)?,
    };
    config.request_timeout = Duration::from_secs(args.timeout.max(1));
    Ok(config)
}

/// Prints an error and returns its exit code.
pub fn fail(error: &PartnerError) -> ExitCode {
    eprintln!("partner: {error}");
    ExitCode::from(match error {
        PartnerError::Malformed { .. } | PartnerError::Local { .. } => exit::REJECTED,
        _ => exit::REFUSED,
    })
}
