//! The one error body every route answers with: `{"error": code, "message": text}`, and for a
//! refused bundle every problem found.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the admin API answers when it does not do what was asked. The HTTP status follows from
/// the code in `error`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, as a stable code.
    pub error: ErrorCode,
    /// What went wrong and what to do, for people.
    pub message: String,
    /// For `refused`: every problem found in the bundle. Absent for every other code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<BundleProblem>>,
    /// For `too-many-attempts`: seconds until another attempt is let through (also in
    /// `Retry-After`). Absent for every other code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
}

/// One reason a bundle was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BundleProblem {
    /// A stable kebab-case code, such as `altered-file`, `untrusted-author` or
    /// `stale-revision`.
    pub code: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Why a request was not done. Serialised as kebab-case (`no-such-rollback`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// No bearer token or console session, or a token this appliance does not accept (401, with
    /// `WWW-Authenticate: Bearer`).
    Unauthenticated,
    /// The caller's roles do not allow the route (403).
    Forbidden,
    /// A change made with a console session without the session's `X-CSRF-Token` (403).
    Csrf,
    /// The request itself is unusable, such as a rollback without a reason (400).
    BadRequest,
    /// The request's body did not arrive within `[admin] body_timeout_ms` (408).
    RequestTimeout,
    /// The `Host` header names a host this admin server is not configured to answer to:
    /// `[admin] hosts` lists them (421).
    UnknownHost,
    /// Too many unknown tokens from this address (or sessions started with this token) in a
    /// short time; retry after `retry_after` seconds (429, with `Retry-After`).
    TooManyAttempts,
    /// The bundle failed validation; `problems` lists why. Nothing changed (422).
    Refused,
    /// Nothing to roll back to, or a revision that was never in force or is in force now (409).
    NoSuchRollback,
    /// A compliance snapshot asked for earlier is not made yet: wait until it is listed (409).
    AlreadyAsked,
    /// The newest compliance snapshot already seals everything up to now (409).
    AlreadySealed,
    /// No such route (or the path takes another method), stored revision, receipt,
    /// compliance snapshot or webhook endpoint (404).
    NotFound,
    /// A shard did not prepare a switch in time; nothing changed, retry (503).
    NotPrepared,
    /// The control plane has more promotions, rollbacks and questions waiting than its mailbox
    /// holds; retry after `Retry-After` seconds (503).
    Busy,
    /// The control plane is not running (the appliance is stopping); retry after it restarts
    /// (503).
    Stopping,
    /// No compliance snapshot worker runs in this appliance (503).
    ComplianceNotRunning,
    /// The webhook endpoint's state does not allow the change (pausing a paused one), or the
    /// endpoints are at their limit (409).
    WrongState,
    /// No webhook outbox runs in this appliance (503).
    WebhooksNotRunning,
    /// The drift guard judged the bundle on this appliance and did not pass it, and nobody
    /// overrode it: promote with `override_by` and `reason` if the change is meant (409).
    DriftBlocked,
    /// The appliance failed (its ledger, or the control actor); see its log (500).
    Internal,
}

impl ErrorBody {
    /// The message of every `refused` answer.
    pub const REFUSED_MESSAGE: &'static str =
        "the bundle was refused; the bundle in force is unchanged";

    /// An error without problems.
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            error,
            message: message.into(),
            problems: None,
            retry_after: None,
        }
    }

    /// The `too-many-attempts` answer: another attempt is let through after `seconds`.
    pub fn too_many_attempts(seconds: u32) -> Self {
        ErrorBody {
            retry_after: Some(seconds),
            ..ErrorBody::new(
                ErrorCode::TooManyAttempts,
                format!(
                    "too many unknown tokens from this address, or sessions started with this \
                     token, in a short time: retry in {seconds} s"
                ),
            )
        }
    }

    /// The answer for a refused bundle.
    pub fn refused(problems: Vec<BundleProblem>) -> Self {
        ErrorBody {
            error: ErrorCode::Refused,
            message: Self::REFUSED_MESSAGE.to_owned(),
            problems: Some(problems),
            retry_after: None,
        }
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        self.error.status()
    }
}

