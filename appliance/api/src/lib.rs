//! The admin API's contract, written once: every request and response body of every `/api/v1`
//! route, the error body and its codes, the route table with each route's permission, and the
//! OpenAPI document built from them.
//!
//! The admin server serialises these types, `appliance ctl`, the console and the tests parse
//! replies into them, and [`openapi::document`] describes them. Each type serialises to exactly
//! the JSON the server answered with before this crate existed: the same keys in the same order,
//! the same nesting, and the same `null`s and omitted fields.
//!
//! This crate knows nothing of HTTP frameworks or of the appliance: it holds data and the few
//! facts about it (an error code's HTTP status, which role holds which permission) that every
//! side needs.

mod budgets;
mod bundles;
mod canary;
mod compliance;
mod drift;
mod error;
mod fleet;
mod history;
mod ids;
mod invites;
pub mod openapi;
mod overview;
mod receipt_search;
mod receipts;
mod routes;
mod scenarios;
mod status;
mod switch;
mod tenants;
mod terms;
mod time;
mod webhooks;

pub use budgets::{BudgetsReply, CapUsage};
pub use bundles::{
    ControlEvent, DiffChange, DiffLine, DiffPath, DiffQuery, DiffReply, RevisionRef,
    TimelineCanary, TimelineEntry, TimelineReply,
};
pub use canary::{
    CanaryComparator, CanaryEvent, CanaryReply, CanaryRun, CanaryRunBrief, CanarySilence,
    CanaryWindow, NewSilence, ResetBaseline, SilencePath,
};
pub use compliance::{
    ComplianceWorker, PacketSummary, SnapshotAsked, SnapshotEntry, SnapshotPath, SnapshotStatus,
    SnapshotTenant, SnapshotsReply,
};
pub use drift::{DriftCheck, DriftQuery, DriftReply, TimelineDrift};
pub use error::{BundleProblem, ErrorBody, ErrorCode};
pub use fleet::{FleetNode, FleetPool, FleetReply};
pub use history::{HistoryReply, TenantHistory};
pub use ids::{BundleHash, IndexSha256, Revision, SnapshotName, TenantId};
pub use invites::{
    CapCeiling, CreateInvite, InviteCreated, InviteEntry, InvitePath, InviteStatus, InviteTemplate,
    InvitesReply, RevokeInvite,
};
pub use overview::{
    BucketBound, LatencyBucket, LatencyHistogram, Outcomes, OverviewReply, TenantTotals,
};
pub use receipt_search::{QueryProblem, ReceiptVerdict, ReceiptsQuery, ReceiptsReply};
pub use receipts::{DsseEnvelope, DsseSignature, ReceiptPath, ReceiptReply};
pub use routes::{Method, Operation, Permission, ROUTES, Role, Route};
pub use scenarios::{
    ScenarioExpectation, ScenarioNight, ScenarioOutcome, ScenarioPack, ScenarioRun, ScenarioTrend,
    ScenariosReply,
};
pub use status::{ActiveBundle, ShardStatus, StatusReply};
pub use switch::{
    FleetReach, NodeRevision, PromoteQuery, RollbackRequest, SwitchAction, Switched, ValidateQuery,
    ValidateReply,
};
pub use tenants::{Tenant, TenantCap, TenantsReply};
pub use terms::{
    OnboardingStep, PartnerEntry, Terms, TermsCap, TermsDecision, TermsRequestEntry,
    TermsRequestPath, TermsRequestsReply, TermsStatus,
};
pub use time::{TimeError, UtcTime};
pub use webhooks::{
    AddWebhook, ChangeWebhook, DeliveriesQuery, DeliveriesReply, MessageStatus, ReplayWebhook,
    WebhookAction, WebhookAdded, WebhookChanged, WebhookDelivery, WebhookEndpoint, WebhookFailures,
    WebhookLatencyBucket, WebhookMessage, WebhookPath, WebhookReplayed, WebhookSettings,
    WebhookState, WebhooksReply,
};

#[cfg(test)]
mod testing;
