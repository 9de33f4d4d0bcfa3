//! A fixed-bucket histogram as Prometheus exposes them: cumulative `le` buckets, a sum and a
//! count. Recorded on one shard without atomics, merged across shards at scrape.

/// Decision latency buckets, seconds: 0.5 ms to 10 s.
pub const LATENCY_SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Batch size buckets, requests.
pub const BATCH_SIZE: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0];
/// Ledger commit buckets, seconds: 0.1 ms to 1 s.
pub const COMMIT_SECONDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// Counts per bucket (not cumulative; the last is above every bound), their sum and count.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    /// An empty histogram over `bounds` (ascending upper bounds).
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    /// Counts one observation.
    pub fn record(&mut self, value: f64) {
        let bucket = self.bounds.partition_point(|bound| *bound < value);
        self.counts[bucket] += 1;
        self.sum += value;
        self.count += 1;
    }

    /// Adds another histogram over the same bounds.
    pub fn merge(&mut self, other: &Histogram) {
        debug_assert_eq!(self.bounds, other.bounds);
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.sum += other.sum;
        self.count += other.count;
    }

    /// How many observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the observations.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// `(upper bound, cumulative count)` for each bound, then `(+Inf, count)`.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        let mut out = Vec::with_capacity(self.counts.len());
        for (i, count) in self.counts.iter().enumerate() {
            total += count;
            out.push((self.bounds.get(i).copied().unwrap_or(f64::INFINITY), total));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_with_le_semantics_and_merge_adds() {
        const BOUNDS: &[f64] = &[1.0, 2.0];
        let mut a = Histogram::new(BOUNDS);
        for v in [0.5, 1.0, 1.5, 3.0] {
            a.record(v);
        }
        // le=1 holds 0.5 and 1.0 (a value equal to a bound is in it).
        assert_eq!(a.cumulative(), vec![(1.0, 2), (2.0, 3), (f64::INFINITY, 4)]);
        let mut b = Histogram::new(BOUNDS);
        b.record(2.0);
        a.merge(&b);
        assert_eq!(a.cumulative(), vec![(1.0, 2), (2.0, 4), (f64::INFINITY, 5)]);
        assert_eq!(a.count(), 5);
        assert!((a.sum() - 8.0).abs() < 1e-9);
    }
}
