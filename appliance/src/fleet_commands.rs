//! `appliance fleet status`: the fleet's PostgreSQL as an operator reads it, from the
//! database `[fleet]` names: each appliance live or down by its heartbeat, its shipping lag
//! and its leases, then every budget pool of the current windows. It only reads: the schema
//! is made and migrated by the appliances when they start, never by this command.

use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};
use tf_config::{Config, FleetConfig};
use tf_fleet::{FleetError, FleetStatus, NodeStatus, PoolStatus};

use crate::cli::FleetWhat;
use crate::ctl::show::table::{Align, Table, count};
use crate::ctl::show::time;
use crate::exit::Failure;
use crate::output;

/// A node is live while its last heartbeat is at most this many lease periods old: by then
/// its leases have expired unless it renewed them, so a node shown live is one taking part.
const LIVE_LEASE_PERIODS: u64 = 3;

/// Runs one `appliance fleet` command.
pub fn run(what: FleetWhat) -> ExitCode {
    match what {
        FleetWhat::Status { config, json } => match status(&config, json) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => failure.report("appliance fleet status"),
        },
    }
}

/// Reads the fleet's status and prints it.
fn status(config: &Path, json: bool) -> Result<(), Failure> {
    let fleet = fleet_config(config)?;
    let mut client = tf_fleet::connect(&fleet).map_err(|e| failed(&fleet, e))?;
    let live_within_us = LIVE_LEASE_PERIODS * fleet.lease_ms * 1_000;
    let found = tf_fleet::status(&mut client, time::now_us(), live_within_us)
        .map_err(|e| failed(&fleet, e))?;
    if json {
        let text = serde_json::to_string_pretty(&document(&fleet, &found))
            .map_err(|e| Failure::Failed(e.to_string()))?;
        output::line(text);
    } else {
        for line in lines(&fleet, &found) {
            output::line(line);
        }
    }
    Ok(())
}

/// The configuration's `[fleet]`; a file that does not load or lacks it is bad usage.
fn fleet_config(path: &Path) -> Result<FleetConfig, Failure> {
    let config = Config::load(path).map_err(|e| Failure::Usage(format!("--config: {e}")))?;
    config.fleet.ok_or_else(|| {
        Failure::Usage(format!(
            "{}: no [fleet] section, so no fleet's database to read: give the configuration \
             of an appliance in the fleet, or add one such as\n  [fleet]\n  postgres = \
             \"postgres://trust_fabric@db.example.com:5432/trust_fabric\"\n  node = \"node-1\"",
            path.display()
        ))
    })
}

/// What went wrong, with the database it was: a setting that cannot be used (a password or
/// CA file) is bad usage; the database unreachable, refusing or too new is a failure.
fn failed(fleet: &FleetConfig, error: FleetError) -> Failure {
    let database = &fleet.postgres;
    match error {
        FleetError::Settings(_) => Failure::Usage(error.to_string()),
        FleetError::Postgres(ref postgres)
            if postgres.code().map(|code| code.code()) == Some(UNDEFINED_TABLE) =>
        {
            Failure::Failed(format!(
                "{error} ({database}): the database has no fleet tables yet; the first \
                 appliance started with this [fleet] makes them"
            ))
        }
        _ => Failure::Failed(format!("{error} ({database})")),
    }
}

/// PostgreSQL's SQLSTATE for a table that does not exist.
const UNDEFINED_TABLE: &str = "42P01";

/// The status for people: a line about the fleet, the nodes' table and what was taken back
/// from them, then the pools' table.
fn lines(fleet: &FleetConfig, status: &FleetStatus) -> Vec<String> {
    let now = status.now_us;
    let live = status.nodes.iter().filter(|node| node.live).count();
    let mut lines = vec![format!(
        "fleet database {}: {} appliance(s), {live} live (live: a heartbeat within {} s)",
        fleet.postgres,
        status.nodes.len(),
        status.live_within_us / 1_000_000
    )];
    if status.nodes.is_empty() {
        lines.push("no appliance has reported to the fleet's database yet".to_owned());
    } else {
        lines.extend(nodes_table(&status.nodes, now).lines());
    }
    for node in status
        .nodes
        .iter()
        .filter(|node| node.leases.taken_back > 0)
    {
        let leases = &node.leases;
        lines.push(format!(
            "{}: {} lease(s) taken back after they expired, {} unit(s) in doubt (possibly \
             spent) until {} settles them when it is back",
            node.node,
            leases.taken_back,
            count(leases.in_doubt),
            node.node
        ));
    }
    lines.push(String::new());
    if status.pools.is_empty() {
        lines.push(
            "no budget pool in a current window: no appliance has leased from a cap yet".to_owned(),
        );
    } else {
        lines.extend(pools_table(&status.pools).lines());
    }
    lines
}

