//! `partner budgets`: where this tenant's privacy budgets stand.

use std::process::ExitCode;

use clap::Args;
use tf_partner::budget_text::{now_unix_ms, scope, utc, when_free};
use tf_partner::{Partner, PartnerConfig, Retry};

use super::Output;

/// `partner budgets` (`--json`: one object per cap).
#[derive(Debug, Args)]
pub struct BudgetsArgs {}

pub async fn run(_: BudgetsArgs, config: &PartnerConfig, retry: Retry, out: Output) -> ExitCode {
    let result = async {
        let partner = Partner::connect(config).await?;
        let caps = retry.run(|| partner.budgets()).await;
        partner.close().await;
        caps
    }
    .await;
    let caps = match result {
        Ok(caps) => caps,
        Err(error) => return out.fail(&error),
    };
    let now = now_unix_ms();
    if out.is_json() {
        let lines: Vec<serde_json::Value> = caps
            .iter()
            .map(|c| {
                let resets = (c.resets_at_unix_ms != 0).then_some(c.resets_at_unix_ms);
                serde_json::json!({
                    "tenant": c.tenant,
                    "purpose": if c.purpose.is_empty() { None } else { Some(&c.purpose) },
                    "class": c.dataset_class.name(),
                    "window": c.window,
                    "limit": c.limit,
                    "used": c.used,
                    "reserved": c.reserved,
                    "remaining": c.remaining,
                    "resets_at": resets.map(utc),
                    "resets_at_unix_ms": resets,
                })
            })
            .collect();
        out.result(&serde_json::Value::Array(lines));
        return ExitCode::SUCCESS;
    }
    if caps.is_empty() {
        println!("no budget caps: this tenant's requests are not limited by budget");
        return ExitCode::SUCCESS;
    }
    for cap in &caps {
        let in_flight = if cap.reserved > 0 {
            format!(" ({} held by requests in flight)", cap.reserved)
        } else {
            String::new()
        };
        let frees = if cap.window.starts_with("rolling") {
            if cap.resets_at_unix_ms == 0 {
                "nothing charged yet".to_owned()
            } else {
                format!("oldest charge ages out {}", when_free(cap, now))
            }
        } else {
            format!("resets {}", when_free(cap, now))
        };
        println!(
            "{}: {} of {} remaining, {} used{in_flight}; {frees}",
            scope(cap),
            cap.remaining,
            cap.limit,
            cap.used
        );
    }
    ExitCode::SUCCESS
}
