//! A successful reply as `appliance ctl` prints it: parsed into its route's type (which checks
//! it), then for people (aligned tables, relative times, units) or, with `--json`, as pretty
//! JSON in the order the server wrote it.

mod bundles;
mod canary;
pub(crate) use canary::silences as canary_silences;
mod invites;
mod receipts;
pub(crate) mod scenarios;
pub(crate) mod table;
mod terms;
pub(crate) mod time;
mod webhooks;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tf_admin_api::{
    CanaryEvent, CanaryReply, CanarySilence, DeliveriesReply, DiffReply, InviteCreated,
    InviteEntry, InvitesReply, Operation, ReceiptReply, ReceiptsReply, ScenariosReply, StatusReply,
    Switched, TermsRequestEntry, TermsRequestsReply, TimelineReply, ValidateReply, WebhookAdded,
    WebhookChanged, WebhookReplayed, WebhooksReply,
};

/// The reply's text; an answer that is not the route's reply is the parse error.
pub(crate) fn reply(
    operation: Operation,
    body: &str,
    json: bool,
) -> Result<String, serde_json::Error> {
    let now = time::now_us();
    let lines = match operation {
        Operation::Status => shown::<StatusReply>(body, json, |r| bundles::status(r, now)),
        Operation::Timeline => shown::<TimelineReply>(body, json, |r| bundles::timeline(r, now)),
        Operation::Diff => shown::<DiffReply>(body, json, bundles::diff),
        Operation::Validate => shown::<ValidateReply>(body, json, bundles::validate),
        Operation::Promote | Operation::Rollback | Operation::GrantTerms => {
            shown::<Switched>(body, json, bundles::switched)
        }
        Operation::Receipt => shown::<ReceiptReply>(body, json, |r| receipts::receipt(r, now)),
        Operation::SearchReceipts => {
            shown::<ReceiptsReply>(body, json, |r| receipts::found(r, now))
        }
        Operation::Webhooks => shown::<WebhooksReply>(body, json, |r| webhooks::list(r, now)),
        Operation::AddWebhook => shown::<WebhookAdded>(body, json, webhooks::added),
        Operation::ChangeWebhook => shown::<WebhookChanged>(body, json, webhooks::changed),
        Operation::Deliveries => {
            shown::<DeliveriesReply>(body, json, |r| webhooks::deliveries(r, now))
        }
        Operation::ReplayWebhook => shown::<WebhookReplayed>(body, json, webhooks::replayed),
        Operation::Scenarios => shown::<ScenariosReply>(body, json, scenarios::results),
        Operation::Canary | Operation::RunCanary => {
            shown::<CanaryReply>(body, json, canary::status)
        }
        Operation::SilenceCanary | Operation::LiftSilence => {
            shown::<CanarySilence>(body, json, canary::silence)
        }
        Operation::Invites => shown::<InvitesReply>(body, json, invites::list),
        Operation::CreateInvite => shown::<InviteCreated>(body, json, invites::created),
        Operation::RevokeInvite => shown::<InviteEntry>(body, json, invites::entry),
        Operation::TermsRequests => shown::<TermsRequestsReply>(body, json, terms::list),
        Operation::DeclineTerms => shown::<TermsRequestEntry>(body, json, terms::entry),
        Operation::ResetCanaryBaseline => shown::<CanaryEvent>(body, json, |event| {
            vec![format!("{} {}", event.at, event.summary)]
        }),
        // `ctl` calls no other route.
        _ => Ok(vec![as_received(body)]),
    }?;
    Ok(lines.join("\n"))
}

fn shown<T: DeserializeOwned + Serialize>(
    body: &str,
    json: bool,
    human: impl FnOnce(&T) -> Vec<String>,
) -> Result<Vec<String>, serde_json::Error> {
    let reply: T = serde_json::from_str(body)?;
    if json {
        Ok(vec![serde_json::to_string_pretty(&reply)?])
    } else {
        Ok(human(&reply))
    }
}

/// A body as received: pretty if it is JSON, else its text.
pub(crate) fn as_received(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| body.to_owned())
}
