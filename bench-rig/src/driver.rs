//! Drives the appliance: connects every tenant, then sends each request when the schedule
//! says, whether or not earlier ones have been answered, and records how each ended. A live
//! progress line shows the rate, errors and p95 so far; Ctrl-C stops sending and the run ends
//! with what was measured.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tf_partner::{Identity, Partner, PartnerConfig, PartnerError, Statement, Submission};

use crate::link::Link;
use tf_wire::{DatasetClass, VerdictCode};

use crate::mix::{Kind, Pool, Turns};
use crate::monitor::{Process, Reading, Usage};
use crate::probe::Probe;
use crate::recorder::{CONNECTION_LOST, NOT_SENT, Outcome, Recorder, error_type};
use crate::schedule::Schedule;
use crate::spec::{PlannedStage, RunSpec, TenantSpec, WARMUP};

/// Connected tenants and what they send.
pub struct Rig {
    /// Per tenant, its connections.
    connections: Vec<Vec<Arc<Link>>>,
    /// Connections re-established after the appliance closed them.
    reconnects: Arc<AtomicU64>,
    pool: Arc<Pool>,
    purpose: String,
    class: DatasetClass,
    max_in_flight: usize,
}

/// Ctrl-C, shared by every run of the process.
#[derive(Clone, Default)]
pub struct Stop(Arc<(AtomicBool, tokio::sync::Notify)>);

impl Stop {
    /// Starts listening for Ctrl-C.
    pub fn on_ctrl_c() -> Stop {
        let stop = Stop::default();
        let flag = stop.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nbench-rig: stopping (Ctrl-C again to stop waiting for answers)");
                flag.0.0.store(true, Ordering::Release);
                flag.0.1.notify_waiters();
            }
        });
        stop
    }

    pub fn requested(&self) -> bool {
        self.0.0.load(Ordering::Acquire)
    }

    async fn wait(&self) {
        let notified = self.0.1.notified();
        if !self.requested() {
            notified.await;
        }
    }
}

/// What one run measured.
pub struct Measured {
    pub recorder: Recorder,
    /// Unix time (seconds) when the measured part began.
    pub measured_from_unix: f64,
    /// How long the measured part ran (shorter than planned when stopped).
    pub measured_seconds: f64,
    pub usage: Option<Usage>,
    pub rig_cpu_seconds: f64,
    /// True when Ctrl-C ended the run early.
    pub interrupted: bool,
    /// Connections the appliance closed that were re-established during the run.
    pub reconnects: u64,
    /// Per second of the measured part: the median time one BLS verification took on this
    /// host (see [`crate::probe`]).
    pub host_probe_ms: Vec<Option<f64>>,
}

impl Rig {
    /// Connects `connections` QUIC connections per tenant (identities from the state
    /// directory's tenants/NAME/) and registers the built-in verifying keys for each tenant.
    pub async fn connect(
        base: &PartnerConfig,
        state_dir: &Path,
        spec: &RunSpec,
        pool: Arc<Pool>,
    ) -> Result<Rig, PartnerError> {
        let mut all = Vec::new();
        let reconnects = Arc::new(AtomicU64::new(0));
        for tenant in &spec.tenants {
            let identity = Identity::from_files(
                &state_dir.join(crate::state_dir::CA),
                &crate::state_dir::client_certificate(state_dir, &tenant.name),
                &crate::state_dir::client_key(state_dir, &tenant.name),
            )?;
            let config = PartnerConfig {
                identity,
                receipt_public_key: None,
                address: base.address.clone(),
                server_name: base.server_name.clone(),
                ..*base
            };
            let mut mine = Vec::new();
            for _ in 0..spec.connections {
                mine.push(Link::connect(config.clone(), reconnects.clone()).await?);
            }
            if pool.of(Kind::Bn254).len() + pool.of(Kind::Bls12_381).len() > 0 {
                let partner = mine[0].partner();
                partner
                    .register_key_json(tf_partner::fixtures::BN254_KEY)
                    .await?;
                partner
                    .register_key_json(tf_partner::fixtures::BLS12_381_KEY)
                    .await?;
            }
            all.push(mine);
        }
        Ok(Rig {
            connections: all,
            reconnects,
            pool,
            purpose: spec.purpose.clone(),
            class: spec.class,
            max_in_flight: spec.max_in_flight,
        })
    }

