//! The `bench-rig` command line. Every load profile takes the same options; a profile file
//! holds the same options under the same names (without the dashes).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

use crate::spec::{self, Profile, RunSpec, SpecError, spec_error};
use crate::{mix, state_dir};

/// Open-loop soak rig for the Trust Fabric appliance: drives it over QUIC at a scheduled
/// rate, measures latency from each request's intended send time, fairness across tenants and
/// the appliance's CPU cost per 1k proofs, and gives a PASS/FAIL verdict against targets.
#[derive(Debug, Parser)]
#[command(name = "bench-rig", version, about)]
pub struct Cli {
    /// Where the appliance is and where the report goes.
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options of the load profiles, given before or after the subcommand. `floor` and `compare`
/// refuse them.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The appliance's state directory: its partner.toml says where to connect, ca.pem is the
    /// appliance's CA, and tenants/NAME/ holds each tenant's client certificate. Default
    /// appliance-state.
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Where to write report.json, report.html (its plots also as plots/NAME.svg) and
    /// latency.hlog. Default bench-rig-reports/PROFILE-UNIXTIME.
    #[arg(long, global = true, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The appliance's process id, for its CPU time and memory. Default: the one process
    /// running `appliance serve` on this host, when the appliance is on a loopback address.
    #[arg(long, global = true, value_name = "PID")]
    pub appliance_pid: Option<u32>,
    /// Seconds to wait for each answer before counting it as a timeout. Default 30.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

impl CommonArgs {
    /// The state directory to read.
    pub fn state_dir(&self) -> &Path {
        self.state_dir
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_STATE_DIR))
    }

    /// Seconds to wait for each answer.
    pub fn timeout(&self) -> u64 {
        self.timeout.unwrap_or(30)
    }

    /// Refuses these options for `command` (floor, compare), which neither connects nor
    /// writes a report.
    pub fn refuse_for(&self, command: &str) -> Result<(), SpecError> {
        let given = [
            ("--state-dir", self.state_dir.is_some()),
            ("--out", self.out.is_some()),
            ("--appliance-pid", self.appliance_pid.is_some()),
            ("--timeout", self.timeout.is_some()),
        ];
        match given.into_iter().find(|(_, given)| *given) {
            Some((option, _)) => {
                let profiles: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
                Err(spec_error(
                    option,
                    format!(
                        "does not apply to `bench-rig {command}` (it is for the load profiles: \
                         {}, and run); remove it",
                        profiles.join(", ")
                    ),
                ))
            }
            None => Ok(()),
        }
    }
}

/// The state directory read when --state-dir is not given, relative to the working directory
/// (where `appliance init` makes it).
const DEFAULT_STATE_DIR: &str = "appliance-state";

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One rate for the whole run (e.g. --rps 800 --duration 60m).
    Steady(LoadArgs),
    /// Stages of rates run back to back (--stages 760:5m,800:5m,900:5m).
    Ramp(LoadArgs),
    /// A steady third, then swings of +-30 % around --rps (whole high-low pairs, averaging
    /// --rps); p95 during the swings is compared with the steady third.
    Burst(LoadArgs),
    /// One tenant (--noisy, default the first) sends --noisy-factor times the others' demand;
    /// error and latency targets apply to the other tenants.
    NoisyNeighbour(LoadArgs),
    /// Finds the highest rate meeting p99 <= 100 ms (or --target p99_ms=...) and errors
    /// <= 0.25 %, by short trials, and reports it as a ratio to the verification floor.
    Capacity(LoadArgs),
    /// Runs a profile file: TOML with `profile = "steady"` and any option below by its name.
    Run {
        /// The profile file.
        file: PathBuf,
        /// Options given here override the file's.
        #[command(flatten)]
        overrides: LoadArgs,
    },
    /// Measures single and batched verification cost per core on this machine.
    Floor(FloorArgs),
    /// Prints the differences between two reports (B relative to A): report.json files or
    /// the directories holding them. Warns on stderr when the runs are not comparable
    /// (profile, mix, tenants, rates, ...).
    Compare {
        /// The earlier report.
        a: PathBuf,
        /// The later report.
        b: PathBuf,
        /// Exit with 1 when any figure of B is worse than A's by more than PCT percent
        /// (higher latency, errors, CPU or memory; lower throughput or fairness). Without it
        /// the exit code is 0 whatever changed.
        #[arg(long, value_name = "PCT", value_parser = percent)]
        fail_over: Option<f64>,
    },
}

