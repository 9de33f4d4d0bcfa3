//! `appliance fleet status`: the fleet's PostgreSQL as an operator reads it, from the
//! database `[fleet]` names: each appliance live or down by its heartbeat, its shipping lag
//! and its leases, then every budget pool of the current windows. It only reads: the schema
//! is made and migrated by the appliances when they start, never by this command. What it
//! reads becomes the admin API's `FleetReply` (`GET /api/v1/fleet`) by the admin server's own
//! conversion, so `--json` prints exactly that body and the tables show the same fields.

use std::path::Path;
use std::process::ExitCode;

use tf_admin_api::{FleetNode, FleetPool, FleetReply};
use tf_config::{Config, FleetConfig};
use tf_fleet::FleetError;

use crate::cli::FleetWhat;
use crate::ctl::show::table::{Align, Table, count};
use crate::ctl::show::time;
use crate::exit::Failure;
use crate::output;

/// Runs one `appliance fleet` command.
pub fn run(what: FleetWhat) -> ExitCode {
    match what {
        FleetWhat::Status { config, json } => match status(&config, json) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => failure.report("appliance fleet status"),
        },
        FleetWhat::Forget { node, config } => match forget(&config, &node) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => failure.report("appliance fleet forget"),
        },
    }
}

/// Forgets `node` and says what became of what it held.
fn forget(config: &Path, node: &str) -> Result<(), Failure> {
    let fleet = fleet_config(config)?;
    let mut client = tf_fleet::connect(&fleet).map_err(|e| failed(&fleet, e))?;
    let forgotten = tf_fleet::forget(&mut client, node, time::now_us(), fleet.live_within_us())
        .map_err(|e| failed(&fleet, e))?;
    output::line(format!(
        "forgot node {node}: {} lease(s) settled, {} unit(s) counted spent; {} shipped \
         receipt(s) kept as node {}; the name is free",
        forgotten.leases_settled,
        forgotten.units_settled,
        forgotten.receipts_kept,
        forgotten.renamed_to
    ));
    Ok(())
}

/// Reads the fleet's status and prints it.
fn status(config: &Path, json: bool) -> Result<(), Failure> {
    let fleet = fleet_config(config)?;
    let mut client = tf_fleet::connect(&fleet).map_err(|e| failed(&fleet, e))?;
    let live_within_us = fleet.live_within_us();
    let found = tf_fleet::status(&mut client, time::now_us(), live_within_us)
        .map_err(|e| failed(&fleet, e))?;
    let reply = tf_admin::api::fleet_reply(&fleet.postgres, &found);
    if json {
        let text =
            serde_json::to_string_pretty(&reply).map_err(|e| Failure::Failed(e.to_string()))?;
        output::line(text);
    } else {
        for line in lines(&reply) {
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
fn lines(status: &FleetReply) -> Vec<String> {
    let now = status.now_unix_us;
    let live = status.nodes.iter().filter(|node| node.live).count();
    let mut lines = vec![format!(
        "fleet database {}: {} appliance(s), {live} live (live: a heartbeat within {} s)",
        status.database,
        status.nodes.len(),
        status.live_within_us / 1_000_000
    )];
    if status.nodes.is_empty() {
        lines.push("no appliance has reported to the fleet's database yet".to_owned());
    } else {
        lines.extend(nodes_table(&status.nodes, now).lines());
    }
    for node in status.nodes.iter().filter(|node| node.taken_back > 0) {
        lines.push(format!(
            "{}: {} lease(s) taken back after they expired, {} unit(s) in doubt (possibly \
             spent) until {} settles them when it is back",
            node.node,
            node.taken_back,
            count(node.in_doubt),
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

fn nodes_table(nodes: &[FleetNode], now: u64) -> Table {
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
        table.row(vec![
            node.node.clone(),
            if node.live { "live" } else { "down" }.to_owned(),
            node.last_seen_unix_us
                .map_or("never".to_owned(), |seen| time::relative(seen, now)),
            node.revision
                .map_or("-".to_owned(), |revision| revision.to_string()),
            node.lag_receipts.map_or("-".to_owned(), count),
            node.shipped_unix_us
                .map_or("never".to_owned(), |shipped| time::relative(shipped, now)),
            count(node.open_leases),
            count(node.units_held),
            node.version.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    table
}

fn pools_table(pools: &[FleetPool]) -> Table {
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
        table.row(vec![
            pool.tenant.0.clone(),
            pool.purpose.clone().unwrap_or_else(|| "(all)".to_owned()),
            pool.class.clone(),
            pool.window.clone(),
            tf_budgets::format_utc(pool.window_start_unix_us / 1_000_000),
            count(pool.cap),
            count(pool.spent),
            count(pool.leased),
            count(pool.in_doubt),
            count(pool.unused),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use tf_fleet::{
        FleetStatus, NodeLeases, NodeStatus, PoolKey, PoolState, PoolStatus, Seen, Shipping,
    };

    use super::*;

    const NOW: u64 = 1_795_514_400_000_000;
    const SECOND: u64 = 1_000_000;

    /// A status as `tf_fleet` reads it, as the admin server's conversion gives it.
    fn sample() -> FleetReply {
        let status = FleetStatus {
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
                        receipt_key: "ab".repeat(32),
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
        };
        tf_admin::api::fleet_reply("postgres://fleet@db:5432/fleet", &status)
    }

    #[test]
    fn the_tables_say_who_is_live_what_lags_and_what_is_left() {
        let lines = lines(&sample());
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
        let document = serde_json::to_value(sample()).expect("serialises");
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
