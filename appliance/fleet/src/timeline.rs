//! The fleet's policy timeline: every promotion and rollback, once for the fleet. The
//! appliance a promotion is asked of claims the next revision here (refused when another
//! appliance claimed it or a later one first), switches, and every other appliance's follower
//! applies the entries above its own revision in order, woken by `NOTIFY` on
//! [`TIMELINE_CHANNEL`] and polling as a fallback. Each records the revision it serves under
//! in `fleet_nodes` as it switches, so the promoter can tell when every live node has.
//!
//! A promotion carries the signed archive, which each appliance checks against its own
//! trusted authors as it would any promotion; a rollback carries only the revision it
//! republishes, which each appliance rebuilds and signs with its own key, as a rollback does.

use std::time::Duration;

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;

use crate::FleetError;

/// The channel appliances `LISTEN` on for new entries.
pub const TIMELINE_CHANNEL: &str = "fleet_timeline";

/// The advisory lock claims run under ("tftimel" in ASCII), so two claims never interleave.
const CLAIM_LOCK: i64 = 0x0074_6674_696d_656c;

/// What an entry switches to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Switch {
    /// A promoted bundle: its archive exactly as signed, and its hash.
    Promote {
        /// The archive (gzipped tar).
        archive: Vec<u8>,
        /// Its hash.
        bundle_hash: String,
    },
    /// A rollback republishing `republishes`' content.
    Rollback {
        /// The revision whose content is republished.
        republishes: u64,
    },
}

/// One promotion or rollback of the fleet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEntry {
    /// The revision it puts in force.
    pub revision: u64,
    /// What it switches to.
    pub switch: Switch,
    /// Who asked (the admin token's name).
    pub actor: String,
    /// Why, for a rollback; the bundle's note otherwise.
    pub reason: String,
    /// Let through caps below what a tenant already spent.
    pub allow_cap_below_spent: bool,
    /// Let through partners dropped.
    pub allow_partners_dropped: bool,
    /// The appliance it was asked of.
    pub node: String,
    /// When, Unix microseconds.
    pub at_us: u64,
}

/// Claims `entry.revision` for the fleet: refused, naming what is there, unless it is above
/// every revision claimed so far. Wakes every follower.
pub fn claim(client: &mut Client, entry: &TimelineEntry) -> Result<(), FleetError> {
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&CLAIM_LOCK])?;
    let latest = transaction.query_opt(
        "SELECT revision, node FROM fleet_timeline ORDER BY revision DESC LIMIT 1",
        &[],
    )?;
    if let Some(row) = latest {
        let revision = row.get::<_, i64>(0) as u64;
        if revision >= entry.revision {
            return Err(FleetError::TimelineTaken {
                revision: entry.revision,
                latest: revision,
                node: row.get(1),
            });
        }
    }
    let (action, archive, bundle_hash, republishes) = match &entry.switch {
        Switch::Promote {
            archive,
            bundle_hash,
        } => (
            "promote",
            Some(archive.as_slice()),
            Some(bundle_hash.as_str()),
            None,
        ),
        Switch::Rollback { republishes } => ("rollback", None, None, Some(sql(*republishes))),
    };
    transaction.execute(
        "INSERT INTO fleet_timeline
             (revision, action, archive, bundle_hash, republishes, actor, reason,
              allow_cap_below_spent, allow_partners_dropped, node, at_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &sql(entry.revision),
            &action,
            &archive,
            &bundle_hash,
            &republishes,
            &entry.actor,
            &entry.reason,
            &entry.allow_cap_below_spent,
            &entry.allow_partners_dropped,
            &entry.node,
            &sql(entry.at_us),
        ],
    )?;
    transaction.execute(&format!("NOTIFY {TIMELINE_CHANNEL}"), &[])?;
    transaction.commit()?;
    Ok(())
}

/// The entries above `revision`, oldest first, at most `limit`.
pub fn entries_after(
    client: &mut Client,
    revision: u64,
    limit: usize,
) -> Result<Vec<TimelineEntry>, FleetError> {
    let rows = client.query(
        "SELECT revision, action, archive, bundle_hash, republishes, actor, reason,
                allow_cap_below_spent, allow_partners_dropped, node, at_us
         FROM fleet_timeline WHERE revision > $1 ORDER BY revision LIMIT $2",
        &[&sql(revision), &(limit as i64)],
    )?;
    rows.iter()
        .map(|row| {
            let revision = row.get::<_, i64>(0) as u64;
            let action: String = row.get(1);
            let switch = match action.as_str() {
                "promote" => Switch::Promote {
                    archive: row.get::<_, Option<Vec<u8>>>(2).unwrap_or_default(),
                    bundle_hash: row.get::<_, Option<String>>(3).unwrap_or_default(),
                },
                "rollback" => Switch::Rollback {
                    republishes: row.get::<_, Option<i64>>(4).unwrap_or(0) as u64,
                },
                other => {
                    return Err(FleetError::Settings(format!(
                        "the fleet's timeline holds revision {revision} as {other:?}, which \
                         this appliance does not know: upgrade it to the fleet's version"
                    )));
                }
            };
            Ok(TimelineEntry {
                revision,
                switch,
                actor: row.get(5),
                reason: row.get(6),
                allow_cap_below_spent: row.get(7),
                allow_partners_dropped: row.get(8),
                node: row.get(9),
                at_us: row.get::<_, i64>(10) as u64,
            })
        })
        .collect()
}

/// Starts listening for new entries on `client`'s connection.
pub fn listen(client: &mut Client) -> Result<(), FleetError> {
    client.batch_execute(&format!("LISTEN {TIMELINE_CHANNEL}"))?;
    Ok(())
}

/// Waits up to `timeout` for a notification of new entries on a [`listen`]ing connection;
/// whether one came. An error is a connection lost.
pub fn wait_for_entries(client: &mut Client, timeout: Duration) -> Result<bool, FleetError> {
    let mut notifications = client.notifications();
    let woken = notifications.timeout_iter(timeout).next()?.is_some();
    // Several entries may have been claimed: one look reads them all.
    while notifications.iter().next()?.is_some() {}
    Ok(woken)
}

/// Records that `node` now serves under `revision` (between heartbeats, so a promotion
/// waiting for every node learns at once); nothing when the name is another appliance's
/// (`receipt_key` is not the one it belongs to).
pub fn note_revision(
    client: &mut Client,
    node: &str,
    receipt_key: &str,
    revision: u64,
) -> Result<(), FleetError> {
    client.execute(
        "UPDATE fleet_nodes SET revision = GREATEST(revision, $2)
         WHERE node = $1 AND receipt_key = $3",
        &[&node, &sql(revision), &receipt_key],
    )?;
    Ok(())
}

fn sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
