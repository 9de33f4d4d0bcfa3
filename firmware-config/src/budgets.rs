//! `[budgets]` (costs, charge policies, where to ask for more) and each tenant's
//! `[[tenants.caps]]`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tf_budgets::{CapSpec, ChargePolicies, ChargePolicy, Costs, Window};
use tf_wire::DatasetClass;

use crate::ConfigError;

/// `[budgets]`: what requests cost and when they are charged, for every tenant.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetsConfig {
    /// `[budgets.cost]`: budget units per request, by statement kind and the work it carries.
    pub cost: CostConfig,
    /// `[budgets.charge]`: per class, `"attempt"` (every verified request is charged) or
    /// `"valid"` (only valid verdicts are). Default P0 attempt, P1 and P2 valid.
    pub charge: ChargeConfig,
    /// Told to partners whose request is over budget: how to ask for more.
    pub contact: String,
}

impl Default for BudgetsConfig {
    fn default() -> Self {
        BudgetsConfig {
            cost: CostConfig::default(),
            charge: ChargeConfig::default(),
            contact: "ask the appliance operator to raise the cap (the tenant's [[tenants.caps]] \
                      in the appliance configuration)"
                .into(),
        }
    }
}

/// `[budgets.cost]`: budget units per request: a base by statement kind (each 1 by default, 1 to
/// 1000000), plus one unit per full group of the work the statement carries (see
/// [`tf_budgets::Costs`]): `keys-per-unit` BLS public keys (default 16), `pairings-per-unit`
/// BLS pairings, one per message (default 3), `inputs-per-unit` Groth16 public inputs (default
/// 8); 0 turns a term off, 0 to 1000000.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct CostConfig {
    /// One BLS signature.
    #[serde(rename = "bls-single")]
    pub bls_single: u64,
    /// A BLS aggregate over distinct messages.
    #[serde(rename = "bls-aggregate")]
    pub bls_aggregate: u64,
    /// A BLS aggregate over one message.
    #[serde(rename = "bls-fast-aggregate")]
    pub bls_fast_aggregate: u64,
    /// A Groth16 proof on BN254.
    #[serde(rename = "groth16-bn254")]
    pub groth16_bn254: u64,
    /// A Groth16 proof on BLS12-381.
    #[serde(rename = "groth16-bls12-381")]
    pub groth16_bls12_381: u64,
    /// One more unit per this many BLS public keys; 0: keys add nothing.
    #[serde(rename = "keys-per-unit")]
    pub keys_per_unit: u64,
    /// One more unit per this many BLS pairings (one per message); 0: they add nothing.
    #[serde(rename = "pairings-per-unit")]
    pub pairings_per_unit: u64,
    /// One more unit per this many Groth16 public inputs; 0: they add nothing.
    #[serde(rename = "inputs-per-unit")]
    pub inputs_per_unit: u64,
}

impl Default for CostConfig {
    fn default() -> Self {
        CostConfig {
            bls_single: 1,
            bls_aggregate: 1,
            bls_fast_aggregate: 1,
            groth16_bn254: 1,
            groth16_bls12_381: 1,
            keys_per_unit: Costs::KEYS_PER_UNIT,
            pairings_per_unit: Costs::PAIRINGS_PER_UNIT,
            inputs_per_unit: Costs::INPUTS_PER_UNIT,
        }
    }
}

impl CostConfig {
    /// The costs as the budget logic takes them.
    pub fn costs(&self) -> Costs {
        Costs {
            bls_single: self.bls_single,
            bls_aggregate: self.bls_aggregate,
            bls_fast_aggregate: self.bls_fast_aggregate,
            groth16_bn254: self.groth16_bn254,
            groth16_bls12_381: self.groth16_bls12_381,
            keys_per_unit: self.keys_per_unit,
            pairings_per_unit: self.pairings_per_unit,
            inputs_per_unit: self.inputs_per_unit,
        }
    }
}

/// `[budgets.charge]`: the charge policy of each class.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ChargeConfig {
    /// P0 (default `"attempt"`).
    #[serde(rename = "P0")]
    pub p0: String,
    /// P1 (default `"valid"`).
    #[serde(rename = "P1")]
    pub p1: String,
    /// P2 (default `"valid"`).
    #[serde(rename = "P2")]
    pub p2: String,
}

