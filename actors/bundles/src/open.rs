//! Opening a bundle: signature, file hashes, then contents, least work on untrusted bytes first.

use tf_engine::Limits;
use tf_receipts::Envelope;

use crate::archive::BundleFiles;
use crate::author::TrustedAuthors;
use crate::content::Content;
use crate::manifest::{MANIFEST_FILE, Manifest, PAYLOAD_TYPE, sha256_hex};
use crate::policy::CompiledPolicies;
use crate::problem::{Problem, Refusal};

/// A bundle whose manifest, files and contents all check out.
#[derive(Debug)]
pub struct Bundle {
    /// The signed manifest.
    pub manifest: Manifest,
    /// The author key that signed it.
    pub author_key_id: String,
    /// Whether the signature was checked against a trusted key (false only when opened
    /// without trusted keys, to inspect or diff).
    pub signature_checked: bool,
    /// The bundle's hash: hex SHA-256 of the signed manifest, which fixes every file.
    pub hash: String,
    /// Its files as read (manifest included).
    pub files: BundleFiles,
    /// The parsed contents.
    pub content: Content,
    /// The compiled admission policies.
    pub policies: CompiledPolicies,
}

impl Bundle {
    /// The revision.
    pub fn revision(&self) -> u64 {
        self.manifest.revision
    }

    /// Refuses a bundle whose revision is not above the active one: an old signed bundle
    /// is never accepted back (that would be a downgrade).
    pub fn check_above(&self, active: u64) -> Result<(), Problem> {
        if self.manifest.revision > active {
            Ok(())
        } else {
            Err(Problem::StaleRevision {
                candidate: self.manifest.revision,
                active,
            })
        }
    }
}

/// Opens a bundle. With `trusted`, the manifest must be signed by one of those keys; without,
/// the signature is not checked (for `diff` and inspection, never for promotion).
pub fn open(
    files: BundleFiles,
    trusted: Option<&TrustedAuthors>,
    limits: &Limits,
) -> Result<Bundle, Refusal> {
    let raw = files.get(MANIFEST_FILE).ok_or(Problem::NoManifest)?;
    let text =
        std::str::from_utf8(raw).map_err(|_| Problem::BadEnvelope("not UTF-8 JSON".into()))?;
    let envelope = Envelope::from_json(text).map_err(Problem::BadEnvelope)?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(Problem::BadEnvelope(format!(
            "payload type {:?} is not {PAYLOAD_TYPE:?}",
            envelope.payload_type
        ))
        .into());
    }
    let first = envelope
        .signatures
        .first()
        .ok_or_else(|| Problem::BadEnvelope("it has no signature".into()))?;
    let mut author_key_id = first.key_id.clone();
    if let Some(trusted) = trusted {
        let (signature, key) = envelope
            .signatures
            .iter()
            .find_map(|s| trusted.find(&s.key_id).map(|k| (s, k)))
            .ok_or_else(|| Problem::UntrustedAuthor {
                key_id: author_key_id.clone(),
            })?;
        author_key_id = signature.key_id.clone();
        tf_receipts::verify_signature(&envelope, key).map_err(|_| Problem::BadSignature {
            key_id: author_key_id.clone(),
        })?;
    }
    let manifest = Manifest::parse(&envelope.payload)?;
    check_files(&manifest, &files)?;
    let content = Content::parse(&files, limits).map_err(Refusal)?;
    let policies = CompiledPolicies::compile(
        &content.admission_policies(),
        &content.tenants,
        &content.keys,
    )
    .map_err(|errors| Refusal(errors.into_iter().map(Problem::InvalidPolicy).collect()))?;
    Ok(Bundle {
        hash: sha256_hex(&envelope.payload),
        manifest,
        author_key_id,
        signature_checked: trusted.is_some(),
        files,
        content,
        policies,
    })
}

/// Every listed file is present with its hash, and nothing else is there.
fn check_files(manifest: &Manifest, files: &BundleFiles) -> Result<(), Refusal> {
    let mut problems = Vec::new();
    for (name, digest) in &manifest.files {
        match files.get(name) {
            None => problems.push(Problem::MissingFile(name.clone())),
            Some(bytes) if sha256_hex(bytes) != digest.to_ascii_lowercase() => {
                problems.push(Problem::AlteredFile(name.clone()));
            }
            Some(_) => {}
        }
    }
    for (name, _) in files.iter() {
        if name != MANIFEST_FILE && !manifest.files.contains_key(name) {
            problems.push(Problem::UnlistedFile(name.to_owned()));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Refusal(problems))
    }
}
