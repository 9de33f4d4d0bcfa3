//! A scenario pack: a name, a change (a candidate bundle, or edits to the bundle in force), a
//! traffic source (the recorded window, or a synthetic shape) and expectations. Packs are TOML
//! files; every field is checked when the file is read, with the field named in the error.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

/// The largest pack file read.
pub const MAX_PACK_BYTES: usize = 256 * 1024;
/// Most edits a pack may make.
const MAX_EDITS: usize = 256;

/// A scenario pack.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// Its name: 1 to 64 characters of a-z, 0-9 and `-`, unique among packs.
    pub name: String,
    /// What it asks, for people.
    #[serde(default)]
    pub description: String,
    /// What changes from the bundle in force.
    #[serde(default)]
    pub change: Change,
    /// The traffic replayed.
    pub traffic: Traffic,
    /// What must hold for the pack to pass.
    #[serde(default)]
    pub expect: Expect,
}

/// What a pack changes: a candidate bundle file, or edits to the bundle in force.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// A built bundle (gzipped tar), relative to the pack's folder; the edits below are then
    /// not allowed.
    #[serde(default)]
    pub bundle: Option<String>,
    /// Tenant edits.
    #[serde(default)]
    pub tenants: Vec<TenantEdit>,
    /// Cap edits.
    #[serde(default)]
    pub caps: Vec<CapEdit>,
    /// Cedar policies added to the bundle's.
    #[serde(default)]
    pub add_policies: Option<String>,
}

/// One tenant's edit: dropped, or its weight, rate or burst set.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TenantEdit {
    /// The tenant.
    pub id: String,
    /// Drop it from the bundle.
    #[serde(default)]
    pub drop: bool,
    /// Its new weight.
    #[serde(default)]
    pub weight: Option<u64>,
    /// Its new admission rate.
    #[serde(default)]
    pub rate_per_sec: Option<u64>,
    /// Its new burst.
    #[serde(default)]
    pub burst: Option<u64>,
}

/// One cap's edit: a tenant's caps of a class (and purpose, if named), their limit set or
/// scaled; or a cap added when none matches and `window` is given.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CapEdit {
    /// The tenant.
    pub tenant: String,
    /// `P0`, `P1` or `P2`.
    pub class: String,
    /// The purpose, for a cap on one purpose.
    #[serde(default)]
    pub purpose: Option<String>,
    /// The new limit.
    #[serde(default)]
    pub limit: Option<u64>,
    /// Or the limit scaled (0.5 halves it).
    #[serde(default)]
    pub scale: Option<f64>,
    /// The window of a cap added (`day`, `rolling 3600s`, ...).
    #[serde(default)]
    pub window: Option<String>,
}

/// Where the replayed traffic comes from.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "source", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Traffic {
    /// The decision log's window (`1d`, `7d`).
    Recorded {
        /// How far back.
        #[serde(default = "one_day")]
        window: String,
    },
    /// A synthetic shape: every request admitted and valid in the record, spread over tenants
    /// evenly, kinds by `mix`.
    Synthetic {
        /// Requests per second on average.
        rate_per_sec: u64,
        /// How long (`1h`).
        duration: String,
        /// The tenants sending.
        tenants: Vec<String>,
        /// Kinds and their weights (`bls-single = 70`); default all `bls-single`.
        #[serde(default)]
        mix: BTreeMap<String, u32>,
        /// Purposes, used in turn; default `default`.
        #[serde(default)]
        purposes: Vec<String>,
        /// The dataset class; default `P1`.
        #[serde(default = "p1")]
        class: String,
        /// The rate swings this many percent up and down, once a minute.
        #[serde(default)]
        burst_percent: u32,
    },
}

/// What must hold.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The drift's upper bound at most this percent of decisions.
    #[serde(default)]
    pub max_drift_percent: Option<f64>,
    /// These tenants are never refused over budget under the change, whatever the bundle in
    /// force would do (for synthetic traffic: would a surge exhaust a budget?).
    #[serde(default)]
    pub never_over_budget: Vec<String>,
    /// These tenants are never denied under the change.
    #[serde(default)]
    pub never_denied: Vec<String>,
    /// The change refuses none of these tenants' requests over budget that the bundle in
    /// force admitted.
    #[serde(default)]
    pub no_new_over_budget: Vec<String>,
    /// The change denies none of these tenants' requests that the bundle in force admitted.
    #[serde(default)]
    pub no_new_denials: Vec<String>,
    /// No tenant is refused over budget under the change this early into the traffic's
    /// period (a span such as `20h`): budgets last at least that long.
    #[serde(default)]
    pub no_over_budget_before: Option<String>,
}

fn one_day() -> String {
    "1d".into()
}

fn p1() -> String {
    "P1".into()
}