impl ErrorCode {
    /// Every code, in the order of their statuses.
    pub const ALL: [ErrorCode; 20] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::Csrf,
        ErrorCode::NotFound,
        ErrorCode::RequestTimeout,
        ErrorCode::NoSuchRollback,
        ErrorCode::AlreadyAsked,
        ErrorCode::AlreadySealed,
        ErrorCode::WrongState,
        ErrorCode::DriftBlocked,
        ErrorCode::UnknownHost,
        ErrorCode::Refused,
        ErrorCode::TooManyAttempts,
        ErrorCode::Internal,
        ErrorCode::NotPrepared,
        ErrorCode::Busy,
        ErrorCode::Stopping,
        ErrorCode::ComplianceNotRunning,
        ErrorCode::WebhooksNotRunning,
    ];

    /// How long a `busy` answer asks the caller to wait, seconds (its `Retry-After`).
    pub const BUSY_RETRY_AFTER_SECONDS: u32 = 5;

    /// The HTTP status answered with this code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden | ErrorCode::Csrf => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::NoSuchRollback
            | ErrorCode::AlreadyAsked
            | ErrorCode::AlreadySealed
            | ErrorCode::WrongState
            | ErrorCode::DriftBlocked => 409,
            ErrorCode::UnknownHost => 421,
            ErrorCode::Refused => 422,
            ErrorCode::TooManyAttempts => 429,
            ErrorCode::Internal => 500,
            ErrorCode::NotPrepared
            | ErrorCode::Busy
            | ErrorCode::Stopping
            | ErrorCode::ComplianceNotRunning
            | ErrorCode::WebhooksNotRunning => 503,
        }
    }

    /// The code as the body spells it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Csrf => "csrf",
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::RequestTimeout => "request-timeout",
            ErrorCode::UnknownHost => "unknown-host",
            ErrorCode::TooManyAttempts => "too-many-attempts",
            ErrorCode::Refused => "refused",
            ErrorCode::NoSuchRollback => "no-such-rollback",
            ErrorCode::AlreadyAsked => "already-asked",
            ErrorCode::AlreadySealed => "already-sealed",
            ErrorCode::NotFound => "not-found",
            ErrorCode::NotPrepared => "not-prepared",
            ErrorCode::Busy => "busy",
            ErrorCode::Stopping => "stopping",
            ErrorCode::ComplianceNotRunning => "compliance-not-running",
            ErrorCode::WrongState => "wrong-state",
            ErrorCode::WebhooksNotRunning => "webhooks-not-running",
            ErrorCode::DriftBlocked => "drift-blocked",
            ErrorCode::Internal => "internal",
        }
    }

    /// When it is answered, in a sentence (the OpenAPI document's response descriptions).
    pub fn meaning(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "No token, or a token this appliance does not accept",
            ErrorCode::Forbidden => "The token's roles do not allow this",
            ErrorCode::Csrf => "A change from a console session without the session's X-CSRF-Token",
            ErrorCode::BadRequest => {
                "The request is unusable: its body, a path parameter or a query parameter"
            }
            ErrorCode::RequestTimeout => {
                "The body did not arrive within [admin] body_timeout_ms; send it again"
            }
            ErrorCode::UnknownHost => {
                "The Host header names a host not in [admin] hosts (DNS rebinding is refused)"
            }
            ErrorCode::TooManyAttempts => {
                "Too many unknown tokens from this address, or sessions started with this \
                 token; retry after Retry-After seconds"
            }
            ErrorCode::Refused => {
                "The bundle was refused: every problem with a code and a message; the bundle \
                 in force is unchanged"
            }
            ErrorCode::NoSuchRollback => {
                "Nothing to roll back to, or a revision that was never in force"
            }
            ErrorCode::AlreadyAsked => {
                "A compliance snapshot asked for earlier is not made yet; wait until it is listed"
            }
            ErrorCode::AlreadySealed => {
                "The newest compliance snapshot already seals everything up to now"
            }
            ErrorCode::NotFound => {
                "No such route (or the path takes another method), stored revision, receipt, \
                 compliance snapshot or webhook endpoint"
            }
            ErrorCode::WrongState => {
                "The webhook endpoint's state does not allow this change, or the endpoints are \
                 at their limit"
            }
            ErrorCode::WebhooksNotRunning => "No webhook outbox runs in this appliance",
            ErrorCode::DriftBlocked => {
                "The drift guard did not pass the bundle on this appliance and nobody overrode \
                 it; promote with override_by and reason if the change is meant"
            }
            ErrorCode::NotPrepared => {
                "A shard did not prepare the switch in time; nothing changed, retry"
            }
            ErrorCode::Busy => {
                "The control plane has too many requests waiting; retry after Retry-After seconds"
            }
            ErrorCode::Stopping => "The control plane is not running (the appliance is stopping)",
            ErrorCode::ComplianceNotRunning => {
                "No compliance snapshot worker runs in this appliance"
            }
            ErrorCode::Internal => "The appliance failed (its ledger or control actor)",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::assert_same_json;

    #[test]
    fn a_plain_error_is_code_and_message() {
        // api.rs `problem(status, code, message)`.
        let (code, message) = ("not-found", "no receipt has ledger sequence number 9");
        assert_same_json(
            &ErrorBody::new(ErrorCode::NotFound, message),
            json!({ "error": code, "message": message }),
        );
    }

    #[test]
    fn too_many_attempts_says_when_to_retry() {
        let body = ErrorBody::too_many_attempts(8);
        assert_eq!(body.status(), 429);
        let value = serde_json::to_value(&body).expect("serialises");
        assert_eq!(value["error"], "too-many-attempts");
        assert_eq!(value["retry_after"], 8);
        assert!(body.message.contains("retry in 8 s"), "{}", body.message);
        let plain = serde_json::to_value(ErrorBody::new(ErrorCode::Busy, "x")).expect("json");
        assert!(
            plain.get("retry_after").is_none(),
            "absent unless throttled"
        );
    }

    #[test]
    fn a_refusal_lists_every_problem() {
        // api.rs `control_error(ControlError::Refused(..))`.
        let problems = [
            ("altered-file", "tenants.toml does not match the manifest"),
            ("stale-revision", "revision 2 is not above revision 2"),
        ];
        let typed = ErrorBody::refused(
            problems
                .iter()
                .map(|(code, message)| BundleProblem {
                    code: (*code).into(),
                    message: (*message).into(),
                })
                .collect(),
        );
        assert_same_json(
            &typed,
            json!({
                "error": "refused",
                "message": "the bundle was refused; the bundle in force is unchanged",
                "problems": problems.iter().map(|(code, message)| json!({
                    "code": code,
                    "message": message,
                })).collect::<Vec<serde_json::Value>>(),
            }),
        );
        assert_eq!(typed.status(), 422);
    }

    #[test]
    fn every_code_is_spelled_and_answered_as_before() {
        let table = [
            (ErrorCode::Unauthenticated, "unauthenticated", 401),
            (ErrorCode::Forbidden, "forbidden", 403),
            (ErrorCode::Csrf, "csrf", 403),
            (ErrorCode::BadRequest, "bad-request", 400),
            (ErrorCode::RequestTimeout, "request-timeout", 408),
            (ErrorCode::UnknownHost, "unknown-host", 421),
            (ErrorCode::TooManyAttempts, "too-many-attempts", 429),
            (ErrorCode::Refused, "refused", 422),
            (ErrorCode::NoSuchRollback, "no-such-rollback", 409),
            (ErrorCode::AlreadyAsked, "already-asked", 409),
            (ErrorCode::AlreadySealed, "already-sealed", 409),
            (ErrorCode::NotFound, "not-found", 404),
            (ErrorCode::NotPrepared, "not-prepared", 503),
            (ErrorCode::Busy, "busy", 503),
            (ErrorCode::Stopping, "stopping", 503),
            (
                ErrorCode::ComplianceNotRunning,
                "compliance-not-running",
                503,
            ),
            (ErrorCode::WrongState, "wrong-state", 409),
            (ErrorCode::WebhooksNotRunning, "webhooks-not-running", 503),
            (ErrorCode::DriftBlocked, "drift-blocked", 409),
            (ErrorCode::Internal, "internal", 500),
        ];
        assert_eq!(table.len(), ErrorCode::ALL.len());
        for (code, name, status) in table {
            assert!(ErrorCode::ALL.contains(&code), "{code:?} in ALL");
            assert_eq!(json!(code), json!(name), "{code:?}");
            assert_eq!(code.name(), name);
            assert_eq!(code.status(), status, "{code:?}");
            assert_eq!(
                serde_json::from_value::<ErrorCode>(json!(name)).ok(),
                Some(code)
            );
        }
    }
}
