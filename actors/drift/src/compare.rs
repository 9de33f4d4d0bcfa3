//! Two replays of the same decisions compared: every flip, grouped by who and what changed,
//! with the drift rate and its upper confidence bound against a tolerance.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::bound::{trials_needed, upper_bound};
use crate::decision::{Answer, Decision, Event};
use crate::replay::{Registrations, Replayed, Replayer};
use crate::terms::Terms;

/// The confidence of the bound on the drift rate.
pub const CONFIDENCE: f64 = 0.95;
/// Examples kept per group of flips.
const EXAMPLES: usize = 3;

/// A bundle, as the report names it.
#[derive(Clone, Debug, Serialize)]
pub struct BundleRef {
    /// Its revision.
    pub revision: u64,
    /// Its hash (hex SHA-256 of the signed manifest).
    pub hash: String,
}

/// The decisions the report judges by.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Sample {
    /// Decisions inside the window.
    pub decisions: u64,
    /// The window asked for, Unix microseconds.
    pub from_us: u64,
    /// Its end.
    pub to_us: u64,
    /// The first and last decision inside it (0 when there is none).
    pub first_us: u64,
    /// See `first_us`.
    pub last_us: u64,
    /// Decisions before the window replayed only to bring budgets to where they stood.
    pub warmup_decisions: u64,
    /// Decisions the appliance made but could not record (its log fell behind); replay
    /// cannot see them.
    pub not_recorded: u64,
    /// Appliance runs the window spans.
    pub runs: u64,
}

/// Flips that share a tenant, purpose, class, change and deciding rule.
#[derive(Clone, Debug, Serialize)]
pub struct FlipGroup {
    /// The tenant.
    pub tenant: String,
    /// The purpose.
    pub purpose: String,
    /// The dataset class.
    pub class: String,
    /// What the baseline answered.
    pub from: Answer,
    /// What the candidate answers.
    pub to: Answer,
    /// The change in words.
    pub change: String,
    /// What decided the candidate's answer (its policies, cap or quota), else the
    /// baseline's.
    pub decided_by: String,
    /// How many decisions flipped.
    pub count: u64,
    /// The first, Unix microseconds.
    pub first_us: u64,
    /// The last.
    pub last_us: u64,
    /// A few of them.
    pub examples: Vec<Example>,
}

/// One flipped decision.
#[derive(Clone, Debug, Serialize)]
pub struct Example {
    /// When, Unix microseconds.
    pub at_us: u64,
    /// The statement kind.
    pub kind: String,
    /// The Groth16 key, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Why the baseline answered as it did.
    pub before: String,
    /// Why the candidate does.
    pub after: String,
}

/// Whether the candidate may go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Judgement {
    /// The drift's upper bound is within the tolerance.
    Pass,
    /// It is over: the change must not merge as it is.
    Block,
    /// Too few decisions to bound drift within the tolerance, whatever they show.
    TooFewDecisions,
}

/// The drift a candidate bundle would cause on recorded traffic.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// What the decisions are replayed against.
    pub baseline: BundleRef,
    /// The bundle proposed.
    pub candidate: BundleRef,
    /// The decisions judged.
    pub sample: Sample,
    /// Decisions whose answer differs.
    pub flips: u64,
    /// Flips per decision.
    pub rate: f64,
    /// The one-sided upper bound on the rate at [`CONFIDENCE`].
    pub upper_bound: f64,
    /// The confidence of the bound.
    pub confidence: f64,
    /// The largest bound that passes.
    pub tolerance: f64,
    /// The fewest decisions that can pass the tolerance at all.
    pub decisions_needed: u64,
    /// The judgement.
    pub judgement: Judgement,
    /// Flips per change, most first.
    pub changes: Vec<ChangeCount>,
    /// Flips grouped, most first.
    pub groups: Vec<FlipGroup>,
    /// What the report cannot judge or vouch for: weight changes, a sample checked only
    /// against the key it names itself.
    pub notes: Vec<String>,
    /// Each tenant's answers in the window under both bundles.
    pub tenants: Vec<TenantTally>,
    /// An approver who let the change through although the guard does not pass it; `null`
    /// when none did.
    pub overridden: Option<Override>,
}

/// An approver's decision to let through a change the guard does not pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Override {
    /// Who approved it.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// Why an override was not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    /// A name or reason was left empty.
    #[error("an override needs an approver's name and a reason, neither empty")]
    Empty,
    /// Too long, or with control characters.
    #[error(
        "an override's name (at most 100 characters) and reason (at most 500) are plain text \
         on one line"
    )]
    NotPlain,
}

