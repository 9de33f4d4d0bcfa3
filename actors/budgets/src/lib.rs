//! Privacy budgets v2.1, sans-IO.
//!
//! A tenant's caps limit cost units per dataset class, per purpose or across all purposes, over
//! a UTC calendar window (hour, day, ISO week, month) or a rolling number of seconds; every cap
//! that applies to a request must hold. A request reserves its cost at admission, on the
//! tenant's home shard, so concurrent requests can never overspend; once verified it is
//! charged (always for on-attempt classes, only when valid for on-valid ones) or released.
//! At start, charges read back from the ledger restore the counters.
//!
//! Times are Unix microseconds, passed in: nothing here reads a clock.

mod budget;
mod costs;
mod history;
mod rolling;
pub mod shapes;
mod window;
mod work;

pub use budget::{
    CapSpec, CapStatus, ChargePolicies, ChargePolicy, FleetGrant, OverBudget, SANDBOX_PURPOSE,
    Settlement, TenantBudget, restore_from,
};
pub use costs::Costs;
pub use history::{ChargeJournal, PastCharge};
pub use window::{
    BadWindow, MAX_ROLLING_SECS, Span, Window, civil_from_days, days_from_civil, format_utc,
    format_utc_micros,
};
pub use work::Work;
