//! The scenario scheduler's core, sans-IO: scenario [`Pack`]s (a change, traffic and
//! expectations), the what-if bundle a pack's edits make ([`apply`]), a pack's [`run`] over
//! recorded or synthetic traffic; when packs run ([`Cadence`]: a cron schedule in
//! UTC, a run still going skips its slot, one catch-up run after downtime however many slots
//! were missed) and which of a slot's packs are left after a restart ([`Night`]), whether a
//! pack applies to the bundle in force at all ([`missing_tenants`]), how long results are
//! kept, and how tonight compares with the nights before ([`Trend`]). Times are Unix
//! microseconds, passed in.

mod cadence;
mod change;
mod evaluate;
mod pack;
mod synthetic;
mod trend;

pub use cadence::{Cadence, Due, Ended, MAX_MISSED_COUNTED, Night, Scheduler, Tick};
pub use change::apply;
pub use evaluate::{Expectation, PackResult, Recorded, missing_tenants, run, warm_from};
pub use pack::{
    CapEdit, Change, Expect, KINDS, MAX_PACK_BYTES, Pack, PackError, TenantEdit, Traffic,
};
pub use trend::{RESULTS_KEPT_US, Trend, kept_from};