impl Override {
    /// `by`'s override for `reason`, both checked: present, short, on one line.
    pub fn new(by: &str, reason: &str) -> Result<Self, OverrideError> {
        let (by, reason) = (by.trim(), reason.trim());
        if by.is_empty() || reason.is_empty() {
            return Err(OverrideError::Empty);
        }
        if !tf_wire::is_plain_line(by, 100) || !tf_wire::is_plain_line(reason, 500) {
            return Err(OverrideError::NotPlain);
        }
        Ok(Override {
            by: by.to_owned(),
            reason: reason.to_owned(),
        })
    }
}

impl Report {
    /// Whether the change may go ahead: the drift passes, or an approver overrode the guard.
    pub fn passes(&self) -> bool {
        self.judgement == Judgement::Pass || self.overridden.is_some()
    }

    /// Records `approval` when the guard does not pass the change (a change that passes
    /// needs none, and none is recorded).
    pub fn overrule(&mut self, approval: Override) {
        if self.judgement != Judgement::Pass {
            self.overridden = Some(approval);
        }
    }
}

/// One tenant's answers in the window.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TenantTally {
    /// The tenant.
    pub tenant: String,
    /// Under the baseline: how many of each answer.
    pub baseline: BTreeMap<Answer, u64>,
    /// Under the candidate.
    pub candidate: BTreeMap<Answer, u64>,
    /// When the baseline first refused one over budget, Unix microseconds; absent if never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_first_over_budget_us: Option<u64>,
    /// When the candidate first refused one over budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_first_over_budget_us: Option<u64>,
}

impl TenantTally {
    /// How many `answer`s the candidate gives.
    pub fn candidate_count(&self, answer: Answer) -> u64 {
        self.candidate.get(&answer).copied().unwrap_or(0)
    }
}

/// How many decisions flipped one way.
#[derive(Clone, Debug, Serialize)]
pub struct ChangeCount {
    /// The change in words.
    pub change: String,
    /// How many.
    pub count: u64,
}

/// What the comparison needs besides the two replays.
pub struct Judging {
    /// The baseline.
    pub baseline: BundleRef,
    /// The candidate.
    pub candidate: BundleRef,
    /// The window, Unix microseconds, inclusive.
    pub from_us: u64,
    /// See `from_us`.
    pub to_us: u64,
    /// The tolerance on the bound.
    pub tolerance: f64,
    /// Decisions the log could not record in the period read (known before the events are
    /// read: the log counts them per block).
    pub not_recorded: u64,
    /// What the report cannot judge or vouch for.
    pub notes: Vec<String>,
}

/// The change from `from` to `to` in words.
pub fn change(from: Answer, to: Answer) -> String {
    let meaning = match (from, to) {
        (Answer::Allowed, Answer::OverBudget) => " (runs out of budget earlier)",
        (Answer::OverBudget, Answer::Allowed) => " (runs out of budget later)",
        (Answer::Allowed, Answer::OverRate) => " (a lower quota)",
        (Answer::OverRate, Answer::Allowed) => " (a higher quota)",
        _ => "",
    };
    format!("{} → {}{meaning}", from.name(), to.name())
}

/// Judges a candidate as events stream through: both replays side by side, every decision
/// inside the window compared as it comes (those before it only bring budgets to where they
/// stood).
pub struct Drift<'t, 'b> {
    before: Replayer<'t, 'b>,
    after: Replayer<'t, 'b>,
    judge: Judge,
}

impl<'t, 'b> Drift<'t, 'b> {
    /// A judgement of `candidate` against `baseline`.
    pub fn new(
        baseline: &'t Terms<'b>,
        candidate: &'t Terms<'b>,
        registered: &'t Registrations,
        judging: Judging,
    ) -> Self {
        Drift {
            before: Replayer::new(baseline, registered),
            after: Replayer::new(candidate, registered),
            judge: Judge::new(judging),
        }
    }

    /// Takes the next event (each shard's in its recorded order).
    pub fn feed(&mut self, event: &Event) {
        match event {
            Event::Decided(decision) => {
                let before = self.before.decide(decision);
                let after = self.after.decide(decision);
                self.judge.note(decision, &before, &after);
            }
            Event::Settled(settlement) => {
                self.before.settle(settlement);
                self.after.settle(settlement);
            }
        }
    }

    /// The report.
    pub fn finish(self) -> Report {
        self.judge.finish()
    }
}