    /// Closes every connection, so the appliance sees the partner leave.
    pub async fn close(self) {
        for link in self.connections.into_iter().flatten() {
            link.close().await;
        }
    }

    /// Runs the stages back to back; the warm-up stage (if first) is not recorded.
    pub async fn run(
        &self,
        title: &str,
        plan: &[PlannedStage],
        demands: &[f64],
        process: Option<&Process>,
        stop: &Stop,
    ) -> Measured {
        let warmup = match plan.first() {
            Some(first) if first.label == WARMUP => first.stage.duration,
            _ => Duration::ZERO,
        };
        let schedule = Schedule::new(plan.iter().map(|p| p.stage).collect(), demands);
        let total = schedule.total();
        let recorder = Arc::new(Mutex::new(Recorder::new(
            warmup,
            self.connections.len(),
            plan.len(),
        )));
        let start = Instant::now();
        let probe = probe_statement().and_then(|statement| Probe::start(statement, start));
        let rig_cpu_start = crate::monitor::own_cpu_seconds();
        let readings = Arc::new(Mutex::new(Readings::default()));
        let progress = tokio::spawn(progress(
            title.to_string(),
            start,
            warmup,
            total,
            recorder.clone(),
            process.cloned(),
            readings.clone(),
        ));

        let mut tasks = tokio::task::JoinSet::new();
        let mut next_connection = vec![0usize; self.connections.len()];
        let mut turns = Turns::new(self.connections.len());
        let mut interrupted = false;
        for slot in schedule {
            tokio::select! {
                () = tokio::time::sleep_until((start + slot.at).into()) => {}
                () = stop.wait() => { interrupted = true; break; }
            }
            // Answered requests leave the set here, before the room check: a set found full
            // would otherwise never be drained again.
            while tasks.try_join_next().is_some() {}
            let (kind, statement) = self.pool.statement(turns.next(slot.tenant));
            let mut record = lock(&recorder);
            record.sent(&slot, kind);
            if tasks.len() >= self.max_in_flight {
                record.finished(&slot, kind, &Outcome::Error(NOT_SENT), start.elapsed());
                continue;
            }
            drop(record);
            let connections = &self.connections[slot.tenant];
            let link = connections[next_connection[slot.tenant] % connections.len()].clone();
            next_connection[slot.tenant] += 1;
            let submission = Submission {
                purpose: self.purpose.clone(),
                dataset_class: self.class,
                statement,
            };
            let recorder = recorder.clone();
            tasks.spawn(async move {
                let outcome = submit(&link.partner(), submission).await;
                if outcome == Outcome::Error(CONNECTION_LOST) {
                    link.lost();
                }
                lock(&recorder).finished(&slot, kind, &outcome, start.elapsed());
            });
        }
        // A run that sent its whole schedule measured exactly the planned time: the loop ends
        // at the last request's due time, a fraction of a second before the schedule does.
        let sending_ended = if interrupted {
            start.elapsed().min(total)
        } else {
            total
        };
        let end_reading = process.map(Process::read);
        // Answers still on their way are waited for (each has the request timeout).
        if !interrupted {
            while !tasks.is_empty() {
                tokio::select! {
                    _ = tasks.join_next() => {}
                    () = stop.wait() => { interrupted = true; break; }
                }
            }
        } else {
            let grace = tokio::time::sleep(Duration::from_secs(5));
            tokio::pin!(grace);
            while !tasks.is_empty() {
                tokio::select! {
                    _ = tasks.join_next() => {}
                    () = &mut grace => break,
                }
            }
        }
        tasks.abort_all();
        progress.abort();
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
        let readings = lock(&readings).clone();
        let reconnects = self.reconnects.swap(0, Ordering::Relaxed);
        let seconds = recorder_seconds(&recorder);
        let host_probe_ms = probe.map_or_else(Vec::new, |p| {
            crate::probe::per_second(&p.finish(), warmup, seconds)
        });
        let usage = match (process, readings.start, end_reading) {
            (Some(process), Some(first), Some(last)) => {
                Some(process.usage(first, last, readings.rss_max_kib))
            }
            _ => None,
        };
        let recorder = Arc::try_unwrap(recorder)
            .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            // A task still holds it (aborted above): take a copy of what was recorded.
            .unwrap_or_else(|shared| lock(&shared).clone());
        let now_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Measured {
            recorder,
            measured_from_unix: now_unix - start.elapsed().as_secs_f64() + warmup.as_secs_f64(),
            measured_seconds: sending_ended.saturating_sub(warmup).as_secs_f64(),
            usage,
            rig_cpu_seconds: crate::monitor::own_cpu_seconds() - rig_cpu_start,
            interrupted,
            reconnects,
            host_probe_ms,
        }
    }
}

