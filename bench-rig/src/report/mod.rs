//! The report of a run: a stable JSON schema (`schema` names its version), a self-contained
//! HTML page with plots, the HdrHistogram interval log, and the summary printed at the end.

mod compare;
mod html;
mod interval_log;
mod plots;
mod text;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

pub use compare::compare;
pub use text::print_summary;

use crate::driver::Measured;
use crate::fairness;
use crate::floor::Floor;
use crate::monitor::Usage;
use crate::recorder::{AnswerTimes, Tally, histogram};
use crate::slo::{self, Check, Metric};
use crate::spec::{PlannedStage, Profile, RunSpec, TenantSpec, WARMUP};

/// The schema's name and version; a change that removes or renames a field bumps it.
pub const SCHEMA: &str = "trust-fabric/bench-rig-report/v1";

/// Latency percentiles in milliseconds (nearest rank, from HdrHistograms exact to 0.1 %).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1e3;
        Percentiles {
            count: h.len(),
            mean: h.mean() / 1e3,
            p50: ms(0.50),
            p90: ms(0.90),
            p95: ms(0.95),
            p99: ms(0.99),
            p999: ms(0.999),
            max: h.max() as f64 / 1e3,
        }
    }
}

/// One point of the latency distribution.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Quantile {
    pub percentile: f64,
    pub ms: f64,
}

/// Points from 0 % to the highest percentile the sample size resolves (at most 99.999 %),
/// ten per decade of 1 / (1 - p), then the maximum.
fn distribution(h: &Histogram<u64>) -> Vec<Quantile> {
    if h.is_empty() {
        return Vec::new();
    }
    let resolvable = (h.len() as f64).log10().min(5.0);
    let mut points: Vec<Quantile> = (0..)
        .map(|k| f64::from(k) / 10.0)
        .take_while(|nines| *nines <= resolvable)
        .map(|nines| {
            let q = 1.0 - 10f64.powf(-nines);
            Quantile {
                percentile: q * 100.0,
                ms: h.value_at_quantile(q) as f64 / 1e3,
            }
        })
        .collect();
    points.push(Quantile {
        percentile: 100.0,
        ms: h.max() as f64 / 1e3,
    });
    points
}

/// Requests by how they ended.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Counts {
    pub sent: u64,
    /// Answered with a verdict.
    pub served: u64,
    pub valid: u64,
    /// By type: busy, over-budget, timeout, not-sent, wrong-verdict, ...
    pub errors: BTreeMap<String, u64>,
    /// Errors / sent.
    pub error_rate: f64,
    pub offered_rps: f64,
    pub served_rps: f64,
}

impl Counts {
    fn of(tally: &Tally, seconds: f64) -> Counts {
        let errors: u64 = tally.error_count();
        Counts {
            sent: tally.sent,
            served: tally.served,
            valid: tally.valid,
            errors: tally
                .errors
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            error_rate: errors as f64 / tally.sent.max(1) as f64,
            offered_rps: tally.sent as f64 / seconds.max(1e-9),
            served_rps: tally.served as f64 / seconds.max(1e-9),
        }
    }
}

/// A group of requests: counts and latency.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Group {
    #[serde(flatten)]
    pub counts: Counts,
    /// Every finished request, refused ones included, from its intended send time.
    pub latency_ms: Percentiles,
    /// Requests answered with a verdict only.
    pub served_latency_ms: Percentiles,
}

