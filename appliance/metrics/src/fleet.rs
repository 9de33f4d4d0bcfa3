//! Fleet mode's metrics: what the fleet worker publishes each tick (its connection to the
//! fleet's PostgreSQL, its budget leases, receipts shipping) and how they are exposed.

use crate::exposition::Page;
use crate::histogram::Histogram;

/// Shipping lag buckets, seconds: 10 ms (a batch every tick of 250 ms lags by about half a
/// tick) to 10 minutes (a database away for a while).
pub const SHIPPING_LAG_SECONDS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
    600.0,
];

/// What the fleet worker publishes.
#[derive(Clone, Debug)]
pub struct FleetSnapshot {
    /// Connected to the fleet's database.
    pub connected: bool,
    /// Budget leases taken since start.
    pub leases_taken: u64,
    /// Budget leases renewed since start.
    pub lease_renewals: u64,
    /// Leases found taken back while this appliance held them (it did not renew them in
    /// time: the database or the appliance was away).
    pub leases_lost: u64,
    /// Receipts committed to the ledger and not yet shipped.
    pub unshipped: u64,
    /// For each batch shipped: how long before it its oldest receipt was decided.
    pub shipping_lag_seconds: Histogram,
}

impl FleetSnapshot {
    /// Nothing done yet.
    pub fn new() -> Self {
        FleetSnapshot {
            connected: false,
            leases_taken: 0,
            lease_renewals: 0,
            leases_lost: 0,
            unshipped: 0,
            shipping_lag_seconds: Histogram::new(SHIPPING_LAG_SECONDS),
        }
    }
}

impl Default for FleetSnapshot {
    fn default() -> Self {
        Self::new()
    }
}

pub(crate) fn render(page: &mut Page, fleet: &FleetSnapshot) {
    let gauges = [
        (
            "trust_fabric_fleet_connected",
            "gauge",
            "1 while connected to the fleet's PostgreSQL; 0 while it cannot be reached (capped \
             requests are then admitted only within the budget leases held).",
            u64::from(fleet.connected),
        ),
        (
            "trust_fabric_fleet_leases_taken_total",
            "counter",
            "Budget leases taken from the fleet.",
            fleet.leases_taken,
        ),
        (
            "trust_fabric_fleet_lease_renewals_total",
            "counter",
            "Budget leases renewed before they ran low or expired.",
            fleet.lease_renewals,
        ),
        (
            "trust_fabric_fleet_leases_lost_total",
            "counter",
            "Budget leases taken back by the fleet while this appliance held them (not \
             renewed by their expiry and grace period).",
            fleet.leases_lost,
        ),
        (
            "trust_fabric_fleet_unshipped_receipts",
            "gauge",
            "Receipts committed to this appliance's ledger and not yet shipped to the fleet's \
             database.",
            fleet.unshipped,
        ),
    ];
    for (name, kind, help, value) in gauges {
        page.family(name, kind, help);
        page.sample(name, &[], value as f64);
    }
    page.family(
        "trust_fabric_fleet_shipping_lag_seconds",
        "histogram",
        "Per batch of receipts shipped to the fleet's database: how long before it the \
         batch's oldest receipt was decided.",
    );
    page.histogram(
        "trust_fabric_fleet_shipping_lag_seconds",
        &[],
        &fleet.shipping_lag_seconds,
    );
}
