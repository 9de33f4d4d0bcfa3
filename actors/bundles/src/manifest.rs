//! The signed manifest: revision, author, why, and the SHA-256 of every other file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::problem::Problem;
use crate::revision::check_revision;

/// The manifest's file in a bundle: a DSSE envelope whose payload is the manifest JSON.
pub const MANIFEST_FILE: &str = "manifest.dsse.json";
/// The DSSE payload type of a bundle manifest.
pub const PAYLOAD_TYPE: &str = "application/vnd.trust-fabric.bundle-manifest+json";
/// The manifest format this appliance reads.
pub const FORMAT: &str = "trust-fabric/bundle/v1";

/// What a bundle's author signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Monotonically increasing: a bundle is accepted only above the active revision; 1 to
    /// [`crate::MAX_REVISION`].
    pub revision: u64,
    /// Who made the change.
    pub author: String,
    /// Why.
    pub note: String,
    /// Links to tickets or reviews.
    #[serde(default)]
    pub tickets: Vec<String>,
    /// When it was built, RFC 3339 UTC.
    pub created: String,
    /// Set when this bundle republishes an earlier revision's content (a rollback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub republishes: Option<u64>,
    /// Set when the appliance built this bundle to change one partner's terms file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<PartnerChange>,
    /// Every other file's SHA-256, hex, by path.
    pub files: BTreeMap<String, String>,
}

/// What a revision the appliance built for a partner says of itself: the one terms file it
/// adds or replaces (see [`crate::partners`]), on which revision, under whose authority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerChange {
    /// The tenant whose terms file it writes.
    pub tenant: String,
    /// The revision whose files it changes.
    pub source: u64,
    /// The invite the tenant was onboarded under.
    pub invite: u64,
    /// The terms request granted; `None` for the onboarding itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<u64>,
}

/// Longest author, note or ticket, characters.
const MAX_TEXT: usize = 2000;
/// Most tickets.
const MAX_TICKETS: usize = 32;

impl Manifest {
    /// Parses and checks a manifest payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Problem> {
        let manifest: Manifest =
            serde_json::from_slice(payload).map_err(|e| Problem::BadManifest(e.to_string()))?;
        if manifest.format != FORMAT {
            return Err(Problem::BadManifest(format!(
                "format {:?} is not {FORMAT:?}; upgrade the appliance or rebuild the bundle",
                manifest.format
            )));
        }
        check_revision(manifest.revision)?;
        // A rollback republishes an earlier revision, so it is in range and below this one.
        if let Some(earlier) = manifest.republishes
            && (check_revision(earlier).is_err() || earlier >= manifest.revision)
        {
            return Err(Problem::BadManifest(format!(
                "it republishes revision {earlier}, which is not an earlier revision than its own \
                 {}",
                manifest.revision
            )));
        }
        if let Some(change) = &manifest.partner
            && (manifest.republishes.is_some()
                || check_revision(change.source).is_err()
                || change.source >= manifest.revision)
        {
            return Err(Problem::BadManifest(format!(
                "it changes a partner's terms on revision {}, which is not an earlier revision \
                 than its own {} (or it also republishes one)",
                change.source, manifest.revision
            )));
        }
        if manifest.author.trim().is_empty() {
            return Err(Problem::BadManifest("the author is empty".into()));
        }
        let long = [&manifest.author, &manifest.note, &manifest.created]
            .into_iter()
            .chain(&manifest.tickets)
            .any(|t| t.chars().count() > MAX_TEXT);
        if long || manifest.tickets.len() > MAX_TICKETS {
            return Err(Problem::BadManifest(format!(
                "author, note, creation time and each ticket are at most {MAX_TEXT} characters, \
                 and there are at most {MAX_TICKETS} tickets"
            )));
        }
        Ok(manifest)
    }

    /// The JSON payload that is signed.
    pub fn to_payload(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a manifest always serialises")
    }
}

/// Hex SHA-256 of some bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
