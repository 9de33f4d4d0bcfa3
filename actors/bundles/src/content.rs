//! What a bundle says: tenants, budgets, Cedar policies and verifying keys, parsed and checked
//! with the same rules as the configuration file.

use std::path::Path;

use serde::Deserialize;
use tf_config::{BudgetsConfig, CapConfig, ConfigError, TenantConfig};
use tf_engine::Limits;
use tf_engine::groth16::snarkjs::{AnyVerifyingKey, parse_verifying_key};
use tf_engine::groth16::{AnyKey, PreparedKey};

use crate::archive::BundleFiles;
use crate::manifest::MANIFEST_FILE;
use crate::partners::{PARTNERS_DIR, PartnerTerms, is_terms_file};
use crate::problem::Problem;

/// Tenants: weights and admission quotas (`[[tenants]]`, as in the configuration file).
pub const TENANTS_FILE: &str = "tenants.toml";
/// Budgets: `[budgets]` costs and charge policies, and `[[caps]]` per tenant.
pub const BUDGETS_FILE: &str = "budgets.toml";
/// Admission rules in Cedar.
pub const POLICIES_FILE: &str = "policies.cedar";
/// The verifying-key registry: `keys/<name>.json`, snarkjs verification keys.
pub const KEYS_DIR: &str = "keys/";
/// A note for readers; not interpreted.
const README_FILE: &str = "README.md";

/// A bundle's contents, parsed and valid.
#[derive(Clone, Debug)]
pub struct Content {
    /// Every tenant, with its caps from `budgets.toml`.
    pub tenants: Vec<TenantConfig>,
    /// Costs, charge policies and the contact for more budget.
    pub budgets: BudgetsConfig,
    /// The Cedar policies' text.
    pub policies: String,
    /// The verifying-key registry, prepared.
    pub keys: Vec<RegistryKey>,
    /// Partners' terms (`partners/<tenant>.toml`); their tenants are in `tenants` too.
    pub partners: Vec<PartnerTerms>,
}

/// A verifying key from the registry.
#[derive(Clone, Debug)]
pub struct RegistryKey {
    /// Its name: the file name without `.json`.
    pub name: String,
    /// The key, prepared for verification.
    pub key: AnyKey,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantsFile {
    #[serde(default)]
    tenants: Vec<TenantConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetsFile {
    #[serde(default)]
    budgets: BudgetsConfig,
    #[serde(default)]
    caps: Vec<TenantCap>,
}

/// One `[[caps]]` entry: a tenant's cap.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantCap {
    tenant: String,
    #[serde(default)]
    purpose: Option<String>,
    class: String,
    limit: u64,
    window: String,
}

impl Content {
    /// The Cedar policies admission runs: the bundle's, then each partner's permit.
    pub fn admission_policies(&self) -> String {
        let mut text = self.policies.clone();
        for partner in &self.partners {
            text.push('\n');
            text.push_str(&partner.permit());
        }
        text
    }

