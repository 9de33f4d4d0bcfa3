//! `partner receipt prove`: fetch a receipt's inclusion proof over QUIC, check it against the
//! log's signed checkpoint with the log's key, and save the proof and the checkpoint.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use tf_partner::{LogProofAnswer, Partner, PartnerError};

use super::offline::{Failure, Keys, genuine, in_log};
use super::{ConnectionArgs, Output, exit};

/// `partner receipt prove`.
#[derive(Debug, Args)]
pub struct ProveArgs {
    /// The receipt (DSSE JSON envelope) this partner was given.
    pub file: PathBuf,
    /// Where to write the inclusion proof (JSON); the checkpoint goes beside it, with the
    /// extension `.checkpoint`. Default: the receipt's name with `.proof.json`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The appliance's public key (64 hex digits); default: the appliance's own answer with
    /// --connect, else the one in partner.toml.
    #[arg(long, value_name = "HEX")]
    pub public_key: Option<String>,
    /// The log's verifier key (C2SP vkey); default: the appliance's own answer with
    /// --connect, else `log_key` in partner.toml.
    #[arg(long, value_name = "VKEY")]
    pub log_key: Option<String>,
}

pub async fn run(args: &ProveArgs, connection: &ConnectionArgs, out: Output) -> ExitCode {
    // Everything local is checked before the appliance is asked for the proof.
    let mut keys = Keys::new(connection);
    let checked = async {
        let key = keys.receipt(args.public_key.as_deref()).await?;
        let (envelope, receipt) = genuine(&args.file, &key)?;
        let vkey = keys.log(args.log_key.as_deref()).await?;
        Ok::<_, Failure>((envelope, receipt, vkey))
    };
    let (envelope, receipt, vkey) = match checked.await {
        Ok(checked) => checked,
        Err(failure) => return failure.exit(out),
    };
    let answer = match fetch(receipt.ledger_seq, connection).await {
        Ok(answer) => answer,
        Err(error) => return out.fail(&error),
    };
    let proof = answer.proof_file();
    let checked = in_log(
        &args.file,
        &envelope,
        &receipt,
        &answer.checkpoint,
        &proof,
        &vkey,
    );
    let place = match checked {
        Ok(place) => place,
        // What the appliance sent does not prove the receipt: nothing is saved.
        Err(Failure::Unusable(why) | Failure::NotShown(why)) => {
            return Failure::NotShown(format!("the appliance's proof does not check out: {why}"))
                .exit(out);
        }
    };
    let proof_path = args
        .out
        .clone()
        .unwrap_or_else(|| args.file.with_extension("proof.json"));
    let checkpoint_path = proof_path.with_extension("checkpoint");
    let json = serde_json::to_string_pretty(&proof).expect("a proof file always serialises");
    if let Err(failure) = save(&proof_path, &format!("{json}\n"))
        .and_then(|()| save(&checkpoint_path, &answer.checkpoint))
    {
        return failure.exit(out);
    }
    if out.is_json() {
        out.result(&json!({
            "proven": true,
            "ledger_seq": receipt.ledger_seq,
            "in_log": place.json(),
            "proof_file": proof_path.display().to_string(),
            "checkpoint_file": checkpoint_path.display().to_string(),
        }));
        return ExitCode::from(exit::VALID);
    }
    println!(
        "receipt {} (tenant {}, request {}) has ledger sequence number {}",
        args.file.display(),
        receipt.tenant,
        receipt.request_id,
        receipt.ledger_seq
    );
    println!(
        "{}; the checkpoint's signature and the proof verified",
        place.line()
    );
    println!(
        "proof in {}, checkpoint in {} (check again offline with `partner receipt verify {} \
         --checkpoint {} --proof {}`)",
        proof_path.display(),
        checkpoint_path.display(),
        args.file.display(),
        checkpoint_path.display(),
        proof_path.display()
    );
    ExitCode::from(exit::VALID)
}

/// Asks the appliance for entry `index`'s proof, waiting as told while it is not in the log yet
/// (or the tenant is busy), as `--retries` allows.
async fn fetch(index: u64, connection: &ConnectionArgs) -> Result<LogProofAnswer, PartnerError> {
    let config = super::config(connection)?;
    let partner = Partner::connect(&config).await?;
    let answer = connection.retry().run(|| partner.log_proof(index)).await;
    partner.close().await;
    answer
}

fn save(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| Failure::Unusable(format!("{}: {e}", path.display())))
}
