//! `partner load`: a simple load loop for quick measurements (the soak rig is `bench-rig`).
//! Open loop at a fixed rate, latency measured from each request's intended send time (so a
//! stalled appliance cannot hide its stall by slowing the sender), or closed loop at
//! saturation; reports latency percentiles, errors, and, given the appliance's pid, its CPU
//! time per request and memory. Before the run it measures the single-verification floor of
//! the same mix on this machine.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use tf_engine::bls;
use tf_engine::groth16::AnyKey;
use tf_engine::groth16::EncodedStatement;
use tf_partner::{
    DatasetClass, Partner, PartnerConfig, PartnerError, Statement, Submission, VerdictCode, formats,
};

use super::fail;
use tf_partner::fixtures::{BLS12_381_KEY, BLS12_381_PROOFS, BN254_KEY, BN254_PROOFS};

/// `partner load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Requests per second, open loop; 0 = closed loop at saturation (see --in-flight).
    #[arg(long, default_value_t = 800)]
    pub rps: u32,
    /// Seconds to run (after the warm-up).
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Seconds of warm-up excluded from the figures.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// QUIC connections to spread requests over.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Requests outstanding in closed-loop mode.
    #[arg(long, default_value_t = 256)]
    pub in_flight: usize,
    /// The mix: weights of `bls` (single signatures), `bn254` and `bls12-381` proofs.
    #[arg(long, default_value = "bls=2,bn254=1,bls12-381=1")]
    pub mix: String,
    /// The appliance's process id, to report its CPU time per request and memory.
    #[arg(long, value_name = "PID")]
    pub appliance_pid: Option<u32>,
    /// Cores the appliance verifies on, for the floor (default: CPUs this process may use).
    #[arg(long)]
    pub cores: Option<usize>,
    /// Tenants to send as, comma-separated, each with its certificate in the state
    /// directory's tenants/<id>/ (`appliance tenants issue`); requests rotate over them. A
    /// tenant is verified on its home shard, so one tenant alone loads one core.
    #[arg(long, value_delimiter = ',')]
    pub tenants: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Bls,
    Bn254,
    Bls12_381,
}

#[derive(Debug)]
enum Outcome {
    /// Valid, with the time the appliance took from reading the request to deciding it
    /// (from the receipt), which separates its queueing from the network and this client.
    Valid {
        in_appliance: Duration,
        /// From the verdict to the answer reaching this client: storing the receipt in the
        /// ledger, the answer's way back, and QUIC (same-host wall clocks).
        after_verdict: Duration,
    },
    Other(String),
}

#[derive(Debug)]
struct Sample {
    intended: Duration,
    latency: Duration,
    outcome: Outcome,
}

struct Pool {
    items: BTreeMap<Kind, Vec<Statement>>,
    pattern: Vec<Kind>,
}

pub async fn run(args: LoadArgs, config: PartnerConfig, state_dir: &std::path::Path) -> ExitCode {
    let mut configs = Vec::new();
    for tenant in &args.tenants {
        let dir = state_dir.join("tenants").join(tenant);
        match tf_partner::Identity::from_files(
            &state_dir.join("ca.pem"),
            &dir.join("client.pem"),
            &dir.join("client.key"),
        ) {
            Ok(identity) => configs.push(PartnerConfig {
                address: config.address,
                server_name: config.server_name.clone(),
                identity,
                receipt_public_key: None,
                request_timeout: config.request_timeout,
            }),
            Err(error) => return fail(&error),
        }
    }
    if configs.is_empty() {
        configs.push(config);
    }
    match load(&args, &configs).await {
        Ok(clean) if clean => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(super::exit::INVALID),
        Err(error) => fail(&error),
    }
}

