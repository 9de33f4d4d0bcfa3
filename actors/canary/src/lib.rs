//! The golden canary's judge, sans-IO: the statistics that decide whether the canary's
//! current window differs from its baseline, each checked against SciPy in the tests.
//!
//! - [`mann_whitney`]: the Mann-Whitney U test (Kayenta's judge) on two samples of latencies,
//!   with average ranks for ties, an exact p-value for small samples without ties and the
//!   normal approximation (tie- and continuity-corrected) otherwise, as SciPy's
//!   `mannwhitneyu(method="auto")` computes it (up to 10,000 values beside the small sample).
//! - [`hodges_lehmann`]: the Hodges-Lehmann shift, the median of every difference between
//!   the two samples: how much slower the current window is, robust to outliers.
//! - [`fisher_greater`]: Fisher's exact test on error counts, one-sided: whether the current
//!   window's error rate is higher than the baseline's, exact at any count (a ratio of small
//!   numbers is not a test).
//! - [`golden`]: the golden set file: known-answer requests and their expected verdicts,
//!   signed with the appliance's receipt key.
//! - [`judge`]: the comparators built on them (verdict, receipt, latency, error rate), each
//!   with a direction, thresholds and a critical flag, and the overall verdict with a
//!   consecutive-failure limit.

mod fisher;
pub mod golden;
mod hodges_lehmann;
pub mod judge;
mod mann_whitney;
mod normal;
mod rank;
pub mod silence;

pub use fisher::fisher_greater;
pub use hodges_lehmann::hodges_lehmann;
pub use mann_whitney::{Alternative, MannWhitney, Method, mann_whitney};
