//! Every `/api/v1` route: its method and path, its operation, the permission it needs, and the
//! error codes it may answer with. The server registers and guards routes from [`ROUTES`], the
//! OpenAPI document is built from it, and the routes-by-roles test walks it.

use crate::error::ErrorCode;

/// The admin API's routes, in the order the OpenAPI document was written by hand, then those
/// added since.
pub const ROUTES: [Route; 35] = [
    Route {
        operation: Operation::Status,
        method: Method::Get,
        path: "/api/v1/status",
        permission: Permission::Read,
        summary: "The policy in force, the rollback target, and each shard's revision",
        own_errors: &[ErrorCode::Internal, ErrorCode::Busy, ErrorCode::Stopping],
    },
    Route {
        operation: Operation::Overview,
        method: Method::Get,
        path: "/api/v1/overview",
        permission: Permission::Read,
        summary: "Totals since start per tenant and outcome, decision latency buckets, \
                  connections and queue depth (read twice and diff for rates)",
        own_errors: &[],
    },
    Route {
        operation: Operation::Tenants,
        method: Method::Get,
        path: "/api/v1/tenants",
        permission: Permission::Read,
        summary: "The tenants the shards serve: weight, admission rate and burst, listed keys, \
                  caps",
        own_errors: &[ErrorCode::Internal, ErrorCode::Busy, ErrorCode::Stopping],
    },
    Route {
        operation: Operation::Budgets,
        method: Method::Get,
        path: "/api/v1/budgets",
        permission: Permission::Read,
        summary: "Every budget cap as its tenant's home shard last saw it: limit, used, \
                  reserved, remaining, reset time",
        own_errors: &[],
    },
    Route {
        operation: Operation::Timeline,
        method: Method::Get,
        path: "/api/v1/bundles",
        permission: Permission::Read,
        summary: "The timeline of promotions and rollbacks, oldest first",
        own_errors: &[ErrorCode::Internal, ErrorCode::Busy, ErrorCode::Stopping],
    },
    Route {
        operation: Operation::Diff,
        method: Method::Get,
        path: "/api/v1/bundles/{revision}/diff",
        permission: Permission::Read,
        summary: "What changes from one stored revision (default: the one in force) to another",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::NotFound,
            ErrorCode::Refused,
            ErrorCode::Internal,
            ErrorCode::Busy,
            ErrorCode::Stopping,
        ],
    },
    Route {
        operation: Operation::Validate,
        method: Method::Post,
        path: "/api/v1/bundles/validate",
        permission: Permission::Validate,
        summary: "Check a bundle as a promotion would, without promoting it",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::Refused,
            ErrorCode::Internal,
            ErrorCode::Busy,
            ErrorCode::Stopping,
        ],
    },
    Route {
        operation: Operation::Promote,
        method: Method::Post,
        path: "/api/v1/bundles/promote",
        permission: Permission::Promote,
        summary: "Validate a bundle and put it in force on every shard; recorded in the timeline",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::Refused,
            ErrorCode::DriftBlocked,
            ErrorCode::Internal,
            ErrorCode::NotPrepared,
            ErrorCode::Busy,
            ErrorCode::Stopping,
        ],
    },
    Route {
        operation: Operation::Rollback,
        method: Method::Post,
        path: "/api/v1/bundles/rollback",
        permission: Permission::Rollback,
        summary: "Republish an earlier revision's content as a new revision; recorded in the \
                  timeline",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::NotFound,
            ErrorCode::NoSuchRollback,
            ErrorCode::Refused,
            ErrorCode::Internal,
            ErrorCode::NotPrepared,
            ErrorCode::Busy,
            ErrorCode::Stopping,
        ],
    },
    Route {
        operation: Operation::OpenApi,
        method: Method::Get,
        path: "/api/v1/openapi.json",
        permission: Permission::Read,
        summary: "This description",
        own_errors: &[],
    },
    Route {
        operation: Operation::Receipt,
        method: Method::Get,
        path: "/api/v1/receipts/{seq}",
        permission: Permission::ReadReceipts,
        summary: "A receipt by ledger sequence number, with its tenant and the envelope as issued",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::NotFound,
            ErrorCode::Internal,
            ErrorCode::Busy,
            ErrorCode::Stopping,
        ],
    },
    Route {
        operation: Operation::Snapshots,
        method: Method::Get,
        path: "/api/v1/compliance/snapshots",
        permission: Permission::ReadReceipts,
        summary: "Compliance snapshots: where the snapshot worker stands, and every packet with \
                  its period, receipts, log tree size, index digest, anchor and status",
        own_errors: &[ErrorCode::ComplianceNotRunning],
    },
    Route {
        operation: Operation::AskSnapshot,
        method: Method::Post,
        path: "/api/v1/compliance/snapshots",
        permission: Permission::Snapshot,
        summary: "Ask for a compliance snapshot sealing everything decided up to now (202); the \
                  packet is listed once made",
        own_errors: &[
            ErrorCode::AlreadyAsked,
            ErrorCode::AlreadySealed,
            ErrorCode::ComplianceNotRunning,
        ],
    },
    Route {
        operation: Operation::SnapshotArchive,
        method: Method::Get,
        path: "/api/v1/compliance/snapshots/{name}/archive",
        permission: Permission::ReadReceipts,
        summary: "One compliance snapshot as a gzipped tar: its folder and its anchor record, \
                  to verify offline with `appliance compliance verify`",
        own_errors: &[
            ErrorCode::NotFound,
            ErrorCode::Internal,
            ErrorCode::Busy,
            ErrorCode::ComplianceNotRunning,
        ],
    },
    Route {
        operation: Operation::Webhooks,
        method: Method::Get,
        path: "/api/v1/webhooks",
        permission: Permission::ReadReceipts,
        summary: "Auditor webhook endpoints with their delivery figures, and the public key \
                  their v1a signatures verify with",
        own_errors: &[
            ErrorCode::WebhooksNotRunning,
            ErrorCode::Busy,
            ErrorCode::Internal,
        ],
    },
    Route {
        operation: Operation::AddWebhook,
        method: Method::Post,
        path: "/api/v1/webhooks",
        permission: Permission::Webhooks,
        summary: "Add an auditor webhook endpoint; answers its whsec_ secret, shown only once \
                  (a local endpoint needs the sre role)",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::WrongState,
            ErrorCode::WebhooksNotRunning,
            ErrorCode::Busy,
            ErrorCode::Internal,
        ],
    },
    Route {
        operation: Operation::ChangeWebhook,
        method: Method::Post,
        path: "/api/v1/webhooks/{id}",
        permission: Permission::Webhooks,
        summary: "Pause, resume, rotate the secret of, change or remove a webhook endpoint; \
                  recorded with who and why",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::NotFound,
            ErrorCode::WrongState,
            ErrorCode::WebhooksNotRunning,
            ErrorCode::Busy,
            ErrorCode::Internal,
        ],
    },
    Route {
        operation: Operation::Deliveries,
        method: Method::Get,
        path: "/api/v1/webhooks/{id}/deliveries",
        permission: Permission::ReadReceipts,
        summary: "A webhook endpoint's messages, newest first: attempts, failures, \
                  acknowledgements and their auditor references",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::NotFound,
            ErrorCode::WebhooksNotRunning,
            ErrorCode::Busy,
            ErrorCode::Internal,
        ],
    },
    Route {
        operation: Operation::ReplayWebhook,
        method: Method::Post,
        path: "/api/v1/webhooks/{id}/replay",
        permission: Permission::Webhooks,
        summary: "Send a webhook endpoint's messages again (acknowledged or given up), with \
                  their webhook-ids unchanged",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::NotFound,
            ErrorCode::WebhooksNotRunning,
            ErrorCode::Busy,
            ErrorCode::Internal,
        ],
    },
    Route {
        operation: Operation::OverviewHistory,
        method: Method::Get,
        path: "/api/v1/overview/history",
        permission: Permission::Read,
        summary: "The overview's last hour, sampled every 10 s: requests per second, decision \
                  p99, and each tenant's requests, invalid verdicts, refusals and errors per \
                  second",
        own_errors: &[],
    },
    Route {
        operation: Operation::SearchReceipts,
        method: Method::Get,
        path: "/api/v1/receipts",
        permission: Permission::ReadReceipts,
        summary: "Stored receipts found by tenant, decision time, request id and verdict, \
                  newest first, a page at a time",
        own_errors: &[ErrorCode::BadRequest, ErrorCode::Internal, ErrorCode::Busy],
    },
    Route {
        operation: Operation::Scenarios,
        method: Method::Get,
        path: "/api/v1/scenarios",
        permission: Permission::Read,
        summary: "Each scenario pack's latest run with its trend (against last night and the \
                  week's median) and every run kept (90 days)",
        own_errors: &[ErrorCode::Internal, ErrorCode::Busy],
    },
    Route {
        operation: Operation::Drift,
        method: Method::Post,
        path: "/api/v1/bundles/drift",
        permission: Permission::Validate,
        summary: "Replay recent recorded decisions under a bundle and the one in force: what \
                  would flip, for whom, and whether the drift is within the tolerance",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::Refused,
            ErrorCode::Internal,
            ErrorCode::Busy,
        ],
    },
    Route {
        operation: Operation::Canary,
        method: Method::Get,
        path: "/api/v1/canary",
        permission: Permission::Read,
        summary: "The golden canary: its latest run with each comparator's judgement, the \
                  recent runs' verdicts, and the windows judged",
        own_errors: &[],
    },
    Route {
        operation: Operation::RunCanary,
        method: Method::Post,
        path: "/api/v1/canary/run",
        permission: Permission::Canary,
        summary: "Run the golden canary now; answered when the run ends (at most 60 s)",
        own_errors: &[ErrorCode::Refused, ErrorCode::Busy],
    },
    Route {
        operation: Operation::SilenceCanary,
        method: Method::Post,
        path: "/api/v1/canary/silences",
        permission: Permission::Canary,
        summary: "Silence canary comparators (and golden set items) for a while, with a reason; \
                  what it covers shows as silenced and raises no alarm until it expires",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::Refused,
            ErrorCode::Internal,
        ],
    },
    Route {
        operation: Operation::LiftSilence,
        method: Method::Post,
        path: "/api/v1/canary/silences/{id}/lift",
        permission: Permission::Canary,
        summary: "Lift a canary silence before it expires",
        own_errors: &[ErrorCode::Refused, ErrorCode::NotFound, ErrorCode::Internal],
    },
    Route {
        operation: Operation::ResetCanaryBaseline,
        method: Method::Post,
        path: "/api/v1/canary/baseline/reset",
        permission: Permission::Canary,
        summary: "Accept the appliance as it is now as the canary's new normal: its baseline \
                  starts again from the current window, with a reason",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::Refused,
            ErrorCode::Internal,
        ],
    },
    Route {
        operation: Operation::Invites,
        method: Method::Get,
        path: "/api/v1/invites",
        permission: Permission::Read,
        summary: "Every partner invite, newest first: its tenant, template, expiry and status \
                  (never its secret)",
        own_errors: &[ErrorCode::Internal, ErrorCode::Busy, ErrorCode::Stopping],
    },
    Route {
        operation: Operation::CreateInvite,
        method: Method::Post,
        path: "/api/v1/invites",
        permission: Permission::Invite,
        summary: "Make a single-use partner invite for a tenant or prefix, with the terms it \
                  may take without approval; its text is in this answer only",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::Refused,
            ErrorCode::Internal,
            ErrorCode::Busy,
            ErrorCode::Stopping,
        ],
    },
    Route {
        operation: Operation::RevokeInvite,
        method: Method::Post,
        path: "/api/v1/invites/{id}/revoke",
        permission: Permission::Invite,
        summary: "Revoke an open invite, with a reason",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::NotFound,
            ErrorCode::WrongState,
            ErrorCode::Internal,
            ErrorCode::Busy,
            ErrorCode::Stopping,
        ],
    },
    Route {
        operation: Operation::TermsRequests,
        method: Method::Get,
        path: "/api/v1/terms-requests",
        permission: Permission::Read,
        summary: "Every partner terms request, newest first: the terms asked, the tenant's terms \
                  in force, its status and who decided it; and each partner's terms in force",
        own_errors: &[ErrorCode::Internal, ErrorCode::Busy, ErrorCode::Stopping],
    },
    Route {
        operation: Operation::GrantTerms,
        method: Method::Post,
        path: "/api/v1/terms-requests/{id}/grant",
        permission: Permission::Invite,
        summary: "Grant a pending terms request, with a reason: its terms come into force as a \
                  bundle revision, recorded in the timeline",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::NotFound,
            ErrorCode::WrongState,
            ErrorCode::Refused,
            ErrorCode::Internal,
            ErrorCode::NotPrepared,
            ErrorCode::Busy,
            ErrorCode::Stopping,
        ],
    },
    Route {
        operation: Operation::DeclineTerms,
        method: Method::Post,
        path: "/api/v1/terms-requests/{id}/decline",
        permission: Permission::Invite,
        summary: "Decline a pending terms request, with a reason (the partner's terms stay as \
                  they are)",
        own_errors: &[
            ErrorCode::BadRequest,
            ErrorCode::NotFound,
            ErrorCode::WrongState,
            ErrorCode::Internal,
            ErrorCode::Busy,
            ErrorCode::Stopping,
        ],
    },
    Route {
        operation: Operation::Fleet,
        method: Method::Get,
        path: "/api/v1/fleet",
        permission: Permission::Read,
        summary: "In fleet mode, the fleet's database as an operator reads it: each appliance \
                  live or down, its revision, shipping lag and leases, and every budget pool of \
                  the current windows",
        own_errors: &[ErrorCode::NotFound, ErrorCode::Internal, ErrorCode::Busy],
    },
];