fn nodes_table(nodes: &[NodeStatus], now: u64) -> Table {
    let mut table = Table::new(&[
        ("NODE", Align::Left),
        ("STATE", Align::Left),
        ("LAST SEEN", Align::Left),
        ("REVISION", Align::Right),
        ("LAG", Align::Right),
        ("LAST SHIPPED", Align::Left),
        ("LEASES", Align::Right),
        ("UNITS HELD", Align::Right),
        ("VERSION", Align::Left),
    ]);
    for node in nodes {
        let seen = node.seen.as_ref();
        table.row(vec![
            node.node.clone(),
            if node.live { "live" } else { "down" }.to_owned(),
            seen.map_or("never".to_owned(), |seen| {
                time::relative(seen.last_seen_us, now)
            }),
            seen.map_or("-".to_owned(), |seen| seen.revision.to_string()),
            node.lag_receipts.map_or("-".to_owned(), count),
            node.shipping.map_or("never".to_owned(), |shipping| {
                time::relative(shipping.shipped_us, now)
            }),
            count(node.leases.open),
            count(node.leases.units_held),
            seen.map_or("-".to_owned(), |seen| seen.version.clone()),
        ]);
    }
    table
}

fn pools_table(pools: &[PoolStatus]) -> Table {
    let mut table = Table::new(&[
        ("TENANT", Align::Left),
        ("PURPOSE", Align::Left),
        ("CLASS", Align::Left),
        ("WINDOW", Align::Left),
        ("FROM (UTC)", Align::Left),
        ("CAP", Align::Right),
        ("SPENT", Align::Right),
        ("LEASED", Align::Right),
        ("IN DOUBT", Align::Right),
        ("UNUSED", Align::Right),
    ]);
    for pool in pools {
        let (key, state) = (&pool.key, &pool.state);
        table.row(vec![
            key.tenant.clone(),
            if key.purpose.is_empty() {
                "(all)".to_owned()
            } else {
                key.purpose.clone()
            },
            key.class.clone(),
            key.window.clone(),
            tf_budgets::format_utc(key.window_start_us / 1_000_000),
            count(state.cap),
            count(state.spent),
            count(state.leased),
            count(state.in_doubt),
            count(pool.unused()),
        ]);
    }
    table
}

/// The status for scripts: one JSON document. Times are Unix microseconds; what a node never
/// reported (no heartbeat, nothing shipped) is null, as is the purpose of a cap across every
/// purpose of its class.
fn document(fleet: &FleetConfig, status: &FleetStatus) -> Value {
    let nodes: Vec<Value> = status
        .nodes
        .iter()
        .map(|node| {
            let seen = node.seen.as_ref();
            json!({
                "node": node.node,
                "live": node.live,
                "started_unix_us": seen.map(|s| s.started_us),
                "last_seen_unix_us": seen.map(|s| s.last_seen_us),
                "revision": seen.map(|s| s.revision),
                "committed_seq": seen.map(|s| s.committed_seq),
                "version": seen.map(|s| s.version.as_str()),
                "shipped_seq": node.shipping.map(|s| s.shipped_seq),
                "shipped_unix_us": node.shipping.map(|s| s.shipped_us),
                "lag_receipts": node.lag_receipts,
                "since_shipped_us": node.shipping.map(|s| s.age_us),
                "open_leases": node.leases.open,
                "units_held": node.leases.units_held,
                "taken_back": node.leases.taken_back,
                "in_doubt": node.leases.in_doubt,
            })
        })
        .collect();
    let pools: Vec<Value> = status
        .pools
        .iter()
        .map(|pool| {
            let (key, state) = (&pool.key, &pool.state);
            json!({
                "tenant": key.tenant,
                "purpose": (!key.purpose.is_empty()).then_some(key.purpose.as_str()),
                "class": key.class,
                "window": key.window,
                "window_start_unix_us": key.window_start_us,
                "cap": state.cap,
                "spent": state.spent,
                "leased": state.leased,
                "in_doubt": state.in_doubt,
                "unused": pool.unused(),
            })
        })
        .collect();
    json!({
        "database": fleet.postgres,
        "now_unix_us": status.now_us,
        "live_within_us": status.live_within_us,
        "nodes": nodes,
        "pools": pools,
    })
}