/// Seconds of intervals recorded so far.
fn recorder_seconds(recorder: &Mutex<Recorder>) -> usize {
    lock(recorder).intervals.len()
}

/// The signature the speed probe verifies, the same in every run so runs compare.
fn probe_statement() -> Option<&'static Statement> {
    static STATEMENT: std::sync::OnceLock<Option<Statement>> = std::sync::OnceLock::new();
    STATEMENT
        .get_or_init(|| {
            let message = b"bench-rig speed probe".to_vec();
            let mut secret = [0u8; 32];
            secret[31] = 7;
            let (signature, public_key) = tf_engine::bls::sign(&secret, &message).ok()?;
            Some(Statement::BlsSingle {
                public_key: public_key.to_bytes(),
                message,
                signature: signature.to_bytes(),
            })
        })
        .as_ref()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

async fn submit(partner: &Partner, submission: Submission) -> Outcome {
    match partner.submit(submission).await {
        Ok(reply) => {
            let answered = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as u64);
            let (received, decided) = receipt_times(&reply.receipt.payload);
            Outcome::Verdict {
                valid: reply.verdict == VerdictCode::Valid,
                in_appliance: Duration::from_micros(decided.saturating_sub(received)),
                after_verdict: Duration::from_micros(answered.saturating_sub(decided)),
            }
        }
        Err(error) => Outcome::Error(error_type(&error)),
    }
}

/// When the appliance read the request and decided it, from the receipt (unix microseconds).
fn receipt_times(payload: &[u8]) -> (u64, u64) {
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|p| {
            Some((
                p["received_at_unix_us"].as_u64()?,
                p["decided_at_unix_us"].as_u64()?,
            ))
        })
        .unwrap_or((0, 0))
}

/// Process readings taken by the progress task.
#[derive(Clone, Default)]
struct Readings {
    start: Option<Reading>,
    rss_max_kib: u64,
}