/// One route of the admin API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// What it does.
    pub operation: Operation,
    /// Its HTTP method.
    pub method: Method,
    /// Its path; `{name}` marks a path parameter.
    pub path: &'static str,
    /// What the caller's roles must allow.
    pub permission: Permission,
    /// What it does, in a line.
    pub summary: &'static str,
    /// The error codes it may answer with besides those of every route ([`GUARD_ERRORS`]) and
    /// of every change ([`CHANGE_ERRORS`]); see [`Route::errors`].
    pub own_errors: &'static [ErrorCode],
}

/// What the gate in front of every route may answer, before the route runs.
pub const GUARD_ERRORS: [ErrorCode; 4] = [
    ErrorCode::Unauthenticated,
    ErrorCode::Forbidden,
    ErrorCode::UnknownHost,
    ErrorCode::TooManyAttempts,
];

/// What every change (a POST) may answer besides: only changes need the console session's
/// CSRF token, and only they have a body to wait for.
pub const CHANGE_ERRORS: [ErrorCode; 2] = [ErrorCode::Csrf, ErrorCode::RequestTimeout];

/// What a route does: one per route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `GET /api/v1/status`.
    Status,
    /// `GET /api/v1/overview`.
    Overview,
    /// `GET /api/v1/tenants`.
    Tenants,
    /// `GET /api/v1/budgets`.
    Budgets,
    /// `GET /api/v1/bundles`.
    Timeline,
    /// `GET /api/v1/bundles/{revision}/diff`.
    Diff,
    /// `POST /api/v1/bundles/validate`.
    Validate,
    /// `POST /api/v1/bundles/promote`.
    Promote,
    /// `POST /api/v1/bundles/rollback`.
    Rollback,
    /// `GET /api/v1/receipts/{seq}`.
    Receipt,
    /// `GET /api/v1/openapi.json`.
    OpenApi,
    /// `GET /api/v1/compliance/snapshots`.
    Snapshots,
    /// `POST /api/v1/compliance/snapshots`.
    AskSnapshot,
    /// `GET /api/v1/compliance/snapshots/{name}/archive`.
    SnapshotArchive,
    /// `GET /api/v1/webhooks`.
    Webhooks,
    /// `POST /api/v1/webhooks`.
    AddWebhook,
    /// `POST /api/v1/webhooks/{id}`.
    ChangeWebhook,
    /// `GET /api/v1/webhooks/{id}/deliveries`.
    Deliveries,
    /// `POST /api/v1/webhooks/{id}/replay`.
    ReplayWebhook,
    /// `GET /api/v1/overview/history`.
    OverviewHistory,
    /// `GET /api/v1/receipts`.
    SearchReceipts,
    /// `GET /api/v1/scenarios`.
    Scenarios,
    /// `POST /api/v1/bundles/drift`.
    Drift,
    /// `GET /api/v1/canary`.
    Canary,
    /// `POST /api/v1/canary/run`.
    RunCanary,
    /// `POST /api/v1/canary/silences`.
    SilenceCanary,
    /// `POST /api/v1/canary/silences/{id}/lift`.
    LiftSilence,
    /// `POST /api/v1/canary/baseline/reset`.
    ResetCanaryBaseline,
    /// `GET /api/v1/invites`.
    Invites,
    /// `POST /api/v1/invites`.
    CreateInvite,
    /// `POST /api/v1/invites/{id}/revoke`.
    RevokeInvite,
    /// `GET /api/v1/terms-requests`.
    TermsRequests,
    /// `POST /api/v1/terms-requests/{id}/grant`.
    GrantTerms,
    /// `POST /api/v1/terms-requests/{id}/decline`.
    DeclineTerms,
    /// `GET /api/v1/fleet`.
    Fleet,
}

