//! `partner demo`: a first conversation with the appliance. Registers the demo Groth16 keys,
//! then submits valid and invalid BLS signatures and Groth16 proofs at once, and prints each
//! verdict with its receipt; then spends the tenant's smallest budget cap until the appliance
//! refuses, and prints the refusal.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use tf_partner::golden::{self, KnownAnswer};
use tf_partner::{
    DatasetClass, Partner, PartnerConfig, PartnerError, Statement, Submission, VerdictReply,
};

use tf_partner::budget_text::scope;
use tf_partner::sdk::verdict_word;

use super::{Output, exit};
use tf_partner::fixtures::{BLS12_381_KEY, BN254_KEY};

/// `partner demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to save the receipts, one DSSE JSON file per request.
    #[arg(long, value_name = "DIR", default_value = "partner-receipts")]
    pub out: PathBuf,
}

pub async fn run(args: DemoArgs, config: &PartnerConfig, out: Output) -> ExitCode {
    if out.is_json() {
        let message = "the demo is a tour for people and prints no JSON: use submit, keys, \
                       budgets or receipt with --json";
        return out.error("local", message, None, exit::REJECTED);
    }
    match demo(&args, config).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(exit::INVALID),
        Err(error) => out.fail(&error),
    }
}

async fn demo(args: &DemoArgs, config: &PartnerConfig) -> Result<bool, PartnerError> {
    let partner = Arc::new(Partner::connect(config).await?);
    println!("connected to {} as the demo tenant", config.address);
    let bn254 = partner.register_key_json(BN254_KEY).await?;
    let bls12_381 = partner.register_key_json(BLS12_381_KEY).await?;
    println!("registered Groth16 keys: bn254 {bn254}, bls12-381 {bls12_381}");

    let items = golden::known_answers(bn254, bls12_381).map_err(|problem| PartnerError::Local {
        path: "demo fixtures".into(),
        problem,
    })?;
    let mut tasks = tokio::task::JoinSet::new();
    // The first item, a valid BLS signature, is what the budget part spends.
    let budget_statement = items[0].statement.clone();
    for (index, item) in items.into_iter().enumerate() {
        let partner = partner.clone();
        tasks.spawn(async move {
            let submission = Submission {
                purpose: "demo".into(),
                dataset_class: DatasetClass::P2,
                statement: item.statement.clone(),
            };
            let reply = partner.submit_with_id(index as u64 + 1, submission).await;
            (index, item, reply)
        });
    }
    let mut results: Vec<(usize, KnownAnswer, Result<VerdictReply, PartnerError>)> =
        tasks.join_all().await;
    results.sort_by_key(|(index, _, _)| *index);

    std::fs::create_dir_all(&args.out).map_err(|e| PartnerError::Local {
        path: args.out.display().to_string(),
        problem: e.to_string(),
    })?;
    let mut as_expected = true;
    let mut first_receipt = None;
    println!();
    println!("{:>3}  {:<40} {:<9} reason", "id", "statement", "verdict");
    for (index, item, reply) in results {
        let id = index + 1;
        match reply {
            Ok(reply) => {
                let verdict = verdict_word(reply.verdict);
                as_expected &= reply.verdict == item.expect;
                println!("{id:>3}  {:<40} {verdict:<9} {}", item.label, reply.reason);
                let envelope = tf_partner::receipt_envelope(&reply);
                let path = args.out.join(format!("{id}.json"));
                std::fs::write(&path, envelope.to_json()).map_err(|e| PartnerError::Local {
                    path: path.display().to_string(),
                    problem: e.to_string(),
                })?;
                first_receipt.get_or_insert((path, envelope));
            }
            Err(error) => {
                as_expected = false;
                println!("{id:>3}  {:<40} {:<9} {error}", item.label, "error");
            }
        }
    }
    if let Some((path, envelope)) = first_receipt {
        println!();
        println!("receipt of request 1 ({}):", path.display());
        println!("{}", envelope.to_json());
        println!("payload: {}", String::from_utf8_lossy(&envelope.payload));
        println!();
        println!(
            "check any receipt offline: partner receipt verify {}",
            path.display()
        );
    }
    as_expected &= budget_demo(&partner, budget_statement).await?;
    if let Ok(partner) = Arc::try_unwrap(partner) {
        partner.close().await;
    }
    if !as_expected {
        println!("some verdicts were not what the demo expected");
    }
    Ok(as_expected)
}

/// Most requests the budget part of the demo sends: a cap with more room than this is not
/// spent just to show it running out.
const BUDGET_DEMO_MAX: u64 = 20;

/// Spends the tenant's smallest cap until the appliance refuses, printing each answer and the
/// refusal's paragraph. True when the budget behaved as it should (or there is no cap to show).
async fn budget_demo(partner: &Partner, statement: Statement) -> Result<bool, PartnerError> {
    let caps = partner.budgets().await?;
    println!();
    let Some(cap) = caps.iter().min_by_key(|c| c.remaining) else {
        println!("budgets: this tenant has no caps configured; nothing to show");
        return Ok(true);
    };
    if cap.remaining + 2 > BUDGET_DEMO_MAX {
        println!(
            "budgets: the smallest cap ({}) has {} left, more than the demo spends; see `partner budgets`",
            scope(cap),
            cap.remaining
        );
        return Ok(true);
    }
    let purpose = if cap.purpose.is_empty() {
        "demo".to_owned()
    } else {
        cap.purpose.clone()
    };
    println!(
        "budgets: spending the cap for {} ({} of {} left), one request at a time:",
        scope(cap),
        cap.remaining,
        cap.limit
    );
    let mut refused = false;
    for n in 1..=cap.remaining + 2 {
        let submission = Submission {
            purpose: purpose.clone(),
            dataset_class: cap.dataset_class,
            statement: statement.clone(),
        };
        match partner.submit(submission).await {
            Ok(reply) => {
                let charged = budget_fields(&reply);
                println!("  {n:>2}. {:<8} {charged}", verdict_word(reply.verdict));
            }
            Err(error @ PartnerError::OverBudget(_)) => {
                println!("  {n:>2}. refused before verification:");
                println!("      {error}");
                refused = true;
                break;
            }
            Err(error) => return Err(error),
        }
    }
    println!("see where every budget stands: partner budgets");
    Ok(refused)
}

/// "charged 1, 4 left" from a verdict's receipt.
fn budget_fields(reply: &VerdictReply) -> String {
    let payload = tf_partner::receipt_envelope(reply).payload;
    let Ok(receipt) = serde_json::from_slice::<tf_receipts::Receipt>(&payload) else {
        return String::new();
    };
    match receipt.budget_remaining {
        Some(left) => format!(
            "charged {}, {left} left (ledger #{})",
            receipt.budget_charged, receipt.ledger_seq
        ),
        None => format!(
            "charged {} (ledger #{})",
            receipt.budget_charged, receipt.ledger_seq
        ),
    }
}
