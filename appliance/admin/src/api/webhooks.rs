//! Auditor webhooks: `GET /api/v1/webhooks`, `POST /api/v1/webhooks` (add),
//! `POST /api/v1/webhooks/{id}` (pause, resume, rotate, change, remove),
//! `GET /api/v1/webhooks/{id}/deliveries` and `POST /api/v1/webhooks/{id}/replay`. Changes
//! and reads of stored messages are messages to the outbox, the endpoints' one writer;
//! delivery figures are read from the status it refreshes. The `*_value` functions are
//! shared with the console.

use std::sync::atomic::{AtomicUsize, Ordering};

use actix::{Addr, Handler, Message};
use actix_web::{HttpRequest, web};
use serde::de::DeserializeOwned;
use tf_admin_api::{
    AddWebhook, ChangeWebhook, DeliveriesQuery, DeliveriesReply, ErrorBody, ErrorCode,
    ReplayWebhook, RollbackRequest, WebhookAction, WebhookAdded, WebhookChanged, WebhookPath,
    WebhookReplayed, WebhooksReply,
};
use tf_control::webhooks::{
    AddEndpoint, Asker, ChangeEndpoint, Deliveries, EndpointAction, ListEndpoints, Outbox,
    PublicKey, ReplayMessages, RequestError, WebhooksHandle,
};
use tf_webhooks::EndpointSettings;

use super::convert::webhooks as convert;
use super::{Answer, ApiState, authorize, extracted, may};
use crate::auth::{Permission, Principal};

/// Messages listed when the query does not say.
const DEFAULT_LISTED: u32 = 50;

/// What the API holds of the outbox.
pub struct WebhooksApi {
    /// The outbox actor.
    pub outbox: Addr<Outbox>,
    /// The figures it refreshes.
    pub status: WebhooksHandle,
    /// Messages sent to it and not answered yet.
    pub asking: AtomicUsize,
}

impl WebhooksApi {
    /// The API's hold on `outbox`.
    pub fn new(outbox: Addr<Outbox>, status: WebhooksHandle) -> Self {
        WebhooksApi {
            outbox,
            status,
            asking: AtomicUsize::new(0),
        }
    }
}

/// Every endpoint with its figures, and the `v1a` public key.
pub async fn webhooks_value(state: &ApiState) -> Result<WebhooksReply, ErrorBody> {
    let api = webhooks(state)?;
    let key = ask(api, PublicKey).await?;
    let views = ask(api, ListEndpoints).await?.map_err(refusal)?;
    let status = api.status.status();
    Ok(WebhooksReply {
        public_key: key.to_string(),
        endpoints: views
            .iter()
            .map(|view| convert::endpoint(view, status.endpoints.get(&view.row.id)))
            .collect(),
    })
}

/// Adds an endpoint for `principal`; a local one needs the sre role.
pub async fn add_webhook_value(
    state: &ApiState,
    principal: Principal,
    add: AddWebhook,
) -> Result<WebhookAdded, ErrorBody> {
    let api = webhooks(state)?;
    let settings = settings_of(&add.settings, &principal)?;
    let asker = asker(principal, add.reason)?;
    let (id, secret) = ask(
        api,
        AddEndpoint {
            url: add.url,
            settings,
            asker,
        },
    )
    .await?
    .map_err(refusal)?;
    Ok(WebhookAdded {
        endpoint: endpoint_now(state, id)
            .await?
            .ok_or_else(|| internal("the endpoint added is not listed"))?,
        secret: secret.to_string(),
    })
}

/// Changes endpoint `id` for `principal`.
pub async fn change_webhook_value(
    state: &ApiState,
    principal: Principal,
    id: u64,
    change: ChangeWebhook,
) -> Result<WebhookChanged, ErrorBody> {
    let api = webhooks(state)?;
    let action = match (change.action, &change.settings) {
        (WebhookAction::Change, Some(settings)) => {
            EndpointAction::Update(settings_of(settings, &principal)?)
        }
        (WebhookAction::Change, None) => {
            return Err(bad_request("settings: a change needs the new settings"));
        }
        (_, Some(_)) => {
            return Err(bad_request(
                "settings: only a change takes settings; leave them out",
            ));
        }
        (WebhookAction::Pause, None) => EndpointAction::Pause,
        (WebhookAction::Resume, None) => EndpointAction::Resume,
        (WebhookAction::Rotate, None) => EndpointAction::RotateSecret,
        (WebhookAction::Remove, None) => EndpointAction::Remove,
        (_, None) => return Err(bad_request("action: not one this appliance knows")),
    };
    only_sres_touch_local(api, &principal, id).await?;
    let asker = asker(principal, change.reason)?;
    let secret = ask(api, ChangeEndpoint { id, action, asker })
        .await?
        .map_err(refusal)?;
    Ok(WebhookChanged {
        endpoint: endpoint_now(state, id).await?,
        secret: secret.map(|s| s.to_string()),
    })
}

