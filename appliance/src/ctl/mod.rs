//! `appliance ctl`: the admin API from the command line (status, timeline, validate, promote,
//! rollback, diff, receipts) and making tokens. Requests and replies are the admin API
//! contract's types (`tf_admin_api`): a reply is parsed into its route's type before it is
//! shown, and an error into `ErrorBody`.

pub(crate) mod connect;
pub(crate) mod http;
mod invites;
pub(crate) mod show;
mod terms;
pub(crate) mod webhooks;

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;
use tf_admin_api::{
    CanaryReply, DriftQuery, DriftReply, NewSilence, Operation, PromoteQuery, ReceiptVerdict,
    ReceiptsQuery, ResetBaseline, Revision, RollbackRequest, TenantId, UtcTime, ValidateQuery,
};
use tf_drift::Judgement;

use crate::cli::terms_ctl::TermsCtl;
use crate::cli::{CanaryCtl, CtlArgs, CtlWhat, DriftFormat, TokenWhat};
use crate::{output, times};
use connect::{AdminApi, Failure};

/// One call to the admin API.
struct Request {
    /// The route.
    operation: Operation,
    /// Its path, parameters filled in, and query.
    target: String,
    /// The body's type.
    content_type: &'static str,
    /// The body.
    body: Vec<u8>,
}

impl Request {
    /// A call without a body.
    fn get(operation: Operation, target: String) -> Self {
        Request {
            operation,
            target,
            content_type: "application/json",
            body: Vec::new(),
        }
    }

    /// A call with `body` as JSON.
    fn json(operation: Operation, target: String, body: &impl Serialize) -> Result<Self, String> {
        Ok(Request {
            operation,
            target,
            content_type: "application/json",
            body: serde_json::to_vec(body).map_err(|e| e.to_string())?,
        })
    }
}

/// Runs one `appliance ctl` command. Exit 0 done, 1 failed (refused, not allowed,
/// unreachable), 2 bad usage; `ctl drift` exits as `bundle drift` does (see `judged`).
pub fn run(args: CtlArgs) -> ExitCode {
    match execute(&args) {
        Ok(code) => code,
        // For the drift guard 1 is "blocked": a failure that leaves no judgement (unreachable,
        // busy, refused, an answer not understood) is 2, "cannot judge", as `appliance log`
        // tells a network failure from a proof that does not verify.
        Err(Failure::Failed(why)) if matches!(args.what, CtlWhat::Drift { .. }) => {
            Failure::Usage(why).report("appliance ctl")
        }
        Err(failure) => failure.report("appliance ctl"),
    }
}

