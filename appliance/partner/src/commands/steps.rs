//! `partner terms request` and `partner checklist`: the onboarding wizard's steps after
//! `partner onboard` (the sandbox step is `partner submit ... --purpose sandbox`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use tf_partner::sdk::{CapAsk, Client, TermsAsk};
use tf_partner::{PartnerConfig, PartnerError, Retry};

use super::{Output, exit};

/// `partner terms`.
#[derive(Debug, Subcommand)]
pub enum TermsCommand {
    /// Ask for other terms, in full (a cap left out is removed). Within your invite's template
    /// they are in force when this answers; above it they wait for an operator's approval.
    /// Exit 0 in force, 4 waiting for approval, 3 refused.
    Request(TermsArgs),
}

/// The terms asked for.
#[derive(Debug, Args)]
pub struct TermsArgs {
    /// Admission rate, requests per second.
    #[arg(long = "rate", value_name = "N")]
    pub rate_per_sec: u32,
    /// Admission burst, requests.
    #[arg(long, value_name = "N")]
    pub burst: u32,
    /// Verifying keys you may register.
    #[arg(long = "max-keys", value_name = "N")]
    pub max_registered_keys: u32,
    /// A budget cap: CLASS:WINDOW:LIMIT, such as P1:day:100000 (repeat for each).
    #[arg(long = "cap", value_name = "CLASS:WINDOW:LIMIT")]
    pub caps: Vec<CapAsk>,
}

/// `partner checklist`.
#[derive(Debug, Args)]
pub struct ChecklistArgs {
    /// A receipt file of a valid sandbox submission (`partner submit ... --purpose sandbox
    /// --receipt FILE`).
    #[arg(long, value_name = "FILE")]
    pub sandbox_receipt: Option<PathBuf>,
    /// A receipt file of a valid submission for one of your purposes.
    #[arg(long, value_name = "FILE")]
    pub first_receipt: Option<PathBuf>,
    /// Where to write the signed checklist once every step is done.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Exit code of a terms request that waits for an operator.
const WAITING: u8 = 4;

pub async fn terms(
    command: TermsCommand,
    config: &PartnerConfig,
    retry: Retry,
    out: Output,
) -> ExitCode {
    let TermsCommand::Request(args) = command;
    let asked = TermsAsk {
        rate_per_sec: args.rate_per_sec,
        burst: args.burst,
        max_registered_keys: args.max_registered_keys,
        caps: args.caps,
    };
    let answer = async {
        let client = Client::connect(config, retry).await?;
        let answer = client.request_terms(&asked).await;
        client.close().await;
        answer
    }
    .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => return out.fail(&error),
    };
    if out.is_json() {
        out.result(&serde_json::to_value(&answer).expect("an answer serialises"));
    } else {
        println!("terms request {}: {}", answer.terms_request, answer.detail);
    }
    if answer.waiting {
        ExitCode::from(WAITING)
    } else {
        ExitCode::SUCCESS
    }
}

pub async fn checklist(
    args: ChecklistArgs,
    config: &PartnerConfig,
    retry: Retry,
    out: Output,
) -> ExitCode {
    let seq = |path: &Option<PathBuf>| match path {
        Some(path) => receipt_seq(path),
        None => Ok(0),
    };
    let named = seq(&args.sandbox_receipt).and_then(|s| Ok((s, seq(&args.first_receipt)?)));
    let (sandbox, first) = match named {
        Ok(named) => named,
        Err(error) => return out.error("local", &error.to_string(), None, exit::REJECTED),
    };
    let answer = async {
        let client = Client::connect(config, retry).await?;
        let answer = client.checklist(sandbox, first).await;
        client.close().await;
        answer
    }
    .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => return out.fail(&error),
    };
    if let (Some(path), Some(envelope)) = (&args.out, &answer.envelope)
        && let Err(error) = std::fs::write(path, envelope)
    {
        let message = format!("{}: {error}", path.display());
        return out.error("local", &message, None, exit::REFUSED);
    }
    if out.is_json() {
        out.result(&serde_json::to_value(&answer).expect("a checklist serialises"));
    } else {
        for step in &answer.steps {
            let mark = if step.done { "done" } else { "to do" };
            println!("{:<14} {mark:<6} {}", step.name, step.detail);
        }
        match (&answer.envelope, &args.out) {
            (Some(_), Some(path)) => println!("complete: signed checklist in {}", path.display()),
            (Some(_), None) => println!("complete: --out FILE saves the signed checklist"),
            (None, _) => {}
        }
    }
    if answer.complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(WAITING)
    }
}

/// The ledger sequence number a receipt file carries (the appliance checks it is yours).
pub(super) fn receipt_seq(path: &std::path::Path) -> Result<u64, PartnerError> {
    let local = |problem: String| PartnerError::Local {
        path: path.display().to_string(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| local(e.to_string()))?;
    let envelope = tf_receipts::Envelope::from_json(&text).map_err(local)?;
    let receipt: tf_receipts::Receipt =
        serde_json::from_slice(&envelope.payload).map_err(|e| local(e.to_string()))?;
    Ok(receipt.ledger_seq)
}