async fn load(args: &LoadArgs, configs: &[PartnerConfig]) -> Result<bool, PartnerError> {
    let local = |problem: String| PartnerError::Local {
        path: "load".into(),
        problem,
    };
    // Connections alternate between tenants, so consecutive requests rotate over them.
    let mut partners = Vec::new();
    for _ in 0..args.connections.max(1) {
        for config in configs {
            partners.push(Arc::new(Partner::connect(config).await?));
        }
    }
    // Every tenant registers the keys (registration is per tenant; the ids are the same).
    let mut ids = None;
    for partner in &partners[..configs.len()] {
        ids = Some((
            partner.register_key_json(BN254_KEY).await?,
            partner.register_key_json(BLS12_381_KEY).await?,
        ));
    }
    let (bn254, bls12_381) = ids.expect("at least one tenant");
    let pool = Arc::new(pool(&args.mix, bn254.0, bls12_381.0).map_err(local)?);
    let floor = floor(&pool).map_err(local)?;
    let cores = args
        .cores
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!(
        "single-verification floor of this mix: {:.3} ms per request, {:.0} requests/s per core, \
         {:.0} on {cores} core(s)",
        floor * 1e3,
        1.0 / floor,
        cores as f64 / floor
    );

    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let warmup = Duration::from_secs(args.warmup);
    let total = warmup + Duration::from_secs(args.duration);
    let start = Instant::now();
    let monitor = args
        .appliance_pid
        .map(|pid| Monitor::start(pid, start + warmup));
    if args.rps > 0 {
        open_loop(args.rps, total, start, &partners, &pool, &samples).await;
    } else {
        closed_loop(args.in_flight, total, start, &partners, &pool, &samples).await;
    }
    let usage = match monitor {
        Some(monitor) => Some(monitor.finish().await),
        None => None,
    };
    let samples = std::mem::take(&mut *samples.lock().expect("no panics while holding it"));
    Ok(report(args, &samples, warmup, usage, floor, cores))
}

async fn open_loop(
    rps: u32,
    total: Duration,
    start: Instant,
    partners: &[Arc<Partner>],
    pool: &Arc<Pool>,
    samples: &Arc<Mutex<Vec<Sample>>>,
) {
    let interval = Duration::from_secs_f64(1.0 / f64::from(rps));
    let mut tasks = tokio::task::JoinSet::new();
    let mut i: u64 = 0;
    loop {
        let intended = interval.mul_f64(i as f64);
        if intended >= total {
            break;
        }
        tokio::time::sleep_until((start + intended).into()).await;
        let partner = partners[i as usize % partners.len()].clone();
        let statement = pool.statement(i + i / partners.len() as u64);
        let samples = samples.clone();
        tasks.spawn(async move {
            let outcome = submit(&partner, statement).await;
            record(&samples, start, intended, outcome);
        });
        i += 1;
        while tasks.try_join_next().is_some() {}
    }
    tasks.join_all().await;
}