/// Endpoint `id`'s messages, newest first.
pub async fn deliveries_value(
    state: &ApiState,
    id: u64,
    query: DeliveriesQuery,
) -> Result<DeliveriesReply, ErrorBody> {
    let api = webhooks(state)?;
    let limit = query.limit.unwrap_or(DEFAULT_LISTED);
    if !(1..=tf_control::webhooks::MAX_LISTED as u32).contains(&limit) {
        return Err(bad_request(format!(
            "limit: give 1 to {}",
            tf_control::webhooks::MAX_LISTED
        )));
    }
    // A removed endpoint's messages are not listed: it is not one of the endpoints.
    let listed = ask(api, ListEndpoints).await?.map_err(refusal)?;
    if !listed.iter().any(|view| view.row.id == id) {
        return Err(refusal(RequestError::NoSuchEndpoint(id)));
    }
    let rows = ask(
        api,
        Deliveries {
            id,
            before: query.before,
            limit: limit as usize,
        },
    )
    .await?
    .map_err(refusal)?;
    Ok(DeliveriesReply {
        endpoint: id,
        messages: rows.iter().map(convert::message).collect(),
    })
}

/// Sends messages of endpoint `id` again for `principal`.
pub async fn replay_value(
    state: &ApiState,
    principal: Principal,
    id: u64,
    replay: ReplayWebhook,
) -> Result<WebhookReplayed, ErrorBody> {
    let api = webhooks(state)?;
    only_sres_touch_local(api, &principal, id).await?;
    let asker = asker(principal, replay.reason)?;
    let replayed = ask(
        api,
        ReplayMessages {
            id,
            from: replay.from,
            to: replay.to,
            asker,
        },
    )
    .await?
    .map_err(refusal)?;
    Ok(WebhookReplayed {
        queued: replayed.queued,
        still_owed: replayed.still_owed,
        unavailable: replayed.unavailable,
    })
}

