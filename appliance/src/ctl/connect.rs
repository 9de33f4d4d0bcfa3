//! The admin API as the command line calls it (`appliance ctl`, `appliance compliance`): the
//! address, token and CA found from flags, environment and the appliance's configuration;
//! one call; its answer parsed into the route's reply, or its error into one message.
//! Exit codes are the same for every command: 0 done, 1 failed (refused, not allowed,
//! unreachable), 2 bad usage.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tf_admin_api::{ErrorBody, Operation};
use tf_config::{AdminConfig, AdminTlsMode, Config};

use super::http;
use crate::cli::AdminArgs;
pub(crate) use crate::exit::Failure;

/// The installed unit's configuration, read when no address is given.
pub(crate) const INSTALLED_CONFIG: &str = "/etc/trust-fabric/appliance.toml";

/// The admin address of the embedded defaults.
const DEFAULT_ADMIN: &str = "http://127.0.0.1:8080";

/// The admin API: where it is, the token and the CA for https.
pub(crate) struct AdminApi {
    base: String,
    token: String,
    ca: PathBuf,
    /// No `--ca`: the host's CA certificates are trusted beside the development CA.
    host_roots: bool,
}

/// How long one call may take (a promotion waits for every shard).
const TIMEOUT: Duration = Duration::from_secs(60);

/// How long a drift judgement may take: it replays days of recorded decisions (about two
/// million a second).
const DRIFT_TIMEOUT: Duration = Duration::from_secs(900);

/// How long a canary run asked for may take: the appliance waits up to 60 s for it and
/// then says so itself.
const CANARY_RUN_TIMEOUT: Duration = Duration::from_secs(75);

/// An answer the route counts as done: its status and body.
pub(crate) type Done = http::Answer;

impl AdminApi {
    /// Finds the address (`--admin`, `$TF_ADMIN_URL`, the configuration's `[admin]`, the
    /// default), the state directory (`--state-dir`, the configuration's, the default), the
    /// token and the CA.
    pub(crate) fn new(args: &AdminArgs) -> Result<Self, Failure> {
        let from_env = std::env::var("TF_ADMIN_URL")
            .ok()
            .filter(|url| !url.trim().is_empty());
        let explicit = args.admin.clone().or(from_env);
        let config = match (&args.config, &explicit, &args.state_dir) {
            (Some(path), _, _) => {
                Some(Config::load(path).map_err(|e| Failure::Usage(format!("--config: {e}")))?)
            }
            // Nothing left to find in a configuration.
            (None, Some(_), Some(_)) => None,
            (None, _, _) => installed_config(),
        };
        let base = match (explicit, &config) {
            (Some(url), _) => url,
            (None, Some(config)) => admin_url(&config.admin)?,
            (None, None) => DEFAULT_ADMIN.to_owned(),
        };
        let state_dir = args.state_dir.clone().or_else(|| {
            config
                .as_ref()
                .and_then(|config| config.server.state_dir.clone())
        });
        let state = tf_state::State::resolve(state_dir);
        let token = token(args.token_file.as_deref(), &state).map_err(Failure::Usage)?;
        let ca = args
            .ca
            .clone()
            .unwrap_or_else(|| state.join(tf_state::layout::CA_CERT));
        if let Some(ca) = &args.ca
            && !ca.exists()
        {
            return Err(Failure::Usage(format!(
                "--ca {}: no such file",
                ca.display()
            )));
        }
        Ok(AdminApi {
            base: base.trim_end_matches('/').to_owned(),
            token,
            ca,
            host_roots: args.ca.is_none(),
        })
    }

