//! Asking again when the appliance says when to: busy, its ledger unavailable for a moment, a
//! log entry not in a signed checkpoint yet. Nothing else is retried: an answer (a verdict,
//! over budget, denied by policy) would be the same, and a lost connection may have been
//! answered.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::PartnerError;

/// How many times to ask, and how long to wait in all at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Requests sent at most, the first included (1: never retry).
    pub attempts: u32,
    /// The most to wait across retries; an answer asking for longer is returned as it is.
    pub max_wait: Duration,
}

/// The shortest wait, for an answer that says "now" (a busy appliance always means later).
const MIN_WAIT: Duration = Duration::from_millis(10);

impl Default for Retry {
    /// Four retries within 30 seconds.
    fn default() -> Self {
        Retry {
            attempts: 5,
            max_wait: Duration::from_secs(30),
        }
    }
}

impl Retry {
    /// One request, no retry.
    pub const NEVER: Retry = Retry {
        attempts: 1,
        max_wait: Duration::ZERO,
    };

    /// Asking again up to `retries` times after the first request, within the default
    /// wait: what `partner --retries` and the SDKs' `retries` mean.
    pub fn retries(retries: u32) -> Retry {
        Retry {
            attempts: retries.saturating_add(1),
            ..Retry::default()
        }
    }

    /// Runs `request` until it succeeds, fails in a way retrying cannot change, or the
    /// attempts or the wait allowed run out; waits what each answer asks (plus up to a tenth,
    /// so partners told the same wait do not all come back at once).
    pub async fn run<T, F, R>(&self, mut request: F) -> Result<T, PartnerError>
    where
        F: FnMut() -> R,
        R: Future<Output = Result<T, PartnerError>>,
    {
        let mut waited = Duration::ZERO;
        let mut attempt = 1;
        loop {
            let error = match request().await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            let Some(asked) = error.retry_after() else {
                return Err(error);
            };
            let wait = spread(asked.max(MIN_WAIT));
            if attempt >= self.attempts || waited + wait > self.max_wait {
                return Err(error);
            }
            tokio::time::sleep(wait).await;
            waited += wait;
            attempt += 1;
        }
    }
}

/// `wait` plus up to a tenth of it, from the clock's nanoseconds.
fn spread(wait: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    wait + wait.mul_f64(f64::from(nanos % 1000) / 10_000.0)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn busy(ms: u32) -> PartnerError {
        PartnerError::Busy { retry_after_ms: ms }
    }

    #[tokio::test(start_paused = true)]
    async fn busy_answers_are_retried_after_the_wait_they_ask_then_the_answer_is_returned() {
        let calls = Cell::new(0);
        let started = tokio::time::Instant::now();
        let answer = Retry::default()
            .run(|| {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move { if n < 3 { Err(busy(200)) } else { Ok(n) } }
            })
            .await
            .expect("answered on the third");
        assert_eq!(answer, 3);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(400) && waited <= Duration::from_millis(440),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn what_retrying_cannot_change_is_returned_at_once() {
        let calls = Cell::new(0);
        let error = Retry::default()
            .run(|| {
                calls.set(calls.get() + 1);
                async { Err::<(), _>(PartnerError::Internal) }
            })
            .await
            .expect_err("not retried");
        assert!(matches!(error, PartnerError::Internal));
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_and_the_wait_allowed_bound_the_retries() {
        let calls = Cell::new(0);
        let attempt = || {
            calls.set(calls.get() + 1);
            async { Err::<(), _>(busy(1_000)) }
        };
        let three = Retry {
            attempts: 3,
            max_wait: Duration::from_secs(60),
        };
        assert!(matches!(
            three.run(attempt).await,
            Err(PartnerError::Busy { .. })
        ));
        assert_eq!(calls.get(), 3);
        calls.set(0);
        // A wait longer than allowed is not made: the busy answer is returned.
        let short = Retry {
            attempts: 10,
            max_wait: Duration::from_millis(500),
        };
        assert!(short.run(attempt).await.is_err());
        assert_eq!(calls.get(), 1);
        calls.set(0);
        assert!(Retry::NEVER.run(attempt).await.is_err());
        assert_eq!(calls.get(), 1);
    }
}