impl Default for ChargeConfig {
    fn default() -> Self {
        ChargeConfig {
            p0: "attempt".into(),
            p1: "valid".into(),
            p2: "valid".into(),
        }
    }
}

/// One `[[tenants.caps]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CapConfig {
    /// The purpose it limits; omit for a cap across every purpose of the class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// `"P0"`, `"P1"` or `"P2"`.
    pub class: String,
    /// Budget units per window, 1 to 10^12.
    pub limit: u64,
    /// `"hour"`, `"day"`, `"week"` (ISO, from Monday), `"month"` (all UTC) or `"rolling Ns"`.
    pub window: String,
}

impl CapConfig {
    /// The demo tenant's cap, small and rolling so `partner demo` can show a budget running out
    /// and recovering a minute later.
    pub fn demo() -> Self {
        CapConfig {
            purpose: Some("budget-demo".into()),
            class: "P0".into(),
            limit: 5,
            window: "rolling 60s".into(),
        }
    }

    /// The cap as the budget logic takes it (valid after validation).
    pub fn spec(&self) -> Option<CapSpec> {
        Some(CapSpec {
            purpose: self.purpose.clone(),
            class: DatasetClass::from_name(&self.class)?,
            limit: self.limit,
            window: self.window.parse().ok()?,
        })
    }
}

fn parse_policy(text: &str) -> Option<ChargePolicy> {
    match text {
        "attempt" => Some(ChargePolicy::OnAttempt),
        "valid" => Some(ChargePolicy::OnValid),
        _ => None,
    }
}

/// Whether a purpose is usable in a cap: 1 to 64 characters of a-z, 0-9, `-`, `_` and `.`.
pub fn is_valid_purpose(purpose: &str) -> bool {
    (1..=64).contains(&purpose.len())
        && purpose.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

impl BudgetsConfig {
    /// The charge policies (valid after validation).
    pub fn policies(&self) -> ChargePolicies {
        let defaults = ChargePolicies::default();
        ChargePolicies {
            p0: parse_policy(&self.charge.p0).unwrap_or(defaults.p0),
            p1: parse_policy(&self.charge.p1).unwrap_or(defaults.p1),
            p2: parse_policy(&self.charge.p2).unwrap_or(defaults.p2),
        }
    }

    /// Checks costs (bases and per-work terms), charge policies and the contact; `path` names
    /// the file in messages.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, value: String, allowed: &'static str| {
            Err(ConfigError::Invalid {
                path: path.to_owned(),
                key,
                value,
                allowed,
            })
        };
        let c = &self.cost;
        for (key, value) in [
            ("budgets.cost.bls-single", c.bls_single),
            ("budgets.cost.bls-aggregate", c.bls_aggregate),
            ("budgets.cost.bls-fast-aggregate", c.bls_fast_aggregate),
            ("budgets.cost.groth16-bn254", c.groth16_bn254),
            ("budgets.cost.groth16-bls12-381", c.groth16_bls12_381),
        ] {
            if !(1..=1_000_000).contains(&value) {
                return invalid(key, value.to_string(), "1 to 1000000");
            }
        }
        for (key, value) in [
            ("budgets.cost.keys-per-unit", c.keys_per_unit),
            ("budgets.cost.pairings-per-unit", c.pairings_per_unit),
            ("budgets.cost.inputs-per-unit", c.inputs_per_unit),
        ] {
            if value > 1_000_000 {
                return invalid(key, value.to_string(), "0 (off) to 1000000");
            }
        }
        for (key, value) in [
            ("budgets.charge.P0", &self.charge.p0),
            ("budgets.charge.P1", &self.charge.p1),
            ("budgets.charge.P2", &self.charge.p2),
        ] {
            if parse_policy(value).is_none() {
                return invalid(key, format!("{value:?}"), "\"attempt\" or \"valid\"");
            }
        }
        if self.contact.trim().is_empty() || self.contact.len() > 512 {
            return invalid(
                "budgets.contact",
                format!("{:?}", self.contact),
                "1 to 512 characters",
            );
        }
        Ok(())
    }
}

