//! `partner submit`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;
use tf_partner::{Client, PartnerConfig, Retry, Statement, Submission, VerdictCode, formats};

use super::{Output, PurposeArgs, exit};

/// `partner submit`.
#[derive(Debug, Subcommand)]
pub enum SubmitCommand {
    /// A Groth16 proof (snarkjs proof.json and public.json) under a registered key.
    Groth16(Groth16Args),
    /// A BLS signature (Ethereum ciphersuite). One key and one message: single. Several keys
    /// and one message: fast aggregate. Several keys and as many messages: aggregate.
    Bls(BlsArgs),
}

/// `partner submit groth16`.
#[derive(Debug, Args)]
pub struct Groth16Args {
    /// The key id `partner keys register` printed.
    #[arg(long, value_name = "HEX")]
    pub key_id: String,
    /// snarkjs proof.json.
    #[arg(long, value_name = "FILE")]
    pub proof: PathBuf,
    /// snarkjs public.json.
    #[arg(long, value_name = "FILE")]
    pub public: PathBuf,
    /// Purpose and class.
    #[command(flatten)]
    pub purpose: PurposeArgs,
    /// Where to write the receipt (DSSE JSON).
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
}

/// `partner submit bls`.
#[derive(Debug, Args)]
pub struct BlsArgs {
    /// Compressed public key, 48 bytes hex; repeat for an aggregate.
    #[arg(long = "pubkey", value_name = "HEX", required = true)]
    pub pubkeys: Vec<String>,
    /// Message hex; repeat (once per key) for an aggregate over distinct messages.
    #[arg(long = "message", value_name = "HEX", required = true)]
    pub messages: Vec<String>,
    /// Compressed signature, 96 bytes hex.
    #[arg(long, value_name = "HEX")]
    pub signature: String,
    /// Purpose and class.
    #[command(flatten)]
    pub purpose: PurposeArgs,
    /// Where to write the receipt (DSSE JSON).
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
}

pub async fn run(
    command: SubmitCommand,
    config: &PartnerConfig,
    retry: Retry,
    out: Output,
) -> ExitCode {
    let (statement, purpose, receipt_path) = match command {
        SubmitCommand::Groth16(args) => {
            let statement = formats::hex_array::<32>("--key-id", &args.key_id)
                .map_err(|problem| tf_partner::PartnerError::Local {
                    path: "--key-id".into(),
                    problem,
                })
                .and_then(|key_id| formats::groth16_statement(key_id, &args.proof, &args.public));
            (statement, args.purpose, args.receipt)
        }
        SubmitCommand::Bls(args) => {
            let statement =
                bls_statement(&args).map_err(|problem| tf_partner::PartnerError::Local {
                    path: "arguments".into(),
                    problem,
                });
            (statement, args.purpose, args.receipt)
        }
    };
    let statement = match statement {
        Ok(statement) => statement,
        Err(error) => return out.fail(&error),
    };
    let submission = Submission {
        purpose: purpose.purpose,
        dataset_class: purpose.class.into(),
        statement,
    };
    let result = async {
        let client = Client::connect(config, retry).await?;
        let verdict = client.submit(submission).await;
        client.close().await;
        verdict
    }
    .await;
    let verdict = match result {
        Ok(verdict) => verdict,
        Err(error) => return out.fail(&error),
    };
    if let Some(path) = &receipt_path
        && let Err(error) = std::fs::write(path, &verdict.receipt)
    {
        let message = format!("{}: {error}", path.display());
        return out.error("local", &message, None, exit::REFUSED);
    }
    if out.is_json() {
        let receipt: serde_json::Value =
            serde_json::from_str(&verdict.receipt).expect("an envelope is JSON");
        out.result(&json!({
            "verdict": verdict.verdict,
            "reason": verdict.reason,
            "request_id": verdict.request_id,
            "statement_digest": verdict.statement_digest,
            "receipt": receipt,
            "receipt_file": receipt_path.as_ref().map(|p| p.display().to_string()),
        }));
    } else {
        if verdict.reason.is_empty() {
            println!("{}", verdict.verdict);
        } else {
            println!("{}: {}", verdict.verdict, verdict.reason);
        }
        match &receipt_path {
            Some(path) => println!("receipt written to {}", path.display()),
            None => println!("{}", verdict.receipt),
        }
    }
    ExitCode::from(match verdict.code {
        VerdictCode::Valid => exit::VALID,
        VerdictCode::Invalid => exit::INVALID,
        _ => exit::REJECTED,
    })
}

fn bls_statement(args: &BlsArgs) -> Result<Statement, String> {
    let keys = args
        .pubkeys
        .iter()
        .map(|k| formats::hex_array::<48>("--pubkey", k))
        .collect::<Result<Vec<_>, _>>()?;
    let messages = args
        .messages
        .iter()
        .map(|m| formats::hex_bytes("--message", m))
        .collect::<Result<Vec<_>, _>>()?;
    let signature = formats::hex_array::<96>("--signature", &args.signature)?;
    formats::bls_statement(keys, messages, signature)
}
