//! The fleet's nodes as its database shows them: each node's heartbeat (when it started, when
//! it was last seen, the bundle revision it serves under, its ledger's committed sequence
//! number and its version), and a status an operator reads: which nodes are live, how far
//! each one's shipping runs behind its ledger, what each holds in leases and what was taken
//! back from it, and every pool of the current windows.
//!
//! A heartbeat is one upsert; the status is three queries (the schema's version, the nodes,
//! the pools) in one read-only snapshot, whatever the number of nodes, pools or leases. Times are Unix microseconds by
//! each caller's clock: the clocks of the fleet's hosts are kept in sync (the preflight checks
//! it), and what skew remains counts against a node's liveness, so the threshold is seconds,
//! not milliseconds.

use postgres::{Client, IsolationLevel, Row};

use crate::{FleetError, PoolKey, PoolState};

/// A liveness threshold to use when there is no better one: three of `[fleet] lease_ms`'s
/// default 10 s, long enough that a missed beat or two (a slow database, a pause) does not
/// flap a node to down, short enough that a node shown live still holds leases it renews.
pub const DEFAULT_LIVE_WITHIN_US: u64 = 30_000_000;

/// What a node says about itself on each heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Beat {
    /// The node's name in the fleet (`[fleet] node`).
    pub node: String,
    /// When its process started, Unix microseconds: a change tells of a restart.
    pub started_us: u64,
    /// When it sent this heartbeat, Unix microseconds: the node's "last seen".
    pub now_us: u64,
    /// The policy bundle revision it serves under: nodes disagreeing for long is a promotion
    /// that did not reach every node.
    pub revision: u64,
    /// Its ledger's highest committed sequence number: what shipping has to catch up with.
    pub committed_seq: u64,
    /// The appliance's version, to see a rolling upgrade through.
    pub version: String,
    /// Its receipt public key (hex): whose the name is. The state directory keeps it, so a
    /// restart or a restore keeps the name; another appliance cannot take it.
    pub receipt_key: String,
}

/// Records `beat` as its node's latest heartbeat, whatever it held before (the latest call
/// wins, so a clock set back does not leave a node looking dead). One statement. Refused,
/// changing nothing, when the name belongs to another appliance (another receipt key): two
/// appliances under one name would spend from each other's leases and ship over each other's
/// receipts. The first heartbeat claims the name.
pub fn heartbeat(client: &mut Client, beat: &Beat) -> Result<(), FleetError> {
    let recorded = client.execute(
        "INSERT INTO fleet_nodes
             (node, started_us, last_seen_us, revision, committed_seq, version, receipt_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (node) DO UPDATE SET
             started_us = EXCLUDED.started_us, last_seen_us = EXCLUDED.last_seen_us,
             revision = EXCLUDED.revision, committed_seq = EXCLUDED.committed_seq,
             version = EXCLUDED.version, receipt_key = EXCLUDED.receipt_key
         WHERE fleet_nodes.receipt_key IS NULL
            OR fleet_nodes.receipt_key = EXCLUDED.receipt_key",
        &[
            &beat.node,
            &sql(beat.started_us),
            &sql(beat.now_us),
            &sql(beat.revision),
            &sql(beat.committed_seq),
            &beat.version,
            &beat.receipt_key,
        ],
    )?;
    if recorded == 1 {
        return Ok(());
    }
    let holder = client.query_opt(
        "SELECT receipt_key, last_seen_us FROM fleet_nodes WHERE node = $1",
        &[&beat.node],
    )?;
    let (holder_key, last_seen_us) = holder.map_or((String::new(), 0), |row| {
        (
            row.get::<_, Option<String>>(0).unwrap_or_default(),
            count(row.get(1)),
        )
    });
    Err(FleetError::NameTaken {
        node: beat.node.clone(),
        holder_key,
        seen_ago_s: beat.now_us.saturating_sub(last_seen_us) / 1_000_000,
    })
}

/// The fleet at `now_us`: every node known to the database (by a heartbeat, shipping, or a
/// lease it holds or had taken back), live when its last heartbeat is at most
/// `live_within_us` old ([`DEFAULT_LIVE_WITHIN_US`] when nothing better is known, e.g. three
/// lease periods); and every pool of the current windows. Refuses a database a newer appliance
/// migrated, as [`crate::migrate`] does, rather than misread it.
pub fn status(
    client: &mut Client,
    now_us: u64,
    live_within_us: u64,
) -> Result<FleetStatus, FleetError> {
    // One snapshot: a lease taken between the two queries would otherwise show in a node's
    // holdings and not in its pool's.
    let mut transaction = client
        .build_transaction()
        .read_only(true)
        .isolation_level(IsolationLevel::RepeatableRead)
        .start()?;
    crate::schema::version(&mut transaction)?;
    let nodes = transaction
        .query(NODES, &[])?
        .iter()
        .map(|row| node_of(row, now_us, live_within_us))
        .collect();
    let pools = transaction.query(POOLS, &[])?.iter().map(pool_of).collect();
    transaction.commit()?;
    Ok(FleetStatus {
        now_us,
        live_within_us,
        nodes,
        pools,
    })
}

/// The fleet as its database showed it at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetStatus {
    /// The moment, Unix microseconds.
    pub now_us: u64,
    /// How recent a heartbeat had to be for its node to count as live, microseconds.
    pub live_within_us: u64,
    /// Every node, by name.
    pub nodes: Vec<NodeStatus>,
    /// Every pool of the current windows, by tenant, purpose, class, window and start.
    pub pools: Vec<PoolStatus>,
}

