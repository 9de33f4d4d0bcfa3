//! `partner receipt`: `verify` checks a receipt offline against the appliance's public key
//! and, given a checkpoint and a proof, its place in the transparency log; `prove` is in
//! prove.rs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use super::offline::{Keys, genuine, in_log, read, read_proof};
use super::{ConnectionArgs, Output, prove};

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
    /// appliance's own answer with --connect, else the one in partner.toml.
    #[arg(long, value_name = "HEX")]
    public_key: Option<String>,
    /// A signed checkpoint of the log (from `partner receipt prove`).
    #[arg(long, value_name = "FILE", requires = "proof")]
    checkpoint: Option<PathBuf>,
    /// The receipt's inclusion proof under that checkpoint (from `partner receipt prove`).
    #[arg(long, value_name = "FILE", requires = "checkpoint")]
    proof: Option<PathBuf>,
    /// The log's verifier key (C2SP vkey); default: the appliance's own answer with
    /// --connect, else `log_key` in partner.toml.
    #[arg(long, value_name = "VKEY", requires = "proof")]
    log_key: Option<String>,
}

pub async fn run(command: &ReceiptCommand, connection: &ConnectionArgs, out: Output) -> ExitCode {
    match command {
        ReceiptCommand::Verify(args) => verify(args, connection, out).await,
        ReceiptCommand::Prove(args) => prove::run(args, connection, out).await,
    }
}

async fn verify(args: &VerifyArgs, connection: &ConnectionArgs, out: Output) -> ExitCode {
    let mut keys = Keys::new(connection);
    let key = match keys.receipt(args.public_key.as_deref()).await {
        Ok(key) => key,
        Err(failure) => return failure.exit(out),
    };
    let (envelope, receipt) = match genuine(&args.file, &key) {
        Ok(genuine) => genuine,
        Err(failure) => return failure.exit(out),
    };
    let mut shown = json!({
        "genuine": true,
        "tenant": receipt.tenant,
        "request_id": receipt.request_id,
        "kind": receipt.kind,
        "verdict": receipt.verdict.as_str(),
        "shard": receipt.shard,
        "decided_at": tf_budgets::format_utc_micros(receipt.decided_at_unix_us),
        "ledger_seq": receipt.ledger_seq,
        "in_log": null,
    });
    out.say(format!(
        "genuine: tenant {} request {} {} {} (shard {}, decided at {})",
        receipt.tenant,
        receipt.request_id,
        receipt.kind,
        receipt.verdict.as_str(),
        receipt.shard,
        tf_budgets::format_utc_micros(receipt.decided_at_unix_us)
    ));
    if let (Some(checkpoint), Some(proof)) = (&args.checkpoint, &args.proof) {
        let vkey = match keys.log(args.log_key.as_deref()).await {
            Ok(vkey) => vkey,
            Err(failure) => return failure.exit(out),
        };
        let checked = read(checkpoint).and_then(|note| {
            let proof = read_proof(proof)?;
            in_log(&args.file, &envelope, &receipt, &note, &proof, &vkey)
        });
        match checked {
            Ok(place) => {
                out.say(place.line());
                shown["in_log"] = place.json();
            }
            Err(failure) => return failure.exit(out),
        }
    }
    if out.is_json() {
        out.result(&shown);
    }
    ExitCode::SUCCESS
}