/// Checks one tenant's caps.
pub(crate) fn validate_caps(caps: &[CapConfig], path: &Path) -> Result<(), ConfigError> {
    let invalid = |key: &'static str, value: String, allowed: &'static str| {
        Err(ConfigError::Invalid {
            path: path.to_owned(),
            key,
            value,
            allowed,
        })
    };
    if caps.len() > 64 {
        return invalid(
            "tenants.caps",
            caps.len().to_string(),
            "at most 64 caps per tenant",
        );
    }
    for cap in caps {
        if let Some(purpose) = &cap.purpose
            && !is_valid_purpose(purpose)
        {
            return invalid(
                "tenants.caps.purpose",
                format!("{purpose:?}"),
                "1 to 64 characters of a-z, 0-9, -, _ and . (omit it for a cap across purposes)",
            );
        }
        if DatasetClass::from_name(&cap.class).is_none() {
            return invalid(
                "tenants.caps.class",
                format!("{:?}", cap.class),
                "\"P0\", \"P1\" or \"P2\"",
            );
        }
        if !(1..=1_000_000_000_000).contains(&cap.limit) {
            return invalid(
                "tenants.caps.limit",
                cap.limit.to_string(),
                "1 to 1000000000000",
            );
        }
        if cap.window.parse::<Window>().is_err() {
            return invalid(
                "tenants.caps.window",
                format!("{:?}", cap.window),
                "\"hour\", \"day\", \"week\", \"month\" or \"rolling Ns\" (N from 1 to 31622400)",
            );
        }
    }
    Ok(())
}

/// How far back the longest budget window of `tenants` reaches, microseconds (a month reaches
/// back 31 days): charges that old are read back from the ledger after a restart, so receipts
/// must be kept at least that long.
pub fn longest_window_us(tenants: &[crate::TenantConfig]) -> u64 {
    const HOUR_US: u64 = 3_600_000_000;
    tenants
        .iter()
        .flat_map(|tenant| &tenant.caps)
        .filter_map(|cap| cap.window.parse::<Window>().ok())
        .map(|window| match window {
            Window::Hour => HOUR_US,
            Window::Day => 24 * HOUR_US,
            Window::Week => 7 * 24 * HOUR_US,
            Window::Month => 31 * 24 * HOUR_US,
            Window::Rolling { secs } => secs.saturating_mul(1_000_000),
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::{Config, ConfigError};

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("appliance.toml"))
    }

    #[test]
    fn a_file_with_only_the_kind_costs_keeps_them_and_gets_the_default_work_terms() {
        let config = parse("[budgets.cost]\nbls-single = 2\ngroth16-bn254 = 3\n").expect("valid");
        let costs = config.budgets.cost.costs();
        assert_eq!((costs.bls_single, costs.groth16_bn254), (2, 3));
        assert_eq!(
            (
                costs.keys_per_unit,
                costs.pairings_per_unit,
                costs.inputs_per_unit
            ),
            (16, 3, 8)
        );
    }

    #[test]
    fn the_work_terms_are_read_and_zero_turns_one_off() {
        let config = parse(
            "[budgets.cost]\nkeys-per-unit = 32\npairings-per-unit = 0\ninputs-per-unit = 4\n",
        )
        .expect("valid");
        let costs = config.budgets.cost.costs();
        assert_eq!(
            (
                costs.keys_per_unit,
                costs.pairings_per_unit,
                costs.inputs_per_unit
            ),
            (32, 0, 4)
        );
    }

    #[test]
    fn an_out_of_range_work_term_is_refused_by_its_key() {
        for key in ["keys-per-unit", "pairings-per-unit", "inputs-per-unit"] {
            let error =
                parse(&format!("[budgets.cost]\n{key} = 1000001\n")).expect_err("out of range");
            let ConfigError::Invalid {
                key: named,
                value,
                allowed,
                ..
            } = &error
            else {
                panic!("{key}: {error}");
            };
            assert_eq!(*named, format!("budgets.cost.{key}"));
            assert_eq!(
                (value.as_str(), *allowed),
                ("1000001", "0 (off) to 1000000")
            );
        }
        assert!(
            parse("[budgets.cost]\nkeys_per_unit = 16\n").is_err(),
            "one spelling"
        );
    }
}
