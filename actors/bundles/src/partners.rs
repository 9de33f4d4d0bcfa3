//! Partners' terms: one file per tenant that a partner brought in with an invite,
//! `partners/<tenant>.toml`, managed by the appliance (onboarding writes it, a terms request
//! granted rewrites it). The tenant's entry, its caps and a Cedar permit for its purposes and
//! classes all come from that one file, so a change to a partner's terms touches that file
//! alone, and whoever holds the earlier revision and what authorised the change can rebuild
//! the revision and check that nothing else changed (the appliance does, each time it opens one
//! it signed).

use serde::{Deserialize, Serialize};
use tf_budgets::SANDBOX_PURPOSE;
use tf_config::{CapConfig, TenantConfig};

use crate::archive::BundleFiles;
use crate::problem::Problem;

/// Where partners' terms files live in a bundle.
pub const PARTNERS_DIR: &str = "partners/";

/// What a partner's tenant may do, as its terms file says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerTerms {
    /// The tenant id (the file's name).
    pub tenant: String,
    /// The invite it was onboarded under.
    pub invite: u64,
    /// Purposes its requests may carry.
    pub purposes: Vec<String>,
    /// Dataset classes its requests may carry.
    pub classes: Vec<String>,
    /// Admission rate, requests per second.
    pub rate_per_sec: u32,
    /// Admission burst.
    pub burst: u32,
    /// Verifying keys it may register.
    pub max_registered_keys: u32,
    /// Budget caps.
    #[serde(default)]
    pub caps: Vec<PartnerCap>,
    /// Units of work a day its sandbox submissions (purpose `sandbox`, evidence previews) may
    /// take in each of its classes, apart from its caps; 0: no sandbox.
    #[serde(default = "sandbox_default")]
    pub sandbox_per_day: u64,
}

/// A partner's daily sandbox allowance, units of work per class, unless its terms say.
pub const SANDBOX_PER_DAY: u64 = 100;

fn sandbox_default() -> u64 {
    SANDBOX_PER_DAY
}

/// One budget cap in a partner's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerCap {
    /// `P0`, `P1` or `P2`.
    pub class: String,
    /// A budget window as bundles write it: `day`, `month`, `rolling 3600s`, ...
    pub window: String,
    /// Units of work per window.
    pub limit: u64,
}

/// The path of `tenant`'s terms file.
pub fn terms_file(tenant: &str) -> String {
    format!("{PARTNERS_DIR}{tenant}.toml")
}

/// Whether `name` is a partner's terms file.
pub(crate) fn is_terms_file(name: &str) -> bool {
    name.strip_prefix(PARTNERS_DIR)
        .is_some_and(|rest| rest.ends_with(".toml") && !rest.contains('/'))
}

impl PartnerTerms {
    /// The file's bytes: a note saying who manages it, then the terms.
    pub fn to_file(&self) -> Vec<u8> {
        let terms = toml::to_string(self).expect("partner terms serialise");
        format!(
            "# Managed by the appliance: tenant {} onboarded under invite {}. Changed by \
             partners' terms requests; keep this file in bundles you build.\n{terms}",
            self.tenant, self.invite
        )
        .into_bytes()
    }

    /// Reads and checks the terms file `name`.
    pub(crate) fn parse(name: &str, bytes: &[u8]) -> Result<Self, Problem> {
        let invalid = |message: String| Problem::InvalidContent {
            file: name.to_owned(),
            message,
        };
        let text = std::str::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text".into()))?;
        let terms: PartnerTerms = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if terms_file(&terms.tenant) != name {
            return Err(invalid(format!(
                "tenant = {:?}, but the file is named for another; a partner's terms file is \
                 {PARTNERS_DIR}<tenant>.toml",
                terms.tenant
            )));
        }
        terms.check().map_err(invalid)?;
        Ok(terms)
    }

