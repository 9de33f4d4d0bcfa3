//! `appliance ctl`: the admin API from the command line (status, timeline, validate, promote,
//! rollback, diff, receipts) and making tokens. Requests and replies are the admin API
//! contract's types (`tf_admin_api`): a reply is parsed into its route's type before it is
//! shown, and an error into `ErrorBody`.

pub(crate) mod http;
pub(crate) mod webhooks;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tf_admin_api::{
    DeliveriesReply, DiffReply, ErrorBody, Operation, ReceiptReply, Revision, RollbackRequest,
    StatusReply, Switched, TimelineReply, ValidateReply, WebhookAdded, WebhookChanged,
    WebhookReplayed, WebhooksReply,
};

use crate::cli::{CtlArgs, CtlWhat};
use crate::output;

/// How long a call may take (a promotion waits for every shard).
const TIMEOUT: Duration = Duration::from_secs(60);

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

/// Runs one `appliance ctl` command. Exit 0 done, 1 refused by the appliance, 2 unusable
/// arguments, unreachable, or not allowed (401, 403).
pub fn run(args: CtlArgs) -> ExitCode {
    if let CtlWhat::Token { name, roles } = &args.what {
        return new_token(name, roles);
    }
    let token = match token(args.token_file.as_deref(), args.state_dir.as_deref()) {
        Ok(token) => token,
        Err(message) => return usage(&message),
    };
    let request = match request(&args.what) {
        Ok(request) => request,
        Err(message) => return usage(&message),
    };
    let route = request.operation.route();
    // An https admin server's certificate is checked against --ca, else the state
    // directory's development CA (which issued the appliance's default certificate).
    let ca = args.ca.clone().unwrap_or_else(|| {
        tf_state::State::resolve(args.state_dir.clone()).join(tf_state::layout::CA_CERT)
    });
    let call = http::Call {
        base: &args.admin,
        method: route.method.as_str(),
        path: &request.target,
        token: &token,
        content_type: request.content_type,
        body: &request.body,
        ca: &ca,
    };
    let answer = match http::send(&call, TIMEOUT) {
        Ok(answer) => answer,
        Err(message) => return usage(&message),
    };
    if (200..300).contains(&answer.status) {
        match reply_text(request.operation, &answer.body) {
            Ok(text) => output::line(text),
            Err(e) => {
                // Done all the same (the appliance said so): show what it answered, and why it
                // was not read as this version's reply.
                eprintln!(
                    "appliance ctl: the answer of {} {} is not the reply this version knows: {e}",
                    route.method, route.path
                );
                output::line(as_received(&answer.body));
            }
        }
        return ExitCode::SUCCESS;
    }
    match serde_json::from_str::<ErrorBody>(&answer.body) {
        Ok(error) => {
            eprintln!(
                "appliance ctl: {} ({}): {}",
                error.error, answer.status, error.message
            );
            for problem in error.problems.iter().flatten() {
                eprintln!("  - {}", problem.message);
            }
            if let Some(seconds) = error.retry_after {
                eprintln!("  retry in {seconds} s");
            }
        }
        // Not an error this version knows (an older or newer appliance, or not the admin API):
        // its text as it came.
        Err(_) => eprintln!(
            "appliance ctl: error ({}): {}",
            answer.status,
            answer.body.trim()
        ),
    }
    if answer.status == 401 || answer.status == 403 {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
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
        CtlWhat::Receipt { seq } => get(
            Operation::Receipt,
            path(Operation::Receipt).replace("{seq}", &seq.to_string()),
        ),
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
        }
        | CtlWhat::Promote {
            file,
            allow_cap_below_spent,
        } => {
            let archive = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let operation = if matches!(what, CtlWhat::Validate { .. }) {
                Operation::Validate
            } else {
                Operation::Promote
            };
            let mut target = path(operation);
            if *allow_cap_below_spent {
                target.push_str("?allow_cap_below_spent=true");
            }
            Request {
                operation,
                target,
                content_type: "application/gzip",
                body: archive,
            }
        }
        CtlWhat::Rollback { reason, to } => {
            let body = RollbackRequest {
                reason: reason.clone(),
                to: to.map(Revision),
            };
            Request {
                operation: Operation::Rollback,
                target: path(Operation::Rollback),
                content_type: json,
                body: serde_json::to_vec(&body).map_err(|e| e.to_string())?,
            }
        }
        CtlWhat::Webhooks { what } => return webhooks::request(what),
        CtlWhat::Token { .. } => return Err("`ctl token` makes no call".into()),
    })
}

