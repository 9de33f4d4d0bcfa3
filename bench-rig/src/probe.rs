//! The host's state during the run: a thread verifies one BLS signature twice a second and
//! records the wall time it took. Uncontended it is the verification's cost; it grows when the
//! host's CPUs are busy (the probe waits for one, as the appliance's threads do) or slowed (a
//! shared or throttling host). Seen beside the latency per second, it tells a host that ran
//! out of CPU from an appliance that stalled on its own. Costs about 0.3 % of one core.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tf_engine::bls::{self, PublicKey, Signature};
use tf_engine::{Field, Verdict};
use tf_partner::Statement;

/// Time between samples.
const EVERY: Duration = Duration::from_millis(500);

/// A running probe.
pub struct Probe {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<(Duration, f64)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Probe {
    /// Starts sampling with `statement` (a single BLS signature) from `start`; None if the
    /// statement is not one.
    pub fn start(statement: &Statement, start: Instant) -> Option<Probe> {
        let Statement::BlsSingle {
            public_key,
            message,
            signature,
        } = statement
        else {
            return None;
        };
        let key = PublicKey::decode(public_key, Field::new("public_key")).ok()?;
        let signature = Signature::decode(signature, Field::new("signature")).ok()?;
        let message = message.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (flag, out) = (stop.clone(), samples.clone());
        let thread = std::thread::Builder::new()
            .name("speed-probe".into())
            .spawn(move || {
                while !flag.load(Ordering::Acquire) {
                    let began = Instant::now();
                    let verdict = bls::verify(&key, &message, &signature);
                    let took = began.elapsed();
                    if verdict == Verdict::Valid {
                        out.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((began.duration_since(start), took.as_secs_f64() * 1e3));
                    }
                    std::thread::sleep(EVERY);
                }
            })
            .ok()?;
        Some(Probe {
            stop,
            samples,
            thread: Some(thread),
        })
    }

    /// Stops and returns the samples: (time from the start, milliseconds).
    pub fn finish(mut self) -> Vec<(Duration, f64)> {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The median sample of each second from `from` (None for a second without samples).
pub fn per_second(samples: &[(Duration, f64)], from: Duration, seconds: usize) -> Vec<Option<f64>> {
    let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); seconds];
    for (at, ms) in samples {
        if *at < from {
            continue;
        }
        let index = (*at - from).as_secs() as usize;
        if let Some(bucket) = buckets.get_mut(index) {
            bucket.push(*ms);
        }
    }
    buckets
        .into_iter()
        .map(|mut b| {
            b.sort_by(f64::total_cmp);
            b.get(b.len() / 2).copied()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_fall_into_the_second_they_were_taken_in() {
        let samples = [
            (Duration::from_millis(900), 9.0), // warm-up
            (Duration::from_millis(1_100), 2.0),
            (Duration::from_millis(1_600), 4.0),
            (Duration::from_millis(1_700), 3.0),
            (Duration::from_millis(3_200), 5.0),
        ];
        assert_eq!(
            per_second(&samples, Duration::from_secs(1), 3),
            vec![Some(3.0), None, Some(5.0)]
        );
    }
}