    /// Names a Cedar permit, a TOML file and a file name can carry safely: a-z, 0-9, `-`, `_`
    /// (and `.` in purposes); classes P0 to P2; caps within the classes.
    pub fn check(&self) -> Result<(), String> {
        let plain = |name: &str, dots: bool| {
            !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || b == b'-'
                        || b == b'_'
                        || (dots && b == b'.')
                })
        };
        if !plain(&self.tenant, false) {
            return Err("tenant is 1 to 64 of a-z, 0-9, - and _".into());
        }
        if self.purposes.is_empty() || !self.purposes.iter().all(|p| plain(p, true)) {
            return Err("purposes: at least one, each 1 to 64 of a-z, 0-9, -, _ and .".into());
        }
        let class = |c: &str| ["P0", "P1", "P2"].contains(&c);
        if self.classes.is_empty() || !self.classes.iter().all(|c| class(c)) {
            return Err("classes: at least one of P0, P1, P2".into());
        }
        if !self.caps.iter().all(|c| self.classes.contains(&c.class)) {
            return Err("caps: each in one of the terms' classes".into());
        }
        Ok(())
    }

    /// The tenant as the rest of the bundle's tenants are (rates and caps validated with them).
    pub(crate) fn tenant_config(&self) -> TenantConfig {
        TenantConfig {
            id: self.tenant.clone(),
            weight: 1,
            rate_per_sec: self.rate_per_sec as usize,
            burst: self.burst as usize,
            keys: Vec::new(),
            caps: self
                .caps
                .iter()
                .map(|cap| CapConfig {
                    purpose: None,
                    class: cap.class.clone(),
                    limit: cap.limit,
                    window: cap.window.clone(),
                })
                .chain(self.sandbox_caps())
                .collect(),
            max_registered_keys: self.max_registered_keys as usize,
        }
    }

    /// Its sandbox allowance, a cap of purpose `sandbox` in each of its classes: sandbox
    /// requests are charged there, never to its caps (see `tf_budgets::SANDBOX_PURPOSE`).
    fn sandbox_caps(&self) -> impl Iterator<Item = CapConfig> + '_ {
        self.classes
            .iter()
            .filter(|_| self.sandbox_per_day > 0)
            .map(|class| CapConfig {
                purpose: Some(SANDBOX_PURPOSE.to_owned()),
                class: class.clone(),
                limit: self.sandbox_per_day,
                window: "day".to_owned(),
            })
    }

    /// The Cedar permit for its purposes (and `sandbox`, when it has an allowance) and
    /// classes; the bundle's other policies (its forbids included) apply to the tenant as to
    /// any other.
    pub(crate) fn permit(&self) -> String {
        let quoted = |names: &[String]| {
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "@id(\"partner-{tenant}\")\npermit (\n  principal == TrustFabric::Tenant::\"{tenant}\",\n  \
             action == TrustFabric::Action::\"submit\",\n  resource\n)\nwhen {{ [{}].contains(context.purpose) \
             && [{}].contains(context.class) }};\n",
            quoted(&self.permitted_purposes()),
            quoted(&self.classes),
            tenant = self.tenant,
        )
    }
}

impl PartnerTerms {
    fn permitted_purposes(&self) -> Vec<String> {
        let mut purposes = self.purposes.clone();
        if self.sandbox_per_day > 0 && !purposes.iter().any(|p| p == SANDBOX_PURPOSE) {
            purposes.push(SANDBOX_PURPOSE.to_owned());
        }
        purposes
    }
}

