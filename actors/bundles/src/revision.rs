//! The range a bundle revision lives in, and the next revision after one.
//!
//! Revisions travel as JSON numbers (the manifest, the admin API, the console) and are stored
//! as SQLite's signed 64-bit integers, so they stop at 2^53 - 1: the largest integer every
//! JSON reader (JavaScript's `Number` included) holds exactly, and far inside `i64`. Revision 0
//! is the configuration file's built-in policy, never a bundle's.

use crate::problem::Problem;

/// The highest revision a bundle may carry: 2^53 - 1 (9 007 199 254 740 991).
pub const MAX_REVISION: u64 = (1 << 53) - 1;

/// Refuses a revision outside `1..=MAX_REVISION`.
pub fn check_revision(revision: u64) -> Result<u64, Problem> {
    if (1..=MAX_REVISION).contains(&revision) {
        Ok(revision)
    } else {
        Err(Problem::RevisionOutOfRange { revision })
    }
}

/// The revision after `newest` (a rollback republishes above everything promoted), refused
/// when `newest` is already the last one.
pub fn next_revision(newest: u64) -> Result<u64, Problem> {
    // Saturating: u64::MAX stays out of range instead of wrapping to 0.
    check_revision(newest.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_one_to_two_to_the_53_minus_one() {
        assert_eq!(MAX_REVISION, 9_007_199_254_740_991);
        assert!(i64::try_from(MAX_REVISION).is_ok());
        for good in [1, 2, MAX_REVISION] {
            assert_eq!(check_revision(good), Ok(good));
        }
        for bad in [0, MAX_REVISION + 1, 1 << 63, u64::MAX] {
            assert_eq!(
                check_revision(bad),
                Err(Problem::RevisionOutOfRange { revision: bad })
            );
        }
    }

    #[test]
    fn the_next_revision_stops_at_the_bound_without_overflowing() {
        assert_eq!(next_revision(0), Ok(1));
        assert_eq!(next_revision(41), Ok(42));
        assert!(next_revision(MAX_REVISION).is_err());
        assert!(next_revision(u64::MAX).is_err());
    }
}
