//! What operators ask of the outbox (through the admin API, the CLI and the console): add,
//! change, pause, resume, rotate, remove, list, show deliveries. Every change goes through
//! the outbox, the one writer of the endpoints, and is recorded with who made it and why.

use actix::prelude::*;
use ed25519_dalek::VerifyingKey;
use rand_core::OsRng;
use tf_ledger::{Change, EndpointRow, EndpointState, LedgerError, MessageRow, NewEndpoint};
use tf_seam::clock::unix_micros;
use tf_webhook_client::{Destination, UrlError};
use tf_webhooks::{EndpointSettings, SettingsError, WebhookPublicKey, WebhookSecret};

use crate::webhooks::outbox::Outbox;

/// How long a rotated secret keeps signing beside its successor.
pub const ROTATION_GRACE_US: u64 = 24 * 3_600 * 1_000_000;
/// The most endpoints kept (removed ones do not count).
pub const MAX_ENDPOINTS: usize = 64;
/// The most messages one listing shows.
pub const MAX_LISTED: usize = 500;

/// Who asks, and why: recorded with the change.
#[derive(Clone, Debug)]
pub struct Asker {
    /// The admin token's name.
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The URL cannot be an endpoint.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The settings are refused.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Settings that are not the expected JSON.
    #[error("the settings are not valid: {0}")]
    SettingsJson(String),
    /// Too many endpoints.
    #[error("there are already {MAX_ENDPOINTS} endpoints; remove one first")]
    TooMany,
    /// No such endpoint (or a removed one).
    #[error("no webhook endpoint {0}; list them with `appliance ctl webhooks list`")]
    NoSuchEndpoint(u64),
    /// The change does not apply in the endpoint's state.
    #[error("endpoint {id} is {state}; {what}")]
    WrongState {
        /// The endpoint.
        id: u64,
        /// Its state.
        state: &'static str,
        /// What to do instead.
        what: &'static str,
    },
    /// A range of messages that cannot be replayed.
    #[error("{0}")]
    Range(String),
    /// The ledger or the state directory failed.
    #[error("{0}")]
    Storage(String),
}

impl From<LedgerError> for RequestError {
    fn from(error: LedgerError) -> Self {
        match error {
            LedgerError::NoSuchEndpoint { id } => RequestError::NoSuchEndpoint(id),
            other => RequestError::Storage(other.to_string()),
        }
    }
}

/// An endpoint as operators see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointView {
    /// The stored endpoint.
    pub row: EndpointRow,
    /// Its settings.
    pub settings: EndpointSettings,
}

/// Adds an endpoint; answers its id and its first `whsec_` secret (shown only now).
#[derive(Debug, Message)]
#[rtype(result = "Result<(u64, WebhookSecret), RequestError>")]
pub struct AddEndpoint {
    /// Where messages go.
    pub url: String,
    /// What it receives and how.
    pub settings: EndpointSettings,
    /// Who asks and why.
    pub asker: Asker,
}

/// What an operator does to an endpoint.
#[derive(Clone, Debug)]
pub enum EndpointAction {
    /// Stop sending; messages wait.
    Pause,
    /// Send again (an endpoint paused, or disabled by the appliance).
    Resume,
    /// A new secret; the old one signs for [`ROTATION_GRACE_US`] more.
    RotateSecret,
    /// New settings (the URL stays; add another endpoint for another URL).
    Update(EndpointSettings),
    /// Remove it for good (its record stays).
    Remove,
}

/// Applies an action; answers the new secret for a rotation.
#[derive(Debug, Message)]
#[rtype(result = "Result<Option<WebhookSecret>, RequestError>")]
pub struct ChangeEndpoint {
    /// The endpoint.
    pub id: u64,
    /// What to do.
    pub action: EndpointAction,
    /// Who asks and why.
    pub asker: Asker,
}

/// Every endpoint that is not removed.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<EndpointView>, RequestError>")]
pub struct ListEndpoints;

/// An endpoint's messages, newest first, without bodies.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<MessageRow>, RequestError>")]
pub struct Deliveries {
    /// The endpoint.
    pub id: u64,
    /// Messages numbered below this one (paging), or the newest.
    pub before: Option<u64>,
    /// How many, at most [`MAX_LISTED`].
    pub limit: usize,
}

/// The public key receivers check `v1a` signatures with.
#[derive(Debug, Message)]
#[rtype(result = "WebhookPublicKey")]
pub struct PublicKey;

impl Handler<AddEndpoint> for Outbox {
    type Result = Result<(u64, WebhookSecret), RequestError>;

