//! `appliance compliance`: compliance snapshots listed and asked for through the admin API (as
//! `appliance ctl` calls it: the same client, token and CA), and a packet verified offline.
//! Replies are parsed into the admin API contract's types (`tf_admin_api`) before they are
//! shown, errors into `ErrorBody`.

mod list;
mod snapshot;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tf_admin_api::{ErrorBody, Operation};

use crate::cli::{ComplianceArgs, ComplianceWhat};
use crate::ctl::http;

/// How long one call may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a command stopped.
pub(crate) enum Failure {
    /// The appliance refused, the packet was not made in time, or a packet does not verify:
    /// exit 1.
    Refused(String),
    /// Arguments, files, the network, or a token without the role: exit 2.
    Unusable(String),
}

/// Runs one `appliance compliance` command.
pub fn run(args: ComplianceArgs) -> ExitCode {
    let outcome = match &args.what {
        ComplianceWhat::List { json } => {
            AdminApi::new(&args).and_then(|api| list::run(&api, *json))
        }
        ComplianceWhat::Snapshot { no_wait, timeout } => AdminApi::new(&args)
            .and_then(|api| snapshot::run(&api, *no_wait, Duration::from_secs(*timeout))),
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
            args.state_dir.clone(),
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Refused(why)) => {
            eprintln!("appliance compliance: {why}");
            ExitCode::from(1)
        }
        Err(Failure::Unusable(why)) => {
            eprintln!("appliance compliance: {why}");
            ExitCode::from(2)
        }
    }
}

/// The admin API as these commands call it.
pub(crate) struct AdminApi {
    base: String,
    token: String,
    ca: PathBuf,
}

impl AdminApi {
    fn new(args: &ComplianceArgs) -> Result<Self, Failure> {
        let token = crate::ctl::token(args.token_file.as_deref(), args.state_dir.as_deref())
            .map_err(Failure::Unusable)?;
        // An https admin server's certificate is checked against --ca, else the state
        // directory's development CA (which issued the appliance's default certificate).
        let ca = args.ca.clone().unwrap_or_else(|| {
            tf_state::State::resolve(args.state_dir.clone()).join(tf_state::layout::CA_CERT)
        });
        Ok(AdminApi {
            base: args.url.trim_end_matches('/').to_owned(),
            token,
            ca,
        })
    }

    /// Calls `operation` (its path with parameters filled in is `target`, no body) and parses
    /// its reply; any other answer than the route's success is the failure to report.
    pub(crate) fn call<T: DeserializeOwned>(
        &self,
        operation: Operation,
        target: &str,
    ) -> Result<T, Failure> {
        let route = operation.route();
        let call = http::Call {
            base: &self.base,
            method: route.method.as_str(),
            path: target,
            token: &self.token,
            content_type: "application/json",
            body: &[],
            ca: &self.ca,
        };
        let answer = http::send(&call, TIMEOUT).map_err(Failure::Unusable)?;
        if answer.status == operation.success_status() {
            return serde_json::from_str(&answer.body).map_err(|e| {
                Failure::Unusable(format!(
                    "the answer of {} {} is not the reply this version knows ({e}): {}",
                    route.method,
                    route.path,
                    answer.body.trim()
                ))
            });
        }
        let what = match serde_json::from_str::<ErrorBody>(&answer.body) {
            Ok(error) => format!("{} ({}): {}", error.error, answer.status, error.message),
            // Not an error this version knows: its text as it came.
            Err(_) => format!("error ({}): {}", answer.status, answer.body.trim()),
        };
        Err(match answer.status {
            401 | 403 => Failure::Unusable(what),
            _ => Failure::Refused(what),
        })
    }
}

/// Unix microseconds as RFC 3339 UTC to the second.
fn utc(unix_us: u64) -> String {
    tf_budgets::format_utc(unix_us / 1_000_000)
}
