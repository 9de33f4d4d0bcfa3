//! Running a pack: the what-if bundle against the bundle in force over the pack's traffic,
//! and its expectations judged from the drift report.

use serde::Serialize;
use tf_bundles::Bundle;
use tf_drift::{Answer, BundleRef, Drift, Event, Judging, Registrations, Report, Terms};
use tf_wire::DatasetClass;

use crate::pack::{Pack, Traffic};
use crate::synthetic::{self, Shape};

/// One expectation, judged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expectation {
    /// What was expected, in words.
    pub what: String,
    /// Whether it held.
    pub held: bool,
    /// The figure behind it.
    pub detail: String,
}

/// A pack's run.
#[derive(Clone, Debug, Serialize)]
pub struct PackResult {
    /// The pack.
    pub pack: String,
    /// Whether every expectation held.
    pub passed: bool,
    /// Each expectation.
    pub expectations: Vec<Expectation>,
    /// The drift report behind them.
    pub report: Report,
}

/// Where a run's recorded traffic comes from: hands the events from `from_us` to `to_us` to
/// `each` until it returns `false`, and returns how many decisions the period lacks.
pub type Recorded<'a> =
    dyn FnMut(u64, u64, &mut dyn FnMut(Event) -> bool) -> Result<u64, String> + 'a;

/// Events between two asks whether a run may go on.
const EVENTS_PER_CHECK: u64 = 1 << 16;

/// Runs `pack`: `candidate` (the pack's bundle, or the bundle in force with its edits) against
/// `active` over the pack's traffic ending at `now_us`. `go_on` is asked every 65,536 events
/// whether to continue (a CPU budget); a run it stops is an error saying so.
pub fn run(
    pack: &Pack,
    active: &Bundle,
    candidate: &Bundle,
    registered: &Registrations,
    now_us: u64,
    recorded: &mut Recorded<'_>,
    go_on: &mut dyn FnMut() -> bool,
) -> Result<PackResult, String> {
    let mut events = 0u64;
    let mut stopped = false;
    let mut allowed = |stopped: &mut bool| {
        events += 1;
        if !*stopped && events.is_multiple_of(EVENTS_PER_CHECK) && !go_on() {
            *stopped = true;
        }
        !*stopped
    };
    let (before, after) = (Terms::promoted(active), Terms::of(candidate));
    let reference = |b: &Bundle| BundleRef {
        revision: b.revision(),
        hash: b.hash.clone(),
    };
    let judging = |from_us, to_us, not_recorded| Judging {
        baseline: reference(active),
        candidate: reference(candidate),
        from_us,
        to_us,
        tolerance: pack.expect.max_drift_percent.unwrap_or(100.0) / 100.0,
        not_recorded,
        notes: Vec::new(),
    };
    let report = match &pack.traffic {
        Traffic::Recorded { window } => {
            let window_us = tf_config::parse_span_us(window).unwrap_or(86_400_000_000);
            let from_us = now_us.saturating_sub(window_us);
            let warm_from = warm_from(&[active, candidate], from_us);
            // Events are handed over before the gap is known: judge with it filled in after.
            let mut drift = Drift::new(&before, &after, registered, judging(from_us, now_us, 0));
            let not_recorded = recorded(warm_from, now_us, &mut |event| {
                let go = allowed(&mut stopped);
                if go {
                    drift.feed(&event);
                }
                go
            })?;
            let mut report = drift.finish();
            report.sample.not_recorded = not_recorded;
            report
        }
        Traffic::Synthetic {
            rate_per_sec,
            duration,
            tenants,
            mix,
            purposes,
            class,
            burst_percent,
        } => {
            let duration_us = tf_config::parse_span_us(duration).unwrap_or(3_600_000_000);
            let start_us = now_us.saturating_sub(duration_us);
            let mix: Vec<(String, u32)> = mix.iter().map(|(k, w)| (k.clone(), *w)).collect();
            let keys: Vec<(&str, tf_engine::KeyId)> = active
                .content
                .keys
                .iter()
                .map(|k| {
                    let curve = match k.key.curve() {
                        tf_engine::groth16::Curve::Bn254 => "bn254",
                        _ => "bls12-381",
                    };
                    (curve, k.key.id())
                })
                .collect();
            let shape = Shape {
                rate_per_sec: *rate_per_sec,
                duration_us,
                start_us,
                tenants,
                mix: &mix,
                purposes,
                class: DatasetClass::from_name(class).unwrap_or(DatasetClass::P1),
                burst_percent: *burst_percent,
                keys: &keys,
            };
            let mut drift = Drift::new(&before, &after, registered, judging(start_us, now_us, 0));
            synthetic::events(&shape, |event| {
                let go = allowed(&mut stopped);
                if go {
                    drift.feed(&event);
                }
                go
            });
            drift.finish()
        }
    };
    if stopped {
        return Err(format!(
            "stopped after {events} events: over its CPU budget ([scenarios] cpu_seconds)"
        ));
    }
    let expectations = expectations(pack, &report);
    Ok(PackResult {
        pack: pack.name.clone(),
        passed: expectations.iter().all(|e| e.held),
        expectations,
        report,
    })
}

