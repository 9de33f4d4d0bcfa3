//! `appliance fleet`: the fleet's database as an SRE reads it.

use std::path::PathBuf;

use clap::Subcommand;

/// `appliance fleet` commands.
#[derive(Debug, Subcommand)]
pub enum FleetWhat {
    /// Every appliance of the fleet: live or down (live: a heartbeat within three lease
    /// periods, 3 x `[fleet] lease_ms`), when it was last seen, the bundle revision it serves
    /// under, its receipts not shipped yet and when it last shipped, the leases it holds and
    /// their units; a note for leases taken back from it after they expired. Then every budget
    /// pool of the current windows: its cap, what is spent, leased to appliances, in doubt
    /// (taken back, possibly spent) and unused.
    Status {
        /// The appliance configuration: its `[fleet]` names the database (the password from
        /// `password_file` or TRUST_FABRIC_FLEET_PASSWORD).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Print one JSON document instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Forgets an appliance that is gone for good (decommissioned, or rebuilt with a new state
    /// directory under its old name): the units its leases still held are counted spent (its
    /// ledger is gone, so the fleet cannot know it spent less), its shipped receipts are kept
    /// under NAME@forgotten-SECONDS, and its name is free for another appliance. Refused while
    /// it is live. Needs a role that may write the fleet's tables.
    Forget {
        /// The appliance's `[fleet] node`.
        node: String,
        /// The appliance configuration: its `[fleet]` names the database.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}
