//! `appliance ctl`: the admin API from the command line (status, timeline, validate, promote,
//! rollback, diff, receipts) and making tokens.

mod http;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;

use crate::cli::{CtlArgs, CtlWhat};
use crate::output;

/// How long a call may take (a promotion waits for every shard).
const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs one `appliance ctl` command. Exit 0 done, 1 refused by the appliance, 2 unusable
/// arguments or unreachable.
pub fn run(args: CtlArgs) -> ExitCode {
    if let CtlWhat::Token { name, roles } = &args.what {
        return new_token(name, roles);
    }
    let token = match token(args.token_file.as_deref(), args.state_dir.as_deref()) {
        Ok(token) => token,
        Err(message) => return usage(&message),
    };
    let archive;
    let rollback_body;
    let path;
    let (method, target, content_type, body): (&str, &str, &str, &[u8]) = match &args.what {
        CtlWhat::Status => ("GET", "/api/v1/status", "application/json", b""),
        CtlWhat::Timeline => ("GET", "/api/v1/bundles", "application/json", b""),
        CtlWhat::Receipt { seq } => {
            path = format!("/api/v1/receipts/{seq}");
            ("GET", path.as_str(), "application/json", b"")
        }
        CtlWhat::Diff { revision, against } => {
            path = match against {
                Some(old) => format!("/api/v1/bundles/{revision}/diff?against={old}"),
                None => format!("/api/v1/bundles/{revision}/diff"),
            };
            ("GET", path.as_str(), "application/json", b"")
        }
        CtlWhat::Validate {
            file,
            allow_cap_below_spent,
        }
        | CtlWhat::Promote {
            file,
            allow_cap_below_spent,
        } => {
            archive = match std::fs::read(file) {
                Ok(bytes) => bytes,
                Err(e) => return usage(&format!("{}: {e}", file.display())),
            };
            let route = if matches!(args.what, CtlWhat::Validate { .. }) {
                "validate"
            } else {
                "promote"
            };
            path = format!(
                "/api/v1/bundles/{route}{}",
                if *allow_cap_below_spent {
                    "?allow_cap_below_spent=true"
                } else {
                    ""
                }
            );
            (
                "POST",
                path.as_str(),
                "application/gzip",
                archive.as_slice(),
            )
        }
        CtlWhat::Rollback { reason, to } => {
            rollback_body = serde_json::json!({ "reason": reason, "to": to }).to_string();
            (
                "POST",
                "/api/v1/bundles/rollback",
                "application/json",
                rollback_body.as_bytes(),
            )
        }
        CtlWhat::Token { .. } => unreachable!("handled above"),
    };
    let call = http::Call {
        base: &args.admin,
        method,
        path: target,
        token: &token,
        content_type,
        body,
    };
    let answer = match http::send(&call, TIMEOUT) {
        Ok(answer) => answer,
        Err(message) => return usage(&message),
    };
    let value: Value = serde_json::from_str(&answer.body).unwrap_or(Value::String(answer.body));
    if (200..300).contains(&answer.status) {
        output::line(serde_json::to_string_pretty(&value).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "appliance ctl: {} ({}): {}",
        value["error"].as_str().unwrap_or("error"),
        answer.status,
        value["message"].as_str().unwrap_or_default()
    );
    for problem in value["problems"].as_array().into_iter().flatten() {
        eprintln!("  - {}", problem["message"].as_str().unwrap_or_default());
    }
    if answer.status == 401 || answer.status == 403 {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

/// The token: `--token-file`, else `$TF_ADMIN_TOKEN`, else the state directory's development
/// token.
fn token(file: Option<&Path>, state_dir: Option<&Path>) -> Result<String, String> {
    if let Some(file) = file {
        return read_token(file);
    }
    if let Ok(token) = std::env::var("TF_ADMIN_TOKEN") {
        return Ok(token.trim().to_owned());
    }
    let state = crate::state::State::resolve(state_dir.map(Path::to_path_buf));
    let dev = state.join(crate::control_plane::auth::DEV_TOKEN_FILE);
    read_token(&dev).map_err(|e| format!("{e}; pass --token-file FILE or set TF_ADMIN_TOKEN"))
}

fn read_token(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|t| t.trim().to_owned())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn new_token(name: &str, roles: &[String]) -> ExitCode {
    let token = crate::control_plane::auth::new_token();
    let entry = tf_config::AdminToken {
        name: name.to_owned(),
        roles: roles.to_vec(),
        sha256: hex::encode(crate::control_plane::auth::digest(&token)),
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
        hex::encode(crate::control_plane::auth::digest(&token))
    ));
    ExitCode::SUCCESS
}

fn usage(message: &str) -> ExitCode {
    eprintln!("appliance ctl: {message}");
    ExitCode::from(2)
}
