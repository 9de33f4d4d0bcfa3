//! `appliance ctl terms` arguments.

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
}
