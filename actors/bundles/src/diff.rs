//! What changes between two bundles, in the terms an operator reviews: tenants, budgets,
//! policies and keys.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use tf_config::{CapConfig, TenantConfig};

use crate::open::Bundle;

/// How a thing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only in the newer bundle.
    Added,
    /// Only in the older bundle.
    Removed,
    /// In both, different.
    Changed,
}

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// `tenants`, `budgets`, `policies` or `keys`.
    pub section: &'static str,
    /// How it changed.
    pub change: Change,
    /// What changed (a tenant id, a cap, a policy id, a key name).
    pub subject: String,
    /// Before, where there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// After, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

impl fmt::Display for DiffLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = match self.change {
            Change::Added => '+',
            Change::Removed => '-',
            Change::Changed => '~',
        };
        write!(f, "{mark} {}: {}", self.section, self.subject)?;
        match (&self.before, &self.after) {
            (Some(before), Some(after)) => write!(f, ": {before} -> {after}"),
            (Some(only), None) | (None, Some(only)) => write!(f, ": {only}"),
            (None, None) => Ok(()),
        }
    }
}

/// Every difference from `old` to `new`, section by section.
pub fn diff(old: &Bundle, new: &Bundle) -> Vec<DiffLine> {
    let mut out = Vec::new();
    let tenants = |b: &Bundle| -> BTreeMap<String, String> {
        b.content
            .tenants
            .iter()
            .map(|t| (t.id.clone(), describe_tenant(t)))
            .collect()
    };
    compare(&mut out, "tenants", &tenants(old), &tenants(new));
    let budgets = |b: &Bundle| -> BTreeMap<String, String> {
        let budgets = &b.content.budgets;
        let mut map = BTreeMap::new();
        let c = &budgets.cost;
        for (kind, cost) in [
            ("bls-single", c.bls_single),
            ("bls-aggregate", c.bls_aggregate),
            ("bls-fast-aggregate", c.bls_fast_aggregate),
            ("groth16-bn254", c.groth16_bn254),
            ("groth16-bls12-381", c.groth16_bls12_381),
        ] {
            map.insert(format!("cost of {kind}"), cost.to_string());
        }
        for (work, per_unit) in [
            ("public keys", c.keys_per_unit),
            ("pairings", c.pairings_per_unit),
            ("public inputs", c.inputs_per_unit),
        ] {
            let added = match per_unit {
                0 => "nothing".to_string(),
                n => format!("1 unit per {n}"),
            };
            map.insert(format!("cost of {work}"), added);
        }
        for (class, policy) in [
            ("P0", &budgets.charge.p0),
            ("P1", &budgets.charge.p1),
            ("P2", &budgets.charge.p2),
        ] {
            map.insert(format!("{class} charged on"), policy.clone());
        }
        map.insert("contact".into(), budgets.contact.clone());
        for tenant in &b.content.tenants {
            for cap in &tenant.caps {
                map.insert(describe_cap(&tenant.id, cap), cap.limit.to_string());
            }
        }
        map
    };
    compare(&mut out, "budgets", &budgets(old), &budgets(new));
    let policies = |b: &Bundle| -> BTreeMap<String, String> {
        b.policies
            .texts()
            .into_iter()
            .map(|(id, text)| (id, one_line(&text)))
            .collect()
    };
    compare(&mut out, "policies", &policies(old), &policies(new));
    let keys = |b: &Bundle| -> BTreeMap<String, String> {
        b.content
            .keys
            .iter()
            .map(|k| {
                (
                    k.name.clone(),
                    format!("{} key {}", k.key.curve(), k.key.id()),
                )
            })
            .collect()
    };
    compare(&mut out, "keys", &keys(old), &keys(new));
    out
}

fn compare(
    out: &mut Vec<DiffLine>,
    section: &'static str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) {
    for (subject, before) in old {
        match new.get(subject) {
            None => out.push(DiffLine {
                section,
                change: Change::Removed,
                subject: subject.clone(),
                before: Some(before.clone()),
                after: None,
            }),
            Some(after) if after != before => out.push(DiffLine {
                section,
                change: Change::Changed,
                subject: subject.clone(),
                before: Some(before.clone()),
                after: Some(after.clone()),
            }),
            Some(_) => {}
        }
    }
    for (subject, after) in new {
        if !old.contains_key(subject) {
            out.push(DiffLine {
                section,
                change: Change::Added,
                subject: subject.clone(),
                before: None,
                after: Some(after.clone()),
            });
        }
    }
}

fn describe_tenant(tenant: &TenantConfig) -> String {
    format!(
        "weight {}, {} requests/s, burst {}, registers up to {} keys",
        tenant.weight, tenant.rate_per_sec, tenant.burst, tenant.max_registered_keys
    )
}

fn describe_cap(tenant: &str, cap: &CapConfig) -> String {
    let purpose = cap.purpose.as_deref().unwrap_or("every purpose");
    format!(
        "cap of {tenant} for {purpose}, {} per {}",
        cap.class, cap.window
    )
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
