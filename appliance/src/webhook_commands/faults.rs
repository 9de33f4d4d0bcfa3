//! Faults the receiver answers with on purpose, so a sender's retries, throttling and
//! timeouts can be tested and drilled against a real endpoint.

use std::time::Duration;

use rand_core::{OsRng, RngCore};

use crate::cli::webhooks::FaultArgs;

/// What to answer instead of handling a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 500 at once.
    Fail,
    /// 429 with `Retry-After`, seconds.
    Throttle(u64),
    /// 500 after holding the request this long.
    Hang(Duration),
}

/// The configured shares: disjoint bands of one roll in `0..100`, so each is its percentage
/// of all requests.
#[derive(Clone, Copy, Debug)]
pub struct Faults {
    fail: u8,
    throttle: u8,
    hang: u8,
    retry_after_s: u64,
    hang_for: Duration,
}

impl Faults {
    /// Checks that the shares fit in one hundred percent.
    pub fn new(args: &FaultArgs) -> Result<Self, String> {
        let total = u16::from(args.fail_percent)
            + u16::from(args.throttle_percent)
            + u16::from(args.hang_percent);
        if total > 100 {
            return Err(format!(
                "--fail-percent, --throttle-percent and --hang-percent add up to {total}; at most 100"
            ));
        }
        Ok(Self {
            fail: args.fail_percent,
            throttle: args.throttle_percent,
            hang: args.hang_percent,
            retry_after_s: args.retry_after,
            hang_for: Duration::from_secs(args.hang_s),
        })
    }

    /// The fault for this request, if any.
    pub fn draw(&self) -> Option<Fault> {
        if self.fail == 0 && self.throttle == 0 && self.hang == 0 {
            return None;
        }
        // 2^32 is not a multiple of 100; the bias (under 1e-7) does not matter for drills.
        self.pick((OsRng.next_u32() % 100) as u8)
    }

    /// The fault for a roll in `0..100`: fail, then throttle, then hang bands.
    fn pick(&self, roll: u8) -> Option<Fault> {
        let roll = u16::from(roll);
        let fail = u16::from(self.fail);
        let throttle = fail + u16::from(self.throttle);
        let hang = throttle + u16::from(self.hang);
        if roll < fail {
            Some(Fault::Fail)
        } else if roll < throttle {
            Some(Fault::Throttle(self.retry_after_s))
        } else if roll < hang {
            Some(Fault::Hang(self.hang_for))
        } else {
            None
        }
    }

    /// For the start-up line: `fail=P% throttle=P% (Retry-After S) hang=P% (S s)`.
    pub fn describe(&self) -> String {
        format!(
            "fail={}% throttle={}% (Retry-After {}) hang={}% ({} s)",
            self.fail,
            self.throttle,
            self.retry_after_s,
            self.hang,
            self.hang_for.as_secs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(fail: u8, throttle: u8, hang: u8) -> Result<Faults, String> {
        Faults::new(&FaultArgs {
            fail_percent: fail,
            throttle_percent: throttle,
            retry_after: 7,
            hang_percent: hang,
            hang_s: 3,
        })
    }

    #[test]
    fn each_share_is_its_percentage_of_rolls() {
        let faults = faults(10, 20, 30).expect("fits in 100");
        let picks: Vec<_> = (0..100).map(|roll| faults.pick(roll)).collect();
        let count = |f: Option<Fault>| picks.iter().filter(|p| **p == f).count();
        assert_eq!(count(Some(Fault::Fail)), 10);
        assert_eq!(count(Some(Fault::Throttle(7))), 20);
        assert_eq!(count(Some(Fault::Hang(Duration::from_secs(3)))), 30);
        assert_eq!(count(None), 40);
    }

    #[test]
    fn one_hundred_percent_always_and_zero_never() {
        let always = faults(100, 0, 0).expect("fits");
        assert!((0..100).all(|roll| always.pick(roll) == Some(Fault::Fail)));
        assert_eq!(always.draw(), Some(Fault::Fail));
        let never = faults(0, 0, 0).expect("fits");
        assert!((0..100).all(|roll| never.pick(roll).is_none()));
        assert_eq!(never.draw(), None);
    }

    #[test]
    fn shares_over_one_hundred_are_refused() {
        let error = faults(50, 40, 11).expect_err("101 %");
        assert!(error.contains("101"), "{error}");
    }
}
