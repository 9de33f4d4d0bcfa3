//! Why a bundle is refused: every problem found, each with a stable code for the API.

use std::fmt;

/// One reason a bundle cannot be promoted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The file or archive could not be read.
    #[error("cannot read the bundle: {0}")]
    Unreadable(String),
    /// A size or count limit was exceeded; nothing more was read.
    #[error("{what} exceeds the limit of {limit}; a bundle is small, keep data out of it")]
    TooLarge {
        /// What was too large.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// An archive entry's path escapes the bundle or is not a plain file.
    #[error("{0}: not a plain file inside the bundle (absolute, `..`, link or device)")]
    UnsafePath(String),
    /// No manifest.
    #[error("no manifest.dsse.json: build the bundle with `appliance bundle build DIR --key KEY`")]
    NoManifest,
    /// The manifest envelope is not a DSSE envelope of a bundle manifest.
    #[error("manifest.dsse.json is not a signed bundle manifest: {0}")]
    BadEnvelope(String),
    /// The manifest is signed, but by no key this appliance trusts.
    #[error(
        "signed by author key {key_id}, which this appliance does not trust; add its public key \
         to [bundles] trusted_authors or sign with a trusted key"
    )]
    UntrustedAuthor {
        /// The key that signed.
        key_id: String,
    },
    /// The signature does not match the manifest.
    #[error("the manifest's signature by key {key_id} does not match it: the manifest was altered")]
    BadSignature {
        /// The key the signature names.
        key_id: String,
    },
    /// The signed manifest does not parse or is inconsistent.
    #[error("the manifest is invalid: {0}")]
    BadManifest(String),
    /// A file the manifest lists is not in the bundle.
    #[error("{0}: listed in the manifest but missing from the bundle")]
    MissingFile(String),
    /// A file is in the bundle but not in the manifest.
    #[error("{0}: in the bundle but not listed in the signed manifest")]
    UnlistedFile(String),
    /// A file's SHA-256 differs from the manifest's.
    #[error("{0}: its SHA-256 differs from the signed manifest's: the file was altered")]
    AlteredFile(String),
    /// A content file is invalid.
    #[error("{file}: {message}")]
    InvalidContent {
        /// The file.
        file: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The Cedar policies do not parse or do not validate against the appliance's schema.
    #[error("policies.cedar: {0}")]
    InvalidPolicy(String),
    /// The bundle's revision is not above the newest one promoted (or in force).
    #[error(
        "revision {candidate} is not above revision {active}, the newest this appliance has \
         promoted: rebuild it with --revision {next} (an older bundle is never accepted back; \
         roll back instead)",
        next = active.saturating_add(1)
    )]
    StaleRevision {
        /// The bundle's revision.
        candidate: u64,
        /// The active revision.
        active: u64,
    },
    /// A revision outside 1 to [`crate::MAX_REVISION`], or no revision left after the newest.
    #[error(
        "revision {revision} is outside 1 to 9007199254740991 (2^53 - 1): revision 0 is the \
         configuration file's built-in policy, and larger numbers are not exact in JSON or \
         storable in the ledger; build the bundle with a revision in that range, one above the \
         newest promoted"
    )]
    RevisionOutOfRange {
        /// The revision refused (for a rollback, the one after the newest).
        revision: u64,
    },
    /// A cap is below what the tenant already spent in the current window.
    #[error(
        "budgets.toml: tenant {tenant:?} cap {cap} = {limit} is below the {spent} already spent \
         in the current window; raise it, or promote with --allow-cap-below-spent to block the \
         tenant until the window resets"
    )]
    CapBelowSpent {
        /// The tenant.
        tenant: String,
        /// The cap (purpose, class, window).
        cap: String,
        /// The new limit.
        limit: u64,
        /// Spent so far in the window.
        spent: u64,
    },
    /// Partners of the bundle in force (onboarded with an invite) whose terms files this
    /// bundle lacks: promoted, it would drop their tenants.
    #[error(
        "partners/: the bundle in force has the terms files of {noun} {list}, onboarded with an \
         invite, and this bundle lacks them: promoted, it would drop {them} and their tenants \
         would lose service. Keep their files in the bundle (`appliance ctl terms files --out \
         DIR/partners` writes them), or promote (or roll back) with --allow-partners-dropped to \
         drop them on purpose",
        noun = if tenants.len() == 1 { "partner" } else { "partners" },
        list = tenants.join(", "),
        them = if tenants.len() == 1 { "it" } else { "them" }
    )]
    PartnersDropped {
        /// The partners' tenants, in the order the bundle in force lists them.
        tenants: Vec<String>,
    },
    /// The bundle would stop the golden canary's own known traffic.
    #[error(
        "the golden canary (tenant {tenant:?}) could only fail under this bundle: {why}. List \
         its tenant without caps and permit its golden set (docs/canary.md; the example bundle \
         does both)"
    )]
    CanaryRefused {
        /// The canary's tenant.
        tenant: String,
        /// What stops it.
        why: String,
    },
    /// More verifying keys than each shard keeps room for: they could not all be prepared.
    #[error(
        "keys/: the bundle carries {count} verifying keys, and each shard keeps room for {room} \
         bundle keys; move keys to tenants' own registrations or split the registry"
    )]
    TooManyKeys {
        /// Keys in the bundle.
        count: usize,
        /// Room for bundle keys on each shard.
        room: usize,
    },
}

impl Problem {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Unreadable(_) => "unreadable",
            Problem::TooLarge { .. } => "too-large",
            Problem::UnsafePath(_) => "unsafe-path",
            Problem::NoManifest => "no-manifest",
            Problem::BadEnvelope(_) => "bad-envelope",
            Problem::UntrustedAuthor { .. } => "untrusted-author",
            Problem::BadSignature { .. } => "bad-signature",
            Problem::BadManifest(_) => "bad-manifest",
            Problem::MissingFile(_) => "missing-file",
            Problem::UnlistedFile(_) => "unlisted-file",
            Problem::AlteredFile(_) => "altered-file",
            Problem::InvalidContent { .. } => "invalid-content",
            Problem::InvalidPolicy(_) => "invalid-policy",
            Problem::StaleRevision { .. } => "stale-revision",
            Problem::RevisionOutOfRange { .. } => "revision-out-of-range",
            Problem::CapBelowSpent { .. } => "cap-below-spent",
            Problem::PartnersDropped { .. } => "partners-dropped",
            Problem::TooManyKeys { .. } => "too-many-keys",
            Problem::CanaryRefused { .. } => "canary-refused",
        }
    }
}

/// A bundle was refused; the active bundle is unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub Vec<Problem>);

impl Refusal {
    /// A refusal for one problem.
    pub fn one(problem: Problem) -> Self {
        Refusal(vec![problem])
    }
}

impl From<Problem> for Refusal {
    fn from(problem: Problem) -> Self {
        Refusal::one(problem)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bundle refused ({} problem", self.0.len())?;
        if self.0.len() != 1 {
            f.write_str("s")?;
        }
        f.write_str("):")?;
        for problem in &self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}