/// A pack that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("scenario pack {file}: {message}")]
pub struct PackError {
    /// The file.
    pub file: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl Pack {
    /// Parses and checks a pack read from `file`.
    pub fn parse(text: &str, file: &str) -> Result<Pack, PackError> {
        let error = |message: String| PackError {
            file: file.to_owned(),
            message,
        };
        if text.len() > MAX_PACK_BYTES {
            return Err(error(format!(
                "{} bytes; a pack is at most {MAX_PACK_BYTES}",
                text.len()
            )));
        }
        let pack: Pack = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        pack.check().map_err(error)?;
        Ok(pack)
    }

    /// Every tenant the pack names: those its change edits or its added policies name, its
    /// synthetic traffic sends as, and its expectations name (a candidate bundle's own
    /// tenants are not the pack's).
    pub fn tenants(&self) -> BTreeSet<String> {
        let change = &self.change;
        let edits =
            (change.tenants.iter().map(|e| &e.id)).chain(change.caps.iter().map(|c| &c.tenant));
        let traffic: &[String] = match &self.traffic {
            Traffic::Synthetic { tenants, .. } => &tenants[..],
            Traffic::Recorded { .. } => &[],
        };
        let expect = &self.expect;
        let expected = (expect.never_over_budget.iter())
            .chain(&expect.never_denied)
            .chain(&expect.no_new_over_budget)
            .chain(&expect.no_new_denials);
        // Policies that do not parse name nobody here; applying the change says why.
        let policies = (change.add_policies.as_deref())
            .and_then(|text| tf_bundles::tenants_named(text).ok())
            .unwrap_or_default();
        edits
            .chain(traffic)
            .chain(expected)
            .cloned()
            .chain(policies)
            .collect()
    }

    fn check(&self) -> Result<(), String> {
        let named = |what: &str, text: &str| {
            let ok = (1..=64).contains(&text.len())
                && text.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "{what} {text:?}: 1 to 64 characters of a-z, 0-9, - and _"
                ))
            }
        };
        named("name", &self.name)?;
        let change = &self.change;
        if change.bundle.is_some()
            && (!change.tenants.is_empty()
                || !change.caps.is_empty()
                || change.add_policies.is_some())
        {
            return Err(
                "change.bundle replaces the bundle: it cannot be combined with edits".into(),
            );
        }
        if change.tenants.len() + change.caps.len() > MAX_EDITS {
            return Err(format!("more than {MAX_EDITS} edits"));
        }
        for edit in &change.tenants {
            named("change.tenants.id", &edit.id)?;
            if edit.drop
                && (edit.weight.is_some() || edit.rate_per_sec.is_some() || edit.burst.is_some())
            {
                return Err(format!(
                    "tenant {:?} is dropped and edited at once",
                    edit.id
                ));
            }
        }
        for cap in &change.caps {
            named("change.caps.tenant", &cap.tenant)?;
            if !matches!(cap.class.as_str(), "P0" | "P1" | "P2") {
                return Err(format!("change.caps.class {:?}: P0, P1 or P2", cap.class));
            }
            match (cap.limit, cap.scale) {
                (Some(_), None) => {}
                (None, Some(scale)) if (0.0..=1e6).contains(&scale) => {}
                _ => {
                    return Err(format!(
                        "change.caps for {:?}: give either limit or scale (0 to 1000000)",
                        cap.tenant
                    ));
                }
            }
        }
        let expect = &self.expect;
        for tenant in expect
            .never_over_budget
            .iter()
            .chain(&expect.never_denied)
            .chain(&expect.no_new_over_budget)
            .chain(&expect.no_new_denials)
        {
            named("expect: tenant", tenant)?;
        }
        if let Some(span) = &expect.no_over_budget_before {
            tf_config::parse_span_us(span).ok_or_else(|| {
                format!("expect.no_over_budget_before {span:?}: a span such as 20h")
            })?;
        }
        if let Some(percent) = self.expect.max_drift_percent
            && !(percent > 0.0 && percent <= 100.0)
        {
            return Err(format!(
                "expect.max_drift_percent {percent}: above 0, at most 100"
            ));
        }
        match &self.traffic {
            Traffic::Recorded { window } => {
                tf_config::parse_span_us(window)
                    .ok_or_else(|| format!("traffic.window {window:?}: a span such as 1d"))?;
            }
            Traffic::Synthetic {
                rate_per_sec,
                duration,
                tenants,
                mix,
                class,
                burst_percent,
                ..
            } => {
                let us = tf_config::parse_span_us(duration)
                    .ok_or_else(|| format!("traffic.duration {duration:?}: a span such as 1h"))?;
                if !(1..=100_000).contains(rate_per_sec) {
                    return Err("traffic.rate_per_sec: 1 to 100000".into());
                }
                // At most ten million requests: a night's pack, not a stress test.
                if rate_per_sec.saturating_mul(us / 1_000_000) > 10_000_000 {
                    return Err("traffic: rate_per_sec x duration above 10 million requests".into());
                }
                if tenants.is_empty() {
                    return Err("traffic.tenants: name at least one tenant".into());
                }
                for tenant in tenants {
                    named("traffic.tenants", tenant)?;
                }
                for kind in mix.keys() {
                    if !KINDS.contains(&kind.as_str()) {
                        return Err(format!("traffic.mix {kind:?}: one of {}", KINDS.join(", ")));
                    }
                }
                if !matches!(class.as_str(), "P0" | "P1" | "P2") {
                    return Err(format!("traffic.class {class:?}: P0, P1 or P2"));
                }
                if *burst_percent > 100 {
                    return Err("traffic.burst_percent: 0 to 100".into());
                }
            }
        }
        Ok(())
    }
}

/// Statement kinds, as receipts and policies name them.
pub const KINDS: [&str; 5] = [
    "bls-single",
    "bls-aggregate",
    "bls-fast-aggregate",
    "groth16-bn254",
    "groth16-bls12-381",
];
