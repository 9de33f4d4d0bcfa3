//! `appliance verify`: offline verification for partners and auditors.

mod bls;
mod files;

pub use files::read_capped;
mod groth16;

use std::process::ExitCode;

use serde_json::json;
use tf_config::Config;
use tf_engine::{Limits, Verdict};

use crate::cli::{VerifyArgs, VerifyWhat};

/// What the command found, beyond the verdict, for `--json`.
struct Report {
    verdict: Verdict,
    /// Input problems found before the engine could build a verdict (unreadable or malformed
    /// files); reported as `rejected`.
    input_error: Option<String>,
    details: serde_json::Map<String, serde_json::Value>,
}

impl Report {
    fn rejected_input(message: String) -> Self {
        Report {
            verdict: Verdict::Valid,
            input_error: Some(message),
            details: Default::default(),
        }
    }

    fn verdict(verdict: Verdict, details: serde_json::Map<String, serde_json::Value>) -> Self {
        Report {
            verdict,
            input_error: None,
            details,
        }
    }

    fn label(&self) -> &'static str {
        if self.input_error.is_some() {
            "rejected"
        } else {
            self.verdict.label()
        }
    }

    fn reason(&self) -> Option<String> {
        match (&self.input_error, &self.verdict) {
            (Some(message), _) => Some(message.clone()),
            (None, Verdict::Valid) => None,
            (None, Verdict::Invalid(reason)) => Some(reason.to_string()),
            (None, Verdict::Rejected(rejection)) => Some(rejection.to_string()),
            (None, other) => Some(other.to_string()),
        }
    }
}

/// Runs `appliance verify` and returns its exit code: 0 valid, 1 invalid, 2 rejected.
pub fn run(args: VerifyArgs) -> ExitCode {
    let report = match limits(&args) {
        Ok(limits) => match &args.what {
            VerifyWhat::Groth16(g) => groth16::verify(g, &limits),
            VerifyWhat::Bls(b) => bls::verify(b, &limits),
        },
        Err(message) => Report::rejected_input(message),
    };
    let label = report.label();
    let reason = report.reason();
    if args.json {
        let mut out = serde_json::Map::new();
        out.insert("verdict".into(), json!(label));
        out.insert("reason".into(), json!(reason));
        out.extend(report.details.clone());
        crate::output::line(serde_json::Value::Object(out).to_string());
    } else if label == "valid" {
        crate::output::line("valid");
    }
    if let Some(reason) = &reason {
        eprintln!("{label}: {reason}");
    }
    match label {
        "valid" => ExitCode::SUCCESS,
        "invalid" => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

fn limits(args: &VerifyArgs) -> Result<Limits, String> {
    match &args.config {
        Some(path) => Config::load(path)
            .map(|c| c.verify.limits())
            .map_err(|e| e.to_string()),
        None => Ok(Limits::DEFAULT),
    }
}
