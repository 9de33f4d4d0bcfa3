//! `GET /api/v1/fleet`: in fleet mode, the fleet's PostgreSQL as an operator reads it (each
//! appliance live or down, its revision, shipping lag and leases; every budget pool of the
//! current windows). The database's client blocks, so each read connects and reads on the
//! blocking pool, counted with the other blocking reads ([`super::search::MAX_SEARCHES`]) so
//! callers cannot pile connections on the database. [`fleet_value`] is shared with the
//! console, and [`fleet_reply`] with `appliance fleet status`, which reads the database itself:
//! the one conversion from `tf_fleet`'s status to the contract.

use actix_web::{HttpRequest, web};
use tf_admin_api::{ErrorBody, ErrorCode, FleetNode, FleetPool, FleetReply, Revision};
use tf_config::FleetConfig;
use tf_fleet::{FleetError, FleetStatus, NodeStatus, PoolStatus};

use super::{Answer, ApiState, authorize};
use crate::auth::Permission;

/// PostgreSQL's SQLSTATE for a table that does not exist.
const UNDEFINED_TABLE: &str = "42P01";

/// The fleet as its database shows it now: `not-found` outside fleet mode, `busy` while the
/// database does not answer (with its words).
pub async fn fleet_value(state: &ApiState) -> Result<FleetReply, ErrorBody> {
    let Some(fleet) = state.fleet.clone() else {
        return Err(ErrorBody::new(
            ErrorCode::NotFound,
            "this appliance is not in fleet mode: add [fleet] to its configuration \
             (docs/fleet.md)",
        ));
    };
    let running = super::search::Running::start(state)?;
    let read = actix_web::rt::task::spawn_blocking(move || {
        let _running = running;
        read(&fleet)
    })
    .await;
    read.unwrap_or_else(|_| {
        Err(ErrorBody::new(
            ErrorCode::Internal,
            "reading the fleet's database stopped before it ended",
        ))
    })
}

/// `GET /api/v1/fleet`.
pub(super) async fn fleet(request: HttpRequest, state: web::Data<ApiState>) -> Answer<FleetReply> {
    authorize(&request, &state, Permission::Read)?;
    Ok(web::Json(fleet_value(&state).await?))
}

/// The contract's reply from the status `tf_fleet` read from `database`.
pub fn fleet_reply(database: &str, status: &FleetStatus) -> FleetReply {
    FleetReply {
        database: database.to_owned(),
        now_unix_us: status.now_us,
        live_within_us: status.live_within_us,
        nodes: status.nodes.iter().map(node).collect(),
        pools: status.pools.iter().map(pool).collect(),
    }
}

/// Connects and reads, on a blocking thread.
fn read(fleet: &FleetConfig) -> Result<FleetReply, ErrorBody> {
    let failed = |error| failure(fleet, error);
    let mut client = tf_fleet::connect(fleet).map_err(failed)?;
    let now_us = tf_seam::clock::unix_micros();
    let status = tf_fleet::status(&mut client, now_us, fleet.live_within_us()).map_err(failed)?;
    Ok(fleet_reply(&fleet.postgres, &status))
}

/// What to answer for a read that failed: the database unreachable, refusing or too new is
/// `busy` with its words; a setting of `[fleet]` that cannot be used (a password or CA file)
/// is the appliance's own failure.
fn failure(fleet: &FleetConfig, error: FleetError) -> ErrorBody {
    let database = &fleet.postgres;
    match error {
        FleetError::Settings(_) => ErrorBody::new(
            ErrorCode::Internal,
            format!("{error}: fix it in the configuration and restart the appliance"),
        ),
        FleetError::Postgres(ref postgres)
            if postgres.code().map(|code| code.code()) == Some(UNDEFINED_TABLE) =>
        {
            ErrorBody::new(
                ErrorCode::Busy,
                format!(
                    "{error} ({database}): the database has no fleet tables yet; this \
                     appliance's fleet worker makes them when it first connects"
                ),
            )
        }
        _ => ErrorBody::new(
            ErrorCode::Busy,
            format!(
                "{error} ({database}): retry in a few seconds; the journal says whether the \
                 fleet worker reaches the database"
            ),
        ),
    }
}

