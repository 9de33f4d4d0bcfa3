//! Fleet mode: several appliances serving the same tenants, sharing one PostgreSQL database.
//! Each appliance keeps its own SQLite ledger as the durable record that answers partners;
//! what the fleet shares lives here:
//!
//! - [`connect`]: the connection from `[fleet]` (the password from a file or the environment,
//!   never the configuration; TLS on the same rustls as the rest of the appliance).
//! - [`migrate`]: the schema, versioned and migrated at start like the SQLite ledger's.
//! - [`ship`]: this node's committed receipts copied into the fleet's database from a cursor
//!   kept there, at least once and idempotent by node and sequence number; [`prune_shipped`]
//!   deletes them once older than the node's ledger keeps its own.
//! - [`Leases`]: budget leases. A node takes units of a cap for the current window by one
//!   conditional update that never lets `spent + leased + in_doubt` pass the cap, spends them
//!   locally, and reports and returns them. A lease its node did not return by its expiry plus
//!   a grace period is taken back, its unreported units counted as in doubt (possibly spent)
//!   until the node settles them: the fleet never invents budget.
//! - [`Keeper`]: a node's side of its leases on each tick, sans-IO: sized by the tenant's
//!   recent rate, renewed before they run low or expire, returned at the window's end, and
//!   each pool's grant for admission, which fails closed while the database is away.
//! - [`heartbeat`] and [`status`]: each node's heartbeat (its start, revision, committed
//!   sequence number and version), and the fleet as an operator reads it: which nodes are
//!   live, how far each one's shipping lags, what each holds in leases, and every pool of the
//!   current windows.
//! - [`forget`]: a node gone for good, its holdings settled and its name freed.
//! - [`claim`] and [`entries_after`]: the fleet's one policy timeline, which every node
//!   follows.

mod connect;
mod error;
mod forget;
mod keeper;
mod leases;
mod nodes;
mod schema;
mod shipping;
mod timeline;

pub use connect::connect;
pub use error::FleetError;
pub use forget::{Forgotten, forget};
pub use keeper::{Demand, Grant, Keeper, KeeperCounts, KeeperSettings};
pub use leases::{Lease, LeaseStore, Leases, Offline, PoolKey, PoolState, Reclaimed};
pub use nodes::{
    Beat, DEFAULT_LIVE_WITHIN_US, FleetStatus, NodeLeases, NodeStatus, PoolStatus, Seen, Shipping,
    heartbeat, status,
};
/// The connection [`connect`] opens.
pub use postgres::Client;
pub use schema::{FLEET_SCHEMA_VERSION, migrate};
pub use shipping::{Shipped, prune_shipped, ship};
pub use timeline::{
    Switch, TIMELINE_CHANNEL, TimelineEntry, claim, entries_after, listen, note_revision,
    wait_for_entries,
};