fn execute(args: &CtlArgs) -> Result<ExitCode, Failure> {
    if let CtlWhat::Token {
        what: TokenWhat::New { name, roles },
    } = &args.what
    {
        return new_token(name, roles, args.json).map(|()| ExitCode::SUCCESS);
    }
    let request = request(&args.what).map_err(Failure::Usage)?;
    let api = AdminApi::new(&args.admin)?;
    let answer = api.send(
        request.operation,
        &request.target,
        request.content_type,
        &request.body,
    )?;
    if let CtlWhat::Drift { format, .. } = &args.what {
        return judged(&answer.body, *format, args.json);
    }
    if let CtlWhat::Terms {
        what: TermsCtl::Files { out },
    } = &args.what
    {
        return terms::write_files(&answer.body, out, args.json).map(|()| ExitCode::SUCCESS);
    }
    if let CtlWhat::Canary { what } = &args.what {
        match what {
            CanaryCtl::Run => return canary_ran(&answer.body, args.json),
            CanaryCtl::Silences if !args.json => {
                let reply: CanaryReply = serde_json::from_str(&answer.body).map_err(|e| {
                    Failure::Failed(format!(
                        "the canary's answer is not the reply this version knows: {e}"
                    ))
                })?;
                output::line(show::canary_silences(&reply).join("\n"));
                return Ok(ExitCode::SUCCESS);
            }
            _ => {}
        }
    }
    match show::reply(request.operation, &answer.body, args.json) {
        Ok(text) => output::line(text),
        Err(e) => {
            // Done all the same (the appliance said so): show what it answered, and why it
            // was not read as this version's reply.
            let route = request.operation.route();
            eprintln!(
                "appliance ctl: the answer of {} {} is not the reply this version knows: {e}",
                route.method, route.path
            );
            output::line(show::as_received(&answer.body));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ctl canary run`'s result; exit 1 when the canary fails.
fn canary_ran(body: &str, json: bool) -> Result<ExitCode, Failure> {
    let reply: CanaryReply = serde_json::from_str(body).map_err(|e| {
        Failure::Failed(format!(
            "the canary run's answer is not the reply this version knows: {e}"
        ))
    })?;
    output::line(show::reply(Operation::Canary, body, json).expect("parsed above"));
    Ok(if reply.overall.as_deref() == Some("fail") {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `ctl drift`'s report in the format asked for; exit as `bundle drift` does: 0 when the
/// bundle may be promoted (the drift passes, or is overridden), 1 when it may not (over the
/// tolerance), 2 when there are too few decisions to judge.
fn judged(body: &str, format: DriftFormat, json: bool) -> Result<ExitCode, Failure> {
    let reply: DriftReply = serde_json::from_str(body).map_err(|e| {
        Failure::Failed(format!(
            "the drift judgement's answer is not the reply this version knows: {e}"
        ))
    })?;
    let printed = match (json, format) {
        (true, _) | (false, DriftFormat::Json) => {
            serde_json::to_string_pretty(&reply).expect("a reply serialises")
        }
        (false, DriftFormat::Markdown) => reply.markdown.clone(),
        (false, DriftFormat::Text) => reply.text.clone(),
    };
    output::line(printed.trim_end());
    // Spelled as the admin server spells it: the judgement's own serialisation.
    let too_few = serde_json::to_value(Judgement::TooFewDecisions)
        .is_ok_and(|spelled| spelled == reply.judgement.as_str());
    Ok(if reply.passes {
        ExitCode::SUCCESS
    } else if too_few {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    })
}

/// The call a command makes; an unusable argument (an unreadable bundle file) as a message.
fn request(what: &CtlWhat) -> Result<Request, String> {
    let json = "application/json";
    let path = |operation: Operation| operation.route().path.to_owned();
    let get = |operation: Operation, target: String| Request {
        operation,
        target,
        content_type: json,
        body: Vec::new(),
    };
    Ok(match what {
        CtlWhat::Status => get(Operation::Status, path(Operation::Status)),
        CtlWhat::Timeline => get(Operation::Timeline, path(Operation::Timeline)),
        CtlWhat::Scenarios => get(Operation::Scenarios, path(Operation::Scenarios)),
        CtlWhat::Canary {
            what: CanaryCtl::Status,
        } => get(Operation::Canary, path(Operation::Canary)),
        // The same reply as status, shown as its silences and timeline.
        CtlWhat::Canary {
            what: CanaryCtl::Silences,
        } => get(Operation::Canary, path(Operation::Canary)),
        CtlWhat::Canary {
            what:
                CanaryCtl::Silence {
                    comparators,
                    items,
                    duration,
                    reason,
                },
        } => Request {
            body: serde_json::to_vec(&NewSilence {
                comparators: comparators.clone(),
                items: items.clone(),
                duration: duration.clone(),
                reason: reason.clone(),
            })
            .expect("a request serialises"),
            ..get(Operation::SilenceCanary, path(Operation::SilenceCanary))
        },
        CtlWhat::Canary {
            what: CanaryCtl::Lift { id },
        } => Request {
            body: b"{}".to_vec(),
            ..get(
                Operation::LiftSilence,
                path(Operation::LiftSilence).replace("{id}", &id.to_string()),
            )
        },
        CtlWhat::Canary {
            what: CanaryCtl::Rebaseline { reason },
        } => Request {
            body: serde_json::to_vec(&ResetBaseline {
                reason: reason.clone(),
            })
            .expect("a request serialises"),
            ..get(
                Operation::ResetCanaryBaseline,
                path(Operation::ResetCanaryBaseline),
            )
        },
        CtlWhat::Canary {
            what: CanaryCtl::Run,
        } => Request {
            body: b"{}".to_vec(),
            ..get(Operation::RunCanary, path(Operation::RunCanary))
        },
        CtlWhat::Receipt { seq } => get(
            Operation::Receipt,
            path(Operation::Receipt).replace("{seq}", &seq.to_string()),
        ),
        CtlWhat::Receipts {
            tenant,
            from,
            to,
            request_id,
            verdict,
            limit,
            before,
        } => {
            let now = times::now_utc();
            let time = |flag: &str, text: &Option<String>| {
                text.as_deref()
                    .map(|text| times::parse(text, &now).map(UtcTime))
                    .transpose()
                    .map_err(|e| format!("{flag}: {e}"))
            };
            let verdict = verdict
                .as_deref()
                .map(|name| {
                    ReceiptVerdict::parse(name).ok_or_else(|| {
                        format!("--verdict {name:?}: use valid, invalid or rejected")
                    })
                })
                .transpose()?;
            let query = ReceiptsQuery {
                tenant: tenant.clone().map(TenantId),
                from: time("--from", from)?,
                to: time("--to", to)?,
                request_id: *request_id,
                verdict,
                before: *before,
                limit: Some(*limit),
            };
            get(
                Operation::SearchReceipts,
                format!(
                    "{}?{}",
                    path(Operation::SearchReceipts),
                    query.to_query_string()
                ),
            )
        }
        CtlWhat::Diff { revision, against } => {
            let mut target = path(Operation::Diff).replace("{revision}", &revision.to_string());
            if let Some(old) = against {
                target.push_str(&format!("?against={old}"));
            }
            get(Operation::Diff, target)
        }
        CtlWhat::Validate {
            file,
            allow_cap_below_spent,
            allow_partners_dropped,
        } => {
            let query = ValidateQuery {
                allow_cap_below_spent: *allow_cap_below_spent,
                allow_partners_dropped: *allow_partners_dropped,
            };
            bundle_request(Operation::Validate, file, &query.to_query_string())?
        }
        CtlWhat::Promote {
            file,
            allow_cap_below_spent,
            allow_partners_dropped,
            approval,
        } => {
            let query = PromoteQuery {
                allow_cap_below_spent: *allow_cap_below_spent,
                allow_partners_dropped: *allow_partners_dropped,
                override_by: approval.override_by.clone(),
                reason: approval.reason.clone(),
            };
            bundle_request(Operation::Promote, file, &query.to_query_string())?
        }
        CtlWhat::Drift {
            file,
            window,
            against,
            tolerance,
            approval,
            format: _,
        } => {
            let query = DriftQuery {
                window: Some(window.clone()),
                against: against.map(Revision),
                tolerance: Some(*tolerance),
                override_by: approval.override_by.clone(),
                reason: approval.reason.clone(),
            };
            bundle_request(Operation::Drift, file, &query.to_query_string())?
        }
        CtlWhat::Rollback {
            reason,
            to,
            allow_partners_dropped,
        } => {
            let body = RollbackRequest {
                reason: reason.clone(),
                to: to.map(Revision),
                allow_partners_dropped: *allow_partners_dropped,
            };
            Request {
                operation: Operation::Rollback,
                target: path(Operation::Rollback),
                content_type: json,
                body: serde_json::to_vec(&body).map_err(|e| e.to_string())?,
            }
        }
        CtlWhat::Webhooks { what } => return webhooks::request(what),
        CtlWhat::Invites { what } => return invites::request(what),
        CtlWhat::Terms { what } => return terms::request(what),
        CtlWhat::Token { .. } => return Err("`ctl token new` makes no call".into()),
    })
}

/// A call with a bundle archive as its body.
fn bundle_request(operation: Operation, file: &Path, query: &str) -> Result<Request, String> {
    let archive = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut target = operation.route().path.to_owned();
    if !query.is_empty() {
        target.push('?');
        target.push_str(query);
    }
    Ok(Request {
        operation,
        target,
        content_type: "application/gzip",
        body: archive,
    })
}

/// `ctl token new`: a new token, printed once, and its `[[admin.tokens]]` entry.
fn new_token(name: &str, roles: &[String], json: bool) -> Result<(), Failure> {
    let token = tf_admin::auth::new_token();
    let entry = tf_config::AdminToken {
        name: name.to_owned(),
        roles: roles.to_vec(),
        sha256: hex::encode(tf_admin::auth::digest(&token)),
    };
    let mut config = tf_config::Config::default();
    config.admin.tokens.push(entry.clone());
    // The entry is checked exactly as the appliance will check it.
    let text = toml::to_string(&config).unwrap_or_default();
    tf_config::Config::parse(&text, Path::new("--name/--role"))
        .map_err(|e| Failure::Usage(e.to_string()))?;
    if json {
        let made = serde_json::json!({
            "name": entry.name,
            "roles": entry.roles,
            "token": token,
            "sha256": entry.sha256,
        });
        output::line(serde_json::to_string_pretty(&made).unwrap_or_default());
        return Ok(());
    }
    output::line(format!(
        "token (give it to {name}; it is shown once): {token}"
    ));
    output::line("add to the appliance configuration, then restart the appliance:");
    output::line("");
    output::line("[[admin.tokens]]");
    output::line(format!("name = {:?}", entry.name));
    let roles: Vec<String> = entry.roles.iter().map(|r| format!("{r:?}")).collect();
    output::line(format!("roles = [{}]", roles.join(", ")));
    output::line(format!("sha256 = {:?}", entry.sha256));
    Ok(())
}