fn node(node: &NodeStatus) -> FleetNode {
    let seen = node.seen.as_ref();
    FleetNode {
        node: node.node.clone(),
        live: node.live,
        started_unix_us: seen.map(|s| s.started_us),
        last_seen_unix_us: seen.map(|s| s.last_seen_us),
        revision: seen.map(|s| Revision(s.revision)),
        committed_seq: seen.map(|s| s.committed_seq),
        version: seen.map(|s| s.version.clone()),
        receipt_key: seen
            .map(|s| s.receipt_key.clone())
            .filter(|key| !key.is_empty()),
        shipped_seq: node.shipping.map(|s| s.shipped_seq),
        shipped_unix_us: node.shipping.map(|s| s.shipped_us),
        lag_receipts: node.lag_receipts,
        since_shipped_us: node.shipping.map(|s| s.age_us),
        open_leases: node.leases.open,
        units_held: node.leases.units_held,
        taken_back: node.leases.taken_back,
        in_doubt: node.leases.in_doubt,
    }
}

/// A pool; the empty purpose `tf_fleet` keys a cap across every purpose by is `null` here.
fn pool(pool: &PoolStatus) -> FleetPool {
    let (key, state) = (&pool.key, &pool.state);
    FleetPool {
        tenant: key.tenant.clone().into(),
        purpose: (!key.purpose.is_empty()).then(|| key.purpose.clone()),
        class: key.class.clone(),
        window: key.window.clone(),
        window_start_unix_us: key.window_start_us,
        cap: state.cap,
        spent: state.spent,
        leased: state.leased,
        in_doubt: state.in_doubt,
        unused: pool.unused(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::App;
    use actix_web::http::{StatusCode, header};
    use actix_web::test;
    use tf_admin_api::Method;
    use tf_fleet::{NodeLeases, PoolKey, PoolState, Seen, Shipping};

    use super::*;
    use crate::api::configure;
    use crate::api::tests::{api_state, request, run, send};

    const NOW: u64 = 1_795_514_400_000_000;
    const SECOND: u64 = 1_000_000;

    fn fleet_config(postgres: &str) -> FleetConfig {
        FleetConfig {
            postgres: postgres.into(),
            node: "node-a".into(),
            password_file: None,
            ca_file: None,
            lease_ms: 10_000,
            grace_ms: 5_000,
        }
    }

    #[test]
    fn a_node_without_a_heartbeat_is_nulls_and_a_pool_for_every_purpose_has_none() {
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
        let reply = fleet_reply("postgres://fleet@db:5432/fleet", &status);
        let (a, b) = (&reply.nodes[0], &reply.nodes[1]);
        assert_eq!(
            (a.revision, a.lag_receipts, a.since_shipped_us, a.units_held),
            (Some(Revision(7)), Some(50), Some(12 * SECOND), 4_500)
        );
        assert_eq!(
            (b.last_seen_unix_us, b.revision, b.shipped_seq, b.in_doubt),
            (None, None, None, 14)
        );
        let pool = &reply.pools[0];
        assert_eq!((pool.purpose.as_deref(), pool.unused), (None, 95_470));
        assert_eq!(reply.live_within_us, fleet_config("x").live_within_us());
    }

    #[test]
    fn outside_fleet_mode_the_route_says_how_to_get_there() {
        run(async {
            let state = web::Data::new(api_state());
            let app = test::init_service(App::new().app_data(state).configure(configure)).await;
            let answered = send(
                &app,
                request(Method::Get, "/api/v1/fleet", Some("viewer-token")).to_request(),
            )
            .await;
            let error = answered.error();
            assert_eq!(error.error, ErrorCode::NotFound);
            assert!(
                error.message.contains("add [fleet]") && error.message.contains("docs/fleet.md"),
                "{error:?}"
            );
        });
    }

    #[test]
    fn a_database_that_does_not_answer_is_busy_with_its_words() {
        run(async {
            // Nothing listens on port 1: the connection is refused at once.
            let database = "postgres://fleet@127.0.0.1:1/fleet";
            let state = web::Data::new(api_state().with_fleet(Some(fleet_config(database))));
            let app = test::init_service(App::new().app_data(state).configure(configure)).await;
            let answered = send(
                &app,
                request(Method::Get, "/api/v1/fleet", Some("viewer-token")).to_request(),
            )
            .await;
            let error = answered.error();
            assert_eq!(error.error, ErrorCode::Busy);
            assert_eq!(answered.status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(answered.headers.contains_key(header::RETRY_AFTER));
            assert!(
                error.message.contains("the fleet's PostgreSQL")
                    && error.message.contains(database),
                "{error:?}"
            );
        });
    }
}
