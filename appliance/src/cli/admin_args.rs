//! How the command line reaches the admin API: the flags `appliance ctl` and `appliance
//! compliance` share, accepted before or after the subcommand.

use std::path::PathBuf;

use clap::Args;

/// Where these flags are listed in `--help`.
const HEADING: &str = "Reaching the admin API";

/// Where the admin API is and how to authenticate to it.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The admin API: http://HOST:PORT or https://HOST:PORT. Default: $TF_ADMIN_URL, else the
    /// configuration's `[admin] listen` (https when its `tls` is on), else
    /// http://127.0.0.1:8080.
    #[arg(long, visible_alias = "url", global = true, value_name = "URL", help_heading = HEADING)]
    pub admin: Option<String>,
    /// The appliance's configuration file, for the admin address, its TLS and the state
    /// directory. Default: /etc/trust-fabric/appliance.toml when it exists (the installed
    /// unit's).
    #[arg(long, global = true, value_name = "FILE", help_heading = HEADING)]
    pub config: Option<PathBuf>,
    /// For https: the CA (PEM) the admin server's certificate must chain to. Default: the
    /// state directory's ca.pem (which issued the development certificate) or the host's CA
    /// certificates.
    #[arg(long, global = true, value_name = "FILE", help_heading = HEADING)]
    pub ca: Option<PathBuf>,
    /// A file holding the bearer token. Default: $TF_ADMIN_TOKEN, else the state directory's
    /// development token.
    #[arg(long, global = true, value_name = "FILE", help_heading = HEADING)]
    pub token_file: Option<PathBuf>,
    /// The state directory, for its development token and CA. Default: the configuration's,
    /// else $STATE_DIRECTORY, else ./appliance-state.
    #[arg(long, global = true, value_name = "DIR", help_heading = HEADING)]
    pub state_dir: Option<PathBuf>,
}
