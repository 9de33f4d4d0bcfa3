//! Charges over a sliding window, kept in a bounded number of time buckets.
//!
//! A charge is held until the end of its bucket plus the window length, never less: rounding
//! may keep a charge up to one bucket width longer than the window, so the budget can be
//! conservative by that much but can never be overspent.

use std::collections::VecDeque;

/// Buckets per window; bounds the memory of a cap to this many entries.
const BUCKETS_PER_WINDOW: u64 = 240;
const US_PER_SEC: u64 = 1_000_000;

/// The charges of one rolling cap.
#[derive(Clone, Debug)]
pub struct RollingUsage {
    window_us: u64,
    bucket_us: u64,
    /// (bucket number, amount), oldest first; only buckets with charges.
    buckets: VecDeque<(u64, u64)>,
    total: u64,
}

impl RollingUsage {
    /// An empty usage over a window of `window_us`.
    pub fn new(window_us: u64) -> Self {
        let bucket_us = (window_us / BUCKETS_PER_WINDOW).max(US_PER_SEC);
        RollingUsage {
            window_us,
            bucket_us,
            buckets: VecDeque::new(),
            total: 0,
        }
    }

    /// The width of a bucket, in microseconds: how much longer than the window a charge may
    /// be held.
    #[cfg(test)]
    pub fn bucket_us(&self) -> u64 {
        self.bucket_us
    }

    /// When the charges of a bucket stop counting.
    fn expiry(&self, bucket: u64) -> u64 {
        (bucket + 1) * self.bucket_us + self.window_us
    }

    /// Drops the charges that no longer count at `now`.
    pub fn expire(&mut self, now: u64) {
        while let Some(&(bucket, amount)) = self.buckets.front() {
            if self.expiry(bucket) > now {
                break;
            }
            self.total -= amount;
            self.buckets.pop_front();
        }
    }

    /// Charges still counting (call `expire` first).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Adds a charge made at `at`. Charges arrive in time order except when restoring, where
    /// an older one is merged into its place.
    pub fn add(&mut self, at: u64, amount: u64) {
        if amount == 0 {
            return;
        }
        let bucket = at / self.bucket_us;
        self.total += amount;
        match self.buckets.back_mut() {
            Some((last, sum)) if *last == bucket => *sum += amount,
            Some((last, _)) if *last > bucket => {
                let place = self.buckets.partition_point(|(b, _)| *b < bucket);
                match self.buckets.get_mut(place) {
                    Some((b, sum)) if *b == bucket => *sum += amount,
                    _ => self.buckets.insert(place, (bucket, amount)),
                }
            }
            _ => self.buckets.push_back((bucket, amount)),
        }
    }

    /// Takes back up to `amount` of a charge made at `at` (one whose record could not be
    /// stored); a charge already expired is not there to take back.
    pub fn remove(&mut self, at: u64, amount: u64) {
        let bucket = at / self.bucket_us;
        let place = self.buckets.partition_point(|(b, _)| *b < bucket);
        if let Some((b, sum)) = self.buckets.get_mut(place)
            && *b == bucket
        {
            let taken = amount.min(*sum);
            *sum -= taken;
            self.total -= taken;
            if *sum == 0 {
                self.buckets.remove(place);
            }
        }
    }

    /// The earliest instant at which at least `needed` of the current charges will have
    /// stopped counting; `now` when nothing needs to free up, `None` if they never could.
    pub fn frees_at(&self, needed: u64, now: u64) -> Option<u64> {
        if needed == 0 {
            return Some(now);
        }
        let mut freed = 0;
        for &(bucket, amount) in &self.buckets {
            freed += amount;
            if freed >= needed {
                return Some(self.expiry(bucket));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60 * US_PER_SEC;

    #[test]
    fn a_charge_taken_back_stops_counting_and_no_other_is_touched() {
        let mut usage = RollingUsage::new(10 * MIN);
        usage.add(0, 3);
        usage.add(5 * MIN, 4);
        usage.remove(5 * MIN, 4);
        assert_eq!(usage.total(), 3);
        usage.remove(5 * MIN, 4);
        assert_eq!(usage.total(), 3, "nothing left in that bucket to take back");
        usage.remove(0, 10);
        assert_eq!(usage.total(), 0);
        assert_eq!(usage.frees_at(1, 0), None);
    }

    #[test]
    fn charges_stop_counting_after_the_window_and_never_before() {
        let mut usage = RollingUsage::new(10 * MIN);
        usage.add(0, 3);
        usage.add(5 * MIN, 4);
        usage.expire(10 * MIN - 1);
        assert_eq!(
            usage.total(),
            7,
            "nothing has been held for the whole window yet"
        );
        usage.expire(10 * MIN + usage.bucket_us());
        assert_eq!(usage.total(), 4, "the first charge has aged out");
        usage.expire(15 * MIN + usage.bucket_us());
        assert_eq!(usage.total(), 0);
    }

    #[test]
    fn frees_at_names_when_enough_ages_out() {
        let mut usage = RollingUsage::new(10 * MIN);
        usage.add(0, 3);
        usage.add(5 * MIN, 4);
        let bucket = usage.bucket_us();
        assert_eq!(usage.frees_at(2, MIN), Some(10 * MIN + bucket));
        assert_eq!(usage.frees_at(5, MIN), Some(15 * MIN + bucket));
        assert_eq!(usage.frees_at(8, MIN), None);
        assert_eq!(usage.frees_at(0, MIN), Some(MIN));
    }

    #[test]
    fn restored_charges_out_of_order_land_in_their_buckets() {
        let mut usage = RollingUsage::new(10 * MIN);
        usage.add(6 * MIN, 1);
        usage.add(2 * MIN, 2);
        usage.add(2 * MIN, 2);
        usage.add(4 * MIN, 1);
        assert_eq!(usage.total(), 6);
        usage.expire(12 * MIN + usage.bucket_us());
        assert_eq!(
            usage.total(),
            2,
            "the two charges at minute 2 aged out first"
        );
    }

    #[test]
    fn memory_is_bounded_by_the_bucket_count() {
        let mut usage = RollingUsage::new(MIN);
        for second in 0..10_000 {
            usage.expire(second * US_PER_SEC);
            usage.add(second * US_PER_SEC, 1);
        }
        assert!(usage.buckets.len() <= 62, "{} buckets", usage.buckets.len());
    }
}
