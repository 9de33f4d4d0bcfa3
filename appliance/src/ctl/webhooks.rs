//! `appliance ctl webhooks`: auditor webhook endpoints through the admin API (list, add,
//! pause, resume, rotate, change, remove, deliveries, replay).

use tf_admin_api::{
    AddWebhook, ChangeWebhook, Operation, ReplayWebhook, TenantId, WebhookAction, WebhookSettings,
};

use super::Request;
use crate::cli::webhooks_ctl::{ChangeArgs, SettingsArgs, WebhooksCtl};

/// The settings an endpoint is added or changed with.
fn settings(args: &SettingsArgs) -> WebhookSettings {
    WebhookSettings {
        events: args.events.clone(),
        tenants: (!args.tenants.is_empty())
            .then(|| args.tenants.iter().cloned().map(TenantId).collect()),
        schemes: match args.schemes.is_empty() {
            true => vec!["v1".to_owned()],
            false => args.schemes.clone(),
        },
        rate_per_s: args.rate_per_s,
        batch_max: args.batch_max,
        local: args.local,
        description: args.description.clone(),
    }
}

/// The call a webhooks command makes.
pub(super) fn request(what: &WebhooksCtl) -> Result<Request, String> {
    let at =
        |operation: Operation, id: u64| operation.route().path.replace("{id}", &id.to_string());
    let change = |args: &ChangeArgs, action: WebhookAction| {
        Request::json(
            Operation::ChangeWebhook,
            at(Operation::ChangeWebhook, args.id),
            &ChangeWebhook {
                action,
                settings: None,
                reason: args.reason.clone(),
            },
        )
    };
    match what {
        WebhooksCtl::List => Ok(Request::get(
            Operation::Webhooks,
            Operation::Webhooks.route().path.to_owned(),
        )),
        WebhooksCtl::Add {
            url,
            settings,
            reason,
        } => Request::json(
            Operation::AddWebhook,
            Operation::AddWebhook.route().path.to_owned(),
            &AddWebhook {
                url: url.clone(),
                settings: self::settings(settings),
                reason: reason.clone(),
            },
        ),
        WebhooksCtl::Pause(args) => change(args, WebhookAction::Pause),
        WebhooksCtl::Resume(args) => change(args, WebhookAction::Resume),
        WebhooksCtl::Rotate(args) => change(args, WebhookAction::Rotate),
        WebhooksCtl::Remove(args) => change(args, WebhookAction::Remove),
        WebhooksCtl::Change {
            id,
            settings,
            reason,
        } => Request::json(
            Operation::ChangeWebhook,
            at(Operation::ChangeWebhook, *id),
            &ChangeWebhook {
                action: WebhookAction::Change,
                settings: Some(self::settings(settings)),
                reason: reason.clone(),
            },
        ),
        WebhooksCtl::Deliveries { id, limit, before } => {
            let mut target = format!("{}?limit={limit}", at(Operation::Deliveries, *id));
            if let Some(before) = before {
                target.push_str(&format!("&before={before}"));
            }
            Ok(Request::get(Operation::Deliveries, target))
        }
        WebhooksCtl::Replay {
            id,
            from,
            to,
            reason,
        } => Request::json(
            Operation::ReplayWebhook,
            at(Operation::ReplayWebhook, *id),
            &ReplayWebhook {
                from: *from,
                to: *to,
                reason: reason.clone(),
            },
        ),
    }
}