/// A successful reply, parsed into its route's type (which checks it) and shown as pretty
/// JSON, in the order the server wrote it.
fn reply_text(operation: Operation, body: &str) -> Result<String, serde_json::Error> {
    match operation {
        Operation::Status => typed::<StatusReply>(body),
        Operation::Timeline => typed::<TimelineReply>(body),
        Operation::Diff => typed::<DiffReply>(body),
        Operation::Validate => typed::<ValidateReply>(body),
        Operation::Promote | Operation::Rollback => typed::<Switched>(body),
        Operation::Receipt => typed::<ReceiptReply>(body),
        Operation::Webhooks => typed::<WebhooksReply>(body),
        Operation::AddWebhook => typed::<WebhookAdded>(body),
        Operation::ChangeWebhook => typed::<WebhookChanged>(body),
        Operation::Deliveries => typed::<DeliveriesReply>(body),
        Operation::ReplayWebhook => typed::<WebhookReplayed>(body),
        // `ctl` calls no other route.
        _ => Ok(as_received(body)),
    }
}

fn typed<T: DeserializeOwned + Serialize>(body: &str) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&serde_json::from_str::<T>(body)?)
}

/// A body as received: pretty if it is JSON, else its text.
fn as_received(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| body.to_owned())
}

/// The token: `--token-file`, else `$TF_ADMIN_TOKEN`, else the state directory's development
/// token.
pub(crate) fn token(file: Option<&Path>, state_dir: Option<&Path>) -> Result<String, String> {
    if let Some(file) = file {
        return read_token(file);
    }
    if let Ok(token) = std::env::var("TF_ADMIN_TOKEN") {
        return Ok(token.trim().to_owned());
    }
    let state = tf_state::State::resolve(state_dir.map(Path::to_path_buf));
    let dev = state.join(tf_admin::auth::DEV_TOKEN_FILE);
    read_token(&dev).map_err(|e| format!("{e}; pass --token-file FILE or set TF_ADMIN_TOKEN"))
}

fn read_token(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|t| t.trim().to_owned())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn new_token(name: &str, roles: &[String]) -> ExitCode {
    let token = tf_admin::auth::new_token();
    let entry = tf_config::AdminToken {
        name: name.to_owned(),
        roles: roles.to_vec(),
        sha256: hex::encode(tf_admin::auth::digest(&token)),
    };
    let mut config = tf_config::Config::default();
    config.admin.tokens.push(entry);
    // The entry is checked exactly as the appliance will check it.
    let text = toml::to_string(&config).unwrap_or_default();
    if let Err(e) = tf_config::Config::parse(&text, &PathBuf::from("--name/--role")) {
        return usage(&e.to_string());
    }
    output::line(format!(
        "token (give it to {name}; it is shown once): {token}"
    ));
    output::line("add to the appliance configuration, then restart the appliance:");
    output::line("");
    output::line("[[admin.tokens]]");
    output::line(format!("name = {:?}", name));
    output::line(format!(
        "roles = [{}]",
        roles
            .iter()
            .map(|r| format!("{r:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    output::line(format!(
        "sha256 = {:?}",
        hex::encode(tf_admin::auth::digest(&token))
    ));
    ExitCode::SUCCESS
}

fn usage(message: &str) -> ExitCode {
    eprintln!("appliance ctl: {message}");
    ExitCode::from(2)
}