async fn closed_loop(
    in_flight: usize,
    total: Duration,
    start: Instant,
    partners: &[Arc<Partner>],
    pool: &Arc<Pool>,
    samples: &Arc<Mutex<Vec<Sample>>>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..in_flight.max(1) {
        let partner = partners[worker % partners.len()].clone();
        let pool = pool.clone();
        let samples = samples.clone();
        tasks.spawn(async move {
            let mut i = worker as u64;
            while start.elapsed() < total {
                let intended = start.elapsed();
                let outcome = submit(&partner, pool.statement(i)).await;
                if let Outcome::Other(kind) = &outcome {
                    if kind.starts_with("busy") {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                record(&samples, start, intended, outcome);
                i += in_flight as u64;
            }
        });
    }
    tasks.join_all().await;
}

/// Records a finished request, its latency counted from when it was meant to be sent.
fn record(samples: &Mutex<Vec<Sample>>, start: Instant, intended: Duration, outcome: Outcome) {
    let latency = start.elapsed().saturating_sub(intended);
    samples
        .lock()
        .expect("no panics while holding it")
        .push(Sample {
            intended,
            latency,
            outcome,
        });
}

async fn submit(partner: &Partner, statement: Statement) -> Outcome {
    let submission = Submission {
        purpose: "load".into(),
        dataset_class: DatasetClass::P2,
        statement,
    };
    match partner.submit(submission).await {
        Ok(reply) if reply.verdict == VerdictCode::Valid => {
            let answered = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as u64);
            let times = serde_json::from_slice::<serde_json::Value>(&reply.receipt.payload)
                .ok()
                .and_then(|p| {
                    Some((
                        p["received_at_unix_us"].as_u64()?,
                        p["decided_at_unix_us"].as_u64()?,
                    ))
                })
                .unwrap_or((0, 0));
            Outcome::Valid {
                in_appliance: Duration::from_micros(times.1.saturating_sub(times.0)),
                after_verdict: Duration::from_micros(answered.saturating_sub(times.1)),
            }
        }
        Ok(reply) => Outcome::Other(format!("verdict {:?}", reply.verdict)),
        Err(PartnerError::Busy { .. }) => Outcome::Other("busy".into()),
        Err(error) => Outcome::Other(error.to_string().chars().take(60).collect()),
    }
}

impl Pool {
    fn statement(&self, i: u64) -> Statement {
        let kind = self.pattern[i as usize % self.pattern.len()];
        let items = &self.items[&kind];
        items[(i as usize / self.pattern.len()) % items.len()].clone()
    }
}

fn pool(mix: &str, bn254: [u8; 32], bls12_381: [u8; 32]) -> Result<Pool, String> {
    let mut pattern = Vec::new();
    for part in mix.split(',').filter(|p| !p.is_empty()) {
        let (name, weight) = part
            .split_once('=')
            .ok_or_else(|| format!("--mix: {part:?} is not name=weight"))?;
        let weight: usize = weight
            .parse()
            .map_err(|_| format!("--mix: weight {weight:?} is not a number"))?;
        let kind = match name {
            "bls" => Kind::Bls,
            "bn254" => Kind::Bn254,
            "bls12-381" => Kind::Bls12_381,
            other => {
                return Err(format!(
                    "--mix: unknown kind {other:?} (bls, bn254, bls12-381)"
                ));
            }
        };
        pattern.extend(std::iter::repeat_n(kind, weight));
    }
    if pattern.is_empty() {
        return Err("--mix: no kinds with a weight above 0".into());
    }
    let mut items = BTreeMap::new();
    // Signatures are made before the run so signing never competes with the measurement.
    let bls: Vec<Statement> = (0..256u32)
        .map(|i| {
            let seed = [(i % 100) as u8 + 1; 32];
            let message = format!("load message {i}").into_bytes();
            let (signature, public_key) = bls::sign(&seed, &message).map_err(|e| e.to_string())?;
            Ok(Statement::BlsSingle {
                public_key: public_key.to_bytes(),
                message,
                signature: signature.to_bytes(),
            })
        })
        .collect::<Result<_, String>>()?;
    items.insert(Kind::Bls, bls);
    let groth = |key: [u8; 32], proofs: &[(&str, &str)]| {
        proofs
            .iter()
            .map(|(proof, public)| formats::groth16_json(key, proof, public))
            .collect::<Result<Vec<_>, String>>()
    };
    items.insert(Kind::Bn254, groth(bn254, &BN254_PROOFS)?);
    items.insert(Kind::Bls12_381, groth(bls12_381, &BLS12_381_PROOFS)?);
    Ok(Pool { items, pattern })
}

/// Mean seconds to verify one request of the mix, one at a time, on this machine.
fn floor(pool: &Pool) -> Result<f64, String> {
    let limits = tf_engine::Limits::DEFAULT;
    // Preparing a key is part of registration, not of each verification.
    let mut keys = BTreeMap::new();
    for (kind, json) in [(Kind::Bn254, BN254_KEY), (Kind::Bls12_381, BLS12_381_KEY)] {
        let (curve, bytes) = formats::verifying_key_json(json)?;
        let curve = match curve {
            tf_partner::Curve::Bn254 => tf_engine::groth16::Curve::Bn254,
            _ => tf_engine::groth16::Curve::Bls12_381,
        };
        let key = AnyKey::decode(curve, &limits, &bytes).map_err(|e| e.to_string())?;
        keys.insert(kind, key);
    }
    let mut per_kind = BTreeMap::new();
    for (kind, items) in &pool.items {
        let rounds = 64;
        let started = Instant::now();
        for i in 0..rounds {
            let verdict = match &items[i % items.len()] {
                Statement::BlsSingle {
                    public_key,
                    message,
                    signature,
                } => {
                    let key = bls::PublicKey::decode(public_key, tf_engine::Field::new("pk"))
                        .map_err(|e| e.to_string())?;
                    let sig = bls::Signature::decode(signature, tf_engine::Field::new("sig"))
                        .map_err(|e| e.to_string())?;
                    bls::verify(&key, message, &sig)
                }
                Statement::Groth16 {
                    proof,
                    public_inputs,
                    ..
                } => {
                    let key = keys.get(kind).ok_or("no key for the kind")?;
                    key.verify_encoded(
                        &limits,
                        EncodedStatement {
                            proof,
                            inputs: public_inputs,
                        },
                    )
                }
                _ => return Err("unexpected statement in the pool".into()),
            };
            if verdict != tf_engine::Verdict::Valid {
                return Err(format!(
                    "the pool's {kind:?} item {i} does not verify: {verdict}"
                ));
            }
        }
        per_kind.insert(*kind, started.elapsed().as_secs_f64() / rounds as f64);
    }
    for (kind, seconds) in &per_kind {
        println!("  single verification, {kind:?}: {:.3} ms", seconds * 1e3);
    }
    let mean = pool.pattern.iter().map(|k| per_kind[k]).sum::<f64>() / pool.pattern.len() as f64;
    Ok(mean)
}

/// CPU time and memory of the appliance process, from /proc.
struct Monitor {
    task: tokio::task::JoinHandle<Usage>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

#[derive(Debug, Default)]
struct Usage {
    cpu_seconds: f64,
    wall_seconds: f64,
    rss_start_kib: u64,
    rss_end_kib: u64,
    rss_max_kib: u64,
}

impl Monitor {
    fn start(pid: u32, measure_from: Instant) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep_until(measure_from.into()).await;
            let ticks = clock_ticks();
            let cpu_start = cpu_ticks(pid);
            let started = Instant::now();
            let rss_start = rss_kib(pid);
            let mut usage = Usage {
                rss_start_kib: rss_start,
                rss_max_kib: rss_start,
                ..Usage::default()
            };
            while !flag.load(std::sync::atomic::Ordering::Acquire) {
                tokio::time::sleep(Duration::from_millis(250)).await;
                usage.rss_max_kib = usage.rss_max_kib.max(rss_kib(pid));
            }
            usage.cpu_seconds = cpu_ticks(pid).saturating_sub(cpu_start) as f64 / ticks;
            usage.wall_seconds = started.elapsed().as_secs_f64();
            usage.rss_end_kib = rss_kib(pid);
            usage
        });
        Monitor { task, stop }
    }

    async fn finish(self) -> Usage {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        self.task.await.unwrap_or_default()
    }
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime
    // are fields 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn report(
    args: &LoadArgs,
    samples: &[Sample],
    warmup: Duration,
    usage: Option<Usage>,
    floor: f64,
    cores: usize,
) -> bool {
    let measured: Vec<&Sample> = samples.iter().filter(|s| s.intended >= warmup).collect();
    let mut latencies: Vec<Duration> = measured.iter().map(|s| s.latency).collect();
    latencies.sort_unstable();
    let valid = measured
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Valid { .. }))
        .count();
    let mut in_appliance: Vec<Duration> = measured
        .iter()
        .filter_map(|s| match s.outcome {
            Outcome::Valid { in_appliance, .. } => Some(in_appliance),
            Outcome::Other(_) => None,
        })
        .collect();
    in_appliance.sort_unstable();
    let mut after_verdict: Vec<Duration> = measured
        .iter()
        .filter_map(|s| match s.outcome {
            Outcome::Valid { after_verdict, .. } => Some(after_verdict),
            Outcome::Other(_) => None,
        })
        .collect();
    after_verdict.sort_unstable();
    let mut errors: BTreeMap<&str, usize> = BTreeMap::new();
    for sample in &measured {
        if let Outcome::Other(kind) = &sample.outcome {
            *errors.entry(kind.as_str()).or_default() += 1;
        }
    }
    let seconds = args.duration.max(1) as f64;
    let percentile = |p: f64| percentile_ms(&latencies, p);
    let mode = if args.rps > 0 {
        format!("open loop at {} requests/s", args.rps)
    } else {
        format!("closed loop, {} in flight", args.in_flight)
    };
    println!(
        "{mode}, {} s measured after {} s warm-up, mix {}",
        args.duration, args.warmup, args.mix
    );
    println!(
        "  requests: {} ({} valid, {:.1}/s valid)",
        measured.len(),
        valid,
        valid as f64 / seconds
    );
    println!(
        "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        percentile(0.50),
        percentile(0.90),
        percentile(0.99),
        percentile(0.999),
        percentile(1.0)
    );
    println!(
        "  in the appliance (received to decided, from receipts) ms: p50 {:.2}  p99 {:.2}",
        percentile_ms(&in_appliance, 0.50),
        percentile_ms(&in_appliance, 0.99)
    );
    println!(
        "  after the verdict (decided to answer received: ledger, way back, QUIC) ms: p50 {:.2}  p99 {:.2}",
        percentile_ms(&after_verdict, 0.50),
        percentile_ms(&after_verdict, 0.99)
    );
    if errors.is_empty() {
        println!("  errors: none");
    } else {
        for (kind, count) in &errors {
            println!("  errors: {count} x {kind}");
        }
    }
    let throughput = valid as f64 / seconds;
    println!(
        "  throughput / single-verify floor on {cores} core(s): {:.2}",
        throughput * floor / cores as f64
    );
    if let Some(usage) = usage {
        let per_request_ms = usage.cpu_seconds * 1e3 / valid.max(1) as f64;
        println!(
            "  appliance CPU: {:.2} s over {:.1} s ({:.0} % of one core), {:.3} ms per request",
            usage.cpu_seconds,
            usage.wall_seconds,
            100.0 * usage.cpu_seconds / usage.wall_seconds.max(1e-9),
            per_request_ms
        );
        println!(
            "  appliance RSS MiB: start {:.1}, end {:.1}, max {:.1}",
            usage.rss_start_kib as f64 / 1024.0,
            usage.rss_end_kib as f64 / 1024.0,
            usage.rss_max_kib as f64 / 1024.0
        );
    }
    errors.is_empty()
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1))
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}