/// An HTTP method the admin API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// Reads.
    Get,
    /// Changes (or checks) something.
    Post,
}

/// What a route does, as roles grant it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Permission {
    /// Status, overview and its history, tenants, budgets, the timeline, diffs, this
    /// description.
    Read,
    /// Receipts, and the compliance snapshots that hold them.
    ReadReceipts,
    /// Check a bundle without promoting it.
    Validate,
    /// Put a new bundle in force.
    Promote,
    /// Republish an earlier bundle.
    Rollback,
    /// Ask for a compliance snapshot now.
    Snapshot,
    /// Add, change and replay auditor webhook endpoints.
    Webhooks,
    /// Mark a webhook endpoint local (private addresses and plain HTTP allowed).
    LocalWebhook,
    /// Run the golden canary now, silence it, lift a silence, reset its baseline.
    Canary,
    /// Make and revoke partner invites; grant and decline partners' terms requests.
    Invite,
}

/// A role an admin token can hold (named in `[[admin.tokens]]` `roles`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// Runs the appliance: rollbacks, receipts, validation, compliance snapshots, webhook
    /// endpoints (local ones too), everything read-only.
    Sre,
    /// Changes policy: validates and promotes bundles, rolls back.
    PolicyAuthor,
    /// Audits: receipts, compliance snapshots, the timeline, and webhook endpoints (not local
    /// ones).
    Auditor,
    /// Looks: status, tenants, budgets, bundles, timeline.
    Viewer,
}

