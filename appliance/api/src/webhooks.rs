//! Auditor webhooks: `GET /api/v1/webhooks` (every endpoint with its delivery figures, and
//! the key `v1a` signatures verify with), `POST /api/v1/webhooks` (add one),
//! `POST /api/v1/webhooks/{id}` (pause, resume, rotate its secret, change, remove),
//! `GET /api/v1/webhooks/{id}/deliveries` (its messages, newest first) and
//! `POST /api/v1/webhooks/{id}/replay` (send messages again).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::TenantId;

/// The reply of `GET /api/v1/webhooks`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhooksReply {
    /// The appliance's webhook public key (`whpk_…`): what `v1a` signatures verify with.
    pub public_key: String,
    /// Every endpoint not removed, by id.
    pub endpoints: Vec<WebhookEndpoint>,
}

/// What an endpoint receives and how. In a request, `rate_per_s` and `batch_max` may be left
/// out for the appliance's defaults; in a reply they are always there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookSettings {
    /// The events it receives: `receipt.issued`, `bundle.promoted`, `bundle.rolled_back`,
    /// `budget.exhausted`, `snapshot.sealed`, `canary.alarm`, `scenario.failed`,
    /// `partner.step_failed`.
    pub events: Vec<String>,
    /// Only these tenants' receipts and budget events; every tenant's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants: Option<Vec<TenantId>>,
    /// The signatures each message carries: `v1` (HMAC-SHA256 under the endpoint's `whsec_`
    /// secret), `v1a` (Ed25519 under the appliance's webhook key), or both.
    pub schemes: Vec<String>,
    /// The most attempts per second, 1 to 1000 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_s: Option<u32>,
    /// The most receipts in one `receipt.issued` message, 1 to 1000 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_max: Option<u32>,
    /// Private, loopback and link-local addresses and `http://` allowed: only an SRE may set
    /// it.
    #[serde(default)]
    pub local: bool,
    /// Whose endpoint this is, for people (at most 200 bytes).
    #[serde(default)]
    pub description: String,
}

/// Where an endpoint stands. Serialised as lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum WebhookState {
    /// Delivering.
    Active,
    /// Paused by an operator: messages are stored and wait.
    Paused,
    /// Disabled by the appliance (a `410 Gone`, or a message given up after three days):
    /// `state_reason` says why; resume it, then replay what was given up.
    Disabled,
}

/// One endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpoint {
    /// Its id: in its messages' `webhook-id`s, and in the paths of its routes.
    pub id: u64,
    /// Where messages go.
    pub url: String,
    /// Where it stands.
    pub state: WebhookState,
    /// Why (the last change's reason).
    pub state_reason: String,
    /// What it receives and how.
    pub settings: WebhookSettings,
    /// The last ledger sequence number already put in one of its messages.
    pub receipts_after: u64,
    /// How its deliveries go since the appliance started.
    pub delivery: WebhookDelivery,
}

/// An endpoint's delivery figures since the appliance started, and what it is owed now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookDelivery {
    /// Attempts started.
    pub attempts: u64,
    /// Messages acknowledged (a 2xx answer).
    pub acknowledged: u64,
    /// Messages given up on.
    pub given_up: u64,
    /// Failed attempts by class (`timeout`, `connect`, `server-error`, …); classes with none
    /// are left out.
    pub failures: Vec<WebhookFailures>,
    /// Messages stored and not acknowledged.
    pub owed_messages: u64,
    /// Committed receipts not yet put in one of its messages.
    pub receipts_behind: u64,
    /// When the oldest event it is owed happened, Unix microseconds; `null` when owed nothing.
    #[schema(required = true)]
    pub oldest_owed_unix_us: Option<u64>,
    /// Acknowledgements by the time from the event to its acknowledgement.
    pub ack_latency: Vec<WebhookLatencyBucket>,
    /// The sum of those times, seconds.
    pub ack_latency_sum_s: f64,
}

/// Failed attempts of one class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookFailures {
    /// The class.
    pub class: String,
    /// How many.
    pub count: u64,
}

/// Acknowledgements within one latency bucket (not cumulative).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookLatencyBucket {
    /// The bucket's upper bound, seconds; `null` for the last, unbounded one.
    #[schema(required = true)]
    pub le_s: Option<f64>,
    /// Acknowledgements above the previous bound and within this one.
    pub count: u64,
}

