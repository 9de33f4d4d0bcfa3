//! An endpoint's rate limit: a token bucket of `rate` attempts per second with a burst of one
//! second's worth, so a receiver coming back after an outage is not flooded by the backlog.

/// Attempts an endpoint may start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokenBucket {
    rate_per_s: u32,
    /// Tokens, in millionths of an attempt (one token per 1_000_000).
    micro_tokens: u64,
    last_us: u64,
}

impl TokenBucket {
    /// A full bucket at `now_us`.
    pub(crate) fn new(rate_per_s: u32, now_us: u64) -> Self {
        TokenBucket {
            rate_per_s,
            micro_tokens: Self::capacity(rate_per_s),
            last_us: now_us,
        }
    }

    fn capacity(rate_per_s: u32) -> u64 {
        u64::from(rate_per_s.max(1)) * 1_000_000
    }

    /// Takes one attempt's token if there is one at `now_us`.
    pub(crate) fn take(&mut self, now_us: u64) -> bool {
        let elapsed = now_us.saturating_sub(self.last_us);
        self.last_us = self.last_us.max(now_us);
        // rate tokens per second = rate micro-tokens per microsecond.
        self.micro_tokens = self
            .micro_tokens
            .saturating_add(elapsed.saturating_mul(u64::from(self.rate_per_s)))
            .min(Self::capacity(self.rate_per_s));
        if self.micro_tokens >= 1_000_000 {
            self.micro_tokens -= 1_000_000;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_one_second_then_the_rate() {
        let mut bucket = TokenBucket::new(5, 0);
        let burst = (0..10).filter(|_| bucket.take(0)).count();
        assert_eq!(burst, 5);
        assert!(!bucket.take(100_000), "a tenth of a second is half a token");
        assert!(bucket.take(200_000), "a fifth of a second is one token");
        // A long pause refills only to the burst.
        let later = (0..10).filter(|_| bucket.take(60_000_000)).count();
        assert_eq!(later, 5);
    }
}
