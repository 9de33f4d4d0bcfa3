//! `partner receipt`: `verify` checks a receipt offline against the appliance's public key
//! and, given a checkpoint and a proof, its place in the transparency log; `prove` is in
//! prove.rs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::ConnectionArgs;
use super::offline::{genuine, in_log, log_key_for, read, read_proof};
use super::prove;

/// `partner receipt`.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Verify a receipt's signature and print what it says; with --checkpoint and --proof,
    /// also that it is in the appliance's transparency log. Exit 0 = genuine (and in the log),
    /// 1 = altered, not signed by this key, or not shown in the log, 2 = unreadable input.
    Verify(VerifyArgs),
    /// Fetch a receipt's inclusion proof from the appliance, check it against the log's signed
    /// checkpoint, and save both for offline checks. Exit 0 = proven, 1 = the receipt or the
    /// proof does not check out, 2 = unreadable input, 3 = refused or not reachable.
    Prove(prove::ProveArgs),
}

/// `partner receipt verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The receipt (DSSE JSON envelope).
    file: PathBuf,
    /// The appliance's public key (64 hex digits, from `appliance keys show`); default: the
    /// one in partner.toml.
    #[arg(long, value_name = "HEX")]
    public_key: Option<String>,
    /// A signed checkpoint of the log (from `partner receipt prove`).
    #[arg(long, value_name = "FILE", requires = "proof")]
    checkpoint: Option<PathBuf>,
    /// The receipt's inclusion proof under that checkpoint (from `partner receipt prove`).
    #[arg(long, value_name = "FILE", requires = "checkpoint")]
    proof: Option<PathBuf>,
    /// The log's verifier key (C2SP vkey); default: `log_key` in partner.toml.
    #[arg(long, value_name = "VKEY", requires = "proof")]
    log_key: Option<String>,
}

pub fn run(command: &ReceiptCommand, connection: &ConnectionArgs) -> ExitCode {
    match command {
        ReceiptCommand::Verify(args) => verify(args, connection),
        ReceiptCommand::Prove(args) => prove::run(args, connection),
    }
}

fn verify(args: &VerifyArgs, connection: &ConnectionArgs) -> ExitCode {
    let (envelope, receipt) = match genuine(&args.file, args.public_key.as_deref(), connection) {
        Ok(genuine) => genuine,
        Err(failure) => return failure.exit(),
    };
    println!(
        "genuine: tenant {} request {} {} {} (shard {}, decided at {} µs)",
        receipt.tenant,
        receipt.request_id,
        receipt.kind,
        verdict_word(receipt.verdict),
        receipt.shard,
        receipt.decided_at_unix_us
    );
    let (Some(checkpoint), Some(proof)) = (&args.checkpoint, &args.proof) else {
        return ExitCode::SUCCESS;
    };
    let outcome = log_key_for(args.log_key.as_deref(), connection).and_then(|vkey| {
        let note = read(checkpoint)?;
        let proof = read_proof(proof)?;
        in_log(&args.file, &envelope, &receipt, &note, &proof, &vkey)
    });
    match outcome {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(failure) => failure.exit(),
    }
}

fn verdict_word(verdict: tf_receipts::VerdictLabel) -> &'static str {
    match verdict {
        tf_receipts::VerdictLabel::Valid => "valid",
        tf_receipts::VerdictLabel::Invalid => "invalid",
        _ => "rejected",
    }
}