/// The body of `POST /api/v1/webhooks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AddWebhook {
    /// Where messages go: `https://…` (or `http://` for a local endpoint), at most 2048 bytes,
    /// no credentials.
    pub url: String,
    /// What it receives and how.
    pub settings: WebhookSettings,
    /// Why (recorded with the change).
    pub reason: String,
}

/// The reply of `POST /api/v1/webhooks`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookAdded {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// Its `whsec_` secret for `v1` signatures: shown only now.
    pub secret: String,
}

/// What to do to an endpoint. Serialised as lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum WebhookAction {
    /// Stop sending; messages are stored and wait.
    Pause,
    /// Send again (an endpoint paused, or disabled by the appliance).
    Resume,
    /// A new `whsec_` secret; the old one keeps signing beside it for 24 hours.
    Rotate,
    /// New settings (`settings` required); the URL stays.
    Change,
    /// Remove it for good; its record stays.
    Remove,
}

/// The body of `POST /api/v1/webhooks/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeWebhook {
    /// What to do.
    pub action: WebhookAction,
    /// For `change`: the new settings. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<WebhookSettings>,
    /// Why (recorded with the change).
    pub reason: String,
}

/// The reply of `POST /api/v1/webhooks/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookChanged {
    /// The endpoint as it is now; `null` once removed.
    #[schema(required = true)]
    pub endpoint: Option<WebhookEndpoint>,
    /// For `rotate`: the new `whsec_` secret, shown only now. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// The path of every `/api/v1/webhooks/{id}…` route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WebhookPath {
    /// The endpoint's id.
    pub id: u64,
}

/// The query of `GET /api/v1/webhooks/{id}/deliveries`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Only messages numbered below this one (the next page); default: the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
    /// How many, 1 to 500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// The reply of `GET /api/v1/webhooks/{id}/deliveries`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveriesReply {
    /// The endpoint.
    pub endpoint: u64,
    /// Its messages, newest first.
    pub messages: Vec<WebhookMessage>,
}

/// Where a message stands. Serialised as kebab-case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MessageStatus {
    /// Stored and not acknowledged yet.
    Owed,
    /// Acknowledged: `acknowledged_unix_us` and `answer_sha256` say when and with what.
    Acknowledged,
    /// Given up on (its endpoint was disabled): replay it once the receiver is back.
    GivenUp,
}

/// One message to an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookMessage {
    /// Its number in the endpoint's order, from 1.
    pub number: u64,
    /// Its `webhook-id`, the same on every attempt.
    pub id: String,
    /// Its event type.
    pub event: String,
    /// The first receipt it carries (ledger sequence number); `null` for an event without.
    #[schema(required = true)]
    pub first_seq: Option<u64>,
    /// The last receipt it carries; `null` for an event without.
    #[schema(required = true)]
    pub last_seq: Option<u64>,
    /// When what it tells of happened, Unix microseconds.
    pub occurred_unix_us: u64,
    /// Where it stands.
    pub status: MessageStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due, Unix microseconds; `null` unless owed.
    #[schema(required = true)]
    pub next_attempt_unix_us: Option<u64>,
    /// Why the last attempt failed; `null` if none did.
    #[schema(required = true)]
    pub last_failure: Option<String>,
    /// When it was acknowledged, Unix microseconds; `null` unless acknowledged.
    #[schema(required = true)]
    pub acknowledged_unix_us: Option<u64>,
    /// The SHA-256 (hex) of the acknowledging answer's status line and body: the auditor's
    /// reference; `null` unless acknowledged.
    #[schema(required = true)]
    pub answer_sha256: Option<String>,
}

/// The body of `POST /api/v1/webhooks/{id}/replay`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplayWebhook {
    /// The first message number to send again.
    pub from: u64,
    /// The last (at most 1000 messages in one replay).
    pub to: u64,
    /// Why (recorded with the change).
    pub reason: String,
}

/// The reply of `POST /api/v1/webhooks/{id}/replay`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookReplayed {
    /// Messages stored again, with their `webhook-id`s unchanged, after those owed.
    pub queued: u64,
    /// Messages of the range still owed (not sent again: they are on their way).
    pub still_owed: u64,
    /// Messages whose receipts the ledger no longer holds (pruned after a compliance
    /// snapshot sealed them), or that the endpoint's settings no longer select.
    pub unavailable: u64,
}