    /// Parses every content file, collecting every problem found.
    pub fn parse(files: &BundleFiles, limits: &Limits) -> Result<Content, Vec<Problem>> {
        let mut problems = Vec::new();
        for (name, _) in files.iter() {
            let known = [
                MANIFEST_FILE,
                TENANTS_FILE,
                BUDGETS_FILE,
                POLICIES_FILE,
                README_FILE,
            ]
            .contains(&name)
                || is_key_file(name)
                || is_terms_file(name);
            if !known {
                problems.push(invalid(
                    name,
                    format!(
                        "not a bundle file; a bundle holds {TENANTS_FILE}, {BUDGETS_FILE}, \
                         {POLICIES_FILE}, {KEYS_DIR}<name>.json, {PARTNERS_DIR}<tenant>.toml \
                         and {README_FILE}"
                    ),
                ));
            }
        }
        let tenants = parse_tenants(files).map_err(|p| problems.push(p)).ok();
        let budgets = parse_budgets(files).map_err(|p| problems.push(p)).ok();
        let policies = text(files, POLICIES_FILE)
            .map_err(|p| problems.push(p))
            .ok();
        let mut partners = Vec::new();
        for (name, bytes) in files.iter().filter(|(name, _)| is_terms_file(name)) {
            match PartnerTerms::parse(name, bytes) {
                Ok(terms) => partners.push(terms),
                Err(problem) => problems.push(problem),
            }
        }
        let mut keys = Vec::new();
        for (name, bytes) in files.iter().filter(|(name, _)| is_key_file(name)) {
            match parse_key(name, bytes, limits) {
                Ok(key) => keys.push(key),
                Err(problem) => problems.push(problem),
            }
        }
        let (Some(mut tenants), Some((budgets, caps)), Some(policies)) =
            (tenants, budgets, policies)
        else {
            return Err(problems);
        };
        for cap in caps {
            match tenants.iter_mut().find(|t| t.id == cap.tenant) {
                Some(tenant) => tenant.caps.push(CapConfig {
                    purpose: cap.purpose,
                    class: cap.class,
                    limit: cap.limit,
                    window: cap.window,
                }),
                None => problems.push(invalid(
                    BUDGETS_FILE,
                    format!(
                        "caps.tenant = {:?} is not a tenant in {TENANTS_FILE}",
                        cap.tenant
                    ),
                )),
            }
        }
        // Partners' tenants after caps.tenant was matched: a cap in budgets.toml cannot reach
        // a partner's tenant (its caps are in its own file).
        tenants.extend(partners.iter().map(PartnerTerms::tenant_config));
        if let Err(e) = tf_config::validate_tenants(&tenants, Path::new(BUDGETS_FILE)) {
            // Caps were merged into the tenants: name the file and key each came from.
            let message = config_message(&e).replace("tenants.caps.", "caps.");
            let file = if message.starts_with("caps.") {
                BUDGETS_FILE
            } else {
                TENANTS_FILE
            };
            problems.push(invalid(file, message));
        }
        if problems.is_empty() {
            Ok(Content {
                tenants,
                budgets,
                policies,
                keys,
                partners,
            })
        } else {
            Err(problems)
        }
    }
}

fn is_key_file(name: &str) -> bool {
    name.strip_prefix(KEYS_DIR)
        .is_some_and(|rest| rest.ends_with(".json") && !rest.contains('/'))
}

fn invalid(file: &str, message: String) -> Problem {
    Problem::InvalidContent {
        file: file.to_owned(),
        message,
    }
}

/// A configuration error without its file name (the caller names the file).
fn config_message(error: &ConfigError) -> String {
    match error {
        ConfigError::Invalid {
            key,
            value,
            allowed,
            ..
        } => format!("{key} = {value} is not allowed: {allowed}"),
        ConfigError::Parse { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn text(files: &BundleFiles, name: &str) -> Result<String, Problem> {
    let bytes = files.get(name).ok_or_else(|| {
        invalid(
            name,
            "missing: every bundle has tenants.toml, budgets.toml and policies.cedar".into(),
        )
    })?;
    String::from_utf8(bytes.to_vec()).map_err(|_| invalid(name, "not UTF-8 text".into()))
}

fn parse_tenants(files: &BundleFiles) -> Result<Vec<TenantConfig>, Problem> {
    let text = text(files, TENANTS_FILE)?;
    let parsed: TenantsFile =
        toml::from_str(&text).map_err(|e| invalid(TENANTS_FILE, e.to_string()))?;
    if parsed.tenants.is_empty() {
        return Err(invalid(
            TENANTS_FILE,
            "no [[tenants]]: a bundle serves at least one tenant".into(),
        ));
    }
    for tenant in &parsed.tenants {
        if !tenant.caps.is_empty() {
            return Err(invalid(
                TENANTS_FILE,
                format!(
                    "tenant {:?} has caps here; in a bundle, caps are [[caps]] in {BUDGETS_FILE}",
                    tenant.id
                ),
            ));
        }
        if !tenant.keys.is_empty() {
            return Err(invalid(
                TENANTS_FILE,
                format!(
                    "tenant {:?} lists keys; in a bundle, verifying keys are files in {KEYS_DIR} \
                     and {POLICIES_FILE} says who may use them",
                    tenant.id
                ),
            ));
        }
    }
    Ok(parsed.tenants)
}

fn parse_budgets(files: &BundleFiles) -> Result<(BudgetsConfig, Vec<TenantCap>), Problem> {
    let text = text(files, BUDGETS_FILE)?;
    let parsed: BudgetsFile =
        toml::from_str(&text).map_err(|e| invalid(BUDGETS_FILE, e.to_string()))?;
    parsed
        .budgets
        .validate(Path::new(BUDGETS_FILE))
        .map_err(|e| invalid(BUDGETS_FILE, config_message(&e)))?;
    Ok((parsed.budgets, parsed.caps))
}

fn parse_key(name: &str, bytes: &[u8], limits: &Limits) -> Result<RegistryKey, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|_| invalid(name, "not UTF-8 JSON".into()))?;
    let stem = name
        .strip_prefix(KEYS_DIR)
        .and_then(|n| n.strip_suffix(".json"))
        .unwrap_or(name)
        .to_owned();
    let parsed = parse_verifying_key(text, limits).map_err(|e| invalid(name, e.to_string()))?;
    let key = match parsed {
        AnyVerifyingKey::Bn254(vk) => {
            PreparedKey::new(limits, *vk).map(|k| AnyKey::Bn254(k.into()))
        }
        AnyVerifyingKey::Bls12_381(vk) => {
            PreparedKey::new(limits, *vk).map(|k| AnyKey::Bls12_381(k.into()))
        }
        _ => {
            return Err(invalid(
                name,
                "a curve this appliance does not verify".into(),
            ));
        }
    }
    .map_err(|e| invalid(name, e.to_string()))?;
    Ok(RegistryKey { name: stem, key })
}