/// One node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    /// Its name.
    pub node: String,
    /// What its last heartbeat said; `None` when it never sent one (it shipped or held leases
    /// before its first heartbeat, or runs a build without them).
    pub seen: Option<Seen>,
    /// Whether its last heartbeat is at most the status's `live_within_us` old.
    pub live: bool,
    /// Its shipping cursor; `None` when it never shipped a receipt.
    pub shipping: Option<Shipping>,
    /// Receipts committed to its ledger and not shipped yet (as of its last heartbeat, from
    /// 0 when it never shipped); `None` without a heartbeat.
    pub lag_receipts: Option<u64>,
    /// Its leases.
    pub leases: NodeLeases,
}

/// A node's last heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// When its process started, Unix microseconds.
    pub started_us: u64,
    /// When it sent the heartbeat, Unix microseconds.
    pub last_seen_us: u64,
    /// The bundle revision it served under.
    pub revision: u64,
    /// Its ledger's highest committed sequence number.
    pub committed_seq: u64,
    /// Its version.
    pub version: String,
    /// Its receipt public key (hex), which its name belongs to; empty when it never said
    /// (a release before schema version 3).
    pub receipt_key: String,
}

/// A node's shipping cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shipping {
    /// Every receipt of the node's up to this sequence number is in the fleet's database.
    pub shipped_seq: u64,
    /// When its last batch was shipped, Unix microseconds.
    pub shipped_us: u64,
    /// How long ago that was, microseconds (0 for a time after the status's). With a lag of
    /// receipts, how long shipping has made no progress; without one, only how long the node
    /// has had nothing to ship.
    pub age_us: u64,
}

/// What a node holds in leases, and what was taken back from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeLeases {
    /// Its open leases.
    pub open: u64,
    /// Their units granted and not reported spent: what it may still spend without asking.
    pub units_held: u64,
    /// Its leases taken back after they expired and not settled yet (it has to come back,
    /// or be settled for, to give their units back or count them spent).
    pub taken_back: u64,
    /// Their units not reported spent, counted in doubt in their pools.
    pub in_doubt: u64,
}

/// A pool of a current window: the latest window of its (tenant, purpose, class, window), or
/// an older one a lease is still open on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolStatus {
    /// Which cap and window.
    pub key: PoolKey,
    /// What of it is spent, leased and in doubt.
    pub state: PoolState,
}

impl PoolStatus {
    /// What is left to lease: the cap less what is spent, leased and in doubt (0 under a cap
    /// lowered below them).
    pub fn unused(&self) -> u64 {
        let state = &self.state;
        state
            .cap
            .saturating_sub(state.spent)
            .saturating_sub(state.leased)
            .saturating_sub(state.in_doubt)
    }
}