impl Route {
    /// Every error code it may answer with: the gate's, a change's if it is one, then its own.
    pub fn errors(&self) -> impl Iterator<Item = ErrorCode> + '_ {
        let change: &[ErrorCode] = if self.method == Method::Post {
            &CHANGE_ERRORS
        } else {
            &[]
        };
        GUARD_ERRORS
            .iter()
            .chain(change)
            .chain(self.own_errors)
            .copied()
    }

    /// Its OpenAPI operation id.
    pub fn operation_id(&self) -> &'static str {
        self.operation.id()
    }

    /// Every role allowed to use it, named and comma-separated, or `any`.
    pub fn roles(&self) -> String {
        let allowed: Vec<&str> = Role::ALL
            .iter()
            .filter(|r| r.allows(self.permission))
            .map(|r| r.name())
            .collect();
        if allowed.len() == Role::ALL.len() {
            "any".to_owned()
        } else {
            allowed.join(", ")
        }
    }
}

impl Operation {
    /// Its OpenAPI operation id.
    pub fn id(self) -> &'static str {
        match self {
            Operation::Status => "get_status",
            Operation::Overview => "get_overview",
            Operation::Tenants => "list_tenants",
            Operation::Budgets => "list_budgets",
            Operation::Timeline => "list_timeline",
            Operation::Diff => "diff_bundles",
            Operation::Validate => "validate_bundle",
            Operation::Promote => "promote_bundle",
            Operation::Rollback => "roll_back",
            Operation::Receipt => "get_receipt",
            Operation::OpenApi => "get_openapi",
            Operation::Snapshots => "list_snapshots",
            Operation::AskSnapshot => "ask_snapshot",
            Operation::SnapshotArchive => "get_snapshot_archive",
            Operation::Webhooks => "list_webhooks",
            Operation::AddWebhook => "add_webhook",
            Operation::ChangeWebhook => "change_webhook",
            Operation::Deliveries => "list_deliveries",
            Operation::ReplayWebhook => "replay_webhook",
            Operation::OverviewHistory => "get_overview_history",
            Operation::SearchReceipts => "search_receipts",
            Operation::Scenarios => "list_scenarios",
            Operation::Drift => "judge_drift",
            Operation::Canary => "get_canary",
            Operation::RunCanary => "run_canary",
            Operation::SilenceCanary => "silence_canary",
            Operation::LiftSilence => "lift_canary_silence",
            Operation::ResetCanaryBaseline => "reset_canary_baseline",
            Operation::Invites => "list_invites",
            Operation::CreateInvite => "create_invite",
            Operation::RevokeInvite => "revoke_invite",
            Operation::TermsRequests => "list_terms_requests",
            Operation::GrantTerms => "grant_terms_request",
            Operation::DeclineTerms => "decline_terms_request",
            Operation::Fleet => "get_fleet",
        }
    }

    /// The HTTP status of its success: 202 for a request the appliance carries out later, else
    /// 200.
    pub fn success_status(self) -> u16 {
        match self {
            Operation::AskSnapshot => 202,
            _ => 200,
        }
    }

    /// Its route.
    pub fn route(self) -> &'static Route {
        ROUTES
            .iter()
            .find(|r| r.operation == self)
            .expect("ROUTES lists every operation (checked by a test)")
    }
}

