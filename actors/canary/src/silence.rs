//! Silences: an operator's word that a difference the canary sees is known and benign, for a
//! while. A silence names the comparators it covers and, for verdicts and receipts, the golden
//! set's items (none named: every item); it has a creator, a reason and an expiry, and stops
//! applying on its own when that passes. What it covers shows as silenced, never as passing,
//! and raises no alarm.

use serde::{Deserialize, Serialize};

use crate::judge::{Judgement, Score};

/// The comparators a silence may name.
pub const COMPARATORS: [&str; 4] = ["verdict", "receipt", "latency", "error-rate"];
/// The longest a silence may last: a week, so none is forgotten for good.
pub const MAX_SPAN_US: u64 = 7 * 86_400_000_000;
/// The most items a silence may name.
pub const MAX_ITEMS: usize = 32;

/// One silence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// Its number (given when it is stored).
    pub id: u64,
    /// The comparators it covers.
    pub comparators: Vec<String>,
    /// The golden set's items it covers for `verdict` and `receipt` (empty: every item).
    pub items: Vec<String>,
    /// When it was made, Unix microseconds.
    pub created_us: u64,
    /// When it stops applying, Unix microseconds.
    pub expires_us: u64,
    /// Who made it.
    pub creator: String,
    /// Why.
    pub reason: String,
}

/// Why a silence was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    /// It names no comparator, or one that does not exist.
    #[error("name one or more comparators of: verdict, receipt, latency, error-rate ({0})")]
    Comparators(String),
    /// Items named for a comparator that does not judge items, or too many.
    #[error("{0}")]
    Items(String),
    /// No expiry in the future, or one past a week.
    #[error("a silence must expire after it is made and within a week ({0})")]
    Expiry(String),
    /// A creator or reason missing, too long, or not plain text on one line.
    #[error(
        "a silence needs its creator (at most 100 characters) and a reason (at most 500), \
         plain text on one line ({0})"
    )]
    Text(&'static str),
}

impl Silence {
    /// A silence, checked; its id is given when it is stored.
    pub fn new(
        comparators: Vec<String>,
        items: Vec<String>,
        created_us: u64,
        expires_us: u64,
        creator: &str,
        reason: &str,
    ) -> Result<Self, SilenceError> {
        if comparators.is_empty() {
            return Err(SilenceError::Comparators("none named".into()));
        }
        if let Some(unknown) = comparators
            .iter()
            .find(|c| !COMPARATORS.contains(&c.as_str()))
        {
            return Err(SilenceError::Comparators(format!("{unknown:?} is not one")));
        }
        if !items.is_empty() {
            if let Some(whole) = comparators
                .iter()
                .find(|c| !matches!(c.as_str(), "verdict" | "receipt"))
            {
                return Err(SilenceError::Items(format!(
                    "{whole} judges the whole run, not items: silence it without naming items"
                )));
            }
            if items.len() > MAX_ITEMS || items.iter().any(|i| !tf_wire::is_plain_line(i, 200)) {
                return Err(SilenceError::Items(format!(
                    "name at most {MAX_ITEMS} items, each a golden set label"
                )));
            }
        }
        if expires_us <= created_us {
            return Err(SilenceError::Expiry("it expires before it is made".into()));
        }
        if expires_us - created_us > MAX_SPAN_US {
            return Err(SilenceError::Expiry("longer than a week".into()));
        }
        let (creator, reason) = (creator.trim(), reason.trim());
        if creator.is_empty() || !tf_wire::is_plain_line(creator, 100) {
            return Err(SilenceError::Text("creator"));
        }
        if reason.is_empty() || !tf_wire::is_plain_line(reason, 500) {
            return Err(SilenceError::Text("reason"));
        }
        let mut comparators = comparators;
        comparators.sort();
        comparators.dedup();
        Ok(Silence {
            id: 0,
            comparators,
            items,
            created_us,
            expires_us,
            creator: creator.to_owned(),
            reason: reason.to_owned(),
        })
    }

    /// Whether it applies at `now_us`: made, and not expired.
    pub fn applies(&self, now_us: u64) -> bool {
        self.created_us <= now_us && now_us < self.expires_us
    }

    /// Whether it covers `comparator` for `item` (`None`: the whole run).
    pub fn covers(&self, comparator: &str, item: Option<&str>) -> bool {
        self.comparators.iter().any(|c| c == comparator)
            && (self.items.is_empty() || item.is_some_and(|i| self.items.iter().any(|s| s == i)))
    }

    /// The silence in words, for a judgement's detail.
    pub fn describe(&self) -> String {
        format!("silence #{} by {}: {}", self.id, self.creator, self.reason)
    }
}

/// The first silence applying at `now_us` that covers `comparator` for `item`.
pub fn covering<'s>(
    silences: &'s [Silence],
    comparator: &str,
    item: Option<&str>,
    now_us: u64,
) -> Option<&'s Silence> {
    silences
        .iter()
        .find(|s| s.applies(now_us) && s.covers(comparator, item))
}

/// A whole-run judgement (latency, error rate) with silences applied: a failure or a
/// marginal result a silence covers shows as silenced, saying by which.
pub fn silence_run(judgement: Judgement, silences: &[Silence], now_us: u64) -> Judgement {
    if !matches!(judgement.score, Score::Fail | Score::Marginal) {
        return judgement;
    }
    match covering(silences, judgement.comparator, None, now_us) {
        Some(silence) => Judgement {
            score: Score::Silenced,
            detail: format!("{} (silenced: {})", judgement.detail, silence.describe()),
            ..judgement
        },
        None => judgement,
    }
}

/// Problems with the golden set's items (wrong verdicts, bad receipts), each `(item, what)`,
/// split into those still counted and those a silence covers for `comparator`.
pub fn split_items(
    problems: &[(String, String)],
    comparator: &str,
    silences: &[Silence],
    now_us: u64,
) -> (Vec<String>, Vec<String>) {
    let mut counted = Vec::new();
    let mut silenced = Vec::new();
    for (item, what) in problems {
        match covering(silences, comparator, Some(item), now_us) {
            Some(silence) => silenced.push(format!("{what} (silenced: {})", silence.describe())),
            None => counted.push(what.clone()),
        }
    }
    (counted, silenced)
}

/// A per-item judgement (verdict, receipt) made on the problems still counted, told of those
/// silenced: with nothing else wrong it shows as silenced, never as a pass.
pub fn with_silenced(judgement: Judgement, silenced: &[String]) -> Judgement {
    if silenced.is_empty() {
        return judgement;
    }
    let told = format!("{} silenced: {}", silenced.len(), silenced.join("; "));
    match judgement.score {
        Score::Pass => Judgement {
            score: Score::Silenced,
            detail: told,
            ..judgement
        },
        _ => Judgement {
            detail: format!("{}; {told}", judgement.detail),
            ..judgement
        },
    }
}

#[cfg(test)]
mod tests;
