//! A tenant onboarded under a partner's invite: the revision that puts it in force is an
//! earlier revision's files with the tenant's entry, caps and Cedar permit appended, built and
//! signed by the appliance. The text added is a function of the tenant and the invite's
//! template alone, so whoever holds the earlier revision and the invite can rebuild it and
//! check that nothing else changed (the appliance does, each time it opens such a revision).

use serde::Serialize;

pub use crate::manifest::Onboarding;

use crate::archive::BundleFiles;
use crate::content::{BUDGETS_FILE, POLICIES_FILE, TENANTS_FILE};
use crate::problem::Problem;

/// The terms an onboarded tenant starts with: its invite template's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantTerms {
    /// The tenant id.
    pub tenant: String,
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
    /// Budget caps: class, window and limit.
    pub caps: Vec<(String, String, u64)>,
}

#[derive(Serialize)]
struct TenantEntry<'a> {
    id: &'a str,
    rate_per_sec: u32,
    burst: u32,
    max_registered_keys: u32,
}

#[derive(Serialize)]
struct CapEntry<'a> {
    tenant: &'a str,
    class: &'a str,
    window: &'a str,
    limit: u64,
}

#[derive(Serialize)]
struct Appended<T: Serialize> {
    tenants: Option<Vec<T>>,
    caps: Option<Vec<T>>,
}