/// A percentage for `--fail-over`: `10` or `10%`, 0 or more.
fn percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("{text:?} is not a percentage of 0 or more (e.g. 10 or 10%)"))
}

/// `bench-rig floor`.
#[derive(Debug, Args)]
pub struct FloorArgs {
    /// The mix whose mean cost to report, as for the load profiles.
    #[arg(long)]
    pub mix: Option<String>,
    /// Items per batch for the batched figures.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options of every load profile; in a profile file, the same names without dashes.
#[derive(Clone, Debug, Default, Args, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LoadArgs {
    /// Only in profile files: which profile (steady, ramp, burst, noisy-neighbour, capacity).
    #[arg(skip)]
    pub profile: Option<Profile>,
    /// Requests per second offered (all tenants together). Default 800. capacity: the first
    /// trial's rate (default half the single-verification floor). Not for ramp (--stages).
    #[arg(long)]
    pub rps: Option<f64>,
    /// How long to measure, after the warm-up (90s, 10m, 1h). Default 60m for steady, 10m
    /// for burst and noisy-neighbour. Not for ramp (--stages) or capacity (--trial).
    #[arg(long)]
    pub duration: Option<String>,
    /// Load before measuring, excluded from every figure. Default 10s.
    #[arg(long)]
    pub warmup: Option<String>,
    /// ramp: RATE:DURATION stages. Default 760:5m,800:5m,900:5m.
    #[arg(long)]
    pub stages: Option<String>,
    /// burst: the swing around --rps in percent. Default 30.
    #[arg(long)]
    pub swing: Option<f64>,
    /// burst: time at each level of the swing. Default 30s.
    #[arg(long)]
    pub swing_period: Option<String>,
    /// noisy-neighbour: the tenant sending above its share. Default the first tenant.
    #[arg(long)]
    pub noisy: Option<String>,
    /// noisy-neighbour: its demand as a multiple of the others'. Default 4.
    #[arg(long)]
    pub noisy_factor: Option<f64>,
    /// capacity: length of each trial, warm-up included. Default 20s.
    #[arg(long)]
    pub trial: Option<String>,
    /// capacity: the highest rate to try. Default 20000.
    #[arg(long)]
    pub max_rps: Option<f64>,
    /// Tenants to send as, comma-separated; each needs a client certificate in the state
    /// directory's tenants/NAME/ (`appliance tenants issue NAME`). Default: the tenants of
    /// --appliance-config, else every tenant with a certificate there.
    #[arg(long)]
    pub tenants: Option<String>,
    /// Fairness weights by tenant, as configured on the appliance (NAME=W,...). Default 1, or
    /// the weights in --appliance-config.
    #[arg(long)]
    pub weights: Option<String>,
    /// Each tenant's share of the offered load (NAME=D,...). Default 1 each.
    #[arg(long)]
    pub demands: Option<String>,
    /// The appliance's configuration file, to take tenants and weights from.
    #[arg(long)]
    pub appliance_config: Option<PathBuf>,
    /// Weights of the kinds: bls (single signatures), bls-aggregate (4 signers, 4 messages),
    /// bls-fast-aggregate (16 signers, one message), bn254 and bls12-381 (Groth16).
    /// Default bls=2,bn254=1,bls12-381=1.
    #[arg(long)]
    pub mix: Option<String>,
    /// QUIC connections per tenant. Default 2.
    #[arg(long)]
    pub connections: Option<usize>,
    /// Purpose the requests are made for (budgets are kept per purpose). Default bench.
    #[arg(long)]
    pub purpose: Option<String>,
    /// Dataset class (P0, P1, P2). Default P2.
    #[arg(long)]
    pub class: Option<String>,
    /// Requests outstanding at most; a request due while this many are outstanding is not
    /// sent and counted as an error of the rig (`not-sent`). Default 20000.
    #[arg(long)]
    pub max_in_flight: Option<usize>,
    /// Targets, NAME=VALUE, repeatable or comma-separated: p50_ms, p95_ms, p99_ms, p999_ms,
    /// error_rate (fraction), gini, cpu (fraction of the appliance's cores),
    /// p95_swing (burst only: fraction above the steady p95). Defaults: the product plan's.
    #[arg(long = "target", value_delimiter = ',')]
    pub targets: Option<Vec<String>>,
}

