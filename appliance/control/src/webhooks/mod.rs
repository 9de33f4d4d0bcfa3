//! Auditor webhooks: the outbox that delivers signed events to external endpoints, durably
//! and in order, following the ledger (`tf-webhooks` holds the sans-IO contract: signatures,
//! retry ladder, outcomes, bodies; `tf-webhook-client` the wire).

mod compose;
mod outbox;
mod pacing;
mod replay;
mod requests;
mod secrets;
mod status;

pub use compose::{Composed, compose_events, compose_receipts, compose_timeline};
pub use outbox::{Outbox, OutboxLedger, OutboxPlan};
pub use replay::{MAX_REPLAY, ReplayMessages, Replayed};
pub use requests::{
    AddEndpoint, Asker, ChangeEndpoint, Deliveries, EndpointAction, EndpointView, ListEndpoints,
    MAX_ENDPOINTS, MAX_LISTED, PublicKey, ROTATION_GRACE_US, RequestError,
};
pub use secrets::SecretStore;
pub use status::{EndpointStatus, LATENCY_BUCKETS_S, WebhooksHandle, WebhooksStatus};