    fn handle(&mut self, add: AddEndpoint, _: &mut Self::Context) -> Self::Result {
        add.settings.validate()?;
        Destination::parse(&add.url, add.settings.local)?;
        let live = self
            .plan
            .ledger
            .endpoints()?
            .iter()
            .filter(|e| e.state != EndpointState::Removed)
            .count();
        if live >= MAX_ENDPOINTS {
            return Err(RequestError::TooMany);
        }
        let now_us = unix_micros();
        let settings_json = serde_json::to_string(&add.settings).expect("settings serialise");
        let timeline_after = self
            .plan
            .ledger
            .timeline()?
            .last()
            .map_or(0, |event| event.seq);
        // It is owed what is committed from now on.
        let id = self.plan.ledger.add_endpoint(
            &NewEndpoint {
                url: &add.url,
                settings_json: &settings_json,
                receipts_after: self.plan.board.committed(),
                timeline_after,
                events_after: self.plan.ledger.last_control_event()?,
            },
            &change(now_us, "add", &add.asker),
        )?;
        let secret = self
            .plan
            .secrets
            .create(id, now_us, &mut OsRng)
            .map_err(|e| RequestError::Storage(e.to_string()))?;
        self.reload(now_us);
        Ok((id, secret))
    }
}

impl Handler<ChangeEndpoint> for Outbox {
    type Result = Result<Option<WebhookSecret>, RequestError>;

    fn handle(&mut self, request: ChangeEndpoint, _: &mut Self::Context) -> Self::Result {
        let now_us = unix_micros();
        let id = request.id;
        let row = self
            .plan
            .ledger
            .endpoints()?
            .into_iter()
            .find(|e| e.id == id && e.state != EndpointState::Removed)
            .ok_or(RequestError::NoSuchEndpoint(id))?;
        let asker = &request.asker;
        let mut secret = None;
        match &request.action {
            EndpointAction::Pause => {
                if row.state != EndpointState::Active {
                    return Err(RequestError::WrongState {
                        id,
                        state: row.state.as_str(),
                        what: "only an active endpoint can be paused",
                    });
                }
                self.plan.ledger.change_endpoint(
                    id,
                    Some(EndpointState::Paused),
                    None,
                    &change(now_us, "pause", asker),
                )?;
            }
            EndpointAction::Resume => {
                if row.state == EndpointState::Active {
                    return Err(RequestError::WrongState {
                        id,
                        state: row.state.as_str(),
                        what: "it is already delivering",
                    });
                }
                self.plan.ledger.change_endpoint(
                    id,
                    Some(EndpointState::Active),
                    None,
                    &change(now_us, "resume", asker),
                )?;
            }
            EndpointAction::RotateSecret => {
                secret = Some(
                    self.plan
                        .secrets
                        .rotate(id, now_us, ROTATION_GRACE_US, &mut OsRng)
                        .map_err(|e| RequestError::Storage(e.to_string()))?,
                );
                self.plan.ledger.change_endpoint(
                    id,
                    None,
                    None,
                    &change(now_us, "rotate", asker),
                )?;
            }
            EndpointAction::Update(settings) => {
                settings.validate()?;
                Destination::parse(&row.url, settings.local)?;
                let json = serde_json::to_string(settings).expect("settings serialise");
                self.plan.ledger.change_endpoint(
                    id,
                    None,
                    Some(&json),
                    &change(now_us, "change", asker),
                )?;
            }
            EndpointAction::Remove => {
                self.plan.ledger.change_endpoint(
                    id,
                    Some(EndpointState::Removed),
                    None,
                    &change(now_us, "remove", asker),
                )?;
                if let Err(error) = self.plan.secrets.remove(id) {
                    tracing::warn!(
                        endpoint = id,
                        "webhooks: the removed endpoint's secrets stay: {error}"
                    );
                }
            }
        }
        self.reload(now_us);
        Ok(secret)
    }
}

impl Handler<ListEndpoints> for Outbox {
    type Result = Result<Vec<EndpointView>, RequestError>;

    fn handle(&mut self, _: ListEndpoints, _: &mut Self::Context) -> Self::Result {
        let rows = self.plan.ledger.endpoints()?;
        rows.into_iter()
            .filter(|row| row.state != EndpointState::Removed)
            .map(|row| {
                let settings = serde_json::from_str(&row.settings_json)
                    .map_err(|e| RequestError::SettingsJson(e.to_string()))?;
                Ok(EndpointView { row, settings })
            })
            .collect()
    }
}

impl Handler<Deliveries> for Outbox {
    type Result = Result<Vec<MessageRow>, RequestError>;

    fn handle(&mut self, ask: Deliveries, _: &mut Self::Context) -> Self::Result {
        Ok(self
            .plan
            .ledger
            .messages(ask.id, ask.before, ask.limit.min(MAX_LISTED))?)
    }
}

impl Handler<PublicKey> for Outbox {
    type Result = MessageResult<PublicKey>;

    fn handle(&mut self, _: PublicKey, _: &mut Self::Context) -> Self::Result {
        let key: VerifyingKey = self.plan.key.verifying_key();
        MessageResult(WebhookPublicKey::from(key))
    }
}

fn change<'a>(at_us: u64, action: &'a str, asker: &'a Asker) -> Change<'a> {
    Change {
        at_us,
        action,
        actor: &asker.actor,
        reason: &asker.reason,
    }
}