/// Prints a progress line every second (rewritten in place on a terminal, every 10 s
/// otherwise) and samples the appliance's memory; takes the first CPU reading when the
/// warm-up ends.
async fn progress(
    title: String,
    start: Instant,
    warmup: Duration,
    total: Duration,
    recorder: Arc<Mutex<Recorder>>,
    process: Option<Process>,
    readings: Arc<Mutex<Readings>>,
) {
    let terminal = std::io::stderr().is_terminal();
    if let Some(process) = &process {
        tokio::time::sleep_until((start + warmup).into()).await;
        lock(&readings).start = Some(process.read());
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut ticks = 0u64;
    loop {
        tick.tick().await;
        ticks += 1;
        if let Some(process) = &process {
            let rss = process.read().rss_kib;
            let mut r = lock(&readings);
            r.rss_max_kib = r.rss_max_kib.max(rss);
        }
        if !terminal && !ticks.is_multiple_of(10) {
            continue;
        }
        let line = progress_line(&title, start.elapsed(), warmup, total, &lock(&recorder));
        let mut err = std::io::stderr().lock();
        if terminal {
            let _ = write!(err, "\r{line}\x1b[K");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }
}

fn progress_line(
    title: &str,
    elapsed: Duration,
    warmup: Duration,
    total: Duration,
    recorder: &Recorder,
) -> String {
    let clock = |d: Duration| {
        let s = d.as_secs();
        format!("{}:{:02}", s / 60, s % 60)
    };
    if elapsed < warmup {
        return format!(
            "{title}: warm-up {} of {}, {} requests",
            clock(elapsed),
            clock(warmup),
            recorder.warmup_requests
        );
    }
    // The last complete second.
    let index = elapsed.saturating_sub(warmup).as_secs().saturating_sub(1) as usize;
    let (sent, served) = recorder
        .intervals
        .get(index)
        .map_or((0, 0), |i| (i.tally.sent, i.tally.served));
    let overall = &recorder.overall;
    let errors = overall.error_count();
    let finished = overall.latency.len().max(1);
    let p = |q: f64| overall.served_latency.value_at_quantile(q) as f64 / 1e3;
    format!(
        "{title}: {} of {}  sent {sent}/s  served {served}/s  errors {errors} ({:.2} %)  \
         p95 {:.1} ms  p99 {:.1} ms  in flight {}  left {}",
        clock(elapsed.saturating_sub(warmup)),
        clock(total.saturating_sub(warmup)),
        100.0 * errors as f64 / finished as f64,
        p(0.95),
        p(0.99),
        recorder.outstanding(),
        clock(total.saturating_sub(elapsed)),
    )
}

/// Sends one of each kind of the pool as each tenant before the run, so a misconfigured
/// appliance (unknown tenant, budget, keys) is reported at once instead of as a run of errors.
pub async fn probe(rig: &Rig, tenants: &[TenantSpec]) -> Result<(), String> {
    for (index, connections) in rig.connections.iter().enumerate() {
        for kind in Kind::ALL {
            let Some(statement) = rig.pool.of(kind).first().cloned() else {
                continue;
            };
            let submission = Submission {
                purpose: rig.purpose.clone(),
                dataset_class: rig.class,
                statement,
            };
            match connections[0].partner().submit(submission).await {
                Ok(reply) if reply.verdict == VerdictCode::Valid => {}
                Ok(reply) => {
                    return Err(format!(
                        "tenant {}: a valid {} item was answered {:?}",
                        tenants[index].name,
                        kind.name(),
                        reply.verdict
                    ));
                }
                Err(error) => {
                    return Err(format!(
                        "tenant {}, {}: {error}",
                        tenants[index].name,
                        kind.name()
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Slot;

    #[test]
    fn receipt_times_come_from_the_payload() {
        let payload = br#"{"received_at_unix_us": 1000, "decided_at_unix_us": 4500}"#;
        assert_eq!(receipt_times(payload), (1000, 4500));
        assert_eq!(receipt_times(b"not json"), (0, 0));
    }

    #[test]
    fn the_progress_line_says_rate_errors_and_time_left() {
        let mut recorder = Recorder::new(Duration::from_secs(2), 1, 1);
        let slot = Slot {
            at: Duration::from_millis(2500),
            stage: 0,
            tenant: 0,
        };
        recorder.sent(&slot, Kind::Bls);
        recorder.finished(
            &slot,
            Kind::Bls,
            &Outcome::Error("busy"),
            Duration::from_millis(2600),
        );
        let line = progress_line(
            "steady",
            Duration::from_secs(4),
            Duration::from_secs(2),
            Duration::from_secs(62),
            &recorder,
        );
        assert!(line.contains("0:02 of 1:00"), "{line}");
        assert!(line.contains("sent 0/s"), "{line}");
        assert!(line.contains("errors 1 (100.00 %)"), "{line}");
        assert!(line.contains("left 0:58"), "{line}");
        let warm = progress_line(
            "steady",
            Duration::from_secs(1),
            Duration::from_secs(2),
            Duration::from_secs(62),
            &recorder,
        );
        assert!(warm.contains("warm-up 0:01 of 0:02"), "{warm}");
    }
}