/// `source`'s files with `terms`' tenant added under invite `invite`. The text appended only
/// ever holds names checked here (a-z, 0-9, `-`, `_`, `.`), so it cannot reach outside its own
/// entries; whether the whole still parses is for [`crate::open`] to say.
pub fn add_tenant(
    source: &BundleFiles,
    terms: &TenantTerms,
    invite: u64,
) -> Result<BundleFiles, Problem> {
    check_names(terms)?;
    let tenant = terms.tenant.as_str();
    let header = format!("# Tenant {tenant}, onboarded under invite {invite}.\n");
    let entry = TenantEntry {
        id: tenant,
        rate_per_sec: terms.rate_per_sec,
        burst: terms.burst,
        max_registered_keys: terms.max_registered_keys,
    };
    let tenants = toml_text(&Appended {
        tenants: Some(vec![entry]),
        caps: None,
    })?;
    let caps: Vec<CapEntry<'_>> = terms
        .caps
        .iter()
        .map(|(class, window, limit)| CapEntry {
            tenant,
            class,
            window,
            limit: *limit,
        })
        .collect();
    let caps = if caps.is_empty() {
        String::new()
    } else {
        toml_text(&Appended {
            tenants: None,
            caps: Some(caps),
        })?
    };
    let quoted = |names: &[String]| {
        names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let permit = format!(
        "@id(\"onboarded-{tenant}\")\npermit (\n  principal == TrustFabric::Tenant::\"{tenant}\",\n  \
         action == TrustFabric::Action::\"submit\",\n  resource\n)\nwhen {{ [{}].contains(context.purpose) \
         && [{}].contains(context.class) }};\n",
        quoted(&terms.purposes),
        quoted(&terms.classes),
    );
    let mut files = source.clone();
    files.remove(crate::MANIFEST_FILE);
    for (name, added) in [
        (TENANTS_FILE, tenants),
        (BUDGETS_FILE, caps),
        (POLICIES_FILE, permit),
    ] {
        if added.is_empty() {
            continue;
        }
        let mut text = files.get(name).map(<[u8]>::to_vec).unwrap_or_default();
        if !text.is_empty() && !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        let comment = if name == POLICIES_FILE {
            header.replace('#', "//")
        } else {
            header.clone()
        };
        text.extend_from_slice(b"\n");
        text.extend_from_slice(comment.as_bytes());
        text.extend_from_slice(added.as_bytes());
        files.insert(name, text);
    }
    Ok(files)
}

fn toml_text<T: Serialize>(value: &T) -> Result<String, Problem> {
    toml::to_string(value).map_err(|e| Problem::InvalidContent {
        file: TENANTS_FILE.into(),
        message: format!("the onboarded tenant's entry does not serialise: {e}"),
    })
}

fn check_names(terms: &TenantTerms) -> Result<(), Problem> {
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
    let window = |w: &str| {
        !w.is_empty() && w.len() <= 32 && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
    };
    let fine = plain(&terms.tenant, false)
        && !terms.purposes.is_empty()
        && terms.purposes.iter().all(|p| plain(p, true))
        && !terms.classes.is_empty()
        && terms
            .classes
            .iter()
            .all(|c| ["P0", "P1", "P2"].contains(&c.as_str()))
        && terms
            .caps
            .iter()
            .all(|(class, w, _)| terms.classes.contains(class) && window(w));
    if fine {
        Ok(())
    } else {
        Err(Problem::InvalidContent {
            file: TENANTS_FILE.into(),
            message: format!(
                "the terms for onboarded tenant {:?} hold a name that is not plain (a-z, 0-9, \
                 `-`, `_`, `.`), a class that is not P0, P1 or P2, or a cap outside its classes",
                terms.tenant
            ),
        })
    }
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

    fn terms() -> TenantTerms {
        TenantTerms {
            tenant: "initech".into(),
            purposes: vec!["kyc".into(), "payments".into()],
            classes: vec!["P1".into(), "P2".into()],
            rate_per_sec: 100,
            burst: 50,
            max_registered_keys: 8,
            caps: vec![("P1".into(), "day".into(), 100_000)],
        }
    }

    #[test]
    fn the_tenant_its_caps_and_its_permit_are_added_and_the_bundle_still_opens() {
        let source = example();
        let files = add_tenant(&source, &terms(), 7).expect("added");
        let mut key = crate::AuthorKey::from_secret(&[5; 32]);
        let info = crate::BuildInfo {
            revision: 2,
            author: "invite 7".into(),
            note: "onboarding".into(),
            tickets: Vec::new(),
            created_unix_s: 1_800_000_000,
            republishes: None,
        };
        let onboarding = Onboarding {
            invite: 7,
            tenant: "initech".into(),
            source: 1,
        };
        let limits = tf_engine::Limits::default();
        let bundle =
            crate::build_onboarding(files.clone(), info, onboarding.clone(), &mut key, &limits)
                .expect("opens");
        assert_eq!(bundle.manifest.onboards, Some(onboarding));
        let initech = bundle
            .content
            .tenants
            .iter()
            .find(|t| t.id == "initech")
            .expect("listed");
        assert_eq!((initech.rate_per_sec, initech.burst), (100, 50));
        assert_eq!(initech.max_registered_keys, 8);
        assert_eq!(initech.caps.len(), 1);
        assert_eq!(initech.caps[0].limit, 100_000);
        assert_eq!(
            bundle.content.tenants.len(),
            crate::Content::parse(&source, &limits)
                .expect("example parses")
                .tenants
                .len()
                + 1
        );
        // The permit lets the template's purposes and classes through, and no other.
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
        assert!(!allowed("marketing", tf_wire::DatasetClass::P1));
        assert!(!allowed("kyc", tf_wire::DatasetClass::P0));
        // The same inputs give the same files: the appliance rebuilds and compares them.
        assert_eq!(add_tenant(&source, &terms(), 7).expect("again"), files);
        // Every other file is untouched.
        for (name, bytes) in source.iter() {
            if ![
                TENANTS_FILE,
                BUDGETS_FILE,
                POLICIES_FILE,
                crate::MANIFEST_FILE,
            ]
            .contains(&name)
            {
                assert_eq!(files.get(name), Some(bytes), "{name}");
            }
        }
    }

    #[test]
    fn names_that_could_reach_outside_their_entry_are_refused() {
        for bad in [
            TenantTerms {
                tenant: "x\"\n[[tenants]]".into(),
                ..terms()
            },
            TenantTerms {
                purposes: vec!["kyc\"] || true || [\"".into()],
                ..terms()
            },
            TenantTerms {
                classes: vec!["P9".into()],
                ..terms()
            },
            TenantTerms {
                caps: vec![("P0".into(), "day".into(), 1)],
                ..terms()
            },
        ] {
            assert!(add_tenant(&example(), &bad, 1).is_err(), "{bad:?}");
        }
    }
}