impl Method {
    /// The method as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 10] = [
        Permission::Read,
        Permission::ReadReceipts,
        Permission::Validate,
        Permission::Promote,
        Permission::Rollback,
        Permission::Snapshot,
        Permission::Webhooks,
        Permission::LocalWebhook,
        Permission::Canary,
        Permission::Invite,
    ];

    /// What it allows and who holds it, as a `forbidden` message says it ("`name` may not
    /// ...").
    pub fn describe(self) -> &'static str {
        match self {
            Permission::Read => "read status and bundles",
            Permission::ReadReceipts => "read receipts and compliance snapshots (auditor or sre)",
            Permission::Validate => "validate bundles (policy-author or sre)",
            Permission::Promote => "promote bundles (policy-author)",
            Permission::Rollback => "roll back (sre or policy-author)",
            Permission::Snapshot => "ask for a compliance snapshot (sre)",
            Permission::Webhooks => "add or change webhook endpoints (auditor or sre)",
            Permission::LocalWebhook => {
                "mark a webhook endpoint local, or change a local one (sre)"
            }
            Permission::Canary => "run or silence the golden canary, reset its baseline (sre)",
            Permission::Invite => {
                "make or revoke partner invites and grant or decline terms requests (sre or \
                 policy-author)"
            }
        }
    }
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Sre, Role::PolicyAuthor, Role::Auditor, Role::Viewer];

    /// The role named `name` in configuration.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The role's name in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Role::Sre => "sre",
            Role::PolicyAuthor => "policy-author",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role may do `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Sre => matches!(
                permission,
                Read | ReadReceipts
                    | Validate
                    | Rollback
                    | Snapshot
                    | Webhooks
                    | LocalWebhook
                    | Canary
                    | Invite
            ),
            Role::PolicyAuthor => {
                matches!(permission, Read | Validate | Promote | Rollback | Invite)
            }
            Role::Auditor => matches!(permission, Read | ReadReceipts | Webhooks),
            Role::Viewer => matches!(permission, Read),
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_routes_are_those_the_server_registered() {
        // api.rs `ROUTES` before this crate.
        let before = [
            ("GET", "/api/v1/status", Permission::Read),
            ("GET", "/api/v1/overview", Permission::Read),
            ("GET", "/api/v1/tenants", Permission::Read),
            ("GET", "/api/v1/budgets", Permission::Read),
            ("GET", "/api/v1/bundles", Permission::Read),
            ("GET", "/api/v1/bundles/{revision}/diff", Permission::Read),
            ("POST", "/api/v1/bundles/validate", Permission::Validate),
            ("POST", "/api/v1/bundles/promote", Permission::Promote),
            ("POST", "/api/v1/bundles/rollback", Permission::Rollback),
            ("GET", "/api/v1/receipts/{seq}", Permission::ReadReceipts),
            ("GET", "/api/v1/openapi.json", Permission::Read),
            // Added since.
            (
                "GET",
                "/api/v1/compliance/snapshots",
                Permission::ReadReceipts,
            ),
            ("POST", "/api/v1/compliance/snapshots", Permission::Snapshot),
            (
                "GET",
                "/api/v1/compliance/snapshots/{name}/archive",
                Permission::ReadReceipts,
            ),
            ("GET", "/api/v1/webhooks", Permission::ReadReceipts),
            ("POST", "/api/v1/webhooks", Permission::Webhooks),
            ("POST", "/api/v1/webhooks/{id}", Permission::Webhooks),
            (
                "GET",
                "/api/v1/webhooks/{id}/deliveries",
                Permission::ReadReceipts,
            ),
            ("POST", "/api/v1/webhooks/{id}/replay", Permission::Webhooks),
            ("GET", "/api/v1/overview/history", Permission::Read),
            ("GET", "/api/v1/receipts", Permission::ReadReceipts),
            ("GET", "/api/v1/scenarios", Permission::Read),
            ("POST", "/api/v1/bundles/drift", Permission::Validate),
            ("GET", "/api/v1/canary", Permission::Read),
            ("POST", "/api/v1/canary/run", Permission::Canary),
            ("POST", "/api/v1/canary/silences", Permission::Canary),
            (
                "POST",
                "/api/v1/canary/silences/{id}/lift",
                Permission::Canary,
            ),
            ("POST", "/api/v1/canary/baseline/reset", Permission::Canary),
            ("GET", "/api/v1/invites", Permission::Read),
            ("POST", "/api/v1/invites", Permission::Invite),
            ("POST", "/api/v1/invites/{id}/revoke", Permission::Invite),
            ("GET", "/api/v1/terms-requests", Permission::Read),
            (
                "POST",
                "/api/v1/terms-requests/{id}/grant",
                Permission::Invite,
            ),
            (
                "POST",
                "/api/v1/terms-requests/{id}/decline",
                Permission::Invite,
            ),
            ("GET", "/api/v1/fleet", Permission::Read),
        ];
        let mut ours: Vec<_> = ROUTES
            .iter()
            .map(|r| (r.method.as_str(), r.path, r.permission))
            .collect();
        let mut before = before.to_vec();
        ours.sort_by_key(|(m, p, _)| (*p, *m));
        before.sort_by_key(|(m, p, _)| (*p, *m));
        assert_eq!(ours, before);
    }

    #[test]
    fn every_operation_has_exactly_one_route_and_a_unique_id() {
        let operations: HashSet<Operation> = ROUTES.iter().map(|r| r.operation).collect();
        let ids: HashSet<&str> = ROUTES.iter().map(Route::operation_id).collect();
        let places: HashSet<(Method, &str)> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
        assert_eq!(operations.len(), ROUTES.len());
        assert_eq!(ids.len(), ROUTES.len());
        assert_eq!(places.len(), ROUTES.len());
        for route in &ROUTES {
            assert_eq!(route.operation.route(), route);
        }
    }

    #[test]
    fn each_role_may_do_exactly_its_part() {
        // auth.rs's table.
        let table = [
            (
                Role::Sre,
                [true, true, true, false, true, true, true, true, true, true],
            ),
            (
                Role::PolicyAuthor,
                [
                    true, false, true, true, true, false, false, false, false, true,
                ],
            ),
            (
                Role::Auditor,
                [
                    true, true, false, false, false, false, true, false, false, false,
                ],
            ),
            (
                Role::Viewer,
                [
                    true, false, false, false, false, false, false, false, false, false,
                ],
            ),
        ];
        for (role, expected) in table {
            let got = Permission::ALL.map(|p| role.allows(p));
            assert_eq!(got, expected, "{role:?}");
            assert_eq!(Role::parse(role.name()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn a_routes_own_errors_do_not_repeat_those_every_route_or_change_has() {
        for route in &ROUTES {
            let all: Vec<ErrorCode> = route.errors().collect();
            let unique: HashSet<&ErrorCode> = all.iter().collect();
            assert_eq!(unique.len(), all.len(), "{}", route.path);
            assert!(all.contains(&ErrorCode::UnknownHost), "{}", route.path);
            assert_eq!(
                all.contains(&ErrorCode::Csrf),
                route.method == Method::Post,
                "{}",
                route.path
            );
        }
    }

    #[test]
    fn roles_read_as_the_hand_written_description_named_them() {
        let roles = |operation: Operation| operation.route().roles();
        assert_eq!(roles(Operation::Status), "any");
        assert_eq!(roles(Operation::Validate), "sre, policy-author");
        assert_eq!(roles(Operation::Promote), "policy-author");
        assert_eq!(roles(Operation::Rollback), "sre, policy-author");
        assert_eq!(roles(Operation::Receipt), "sre, auditor");
        assert_eq!(roles(Operation::Snapshots), "sre, auditor");
        assert_eq!(roles(Operation::SnapshotArchive), "sre, auditor");
        assert_eq!(roles(Operation::AskSnapshot), "sre");
        assert_eq!(roles(Operation::AddWebhook), "sre, auditor");
        assert_eq!(roles(Operation::Deliveries), "sre, auditor");
        assert_eq!(roles(Operation::SearchReceipts), "sre, auditor");
        assert_eq!(roles(Operation::OverviewHistory), "any");
        assert_eq!(roles(Operation::CreateInvite), "sre, policy-author");
        assert_eq!(roles(Operation::GrantTerms), "sre, policy-author");
        assert_eq!(roles(Operation::TermsRequests), "any");
        assert_eq!(roles(Operation::Fleet), "any");
    }

    #[test]
    fn only_asking_for_a_snapshot_succeeds_with_202() {
        for route in &ROUTES {
            let expected = if route.operation == Operation::AskSnapshot {
                202
            } else {
                200
            };
            assert_eq!(route.operation.success_status(), expected, "{}", route.path);
        }
    }
}