    /// Calls `operation` at `target` (its path with parameters filled in, and query) with
    /// `body`; the answer when the route says done, else the failure to report.
    pub(crate) fn send(
        &self,
        operation: Operation,
        target: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Done, Failure> {
        let route = operation.route();
        let call = http::Call {
            base: &self.base,
            method: route.method.as_str(),
            path: target,
            token: &self.token,
            content_type,
            body,
            ca: &self.ca,
            host_roots: self.host_roots,
        };
        let timeout = match operation {
            Operation::Drift => DRIFT_TIMEOUT,
            Operation::RunCanary => CANARY_RUN_TIMEOUT,
            _ => TIMEOUT,
        };
        let answer = http::send(&call, timeout).map_err(|why| {
            if why.starts_with("admin address") {
                Failure::Usage(why)
            } else {
                Failure::Failed(why)
            }
        })?;
        match answer.status {
            200..300 => Ok(answer),
            // The appliance could not read the request: an argument it refuses (a limit out of
            // range, a period that ends before it starts) is bad usage, as a local check's is.
            400 => Err(Failure::Usage(refusal(&answer))),
            _ => Err(Failure::Failed(refusal(&answer))),
        }
    }

    /// Calls `operation` (no body) and parses its reply.
    pub(crate) fn call<T: DeserializeOwned>(
        &self,
        operation: Operation,
        target: &str,
    ) -> Result<T, Failure> {
        let answer = self.send(operation, target, "application/json", &[])?;
        parse(operation, &answer.body)
    }
}

/// A reply parsed into its route's type; one that does not parse is named with what came.
pub(crate) fn parse<T: DeserializeOwned>(operation: Operation, body: &str) -> Result<T, Failure> {
    serde_json::from_str(body).map_err(|e| {
        let route = operation.route();
        Failure::Failed(format!(
            "the answer of {} {} is not the reply this version knows ({e}): {}",
            route.method,
            route.path,
            body.trim()
        ))
    })
}

/// An error answer as one message: the error's name, status and message, each problem on a
/// line of its own, and when to try again.
fn refusal(answer: &http::Answer) -> String {
    match serde_json::from_str::<ErrorBody>(&answer.body) {
        Ok(error) => {
            let mut text = format!("{} ({}): {}", error.error, answer.status, error.message);
            for problem in error.problems.iter().flatten() {
                text.push_str(&format!("\n  - {}", problem.message));
            }
            if let Some(seconds) = error.retry_after {
                text.push_str(&format!("\n  retry in {seconds} s"));
            }
            text
        }
        // Not an error this version knows (an older or newer appliance, or not the admin
        // API): its text as it came.
        Err(_) => format!("error ({}): {}", answer.status, answer.body.trim()),
    }
}

/// The state directory for a command that reads it on this host: `flag`, else the installed
/// unit's configuration's, else `$STATE_DIRECTORY`, else `./appliance-state` (the order
/// `ctl` uses).
pub(crate) fn state_dir(flag: Option<PathBuf>) -> PathBuf {
    let configured = || installed_config().and_then(|config| config.server.state_dir);
    tf_state::State::resolve(flag.or_else(configured))
}

/// The installed unit's configuration if there is one; one that cannot be read is said and
/// left aside.
fn installed_config() -> Option<Config> {
    let path = Path::new(INSTALLED_CONFIG);
    if !path.exists() {
        return None;
    }
    Config::load(path)
        .inspect_err(|e| eprintln!("appliance: not using {INSTALLED_CONFIG}: {e}"))
        .ok()
}

/// The URL the configuration's admin server answers on, from this host.
fn admin_url(admin: &AdminConfig) -> Result<String, Failure> {
    if !admin.enabled {
        return Err(Failure::Usage(
            "the configuration turns the admin server off ([admin] enabled = false)".into(),
        ));
    }
    let scheme = match admin.tls_mode() {
        AdminTlsMode::Off => "http",
        _ => "https",
    };
    Ok(format!(
        "{scheme}://{}",
        tf_config::reachable_from_here(admin.listen)
    ))
}

/// The token: `--token-file`, else `$TF_ADMIN_TOKEN`, else the state directory's development
/// token.
fn token(file: Option<&Path>, state: &Path) -> Result<String, String> {
    if let Some(file) = file {
        return read_token(file);
    }
    if let Ok(token) = std::env::var("TF_ADMIN_TOKEN") {
        return Ok(token.trim().to_owned());
    }
    let dev = state.join(tf_admin::auth::DEV_TOKEN_FILE);
    read_token(&dev).map_err(|e| {
        format!("{e}; pass --token-file FILE or set TF_ADMIN_TOKEN (or --state-dir DIR)")
    })
}

fn read_token(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|t| t.trim().to_owned())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_url_follows_listen_and_tls() {
        let mut admin = AdminConfig::default();
        assert_eq!(admin_url(&admin).expect("on"), "http://127.0.0.1:8080");
        admin.listen = "0.0.0.0:9000".parse().expect("address");
        assert_eq!(admin_url(&admin).expect("on"), "https://127.0.0.1:9000");
        admin.listen = "[::]:9000".parse().expect("address");
        admin.tls = Some(tf_config::AdminTls::Enabled(false));
        assert_eq!(admin_url(&admin).expect("on"), "http://[::1]:9000");
        admin.enabled = false;
        assert!(admin_url(&admin).is_err());
    }
}