impl LoadArgs {
    /// `self` with every option `over` sets replaced.
    pub fn overridden_by(self, over: LoadArgs) -> LoadArgs {
        LoadArgs {
            profile: over.profile.or(self.profile),
            rps: over.rps.or(self.rps),
            duration: over.duration.or(self.duration),
            warmup: over.warmup.or(self.warmup),
            stages: over.stages.or(self.stages),
            swing: over.swing.or(self.swing),
            swing_period: over.swing_period.or(self.swing_period),
            noisy: over.noisy.or(self.noisy),
            noisy_factor: over.noisy_factor.or(self.noisy_factor),
            trial: over.trial.or(self.trial),
            max_rps: over.max_rps.or(self.max_rps),
            tenants: over.tenants.or(self.tenants),
            weights: over.weights.or(self.weights),
            demands: over.demands.or(self.demands),
            appliance_config: over.appliance_config.or(self.appliance_config),
            mix: over.mix.or(self.mix),
            connections: over.connections.or(self.connections),
            purpose: over.purpose.or(self.purpose),
            class: over.class.or(self.class),
            max_in_flight: over.max_in_flight.or(self.max_in_flight),
            targets: over.targets.or(self.targets),
        }
    }

    /// The options given that only some profiles use, named as in
    /// [`crate::profile::PROFILE_OPTIONS`].
    fn profile_options(&self) -> Vec<&'static str> {
        let swing_target = self.targets.iter().flatten().any(|target| {
            target
                .split_once('=')
                .is_some_and(|(name, _)| name.trim() == "p95_swing")
        });
        [
            ("--rps", self.rps.is_some()),
            ("--duration", self.duration.is_some()),
            ("--stages", self.stages.is_some()),
            ("--swing", self.swing.is_some()),
            ("--swing-period", self.swing_period.is_some()),
            ("--noisy", self.noisy.is_some()),
            ("--noisy-factor", self.noisy_factor.is_some()),
            ("--trial", self.trial.is_some()),
            ("--max-rps", self.max_rps.is_some()),
            ("--target p95_swing", swing_target),
        ]
        .into_iter()
        .filter_map(|(option, given)| given.then_some(option))
        .collect()
    }

    /// Reads a profile file.
    pub fn from_file(path: &Path) -> Result<LoadArgs, SpecError> {
        let what = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| spec_error(&what, e.to_string()))?;
        let args: LoadArgs = toml::from_str(&text).map_err(|e| spec_error(&what, e.to_string()))?;
        if args.profile.is_none() {
            return Err(spec_error(
                &what,
                "say which profile: profile = \"steady\" (or ramp, burst, noisy-neighbour, capacity)",
            ));
        }
        Ok(args)
    }

    /// The run these options describe, with defaults for what they leave out.
    /// `issued_tenants` are the tenants with certificates in the state directory.
    pub fn to_spec(
        &self,
        profile: Profile,
        issued_tenants: &[String],
    ) -> Result<RunSpec, SpecError> {
        profile.refuse_foreign(&self.profile_options())?;
        let duration = |flag: &str, value: &Option<String>, default: &str| {
            spec::parse_duration(value.as_deref().unwrap_or(default))
                .map_err(|problem| spec_error(flag, problem))
        };
        let default_duration = match profile {
            Profile::Steady => "60m",
            Profile::Capacity => "0s",
            _ => "10m",
        };
        let configured = match &self.appliance_config {
            Some(path) => Some(configured_tenants(path)?),
            None => None,
        };
        let names: Vec<String> = match (&self.tenants, &configured) {
            (Some(list), _) => list
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
            (None, Some(configured)) => configured.iter().map(|(n, _)| n.clone()).collect(),
            (None, None) => issued_tenants.to_vec(),
        };
        let mut weights = configured.unwrap_or_default();
        weights.retain(|(name, _)| names.contains(name));
        if let Some(given) = &self.weights {
            for (name, weight) in spec::parse_pairs(given, "--weights")? {
                weights.retain(|(n, _)| n != &name);
                weights.push((name, weight));
            }
        }
        let demands = match &self.demands {
            Some(given) => spec::parse_pairs(given, "--demands")?,
            None => Vec::new(),
        };
        let tenants = spec::tenants(&names, &weights, &demands)?;
        let noisy = match profile {
            Profile::NoisyNeighbour => {
                let name = self
                    .noisy
                    .clone()
                    .or_else(|| names.first().cloned())
                    .ok_or_else(|| spec_error("--noisy", "no tenants"))?;
                Some((name, self.noisy_factor.unwrap_or(4.0)))
            }
            _ => None,
        };
        let stages = match profile {
            Profile::Ramp => {
                spec::parse_stages(self.stages.as_deref().unwrap_or("760:5m,800:5m,900:5m"))
                    .map_err(|problem| spec_error("--stages", problem))?
            }
            _ => Vec::new(),
        };
        let class = match self.class.as_deref().unwrap_or("P2") {
            "P0" | "p0" => tf_wire::DatasetClass::P0,
            "P1" | "p1" => tf_wire::DatasetClass::P1,
            "P2" | "p2" => tf_wire::DatasetClass::P2,
            other => {
                return Err(spec_error(
                    "--class",
                    format!("{other:?} is not a dataset class (P0, P1, P2)"),
                ));
            }
        };
        let spec = RunSpec {
            profile,
            // capacity: 0 starts the search at half the verification floor.
            rps: self.rps.unwrap_or(if profile == Profile::Capacity {
                0.0
            } else {
                800.0
            }),
            duration: duration("--duration", &self.duration, default_duration)?,
            warmup: duration("--warmup", &self.warmup, "10s")?,
            stages,
            swing_percent: self.swing.unwrap_or(30.0),
            swing_period: duration("--swing-period", &self.swing_period, "30s")?,
            noisy,
            tenants,
            mix: mix::parse(self.mix.as_deref().unwrap_or(mix::DEFAULT))
                .map_err(|problem| spec_error("--mix", problem))?,
            connections: self.connections.unwrap_or(2),
            purpose: self.purpose.clone().unwrap_or_else(|| "bench".into()),
            class,
            max_in_flight: self.max_in_flight.unwrap_or(20_000),
            targets: crate::slo::Targets::parse(
                profile,
                self.targets.as_deref().unwrap_or_default(),
            )?,
            trial: duration("--trial", &self.trial, "20s")?,
            max_rps: self.max_rps.unwrap_or(20_000.0),
        };
        spec.validate()?;
        Ok(spec)
    }
}

/// Tenants and weights from the appliance's configuration file; the golden canary's tenant
/// is the appliance's own, never the rig's load.
fn configured_tenants(path: &Path) -> Result<Vec<(String, f64)>, SpecError> {
    let config = tf_config::Config::load(path)
        .map_err(|e| spec_error("--appliance-config", e.to_string()))?;
    Ok(config
        .tenants
        .iter()
        .filter(|t| !(config.canary.enabled && t.id == config.canary.tenant))
        .map(|t| (t.id.clone(), t.weight as f64))
        .collect())
}

/// The tenant names with a client certificate and key under `state_dir/tenants/`, sorted,
/// but for the golden canary's.
pub fn issued_tenants(state_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(state_dir.join(state_dir::TENANTS))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| state_dir::missing_client_file(state_dir, name).is_none())
        // The golden canary's certificate: the appliance's own traffic, not the rig's load.
        .filter(|name| name != tf_config::CANARY_TENANT)
        .collect();
    names.sort();
    names
}

/// A duration for messages: `90 s`, `10 min`.
pub fn human(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 120 && seconds.is_multiple_of(60) {
        format!("{} min", seconds / 60)
    } else {
        format!("{:.0} s", duration.as_secs_f64())
    }
}
