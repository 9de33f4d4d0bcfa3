//! `partner budgets`: where this tenant's privacy budgets stand.

use std::process::ExitCode;

use clap::Args;
use tf_partner::budget_text::{cap_line, now_unix_ms};
use tf_partner::{Budget, Client, Partner, PartnerConfig, Retry};

use super::Output;

/// `partner budgets` (`--json`: one object per cap).
#[derive(Debug, Args)]
pub struct BudgetsArgs {}

pub async fn run(_: BudgetsArgs, config: &PartnerConfig, retry: Retry, out: Output) -> ExitCode {
    let result = async {
        let client = Client::connect(config, retry).await?;
        let caps = client.call(Partner::budgets).await;
        client.close().await;
        caps
    }
    .await;
    let caps = match result {
        Ok(caps) => caps,
        Err(error) => return out.fail(&error),
    };
    let now = now_unix_ms();
    if out.is_json() {
        let budgets: Vec<Budget> = caps.iter().map(Budget::from).collect();
        out.result(&serde_json::to_value(&budgets).expect("budgets serialise"));
        return ExitCode::SUCCESS;
    }
    if caps.is_empty() {
        println!("no budget caps: this tenant's requests are not limited by budget");
        return ExitCode::SUCCESS;
    }
    for cap in &caps {
        println!("{}", cap_line(cap, now));
    }
    ExitCode::SUCCESS
}