type GroupKey = (String, String, &'static str, Answer, Answer, String);

/// The tally behind a report.
struct Judge {
    judging: Judging,
    sample: Sample,
    runs: BTreeSet<u64>,
    groups: BTreeMap<GroupKey, FlipGroup>,
    changes: BTreeMap<(Answer, Answer), u64>,
    flips: u64,
    tenants: BTreeMap<String, TenantTally>,
}

impl Judge {
    fn new(judging: Judging) -> Self {
        Judge {
            sample: Sample {
                from_us: judging.from_us,
                to_us: judging.to_us,
                not_recorded: judging.not_recorded,
                ..Sample::default()
            },
            judging,
            runs: BTreeSet::new(),
            groups: BTreeMap::new(),
            changes: BTreeMap::new(),
            flips: 0,
            tenants: BTreeMap::new(),
        }
    }

    fn note(&mut self, decision: &Decision, before: &Replayed, after: &Replayed) {
        if decision.at_us < self.judging.from_us {
            self.sample.warmup_decisions += 1;
            return;
        }
        if decision.at_us > self.judging.to_us {
            return;
        }
        let sample = &mut self.sample;
        sample.decisions += 1;
        self.runs.insert(decision.run);
        sample.first_us = if sample.first_us == 0 {
            decision.at_us
        } else {
            sample.first_us.min(decision.at_us)
        };
        sample.last_us = sample.last_us.max(decision.at_us);
        // Tenants are few and named by their certificates; a lookup by &str allocates nothing.
        if !self.tenants.contains_key(&*decision.tenant) {
            self.tenants.insert(
                decision.tenant.to_string(),
                TenantTally {
                    tenant: decision.tenant.to_string(),
                    ..TenantTally::default()
                },
            );
        }
        if let Some(tally) = self.tenants.get_mut(&*decision.tenant) {
            *tally.baseline.entry(before.answer).or_default() += 1;
            *tally.candidate.entry(after.answer).or_default() += 1;
            // Shards' events interleave out of time order: the earliest, not the first fed.
            let earliest = |first: &mut Option<u64>, answer: Answer| {
                if answer == Answer::OverBudget {
                    *first = Some(first.map_or(decision.at_us, |f| f.min(decision.at_us)));
                }
            };
            earliest(&mut tally.baseline_first_over_budget_us, before.answer);
            earliest(&mut tally.candidate_first_over_budget_us, after.answer);
        }
        if before.answer == after.answer {
            return;
        }
        self.flips += 1;
        *self
            .changes
            .entry((before.answer, after.answer))
            .or_default() += 1;
        let decided_by = if after.why.is_empty() {
            before.why.to_string()
        } else {
            after.why.to_string()
        };
        let key = (
            decision.tenant.to_string(),
            decision.purpose.to_string(),
            decision.class.name(),
            before.answer,
            after.answer,
            decided_by.clone(),
        );
        let group = self.groups.entry(key).or_insert_with(|| FlipGroup {
            tenant: decision.tenant.to_string(),
            purpose: decision.purpose.to_string(),
            class: decision.class.name().to_owned(),
            from: before.answer,
            to: after.answer,
            change: change(before.answer, after.answer),
            decided_by,
            count: 0,
            first_us: decision.at_us,
            last_us: decision.at_us,
            examples: Vec::new(),
        });
        group.count += 1;
        group.first_us = group.first_us.min(decision.at_us);
        group.last_us = group.last_us.max(decision.at_us);
        if group.examples.len() < EXAMPLES {
            group.examples.push(Example {
                at_us: decision.at_us,
                kind: decision.kind.to_string(),
                key: decision.key.map(|k| k.to_string()),
                before: before.why.to_string(),
                after: after.why.to_string(),
            });
        }
    }

    fn finish(self) -> Report {
        let mut sample = self.sample;
        sample.runs = self.runs.len() as u64;
        let n = sample.decisions;
        let bound = upper_bound(self.flips, n, CONFIDENCE);
        let needed = trials_needed(self.judging.tolerance, CONFIDENCE);
        let judgement = if n < needed {
            Judgement::TooFewDecisions
        } else if bound <= self.judging.tolerance {
            Judgement::Pass
        } else {
            Judgement::Block
        };
        let mut groups: Vec<FlipGroup> = self.groups.into_values().collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.first_us.cmp(&b.first_us)));
        let mut changes: Vec<ChangeCount> = self
            .changes
            .into_iter()
            .map(|((from, to), count)| ChangeCount {
                change: change(from, to),
                count,
            })
            .collect();
        changes.sort_by_key(|c| std::cmp::Reverse(c.count));
        Report {
            baseline: self.judging.baseline,
            candidate: self.judging.candidate,
            sample,
            flips: self.flips,
            rate: if n == 0 {
                0.0
            } else {
                self.flips as f64 / n as f64
            },
            upper_bound: bound,
            confidence: CONFIDENCE,
            tolerance: self.judging.tolerance,
            decisions_needed: needed,
            judgement,
            changes,
            groups,
            notes: self.judging.notes,
            tenants: self.tenants.into_values().collect(),
            overridden: None,
        }
    }
}
