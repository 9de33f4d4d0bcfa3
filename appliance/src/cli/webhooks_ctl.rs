//! `appliance ctl webhooks` arguments.

use clap::{Args, Subcommand};

/// `appliance ctl webhooks` commands.
#[derive(Debug, Subcommand)]
pub enum WebhooksCtl {
    /// Every endpoint with its delivery figures, and the public key v1a signatures verify
    /// with.
    List,
    /// Add an endpoint; prints its whsec_ secret, shown only this once.
    Add {
        /// Where messages go: https://… (http:// only with --local).
        url: String,
        /// What it receives and how.
        #[command(flatten)]
        settings: SettingsArgs,
        /// Why (kept with the endpoint's changes).
        #[arg(long)]
        reason: String,
    },
    /// Stop sending to an endpoint; its messages wait.
    Pause(ChangeArgs),
    /// Send to a paused or disabled endpoint again.
    Resume(ChangeArgs),
    /// A new whsec_ secret (printed once); the old one keeps signing beside it for 24 hours.
    Rotate(ChangeArgs),
    /// Remove an endpoint for good (its record stays).
    Remove(ChangeArgs),
    /// New settings for an endpoint (its URL stays).
    Change {
        /// The endpoint's id.
        id: u64,
        /// Its new settings.
        #[command(flatten)]
        settings: SettingsArgs,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// An endpoint's messages, newest first: attempts, failures, acknowledgements.
    Deliveries {
        /// The endpoint's id.
        id: u64,
        /// How many (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Only messages numbered below this one (the next page).
        #[arg(long)]
        before: Option<u64>,
    },
    /// Send an endpoint's messages from..=to again (acknowledged or given up), with their
    /// webhook-ids unchanged.
    Replay {
        /// The endpoint's id.
        id: u64,
        /// The first message number.
        #[arg(long)]
        from: u64,
        /// The last message number (at most 1000 messages at once).
        #[arg(long)]
        to: u64,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// An endpoint and why it is changed.
#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// The endpoint's id.
    pub id: u64,
    /// Why (kept with the endpoint's changes).
    #[arg(long)]
    pub reason: String,
}

/// What an endpoint receives and how.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// An event it receives: receipt.issued, bundle.promoted, bundle.rolled_back,
    /// budget.exhausted, snapshot.sealed (repeat for more).
    #[arg(long = "event", value_name = "EVENT", required = true)]
    pub events: Vec<String>,
    /// Only this tenant's receipts and budget events (repeat for more; default: every
    /// tenant's).
    #[arg(long = "tenant", value_name = "TENANT")]
    pub tenants: Vec<String>,
    /// A signature scheme: v1 (HMAC with the endpoint's secret) or v1a (Ed25519 with the
    /// appliance's key); repeat for both. Default: v1.
    #[arg(long = "scheme", value_name = "SCHEME")]
    pub schemes: Vec<String>,
    /// The most attempts per second (default 20).
    #[arg(long)]
    pub rate_per_s: Option<u32>,
    /// The most receipts per message (default 100).
    #[arg(long)]
    pub batch_max: Option<u32>,
    /// Allow private, loopback and link-local addresses and http:// (needs the sre role).
    #[arg(long)]
    pub local: bool,
    /// Whose endpoint this is.
    #[arg(long, default_value = "")]
    pub description: String,
}