/// `source`'s files with `terms` as its tenant's terms file (added or replaced), unsigned.
pub fn with_terms(source: &BundleFiles, terms: &PartnerTerms) -> Result<BundleFiles, Problem> {
    terms.check().map_err(|message| Problem::InvalidContent {
        file: terms_file(&terms.tenant),
        message,
    })?;
    let mut files = source.clone();
    files.remove(crate::MANIFEST_FILE);
    files.insert(&terms_file(&terms.tenant), terms.to_file());
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> BundleFiles {
        BundleFiles::from_dir(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/bundle"),
        )
        .expect("the example bundle reads")
    }

    fn terms() -> PartnerTerms {
        PartnerTerms {
            tenant: "initech".into(),
            invite: 7,
            purposes: vec!["kyc".into(), "payments".into()],
            classes: vec!["P1".into(), "P2".into()],
            rate_per_sec: 100,
            burst: 50,
            max_registered_keys: 8,
            caps: vec![PartnerCap {
                class: "P1".into(),
                window: "day".into(),
                limit: 100_000,
            }],
            sandbox_per_day: SANDBOX_PER_DAY,
        }
    }

    fn build(files: BundleFiles) -> Result<crate::Bundle, crate::Refusal> {
        let info = crate::BuildInfo {
            revision: 2,
            author: "invite 7".into(),
            note: "onboarding".into(),
            tickets: Vec::new(),
            created_unix_s: 1_800_000_000,
            republishes: None,
        };
        let mut key = crate::AuthorKey::from_secret(&[5; 32]);
        crate::build(files, info, &mut key, &tf_engine::Limits::default())
    }

    #[test]
    fn a_partners_file_makes_its_tenant_caps_and_permit_and_nothing_else() {
        let source = example();
        let files = with_terms(&source, &terms()).expect("added");
        let bundle = build(files.clone()).expect("opens");
        let initech = bundle
            .content
            .tenants
            .iter()
            .find(|t| t.id == "initech")
            .expect("listed");
        assert_eq!((initech.rate_per_sec, initech.burst), (100, 50));
        assert_eq!(initech.max_registered_keys, 8);
        // Its cap, and a sandbox allowance in each of its classes.
        assert_eq!(initech.caps.len(), 3);
        assert_eq!(initech.caps[0].limit, 100_000);
        assert!(initech.caps[1..].iter().all(|c| {
            c.purpose.as_deref() == Some(SANDBOX_PURPOSE) && c.limit == SANDBOX_PER_DAY
        }));
        assert_eq!(bundle.content.partners, [terms()]);
        // The permit lets the terms' purposes and classes through, and no other.
        let allowed = |purpose: &str, class| {
            bundle
                .policies
                .decide(&crate::Admission {
                    tenant: "initech",
                    purpose,
                    class,
                    statement: crate::StatementKind::Groth16 {
                        key_id: &"ab".repeat(32),
                        curve: "bn254",
                    },
                })
                .allowed
        };
        assert!(allowed("kyc", tf_wire::DatasetClass::P1));
        assert!(allowed(SANDBOX_PURPOSE, tf_wire::DatasetClass::P2));
        assert!(!allowed("marketing", tf_wire::DatasetClass::P1));
        assert!(!allowed("kyc", tf_wire::DatasetClass::P0));
        // Every other file is untouched; the same terms give the same file.
        for (name, bytes) in source.iter() {
            if name != crate::MANIFEST_FILE {
                assert_eq!(files.get(name), Some(bytes), "{name}");
            }
        }
        assert_eq!(with_terms(&source, &terms()).expect("again"), files);
    }

    #[test]
    fn terms_that_could_reach_outside_their_file_or_clash_are_refused() {
        for bad in [
            PartnerTerms {
                tenant: "x\"\n[[tenants]]".into(),
                ..terms()
            },
            PartnerTerms {
                purposes: vec!["kyc\"] || true || [\"".into()],
                ..terms()
            },
            PartnerTerms {
                classes: vec!["P9".into()],
                ..terms()
            },
            PartnerTerms {
                caps: vec![PartnerCap {
                    class: "P0".into(),
                    window: "day".into(),
                    limit: 1,
                }],
                ..terms()
            },
        ] {
            assert!(with_terms(&example(), &bad).is_err(), "{bad:?}");
        }
        // A file named for another tenant, and a tenant tenants.toml lists already.
        let mut files = example();
        files.insert("partners/hooli.toml", terms().to_file());
        assert!(build(files).is_err());
        let acme = PartnerTerms {
            tenant: "acme".into(),
            ..terms()
        };
        assert!(build(with_terms(&example(), &acme).expect("written")).is_err());
    }
}