/// The tenants `pack` names (see [`Pack::tenants`]) that none of `bundles` has, sorted: a pack
/// naming any does not apply here (an example written for other tenants), is not run, and its
/// night is neither passed nor failed. `bundles`: the bundle in force, and the pack's candidate
/// bundle when it names one (whose new tenants it may name; such a pack has no edits).
pub fn missing_tenants(pack: &Pack, bundles: &[&Bundle]) -> Vec<String> {
    let known = |tenant: &str| {
        bundles
            .iter()
            .any(|b| b.content.tenants.iter().any(|t| t.id == tenant))
    };
    // A set: sorted, each once.
    (pack.tenants().into_iter())
        .filter(|tenant| !known(tenant))
        .collect()
}

fn expectations(pack: &Pack, report: &Report) -> Vec<Expectation> {
    let mut judged = Vec::new();
    if let Some(percent) = pack.expect.max_drift_percent {
        judged.push(Expectation {
            what: format!("drift at most {percent} % of decisions"),
            held: report.upper_bound * 100.0 <= percent,
            detail: format!(
                "{} flips of {} decisions; upper bound {:.3} %",
                report.flips,
                report.sample.decisions,
                report.upper_bound * 100.0
            ),
        });
    }
    let under_change = |tenant: &str, answer: Answer| {
        report
            .tenants
            .iter()
            .find(|t| t.tenant == tenant)
            .map_or(0, |t| t.candidate_count(answer))
    };
    let new_under_change = |tenant: &str, answer: Answer| -> u64 {
        report
            .groups
            .iter()
            .filter(|g| g.tenant == tenant && g.from == Answer::Allowed && g.to == answer)
            .map(|g| g.count)
            .sum()
    };
    let expect = &pack.expect;
    for (tenants, answer, words, new) in [
        (
            &expect.never_over_budget,
            Answer::OverBudget,
            "over budget",
            false,
        ),
        (&expect.never_denied, Answer::Denied, "denied", false),
        (
            &expect.no_new_over_budget,
            Answer::OverBudget,
            "over budget",
            true,
        ),
        (&expect.no_new_denials, Answer::Denied, "denied", true),
    ] {
        for tenant in tenants {
            let (n, what, detail) = if new {
                let n = new_under_change(tenant, answer);
                (
                    n,
                    format!("the change makes none of {tenant}'s requests {words}"),
                    format!("{n} requests admitted before are {words} under the change"),
                )
            } else {
                let n = under_change(tenant, answer);
                (
                    n,
                    format!("{tenant} never {words}"),
                    format!("{n} requests {words}"),
                )
            };
            judged.push(Expectation {
                what,
                held: n == 0,
                detail,
            });
        }
    }
    if let Some(span) = &expect.no_over_budget_before {
        judged.push(budgets_last(span, report));
    }
    judged
}

/// `no_over_budget_before`: the tenant first refused over budget under the change, and how
/// far into the period.
fn budgets_last(span: &str, report: &Report) -> Expectation {
    let lasts_us = tf_config::parse_span_us(span).unwrap_or(u64::MAX);
    let start_us = report.sample.from_us;
    let first = report
        .tenants
        .iter()
        .filter_map(|t| Some((t.candidate_first_over_budget_us?, t.tenant.as_str())))
        .min();
    let (held, detail) = match first {
        None => (true, "no tenant refused over budget".to_owned()),
        Some((at_us, tenant)) => {
            let into_us = at_us.saturating_sub(start_us);
            (
                into_us >= lasts_us,
                format!(
                    "{tenant} first refused over budget {} into the period",
                    span_words(into_us)
                ),
            )
        }
    };
    Expectation {
        what: format!("no tenant over budget in the first {span}"),
        held,
        detail,
    }
}

/// `1h 05m 30s`, `16m 40s`, `12s`.
fn span_words(us: u64) -> String {
    let s = us / 1_000_000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s:02}s"),
        _ => format!("{h}h {m:02}m {s:02}s"),
    }
}

/// Budgets stand where earlier decisions left them: replay from as far back as the longest
/// cap window of these bundles needs.
pub fn warm_from(bundles: &[&Bundle], from_us: u64) -> u64 {
    bundles
        .iter()
        .flat_map(|b| b.content.tenants.iter())
        .flat_map(|t| t.caps.iter().filter_map(|c| c.spec()))
        .map(|cap| cap.window.counts_since(from_us))
        .min()
        .unwrap_or(from_us)
        .min(from_us)
}
