//! Policy bundles: what an operator promotes to change what the appliance allows.
//!
//! A bundle is a directory or a gzipped tar holding `tenants.toml` (weights and admission
//! quotas), `budgets.toml` (costs, charge policies and caps, the v2.1 model), `policies.cedar`
//! (admission rules, validated against the appliance's own Cedar schema), `keys/*.json`
//! (verifying keys in snarkjs form) and `manifest.dsse.json`: a DSSE envelope, signed with an
//! author's Ed25519 key, over the manifest (revision, author, change note, tickets, creation
//! time and the SHA-256 of every other file).
//!
//! [`open`] checks a bundle in the order that does the least work on untrusted input: sizes
//! and paths, the signature by a trusted author, every file's hash, then the contents.
//! Whatever fails comes back as a [`Refusal`] listing each [`Problem`].

mod archive;
mod author;
mod build;
mod content;
mod diff;
mod manifest;
mod open;
pub mod partners;
mod policy;
mod problem;
mod revision;

pub use archive::{BundleFiles, MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES};
pub use author::{AuthorKey, TrustedAuthors, author_key_id};
pub use build::{BuildInfo, build, build_partner_change};
pub use content::{BUDGETS_FILE, Content, KEYS_DIR, POLICIES_FILE, RegistryKey, TENANTS_FILE};
pub use diff::{Change, DiffLine, diff};
pub use manifest::{FORMAT, MANIFEST_FILE, Manifest, PAYLOAD_TYPE, PartnerChange};
pub use open::{Bundle, open};
pub use policy::{Admission, CompiledPolicies, Decision, SCHEMA, StatementKind, tenants_named};
pub use problem::{Problem, Refusal};
pub use revision::{MAX_REVISION, check_revision, next_revision};