/// Every node any table names, with its heartbeat, cursor and leases (columns as
/// [`node_of`] reads them). `SUM` of BIGINT is NUMERIC in PostgreSQL, hence the casts.
const NODES: &str = "
    WITH held AS (
        SELECT node,
               COUNT(*) FILTER (WHERE closed_us IS NULL) AS open,
               COALESCE(SUM(units - spent) FILTER (WHERE closed_us IS NULL), 0)::BIGINT
                   AS units_held,
               COUNT(*) FILTER (WHERE closed_by = 'expired') AS taken_back,
               COALESCE(SUM(units - spent) FILTER (WHERE closed_by = 'expired'), 0)::BIGINT
                   AS in_doubt
        FROM fleet_leases
        WHERE closed_us IS NULL OR closed_by = 'expired'
        GROUP BY node
    ),
    named AS (
        SELECT node FROM fleet_nodes
        UNION SELECT node FROM fleet_shipping
        UNION SELECT node FROM held
    )
    SELECT named.node, n.started_us, n.last_seen_us, n.revision, n.committed_seq, n.version,
           s.shipped_seq, s.shipped_us,
           COALESCE(held.open, 0), COALESCE(held.units_held, 0),
           COALESCE(held.taken_back, 0), COALESCE(held.in_doubt, 0),
           COALESCE(n.receipt_key, '')
    FROM named
    LEFT JOIN fleet_nodes n ON n.node = named.node
    LEFT JOIN fleet_shipping s ON s.node = named.node
    LEFT JOIN held ON held.node = named.node
    ORDER BY named.node";

/// The pools of the current windows (columns as [`pool_of`] reads them): each cap's latest
/// window, and any older one with a lease still open.
const POOLS: &str = "
    WITH current AS (
        (SELECT DISTINCT ON (tenant, purpose, class, cap_window)
                tenant, purpose, class, cap_window, window_start_us
         FROM fleet_pools
         ORDER BY tenant, purpose, class, cap_window, window_start_us DESC)
        UNION
        SELECT tenant, purpose, class, cap_window, window_start_us
        FROM fleet_leases WHERE closed_us IS NULL
    )
    SELECT p.tenant, p.purpose, p.class, p.cap_window, p.window_start_us,
           p.cap, p.spent, p.leased, p.in_doubt
    FROM fleet_pools p
    JOIN current USING (tenant, purpose, class, cap_window, window_start_us)
    ORDER BY p.tenant, p.purpose, p.class, p.cap_window, p.window_start_us";

fn node_of(row: &Row, now_us: u64, live_within_us: u64) -> NodeStatus {
    let seen = row.get::<_, Option<i64>>(1).map(|started_us| Seen {
        started_us: count(started_us),
        last_seen_us: count(row.get(2)),
        revision: count(row.get(3)),
        committed_seq: count(row.get(4)),
        version: row.get(5),
        receipt_key: row.get(12),
    });
    let shipping = row.get::<_, Option<i64>>(6).map(|shipped_seq| {
        let shipped_us = count(row.get(7));
        Shipping {
            shipped_seq: count(shipped_seq),
            shipped_us,
            age_us: now_us.saturating_sub(shipped_us),
        }
    });
    let live = seen
        .as_ref()
        .is_some_and(|seen| seen.last_seen_us.saturating_add(live_within_us) >= now_us);
    let lag_receipts = seen.as_ref().map(|seen| {
        seen.committed_seq
            .saturating_sub(shipping.map_or(0, |s| s.shipped_seq))
    });
    NodeStatus {
        node: row.get(0),
        seen,
        live,
        shipping,
        lag_receipts,
        leases: NodeLeases {
            open: count(row.get(8)),
            units_held: count(row.get(9)),
            taken_back: count(row.get(10)),
            in_doubt: count(row.get(11)),
        },
    }
}

fn pool_of(row: &Row) -> PoolStatus {
    PoolStatus {
        key: PoolKey {
            tenant: row.get(0),
            purpose: row.get(1),
            class: row.get(2),
            window: row.get(3),
            window_start_us: count(row.get(4)),
        },
        state: PoolState {
            cap: count(row.get(5)),
            spent: count(row.get(6)),
            leased: count(row.get(7)),
            in_doubt: count(row.get(8)),
        },
    }
}

/// A BIGINT this crate wrote from a `u64` (never negative; 0 if someone wrote one by hand).
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A count or a time as PostgreSQL's BIGINT (both are far below its limit).
fn sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