impl Group {
    fn of(tally: &Tally, seconds: f64) -> Group {
        Group {
            counts: Counts::of(tally, seconds),
            latency_ms: Percentiles::of(&tally.latency),
            served_latency_ms: Percentiles::of(&tally.served_latency),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TenantReport {
    pub name: String,
    pub weight: f64,
    pub demand: f64,
    #[serde(flatten)]
    pub group: Group,
    /// Its weighted max-min fair share of what the appliance served, requests/s.
    pub fair_share_rps: f64,
    /// served_rps / fair_share_rps (1 = exactly its fair share).
    pub x: f64,
    /// Its answered requests, received to decided inside the appliance, and decided to the
    /// answer at the rig: where a tenant's latency went (absent in reports written before).
    #[serde(default)]
    pub in_appliance_ms: Percentiles,
    #[serde(default)]
    pub after_verdict_ms: Percentiles,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StageReport {
    pub label: String,
    pub rate: f64,
    pub seconds: f64,
    #[serde(flatten)]
    pub group: Group,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KindReport {
    pub kind: String,
    #[serde(flatten)]
    pub group: Group,
    /// The latency distribution of this kind's finished requests (empty in reports written
    /// before it was added).
    #[serde(default)]
    pub distribution_ms: Vec<Quantile>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Fairness {
    pub gini: f64,
    pub jain: f64,
    /// Total served rate the fair shares divide.
    pub capacity_rps: f64,
    pub method: String,
}

/// One second of the run, by completion time.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IntervalReport {
    pub second: u64,
    pub sent: u64,
    pub served: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The median wall time of one BLS verification on the rig's host in this second: its
    /// uncontended cost, or more while the host's CPUs are busy or slowed.
    #[serde(default)]
    pub host_probe_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Cost {
    /// Appliance CPU seconds per 1,000 requests served.
    pub cpu_seconds_per_1k: f64,
    /// Served rate / the floor's rate on all the appliance's cores.
    pub throughput_vs_single_floor: f64,
    pub throughput_vs_batched_floor: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Burst {
    pub steady_p95_ms: f64,
    pub swing_p95_ms: f64,
    /// swing / steady - 1.
    pub p95_swing: f64,
}

/// One trial of a capacity search. Fields after `pass` were added within v1 (absent in older
/// reports: zero, empty or false).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Trial {
    /// The rate offered, requests/s.
    pub rps: f64,
    pub served_rps: f64,
    pub p99_ms: f64,
    /// Errors / sent (fraction).
    pub error_rate: f64,
    /// Every target held.
    pub pass: bool,
    /// The measured part's length.
    #[serde(default)]
    pub seconds: f64,
    #[serde(default)]
    pub sent: u64,
    #[serde(default)]
    pub errors: u64,
    #[serde(default)]
    pub p50_ms: f64,
    #[serde(default)]
    pub p95_ms: f64,
    /// The targets it missed, by name.
    #[serde(default)]
    pub missed: Vec<String>,
    /// Ctrl-C stopped it: its figures are partial and it did not steer the search.
    #[serde(default)]
    pub interrupted: bool,
}

impl Trial {
    /// The trial whose report this is, at `rate`.
    pub fn of(rate: f64, report: &Report) -> Trial {
        let o = &report.overall;
        Trial {
            rps: rate,
            served_rps: o.counts.served_rps,
            p99_ms: o.latency_ms.p99,
            error_rate: o.counts.error_rate,
            pass: report.verdict == "PASS" && !report.interrupted,
            seconds: report.measured_seconds,
            sent: o.counts.sent,
            errors: o.counts.errors.values().sum(),
            p50_ms: o.latency_ms.p50,
            p95_ms: o.latency_ms.p95,
            missed: report
                .slo
                .iter()
                .filter(|c| c.pass == Some(false))
                .map(|c| c.metric.name().to_string())
                .collect(),
            interrupted: report.interrupted,
        }
    }

    /// How it ended, for people: `meets`, `misses p99_ms, error_rate`, `interrupted`.
    pub fn outcome(&self) -> String {
        if self.interrupted {
            "interrupted".to_string()
        } else if self.pass {
            "meets".to_string()
        } else if self.missed.is_empty() {
            "misses".to_string()
        } else {
            format!("misses {}", self.missed.join(", "))
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Capacity {
    /// The highest offered rate whose trial met the targets (0 if none did).
    pub highest_rps: f64,
    pub ratio_to_single_floor: f64,
    pub ratio_to_batched_floor: f64,
    /// Every trial run, in order.
    pub trials: Vec<Trial>,
    /// Which trial (1 = the first) the report's other figures are from: the best that met the
    /// targets, else the last. Absent in reports written before it was added.
    #[serde(default)]
    pub figures_from_trial: Option<usize>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema: String,
    pub profile: Profile,
    /// PASS or FAIL.
    pub verdict: String,
    /// Ctrl-C ended the run before its planned end; the figures cover what ran.
    pub interrupted: bool,
    pub measured_from_unix: f64,
    pub measured_seconds: f64,
    pub warmup_seconds: f64,
    pub mix: BTreeMap<String, u32>,
    pub connections_per_tenant: usize,
    pub purpose: String,
    pub floor: Floor,
    /// Which tenants the latency and error targets apply to.
    pub scope: String,
    pub slo: Vec<Check>,
    pub overall: Group,
    /// The latency distribution of every finished request, for the percentile plot.
    pub distribution_ms: Vec<Quantile>,
    pub in_appliance_ms: Percentiles,
    pub after_verdict_ms: Percentiles,
    pub tenants: Vec<TenantReport>,
    pub fairness: Fairness,
    pub stages: Vec<StageReport>,
    pub kinds: Vec<KindReport>,
    pub appliance: Option<Usage>,
    pub cost: Cost,
    pub rig_cpu_seconds: f64,
    /// One BLS verification on the rig's host, per-second medians over the run.
    pub host_probe_ms: Option<Percentiles>,
    /// Connections the appliance closed during the run that the rig re-established.
    pub reconnects: u64,
    /// The whole seconds of the measured part (a trailing partial second is left out: see
    /// [`crate::recorder::Recorder::whole_seconds`]).
    pub intervals: Vec<IntervalReport>,
    pub burst: Option<Burst>,
    pub capacity: Option<Capacity>,
}

/// Builds the report of a measured run.
pub fn build(spec: &RunSpec, plan: &[PlannedStage], floor: &Floor, measured: &Measured) -> Report {
    let seconds = measured.measured_seconds.max(1e-9);
    let recorder = &measured.recorder;
    let tenants_spec = spec.effective_tenants();

    let served: Vec<f64> = recorder
        .tenants
        .iter()
        .map(|t| t.served as f64 / seconds)
        .collect();
    let demands: Vec<f64> = recorder
        .tenants
        .iter()
        .map(|t| t.sent as f64 / seconds)
        .collect();
    let weights: Vec<f64> = tenants_spec.iter().map(|t| t.weight).collect();
    let capacity: f64 = served.iter().sum();
    let fair = fairness::fair_shares(capacity, &demands, &weights);
    let x = fairness::normalised(&served, &fair);
    let tenants: Vec<TenantReport> = tenants_spec
        .iter()
        .zip(recorder.tenants.iter().zip(&recorder.tenant_answer_times))
        .enumerate()
        .map(
            |(i, (t, (tally, times))): (usize, (&TenantSpec, (&Tally, &AnswerTimes)))| {
                TenantReport {
                    name: t.name.clone(),
                    weight: t.weight,
                    demand: t.demand,
                    group: Group::of(tally, seconds),
                    fair_share_rps: fair[i],
                    x: if fair[i] > 0.0 {
                        served[i] / fair[i]
                    } else {
                        0.0
                    },
                    in_appliance_ms: Percentiles::of(&times.in_appliance),
                    after_verdict_ms: Percentiles::of(&times.after_verdict),
                }
            },
        )
        .collect();
    let fairness = Fairness {
        gini: fairness::gini(&x),
        jain: fairness::jain(&x),
        capacity_rps: capacity,
        method: "x_i = served rate / weighted max-min fair share of the total served rate given \
                 the offered rates; Gini and Jain over the x_i"
            .into(),
    };

    // Stages (the warm-up is not recorded), each over the part of it that ran.
    let sending_ended = spec.warmup.as_secs_f64() + measured.measured_seconds;
    let mut stage_start = 0.0;
    let mut stages = Vec::new();
    for (p, tally) in plan.iter().zip(&recorder.stages) {
        let planned = p.stage.duration.as_secs_f64();
        let ran = (sending_ended - stage_start).clamp(0.0, planned);
        stage_start += planned;
        if p.label != WARMUP {
            stages.push(StageReport {
                label: p.label.clone(),
                rate: p.stage.rate,
                seconds: ran,
                group: Group::of(tally, ran),
            });
        }
    }
    let burst = (spec.profile == Profile::Burst).then(|| {
        let mut steady = Tally::default();
        let mut swing = Tally::default();
        for (p, tally) in plan.iter().zip(&recorder.stages) {
            match p.label.as_str() {
                WARMUP => {}
                "steady" => steady.add(tally),
                _ => swing.add(tally),
            }
        }
        let p95 = |t: &Tally| t.latency.value_at_quantile(0.95) as f64 / 1e3;
        Burst {
            steady_p95_ms: p95(&steady),
            swing_p95_ms: p95(&swing),
            p95_swing: p95(&swing) / p95(&steady).max(1e-9) - 1.0,
        }
    });

    // Targets apply to everyone, except the noisy neighbour's own errors and latency.
    let (scope, scoped) = match &spec.noisy {
        Some((noisy, _)) => {
            let mut others = Tally::default();
            for (t, tally) in tenants_spec.iter().zip(&recorder.tenants) {
                if &t.name != noisy {
                    others.add(tally);
                }
            }
            (
                format!("every tenant but {noisy} (the noisy neighbour)"),
                others,
            )
        }
        None => ("every tenant".to_string(), recorder.overall.clone()),
    };
    let checks = slo::check(&spec.targets, |metric| {
        let quantile = |q: f64| {
            if scoped.latency.is_empty() {
                Err("no request finished".to_string())
            } else {
                Ok(scoped.latency.value_at_quantile(q) as f64 / 1e3)
            }
        };
        match metric {
            Metric::P50Ms => quantile(0.50),
            Metric::P95Ms => quantile(0.95),
            Metric::P99Ms => quantile(0.99),
            Metric::P999Ms => quantile(0.999),
            Metric::ErrorRate => Ok(scoped.error_count() as f64 / scoped.sent.max(1) as f64),
            Metric::Gini => Ok(fairness.gini),
            Metric::Cpu => measured
                .usage
                .as_ref()
                .map(|u| u.utilisation)
                .ok_or_else(|| {
                    "not measured: run on the appliance's host (it is found by name) or give \
                 --appliance-pid"
                        .to_string()
                }),
            Metric::P95Swing => burst
                .as_ref()
                .map(|b| b.p95_swing)
                .ok_or_else(|| "only the burst profile swings".to_string()),
        }
    });
    let verdict = if slo::passed(&checks) { "PASS" } else { "FAIL" };

    let served_rps = recorder.overall.served as f64 / seconds;
    let cost = Cost {
        cpu_seconds_per_1k: measured.usage.as_ref().map_or(0.0, |u| {
            u.cpu_seconds * 1000.0 / recorder.overall.served.max(1) as f64
        }),
        throughput_vs_single_floor: served_rps / floor.single_rps.max(1e-9),
        throughput_vs_batched_floor: served_rps / floor.batched_rps.max(1e-9),
    };
    let answer_times = AnswerTimes::merged(&recorder.tenant_answer_times);

    Report {
        schema: SCHEMA.into(),
        profile: spec.profile,
        verdict: verdict.into(),
        interrupted: measured.interrupted,
        measured_from_unix: measured.measured_from_unix,
        measured_seconds: measured.measured_seconds,
        warmup_seconds: spec.warmup.as_secs_f64(),
        mix: spec
            .mix
            .iter()
            .map(|(k, w)| (k.name().to_string(), *w))
            .collect(),
        connections_per_tenant: spec.connections,
        purpose: spec.purpose.clone(),
        floor: floor.clone(),
        scope,
        slo: checks,
        overall: Group::of(&recorder.overall, seconds),
        distribution_ms: distribution(&recorder.overall.latency),
        in_appliance_ms: Percentiles::of(&answer_times.in_appliance),
        after_verdict_ms: Percentiles::of(&answer_times.after_verdict),
        tenants,
        fairness,
        stages,
        kinds: recorder
            .kinds
            .iter()
            .map(|(kind, tally)| KindReport {
                kind: kind.name().into(),
                group: Group::of(tally, seconds),
                distribution_ms: distribution(&tally.latency),
            })
            .collect(),
        appliance: measured.usage.clone(),
        cost,
        rig_cpu_seconds: measured.rig_cpu_seconds,
        reconnects: measured.reconnects,
        host_probe_ms: probe_summary(&measured.host_probe_ms),
        intervals: recorder
            .whole_seconds(Duration::from_secs_f64(measured.measured_seconds.max(0.0)))
            .iter()
            .enumerate()
            .map(|(second, interval)| {
                let h = &interval.tally.latency;
                let ms = |q: f64| h.value_at_quantile(q) as f64 / 1e3;
                IntervalReport {
                    second: second as u64,
                    sent: interval.tally.sent,
                    served: interval.tally.served,
                    errors: interval.tally.error_count(),
                    p50_ms: ms(0.5),
                    p95_ms: ms(0.95),
                    p99_ms: ms(0.99),
                    max_ms: h.max() as f64 / 1e3,
                    host_probe_ms: measured.host_probe_ms.get(second).copied().flatten(),
                }
            })
            .collect(),
        burst,
        capacity: None,
    }
}

/// The spread of the per-second speed probe.
fn probe_summary(per_second: &[Option<f64>]) -> Option<Percentiles> {
    let mut h = histogram();
    for ms in per_second.iter().flatten() {
        h.saturating_record((ms * 1e3) as u64);
    }
    (!h.is_empty()).then(|| Percentiles::of(&h))
}

/// Writes report.json, report.html, its plots as plots/NAME.svg and latency.hlog into `dir`
/// (created if missing).
pub fn write(dir: &Path, report: &Report, measured: &Measured) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("report.json"), json)?;
    let plots = plots::all(report);
    std::fs::write(dir.join("report.html"), html::page(report, &plots))?;
    let plots_dir = dir.join("plots");
    std::fs::create_dir_all(&plots_dir)?;
    for (name, plot) in plots {
        let file = plots_dir.join(format!("{name}.svg"));
        match plot {
            Ok(svg) => std::fs::write(file, svg)?,
            // A plot that cannot be drawn is explained on the page; no earlier run's image
            // may stand in for it.
            Err(_) => match std::fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            },
        }
    }
    let mut log = Vec::new();
    interval_log::write(&mut log, measured)?;
    std::fs::write(dir.join("latency.hlog"), log)?;
    Ok(())
}

/// Reads a report written by [`write`]: its report.json, or the directory holding it.
pub fn read(path: &Path) -> Result<Report, String> {
    let file = path.join("report.json");
    let path = if path.is_dir() { file.as_path() } else { path };
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    if value["schema"] != SCHEMA {
        return Err(format!(
            "{}: not a bench-rig report of this version (schema {}, expected {SCHEMA})",
            path.display(),
            value["schema"]
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::LoadArgs;
    use crate::mix::Kind;
    use crate::recorder::{Outcome, Recorder};
    use crate::schedule::Slot;

    fn floor() -> Floor {
        Floor {
            batch: 64,
            kinds: BTreeMap::new(),
            mix_single_ms: 4.0,
            mix_batched_ms: 2.0,
            cores: 2,
            single_rps: 500.0,
            batched_rps: 1000.0,
        }
    }

    /// Two tenants, 10 s measured: tenant 0 sent 20 and got 20 verdicts; tenant 1 sent 20, got
    /// 10 verdicts and 10 `busy`.
    fn measured(spec: &RunSpec) -> (Vec<PlannedStage>, Measured) {
        let plan = spec.plan();
        let mut recorder = Recorder::new(spec.warmup, 2, plan.len());
        for i in 0..40u64 {
            let slot = Slot {
                at: spec.warmup + Duration::from_millis(i * 250),
                stage: 1,
                tenant: (i % 2) as usize,
            };
            recorder.sent(&slot, Kind::Bls);
            let outcome = if slot.tenant == 1 && i % 4 == 1 {
                Outcome::Error("busy")
            } else {
                Outcome::Verdict {
                    valid: true,
                    in_appliance: Duration::from_millis(2 + 3 * slot.tenant as u64),
                    after_verdict: Duration::from_millis(1),
                }
            };
            recorder.finished(
                &slot,
                Kind::Bls,
                &outcome,
                slot.at + Duration::from_millis(10),
            );
        }
        let measured = Measured {
            recorder,
            measured_from_unix: 1_700_000_000.0,
            measured_seconds: 10.0,
            usage: None,
            rig_cpu_seconds: 0.5,
            interrupted: false,
            reconnects: 0,
            host_probe_ms: Vec::new(),
        };
        (plan, measured)
    }

    #[test]
    fn the_report_adds_up_and_round_trips_through_its_schema() {
        let args = LoadArgs {
            duration: Some("10s".into()),
            warmup: Some("2s".into()),
            rps: Some(4.0),
            ..LoadArgs::default()
        };
        let spec = args
            .to_spec(Profile::Steady, &["a".into(), "b".into()])
            .unwrap();
        let (plan, measured) = measured(&spec);
        let report = build(&spec, &plan, &floor(), &measured);
        assert_eq!(report.overall.counts.sent, 40);
        assert_eq!(report.overall.counts.served, 30);
        assert_eq!(report.overall.counts.errors["busy"], 10);
        assert!((report.overall.counts.error_rate - 0.25).abs() < 1e-12);
        assert!((report.overall.counts.served_rps - 3.0).abs() < 1e-12);
        // Capacity 3/s, demands 2/s each: fair shares 1.5 each; x = 2/1.5 and 1/1.5.
        assert!((report.tenants[0].fair_share_rps - 1.5).abs() < 1e-12);
        assert!((report.tenants[1].x - 1.0 / 1.5).abs() < 1e-12);
        // Each tenant's answers keep their own times inside the appliance.
        assert_eq!(report.tenants[0].in_appliance_ms.count, 20);
        assert_eq!(report.tenants[1].in_appliance_ms.count, 10);
        assert!((report.tenants[0].in_appliance_ms.p99 - 2.0).abs() < 0.01);
        assert!((report.tenants[1].in_appliance_ms.p99 - 5.0).abs() < 0.01);
        assert!((report.tenants[1].after_verdict_ms.p99 - 1.0).abs() < 0.01);
        assert!((report.in_appliance_ms.p99 - 5.0).abs() < 0.01);
        assert!(report.fairness.gini > 0.1);
        // The error rate misses the default 0.25 % target; CPU was not measured.
        assert_eq!(report.verdict, "FAIL");
        let cpu = report.slo.iter().find(|c| c.metric == Metric::Cpu).unwrap();
        assert_eq!(cpu.pass, None);
        assert!(cpu.note.contains("not measured"));
        // Served = verdicts: throughput against the floor.
        assert!((report.cost.throughput_vs_single_floor - 3.0 / 500.0).abs() < 1e-12);

        // The schema: these names are what tools read; renaming one must bump SCHEMA.
        let json = serde_json::to_value(&report).unwrap();
        for key in [
            "schema",
            "profile",
            "verdict",
            "interrupted",
            "measured_seconds",
            "floor",
            "slo",
            "overall",
            "distribution_ms",
            "in_appliance_ms",
            "after_verdict_ms",
            "tenants",
            "fairness",
            "stages",
            "kinds",
            "appliance",
            "cost",
            "intervals",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        for key in [
            "sent",
            "served",
            "valid",
            "errors",
            "error_rate",
            "latency_ms",
        ] {
            assert!(json["overall"].get(key).is_some(), "overall.{key}");
        }
        for key in ["p50", "p90", "p95", "p99", "p999", "max", "count", "mean"] {
            assert!(
                json["overall"]["latency_ms"].get(key).is_some(),
                "latency_ms.{key}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &report, &measured).unwrap();
        // (Floats may differ in the last bit after a JSON round trip: compare what is exact.)
        let back = read(dir.path()).unwrap();
        assert_eq!(back.overall.counts, report.overall.counts);
        assert_eq!(back.verdict, report.verdict);
        assert_eq!(back.intervals.len(), report.intervals.len());
        assert_eq!(back.tenants[1].group.counts, report.tenants[1].group.counts);
        // Each plot of the page is also a standalone SVG image beside it.
        for (name, _) in plots::all(&report) {
            let svg = std::fs::read_to_string(dir.path().join(format!("plots/{name}.svg")))
                .unwrap_or_else(|e| panic!("plots/{name}.svg: {e}"));
            assert!(svg.starts_with("<svg") && svg.contains("</svg>"), "{name}");
        }
        std::fs::write(dir.path().join("other.json"), r#"{"schema": "x"}"#).unwrap();
        assert!(
            read(&dir.path().join("other.json"))
                .unwrap_err()
                .contains("not a bench-rig report")
        );
    }
}
