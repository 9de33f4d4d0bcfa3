//! `appliance webhooks` arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::StateArgs;

/// Largest body read by default: above what the appliance sends (a batch of 1000 receipts,
/// `batch_max`'s most, is about 1.5 MB), small enough that a flood of bodies cannot exhaust
/// memory.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;

/// `appliance webhooks`.
#[derive(Debug, Args)]
pub struct WebhooksArgs {
    /// What to do.
    #[command(subcommand)]
    pub what: WebhooksWhat,
}

/// `appliance webhooks` commands.
#[derive(Debug, Subcommand)]
pub enum WebhooksWhat {
    /// Receive the appliance's webhooks as an auditor's endpoint would, and record them.
    ///
    /// Each POST's signature and timestamp are checked, and each receipt's signature and
    /// sequence number; the message is then recorded once (by webhook-id, also across
    /// restarts) in --out, synced, before the 200: messages.jsonl, receipts.jsonl,
    /// events/<id>.json, and batches with a receipt that is not genuine in rejected/. 401 bad
    /// signature, 400 malformed, 413 too large, 422 a receipt that is not genuine. Prints
    /// `listening on http://ADDR` once ready; SIGTERM or Ctrl-C exits 0.
    Receive(ReceiveArgs),
}

/// `appliance webhooks receive`.
#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Where to listen (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9000")]
    pub listen: SocketAddr,
    /// Where to record what was received (created if missing; reopened as it is, so a
    /// message already recorded there is not recorded again).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A `v1` (HMAC-SHA256) secret, `whsec_...`; repeat while a secret is rotated. Other users
    /// of this host can read it in the process list: prefer --secret-file.
    #[arg(long, value_name = "WHSEC")]
    pub secret: Vec<String>,
    /// A file of `whsec_` secrets, one per line (blank lines and `#` comments ignored).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// A `v1a` (Ed25519) public key, `whpk_...`; repeat while a key is rotated.
    #[arg(long, value_name = "WHPK")]
    pub public_key: Vec<String>,
    /// The appliance's receipt key (64 hex digits, from `appliance keys show`), to check
    /// `receipt.issued` receipts; default: the state directory's.
    #[arg(long, value_name = "HEX", conflicts_with = "state_dir")]
    pub receipt_key: Option<String>,
    /// Where the state directory is (for its receipt key, without --receipt-key).
    #[command(flatten)]
    pub state: StateArgs,
    /// How far `webhook-timestamp` may be from this host's clock, either way, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = tf_webhooks::DEFAULT_TOLERANCE_S)]
    pub tolerance_s: u64,
    /// Larger bodies are refused with 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Misbehaviour on purpose, to exercise a sender's retries.
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Faults to answer with, each on its share of requests (chosen at random, before anything is
/// checked or recorded; the shares add up to at most 100).
#[derive(Debug, Args)]
#[command(next_help_heading = "Fault injection (tests and drills)")]
pub struct FaultArgs {
    /// Answer 500 to this percentage of requests.
    #[arg(long, value_name = "P", default_value_t = 0, value_parser = percent())]
    pub fail_percent: u8,
    /// Answer 429 with `Retry-After` to this percentage of requests.
    #[arg(long, value_name = "P", default_value_t = 0, value_parser = percent())]
    pub throttle_percent: u8,
    /// The `Retry-After` of a 429, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub retry_after: u64,
    /// Hold this percentage of requests for --hang-s, then answer 500.
    #[arg(long, value_name = "P", default_value_t = 0, value_parser = percent())]
    pub hang_percent: u8,
    /// How long a held request is held, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub hang_s: u64,
}

fn percent() -> clap::builder::RangedI64ValueParser<u8> {
    clap::value_parser!(u8).range(0..=100)
}
