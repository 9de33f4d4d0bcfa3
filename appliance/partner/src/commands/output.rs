//! What a command prints: lines for people, or with `--json` one JSON document on stdout and
//! nothing else there (people's lines go to stderr), errors included.

use std::fmt::Display;
use std::process::ExitCode;

use serde_json::{Value, json};
use tf_partner::PartnerError;

use super::exit;

/// Where and how a command prints.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    json: bool,
}

impl Output {
    /// Text for people, or JSON for tools.
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    /// Whether the result is printed as JSON.
    pub fn is_json(self) -> bool {
        self.json
    }

    /// A line for people: stdout, or stderr under `--json`.
    pub fn say(self, line: impl Display) {
        if self.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }

    /// The command's result under `--json`: one line of JSON on stdout.
    pub fn result(self, value: &Value) {
        println!("{value}");
    }

    /// A partner error: its message on stderr, and under `--json` its kind, message and any
    /// wait the appliance asked for on stdout. Returns its exit code.
    pub fn fail(self, error: &PartnerError) -> ExitCode {
        let code = match error {
            PartnerError::Malformed { .. }
            | PartnerError::Local { .. }
            | PartnerError::OnboardedNotWritten { .. } => exit::REJECTED,
            // The invite's answer is no, the receipt's check says altered: negative answers,
            // not refusals to talk.
            PartnerError::OnboardingRefused { .. } | PartnerError::ReceiptInvalid { .. } => {
                exit::INVALID
            }
            _ => exit::REFUSED,
        };
        let retry_after_ms = error.retry_after().map(|wait| wait.as_millis() as u64);
        self.report(
            error.kind(),
            &error.to_string(),
            retry_after_ms,
            error.reason(),
            code,
        )
    }

    /// An error of `kind` with `message`; exits with `code`.
    pub fn error(
        self,
        kind: &str,
        message: &str,
        retry_after_ms: Option<u64>,
        code: u8,
    ) -> ExitCode {
        self.report(kind, message, retry_after_ms, None, code)
    }

    /// An error, with the appliance's reason by name when it gave one (an onboarding
    /// refusal's `used`, `expired`, ...; an over-budget answer's `cap` or `fleet-share`).
    fn report(
        self,
        kind: &str,
        message: &str,
        retry_after_ms: Option<u64>,
        reason: Option<&str>,
        code: u8,
    ) -> ExitCode {
        eprintln!("partner: {message}");
        if self.json {
            let mut error = json!({ "kind": kind, "message": message });
            if let Some(ms) = retry_after_ms {
                error["retry_after_ms"] = json!(ms);
            }
            if let Some(reason) = reason {
                error["reason"] = json!(reason);
            }
            self.result(&json!({ "error": error }));
        }
        ExitCode::from(code)
    }
}
