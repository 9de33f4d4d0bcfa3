//! Newtypes for the revisions, digests and ids the bodies carry. Each serialises as its inner
//! value (a JSON number or string), exactly as the plain value did.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A policy bundle revision. 0 is the configuration file's built-in policy (nothing promoted
/// yet); every promotion or rollback puts a higher revision in force.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(transparent)]
pub struct Revision(pub u64);

/// A policy bundle's hash: the hex SHA-256 of its signed manifest, 64 digits (all zeros for
/// revision 0).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(transparent)]
pub struct BundleHash(pub String);

/// A tenant id, as in its client certificate (`urn:trust-fabric:tenant:<id>`): 1 to 64
/// characters of a-z, 0-9, `-` and `_`.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(transparent)]
pub struct TenantId(pub String);

/// A compliance snapshot's name: `snapshot-` and its period's end, UTC to the second
/// (`snapshot-20261202T000000Z`). Names sort in the order of their periods.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(transparent)]
pub struct SnapshotName(pub String);

/// The hex SHA-256 of a compliance snapshot's `index.dsse.json`, 64 lowercase digits: what the
/// transparency log holds for the snapshot, and what the next snapshot names as its previous.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(transparent)]
pub struct IndexSha256(pub String);

impl TenantId {
    /// Whether `id` has a tenant id's form, as `[[tenants]] id` allows it: 1 to 64 characters
    /// of a-z, 0-9, `-` and `_`.
    pub fn is_well_formed(id: &str) -> bool {
        (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for BundleHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for SnapshotName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for IndexSha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<u64> for Revision {
    fn from(revision: u64) -> Self {
        Revision(revision)
    }
}

impl From<String> for BundleHash {
    fn from(hash: String) -> Self {
        BundleHash(hash)
    }
}

impl From<String> for TenantId {
    fn from(id: String) -> Self {
        TenantId(id)
    }
}

impl From<&str> for TenantId {
    fn from(id: &str) -> Self {
        TenantId(id.to_owned())
    }
}

impl From<&str> for SnapshotName {
    fn from(name: &str) -> Self {
        SnapshotName(name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newtypes_serialise_as_their_inner_value() {
        assert_eq!(
            serde_json::to_string(&Revision(7)).ok().as_deref(),
            Some("7")
        );
        assert_eq!(
            serde_json::to_string(&BundleHash("ab".into()))
                .ok()
                .as_deref(),
            Some("\"ab\"")
        );
        assert_eq!(
            serde_json::from_str::<TenantId>("\"acme\"").ok(),
            Some(TenantId::from("acme"))
        );
    }

    #[test]
    fn a_tenant_id_has_the_form_the_configuration_allows() {
        for id in ["acme", "a", "tenant_7-b", &"x".repeat(64)] {
            assert!(TenantId::is_well_formed(id), "{id}");
        }
        for id in ["", "Acme", "a b", "a.b", "ä", &"x".repeat(65)] {
            assert!(!TenantId::is_well_formed(id), "{id}");
        }
    }
}