/// `GET /api/v1/webhooks`.
pub(super) async fn list(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Answer<WebhooksReply> {
    authorize(&request, &state, Permission::ReadReceipts)?;
    Ok(web::Json(webhooks_value(&state).await?))
}

/// `POST /api/v1/webhooks`.
pub(super) async fn add(
    request: HttpRequest,
    state: web::Data<ApiState>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<WebhookAdded> {
    let principal = authorize(&request, &state, Permission::Webhooks)?;
    let add: AddWebhook = json_body(
        body,
        "expected {\"url\": …, \"settings\": {\"events\": […], \"schemes\": […]}, \"reason\": …}",
    )?;
    Ok(web::Json(add_webhook_value(&state, principal, add).await?))
}

/// `POST /api/v1/webhooks/{id}`.
pub(super) async fn change(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: Result<web::Path<WebhookPath>, actix_web::Error>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<WebhookChanged> {
    let principal = authorize(&request, &state, Permission::Webhooks)?;
    let path = extracted("the endpoint id in the path", path)?;
    let change: ChangeWebhook = json_body(
        body,
        "expected {\"action\": \"pause|resume|rotate|change|remove\", \"reason\": …}",
    )?;
    Ok(web::Json(
        change_webhook_value(&state, principal, path.id, change).await?,
    ))
}

/// `GET /api/v1/webhooks/{id}/deliveries`.
pub(super) async fn deliveries(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: Result<web::Path<WebhookPath>, actix_web::Error>,
    query: Result<web::Query<DeliveriesQuery>, actix_web::Error>,
) -> Answer<DeliveriesReply> {
    authorize(&request, &state, Permission::ReadReceipts)?;
    let path = extracted("the endpoint id in the path", path)?;
    let query = extracted("the query", query)?;
    Ok(web::Json(
        deliveries_value(&state, path.id, query.into_inner()).await?,
    ))
}

/// `POST /api/v1/webhooks/{id}/replay`.
pub(super) async fn replay(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: Result<web::Path<WebhookPath>, actix_web::Error>,
    body: Result<web::Bytes, actix_web::Error>,
) -> Answer<WebhookReplayed> {
    let principal = authorize(&request, &state, Permission::Webhooks)?;
    let path = extracted("the endpoint id in the path", path)?;
    let replay: ReplayWebhook = json_body(
        body,
        "expected {\"from\": message number, \"to\": message number, \"reason\": …}",
    )?;
    Ok(web::Json(
        replay_value(&state, principal, path.id, replay).await?,
    ))
}

/// A JSON body, parsed only once the caller is known.
pub(super) fn json_body<T: DeserializeOwned>(
    body: Result<web::Bytes, actix_web::Error>,
    expected: &str,
) -> Result<T, ErrorBody> {
    let body = extracted("the body", body)?;
    serde_json::from_slice(&body).map_err(|e| bad_request(format!("{expected}: {e}")))
}

/// The endpoint as listed now; `None` once removed.
async fn endpoint_now(
    state: &ApiState,
    id: u64,
) -> Result<Option<tf_admin_api::WebhookEndpoint>, ErrorBody> {
    let api = webhooks(state)?;
    let views = ask(api, ListEndpoints).await?.map_err(refusal)?;
    let status = api.status.status();
    Ok(views
        .iter()
        .find(|view| view.row.id == id)
        .map(|view| convert::endpoint(view, status.endpoints.get(&id))))
}

/// A local endpoint is an SRE's: only those who may mark one local change or replay it (its
/// rotated secret, above all, is not for others).
async fn only_sres_touch_local(
    api: &WebhooksApi,
    principal: &Principal,
    id: u64,
) -> Result<(), ErrorBody> {
    let listed = ask(api, ListEndpoints).await?.map_err(refusal)?;
    if listed
        .iter()
        .any(|view| view.row.id == id && view.settings.local)
    {
        may(principal, Permission::LocalWebhook)?;
    }
    Ok(())
}

/// The outbox's settings from the contract's, checked; a local endpoint needs `LocalWebhook`.
fn settings_of(
    settings: &tf_admin_api::WebhookSettings,
    principal: &Principal,
) -> Result<EndpointSettings, ErrorBody> {
    if settings.local {
        may(principal, Permission::LocalWebhook)?;
    }
    let settings =
        convert::settings(settings).map_err(|e| bad_request(format!("settings: {e}")))?;
    settings
        .validate()
        .map_err(|e| bad_request(format!("settings: {e}")))?;
    Ok(settings)
}

fn asker(principal: Principal, reason: String) -> Result<Asker, ErrorBody> {
    if reason.trim().is_empty() || reason.len() > RollbackRequest::MAX_REASON_LEN {
        return Err(bad_request(
            "reason: say why, in 1 to 2000 characters (it is kept with the endpoint's changes)",
        ));
    }
    Ok(Asker {
        actor: principal.name,
        reason,
    })
}

/// The outbox's API handle; `webhooks-not-running` where none runs.
fn webhooks(state: &ApiState) -> Result<&WebhooksApi, ErrorBody> {
    state.webhooks.as_ref().ok_or_else(|| {
        ErrorBody::new(
            ErrorCode::WebhooksNotRunning,
            "no webhook outbox runs in this appliance",
        )
    })
}

/// Asks the outbox; past its mailbox's worth of unanswered questions, `busy`.
async fn ask<M>(api: &WebhooksApi, message: M) -> Result<M::Result, ErrorBody>
where
    M: Message + Send + 'static,
    M::Result: Send,
    Outbox: Handler<M>,
{
    if api.asking.fetch_add(1, Ordering::AcqRel) >= tf_control::worker::MAILBOX {
        api.asking.fetch_sub(1, Ordering::AcqRel);
        return Err(ErrorBody::new(
            ErrorCode::Busy,
            "the webhook outbox has too many requests waiting: retry in a few seconds",
        ));
    }
    let answer = api.outbox.send(message).await;
    api.asking.fetch_sub(1, Ordering::AcqRel);
    answer.map_err(|_| {
        ErrorBody::new(
            ErrorCode::Stopping,
            "the webhook outbox is not running (the appliance is stopping)",
        )
    })
}

/// The answer for a request the outbox refused.
fn refusal(error: RequestError) -> ErrorBody {
    let code = match &error {
        RequestError::Url(_)
        | RequestError::Settings(_)
        | RequestError::SettingsJson(_)
        | RequestError::Range(_) => ErrorCode::BadRequest,
        RequestError::NoSuchEndpoint(_) => ErrorCode::NotFound,
        RequestError::TooMany | RequestError::WrongState { .. } => ErrorCode::WrongState,
        _ => {
            tracing::error!(%error, "webhook outbox failure");
            ErrorCode::Internal
        }
    };
    ErrorBody::new(code, error.to_string())
}

fn bad_request(message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(ErrorCode::BadRequest, message)
}

fn internal(message: &str) -> ErrorBody {
    ErrorBody::new(ErrorCode::Internal, message)
}
