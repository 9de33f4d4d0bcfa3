//! `partner receipt prove`: fetch a receipt's inclusion proof over QUIC, check it against the
//! log's signed checkpoint with the log's key, and save the proof and the checkpoint.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tf_partner::{LogProofAnswer, Partner, PartnerError};

use super::offline::{Failure, genuine, in_log, log_key_for};
use super::{ConnectionArgs, exit, fail};

/// Answers "not in the log yet" (or busy) taken before giving up: a checkpoint is signed
/// about every second, so a receipt just issued is covered after one or two waits.
const ATTEMPTS: u32 = 5;
/// The shortest and longest wait between attempts, whatever the appliance says.
const WAIT_BOUNDS: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// `partner receipt prove`.
#[derive(Debug, Args)]
pub struct ProveArgs {
    /// The receipt (DSSE JSON envelope) this partner was given.
    pub file: PathBuf,
    /// Where to write the inclusion proof (JSON); the checkpoint goes beside it, with the
    /// extension `.checkpoint`. Default: the receipt's name with `.proof.json`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The appliance's public key (64 hex digits); default: the one in partner.toml.
    #[arg(long, value_name = "HEX")]
    pub public_key: Option<String>,
    /// The log's verifier key (C2SP vkey); default: `log_key` in partner.toml.
    #[arg(long, value_name = "VKEY")]
    pub log_key: Option<String>,
}

pub fn run(args: &ProveArgs, connection: &ConnectionArgs) -> ExitCode {
    // Everything local is checked before the appliance is asked anything.
    let (envelope, receipt) = match genuine(&args.file, args.public_key.as_deref(), connection) {
        Ok(genuine) => genuine,
        Err(failure) => return failure.exit(),
    };
    let vkey = match log_key_for(args.log_key.as_deref(), connection) {
        Ok(vkey) => vkey,
        Err(failure) => return failure.exit(),
    };
    let answer = match fetch(receipt.ledger_seq, connection) {
        Ok(answer) => answer,
        Err(error) => return fail(&error),
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
    let line = match checked {
        Ok(line) => line,
        // What the appliance sent does not prove the receipt: nothing is saved.
        Err(Failure::Unusable(why) | Failure::NotShown(why)) => {
            return Failure::NotShown(format!("the appliance's proof does not check out: {why}"))
                .exit();
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.file.with_extension("proof.json"));
    let checkpoint_path = out.with_extension("checkpoint");
    let json = serde_json::to_string_pretty(&proof).expect("a proof file always serialises");
    if let Err(failure) =
        save(&out, &format!("{json}\n")).and_then(|()| save(&checkpoint_path, &answer.checkpoint))
    {
        return failure.exit();
    }
    println!(
        "receipt {} (tenant {}, request {}) has ledger sequence number {}",
        args.file.display(),
        receipt.tenant,
        receipt.request_id,
        receipt.ledger_seq
    );
    println!("{line}; the checkpoint's signature and the proof verified");
    println!(
        "proof in {}, checkpoint in {} (check again offline with `partner receipt verify {} \
         --checkpoint {} --proof {}`)",
        out.display(),
        checkpoint_path.display(),
        args.file.display(),
        checkpoint_path.display(),
        out.display()
    );
    ExitCode::from(exit::VALID)
}

/// Asks the appliance for entry `index`'s proof, waiting as told while it is not in the log yet
/// (or the tenant is busy), at most [`ATTEMPTS`] times.
fn fetch(index: u64, connection: &ConnectionArgs) -> Result<LogProofAnswer, PartnerError> {
    let config = super::config(connection)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PartnerError::Local {
            path: "async runtime".into(),
            problem: e.to_string(),
        })?;
    runtime.block_on(async {
        let partner = Partner::connect(&config).await?;
        let mut attempt = 1;
        let answer = loop {
            match partner.log_proof(index).await {
                Err(
                    PartnerError::NotInLogYet { retry_after_ms, .. }
                    | PartnerError::Busy { retry_after_ms },
                ) if attempt < ATTEMPTS => {
                    attempt += 1;
                    let wait = Duration::from_millis(u64::from(retry_after_ms))
                        .clamp(WAIT_BOUNDS.0, WAIT_BOUNDS.1);
                    tokio::time::sleep(wait).await;
                }
                other => break other,
            }
        };
        partner.close().await;
        answer
    })
}

fn save(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| Failure::Unusable(format!("{}: {e}", path.display())))
}
