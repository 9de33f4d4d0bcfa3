//! `appliance compliance`: compliance snapshots listed and asked for through the admin API (as
//! `appliance ctl` calls it: the same address, client, token and CA), and a packet verified
//! offline. Replies are parsed into the admin API contract's types (`tf_admin_api`) before
//! they are shown, errors into `ErrorBody`.

mod list;
mod snapshot;
mod verify;

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{ComplianceArgs, ComplianceWhat};
pub(crate) use crate::ctl::connect::{AdminApi, Failure};

/// Runs one `appliance compliance` command.
pub fn run(args: ComplianceArgs) -> ExitCode {
    let outcome = match &args.what {
        ComplianceWhat::List => {
            AdminApi::new(&args.admin).and_then(|api| list::run(&api, args.json))
        }
        ComplianceWhat::Snapshot { no_wait, timeout } => {
            AdminApi::new(&args.admin).and_then(|api| {
                snapshot::run(&api, *no_wait, Duration::from_secs(*timeout), args.json)
            })
        }
        ComplianceWhat::Verify {
            dir,
            previous,
            public_key,
            log_key,
        } => verify::run(
            dir,
            previous.as_deref(),
            public_key.as_deref(),
            log_key.clone(),
            args.admin.state_dir.clone(),
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("appliance compliance"),
    }
}

/// Unix microseconds as RFC 3339 UTC to the second.
fn utc(unix_us: u64) -> String {
    tf_budgets::format_utc(unix_us / 1_000_000)
}
