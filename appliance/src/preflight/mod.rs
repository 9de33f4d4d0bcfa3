//! `appliance preflight`: checks the host before the appliance runs on it and prints a table of
//! PASS / WARN / FAIL with the fix for each. `serve` runs the same checks and refuses to start
//! on a FAIL, with the same words.

mod checks;
mod development;
mod facts;
mod ledger_storage;
mod state_access;

use std::path::Path;
use std::process::ExitCode;

pub use checks::{Check, Status, Wanted, memlock_needed};
pub use development::DEVELOPMENT_DEFAULT;
use tf_config::Config;

use crate::cli::PreflightArgs;

/// What the configuration asks of the host.
pub fn wanted(config: &Config) -> Wanted {
    Wanted {
        shards: config.server.shards,
        io_memory_bytes: config.server.io_memory_kib as u64 * 1024,
        listen: config.server.listen.to_string(),
        admin_listen: config.admin.listen.to_string(),
    }
}

/// Runs every check against this host.
pub fn run_checks(config: &Config, state_dir: &Path) -> Vec<Check> {
    let wanted = wanted(config);
    let admin = config.admin.enabled.then_some(config.admin.listen);
    let facts = facts::gather(&wanted, config.server.listen, admin, state_dir);
    let mut checks = checks::run(&facts, &wanted);
    checks.push(ledger_storage::check_state_dir(
        state_dir,
        config.ledger.retention_us(),
    ));
    checks.extend(development::checks(config, state_dir));
    checks
}

/// The checks' table, fixes under it.
pub fn render(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for check in checks {
        out.push_str(&format!(
            "{:<width$}  {}  {}\n",
            check.name,
            check.status.label(),
            check.detail
        ));
    }
    let problems: Vec<&Check> = checks.iter().filter(|c| c.status != Status::Pass).collect();
    if !problems.is_empty() {
        out.push_str("\nTo fix:\n");
        for check in problems {
            out.push_str(&format!(
                "  {} ({}): {}\n",
                check.name,
                check.status.label(),
                check.fix
            ));
        }
    }
    out
}

/// The failed checks as one error for `serve`, or `Ok` when none failed.
pub fn refuse_on_failure(checks: &[Check]) -> Result<(), String> {
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| format!("{}: {}; fix: {}", c.name, c.detail, c.fix))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "this host cannot run the appliance (`appliance preflight` shows every check):\n  {}",
            failed.join("\n  ")
        ))
    }
}

/// `appliance preflight`: exit 0 when nothing failed (warnings allowed), 1 on a FAIL, 78 when
/// the configuration does not load.
pub fn command(args: PreflightArgs) -> ExitCode {
    let config = match Config::load_or_default(args.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("appliance preflight: {error}");
            return crate::exit::config_unusable();
        }
    };
    let state_dir =
        tf_state::State::resolve(args.state_dir.clone().or(config.server.state_dir.clone()));
    let checks = run_checks(&config, &state_dir);
    if args.json {
        let rows: Vec<serde_json::Value> = checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "check": c.name,
                    "status": c.status.label(),
                    "detail": c.detail,
                    "fix": c.fix,
                })
            })
            .collect();
        crate::output::line(serde_json::Value::Array(rows).to_string());
    } else {
        crate::output::line(render(&checks).trim_end());
    }
    if checks.iter().any(|c| c.status == Status::Fail) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
