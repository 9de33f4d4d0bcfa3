//! What can go wrong with the fleet's database, each saying what to do.

/// A fleet operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// PostgreSQL could not be reached, or refused a statement.
    #[error("the fleet's PostgreSQL: {}", detail(.0))]
    Postgres(#[from] postgres::Error),
    /// This node's ledger could not be read, or lacks what is to be shipped.
    #[error("the ledger: {0}")]
    Ledger(String),
    /// A setting of `[fleet]` or a file it names is unusable.
    #[error("[fleet] {0}")]
    Settings(String),
    /// Not connected to the fleet's PostgreSQL: the worker retries, and meanwhile spends only
    /// what its leases hold.
    #[error("not connected to the fleet's PostgreSQL ({0}); retrying")]
    Offline(String),
    /// A promotion or rollback whose revision another appliance of the fleet claimed first.
    #[error(
        "revision {revision} is not above the fleet's latest, {latest} (put in force on node \
         {node}): look at the fleet's timeline and build the bundle above it"
    )]
    TimelineTaken {
        /// The revision asked for.
        revision: u64,
        /// The fleet's latest.
        latest: u64,
        /// The appliance it was asked of.
        node: String,
    },
    /// This appliance's `[fleet] node` names another appliance of the fleet.
    #[error(
        "[fleet] node = {node:?} belongs to another appliance of the fleet (receipt key \
         {holder_key}, last seen {seen_ago_s} s ago): give each appliance its own name; if \
         {node} was rebuilt with a new state directory and the old one is gone for good, run \
         `appliance fleet forget {node}` first"
    )]
    NameTaken {
        /// The name.
        node: String,
        /// The receipt public key (hex) of the appliance the name belongs to.
        holder_key: String,
        /// How long ago that appliance's last heartbeat was, seconds.
        seen_ago_s: u64,
    },
    /// `appliance fleet forget` of a node that is live, or unknown.
    #[error("{0}")]
    Forget(String),
    /// The database was migrated by a newer appliance.
    #[error(
        "the fleet's database is at schema version {found}, newer than this appliance's \
         {supported}: upgrade this appliance to the fleet's version"
    )]
    NewerSchema {
        /// The database's version.
        found: i32,
        /// The newest this build knows.
        supported: i32,
    },
    /// The lease is not this node's, or was taken back (expired past its grace period): the
    /// node must stop spending from it and settle it.
    #[error("lease {token} is no longer held by node {node}: {why}")]
    LeaseLost {
        /// The lease's fencing token.
        token: u64,
        /// The node that asked.
        node: String,
        /// What became of it.
        why: String,
    },
    /// A report that would take back spending already reported, or spend beyond the lease.
    #[error("lease {token}: {problem}")]
    BadReport {
        /// The lease's fencing token.
        token: u64,
        /// What was wrong.
        problem: String,
    },
}

/// What PostgreSQL said, or why it could not be reached, with every cause: the client's own
/// text is only its kind ("db error").
fn detail(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
