//! Building a bundle: hash every file, sign the manifest, and open the result with the
//! author's own key so an invalid bundle fails here, not at promotion.

use std::collections::BTreeMap;

use tf_engine::Limits;

use crate::archive::BundleFiles;
use crate::author::{AuthorKey, TrustedAuthors};
use crate::manifest::{FORMAT, MANIFEST_FILE, Manifest, PAYLOAD_TYPE, sha256_hex};
use crate::open::{Bundle, open};
use crate::problem::Refusal;
use crate::revision::check_revision;

/// What the author says about a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    /// The revision, above the active one; 1 to [`crate::MAX_REVISION`].
    pub revision: u64,
    /// Who.
    pub author: String,
    /// Why.
    pub note: String,
    /// Ticket links.
    pub tickets: Vec<String>,
    /// When, Unix seconds.
    pub created_unix_s: u64,
    /// The revision whose content this republishes (rollbacks).
    pub republishes: Option<u64>,
}

/// Signs `source` (any earlier manifest is replaced) and checks the result.
pub fn build(
    source: BundleFiles,
    info: BuildInfo,
    key: &mut AuthorKey,
    limits: &Limits,
) -> Result<Bundle, Refusal> {
    build_manifest(source, info, None, key, limits)
}

/// [`build`], for a bundle that says it changes one partner's terms file (only the appliance
/// builds these, and only it trusts them, after checking them against what authorised them).
pub fn build_partner_change(
    source: BundleFiles,
    info: BuildInfo,
    change: crate::manifest::PartnerChange,
    key: &mut AuthorKey,
    limits: &Limits,
) -> Result<Bundle, Refusal> {
    build_manifest(source, info, Some(change), key, limits)
}

fn build_manifest(
    mut source: BundleFiles,
    info: BuildInfo,
    partner: Option<crate::manifest::PartnerChange>,
    key: &mut AuthorKey,
    limits: &Limits,
) -> Result<Bundle, Refusal> {
    // Checked before signing, so an author never holds a signed bundle no appliance accepts.
    check_revision(info.revision)?;
    source.remove(MANIFEST_FILE);
    let files: BTreeMap<String, String> = source
        .iter()
        .map(|(name, bytes)| (name.to_owned(), sha256_hex(bytes)))
        .collect();
    let manifest = Manifest {
        format: FORMAT.into(),
        revision: info.revision,
        author: info.author,
        note: info.note,
        tickets: info.tickets,
        created: tf_budgets::format_utc(info.created_unix_s),
        republishes: info.republishes,
        partner,
        files,
    };
    let envelope = key.sign(PAYLOAD_TYPE, manifest.to_payload());
    source.insert(MANIFEST_FILE, envelope.to_json().into_bytes());
    open(
        source,
        Some(&TrustedAuthors::new(vec![key.public_key()])),
        limits,
    )
}