#[cfg(test)]
mod tests {
    use tf_fleet::{NodeLeases, PoolKey, PoolState, Seen, Shipping};

    use super::*;

    const NOW: u64 = 1_795_514_400_000_000;
    const SECOND: u64 = 1_000_000;

    fn fleet() -> FleetConfig {
        FleetConfig {
            postgres: "postgres://fleet@db:5432/fleet".into(),
            node: "node-a".into(),
            password_file: None,
            ca_file: None,
            lease_ms: 10_000,
            grace_ms: 5_000,
        }
    }

    fn sample() -> FleetStatus {
        FleetStatus {
            now_us: NOW,
            live_within_us: 30 * SECOND,
            nodes: vec![
                NodeStatus {
                    node: "node-a".into(),
                    seen: Some(Seen {
                        started_us: NOW - 3_600 * SECOND,
                        last_seen_us: NOW - 2 * SECOND,
                        revision: 7,
                        committed_seq: 1_250,
                        version: "0.1.0".into(),
                    }),
                    live: true,
                    shipping: Some(Shipping {
                        shipped_seq: 1_200,
                        shipped_us: NOW - 12 * SECOND,
                        age_us: 12 * SECOND,
                    }),
                    lag_receipts: Some(50),
                    leases: NodeLeases {
                        open: 2,
                        units_held: 4_500,
                        taken_back: 0,
                        in_doubt: 0,
                    },
                },
                NodeStatus {
                    node: "node-b".into(),
                    seen: None,
                    live: false,
                    shipping: None,
                    lag_receipts: None,
                    leases: NodeLeases {
                        open: 0,
                        units_held: 0,
                        taken_back: 1,
                        in_doubt: 14,
                    },
                },
            ],
            pools: vec![PoolStatus {
                key: PoolKey {
                    tenant: "acme".into(),
                    purpose: String::new(),
                    class: "P1".into(),
                    window: "day".into(),
                    window_start_us: 1_795_478_400 * SECOND,
                },
                state: PoolState {
                    cap: 100_000,
                    spent: 16,
                    leased: 4_500,
                    in_doubt: 14,
                },
            }],
        }
    }

    #[test]
    fn the_tables_say_who_is_live_what_lags_and_what_is_left() {
        let lines = lines(&fleet(), &sample());
        assert_eq!(
            lines[0],
            "fleet database postgres://fleet@db:5432/fleet: 2 appliance(s), 1 live (live: a \
             heartbeat within 30 s)"
        );
        assert!(
            lines[1].starts_with("NODE    STATE  LAST SEEN"),
            "{lines:#?}"
        );
        assert!(
            lines[2].starts_with("node-a  live   2 s ago")
                && lines[2].contains("  50  12 s ago")
                && lines[2].ends_with("2       4,500  0.1.0"),
            "{lines:#?}"
        );
        assert!(
            lines[3].starts_with("node-b  down   never") && lines[3].ends_with("0           0  -"),
            "{lines:#?}"
        );
        assert!(
            lines[4].starts_with("node-b: 1 lease(s) taken back")
                && lines[4].contains("14 unit(s) in doubt"),
            "{lines:#?}"
        );
        assert_eq!(lines[5], "");
        assert!(lines[6].starts_with("TENANT  PURPOSE  CLASS"), "{lines:#?}");
        assert_eq!(
            lines[7],
            "acme    (all)    P1     day     2026-11-24T00:00:00Z  100,000     16   4,500        \
             14  95,470"
        );
    }

    #[test]
    fn the_document_nulls_what_a_node_never_reported() {
        let document = document(&fleet(), &sample());
        let b = &document["nodes"][1];
        assert_eq!(b["node"], "node-b");
        assert!(b["last_seen_unix_us"].is_null() && b["lag_receipts"].is_null());
        assert_eq!(b["in_doubt"], 14);
        assert_eq!(document["nodes"][0]["lag_receipts"], 50);
        assert_eq!(document["nodes"][0]["since_shipped_us"], 12 * SECOND);
        let pool = &document["pools"][0];
        assert!(pool["purpose"].is_null(), "{pool}");
        assert_eq!(pool["unused"], 95_470);
    }
}
