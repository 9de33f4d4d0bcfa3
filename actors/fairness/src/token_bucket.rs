//! An admission token bucket: a sustained rate with a burst allowance.

/// A point in time or a duration, in microseconds (callers choose the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Micros(pub u64);

/// Refused: no tokens now; this much later there will be enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("over the admission rate: retry after {} ms", self.millis())]
pub struct RetryAfter(pub Micros);

impl RetryAfter {
    /// The wait in whole milliseconds, rounded up (what a partner is told).
    pub fn millis(&self) -> u64 {
        self.0.0.div_ceil(1000)
    }
}

/// Tokens refill continuously at `rate` per second up to `burst`. Counting in millionths of a
/// token keeps refills exact at any rate without floating point drift.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    rate_per_sec: u64,
    burst_micro: u64,
    level_micro: u64,
    last: Micros,
}

const MICRO: u64 = 1_000_000;

impl TokenBucket {
    /// A full bucket refilling at `rate_per_sec` tokens per second, holding at most `burst`
    /// tokens. The burst is what absorbs traffic swings: with a burst of half a second's rate,
    /// a +30 % swing is absorbed for about 1.6 s before requests are told to retry.
    pub fn new(rate_per_sec: u64, burst: u64, now: Micros) -> Self {
        let burst_micro = burst.max(1).saturating_mul(MICRO);
        TokenBucket {
            rate_per_sec,
            burst_micro,
            level_micro: burst_micro,
            last: now,
        }
    }

    /// Takes `cost` tokens, or says how long until they will be there.
    pub fn try_take(&mut self, cost: u64, now: Micros) -> Result<(), RetryAfter> {
        self.refill(now);
        let need = cost.saturating_mul(MICRO);
        if self.level_micro >= need {
            self.level_micro -= need;
            return Ok(());
        }
        if self.rate_per_sec == 0 || need > self.burst_micro {
            // Never admissible at this rate: say "a second", the shortest honest answer a
            // partner can act on; the rate or burst must change for this request to pass.
            return Err(RetryAfter(Micros(MICRO)));
        }
        let missing = need - self.level_micro;
        // Each token takes 1/rate s = MICRO/rate µs; `missing` is in millionths of a token.
        Err(RetryAfter(Micros(missing.div_ceil(self.rate_per_sec))))
    }

    /// Tokens available now (whole tokens).
    pub fn available(&mut self, now: Micros) -> u64 {
        self.refill(now);
        self.level_micro / MICRO
    }

    /// Changes the rate and burst (a policy update), keeping the current level within the burst.
    pub fn reconfigure(&mut self, rate_per_sec: u64, burst: u64, now: Micros) {
        self.refill(now);
        self.rate_per_sec = rate_per_sec;
        self.burst_micro = burst.max(1).saturating_mul(MICRO);
        self.level_micro = self.level_micro.min(self.burst_micro);
    }

    fn refill(&mut self, now: Micros) {
        // Time never runs backwards for the bucket; an earlier `now` adds nothing.
        let elapsed = now.0.saturating_sub(self.last.0);
        self.last = self.last.max(now);
        // elapsed µs * rate tokens/s = elapsed * rate millionths of a token.
        let added = elapsed.saturating_mul(self.rate_per_sec);
        self.level_micro = self.level_micro.saturating_add(added).min(self.burst_micro);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_exact_retry_after_then_refill() {
        let mut bucket = TokenBucket::new(100, 5, Micros(0));
        for _ in 0..5 {
            assert_eq!(bucket.try_take(1, Micros(0)), Ok(()));
        }
        // 100 tokens/s: one token every 10 ms.
        assert_eq!(
            bucket.try_take(1, Micros(0)),
            Err(RetryAfter(Micros(10_000)))
        );
        assert_eq!(
            bucket.try_take(1, Micros(4_000)),
            Err(RetryAfter(Micros(6_000)))
        );
        assert_eq!(RetryAfter(Micros(6_000)).millis(), 6);
        assert_eq!(bucket.try_take(1, Micros(10_000)), Ok(()));
        assert_eq!(
            bucket.available(Micros(10_000_000)),
            5,
            "never above the burst"
        );
    }

    #[test]
    fn sustained_admissions_match_the_rate() {
        let mut bucket = TokenBucket::new(800, 400, Micros(0));
        let mut admitted = 0;
        // Offer 1040 requests/s (+30 %) for 10 s, evenly spaced.
        for i in 0..10_400u64 {
            let now = Micros(i * 1_000_000 / 1040);
            if bucket.try_take(1, now).is_ok() {
                admitted += 1;
            }
        }
        // 10 s at 800/s plus the 400-token burst, give or take one.
        assert!((8_399..=8_401).contains(&admitted), "{admitted}");
    }

    #[test]
    fn impossible_costs_and_zero_rates_ask_to_retry_later() {
        let mut bucket = TokenBucket::new(10, 2, Micros(0));
        assert_eq!(
            bucket.try_take(3, Micros(0)),
            Err(RetryAfter(Micros(1_000_000)))
        );
        let mut closed = TokenBucket::new(0, 1, Micros(0));
        assert_eq!(closed.try_take(1, Micros(0)), Ok(()));
        assert!(closed.try_take(1, Micros(5_000_000)).is_err());
    }

    #[test]
    fn reconfigure_clamps_the_level() {
        let mut bucket = TokenBucket::new(100, 50, Micros(0));
        bucket.reconfigure(10, 3, Micros(0));
        assert_eq!(bucket.available(Micros(0)), 3);
    }
}
