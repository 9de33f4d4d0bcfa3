//! `appliance ctl terms` arguments.

use std::path::PathBuf;

use clap::Subcommand;

/// `appliance ctl terms` commands.
#[derive(Debug, Subcommand)]
pub enum TermsCtl {
    /// Every partner terms request, newest first: tenant, status, the terms asked and those in
    /// force, who decided it and why.
    List,
    /// Grant a pending request: its terms come into force as a bundle revision.
    Grant {
        /// The request's number.
        id: u64,
        /// Why (kept with the request and on the timeline, with your token's name).
        #[arg(long)]
        reason: String,
    },
    /// Decline a pending request: the partner's terms stay as they are.
    Decline {
        /// The request's number.
        id: u64,
        /// Why (kept with the request and on the timeline, with your token's name).
        #[arg(long)]
        reason: String,
    },
    /// Write each partner's terms file of the bundle in force as DIR/<tenant>.toml, to keep in
    /// the bundles you build (`--out mybundle/partners`): a bundle without them drops the
    /// partners.
    Files {
        /// The folder to write to (created if missing; `<tenant>.toml` files in it are
        /// overwritten).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}
