//! `[bundles]`: which authors' policy bundles the appliance accepts.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// `[bundles]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct BundlesConfig {
    /// Ed25519 public keys (64 hex digits) whose signed bundles may be promoted. List the new
    /// key next to the old one to rotate, then remove the old one. Empty (the default): the
    /// state directory's development author key (`bundle-author.key`) only.
    pub trusted_authors: Vec<String>,
}

impl BundlesConfig {
    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        for key in &self.trusted_authors {
            let mut bytes = [0u8; 32];
            let valid = hex::decode_to_slice(key, &mut bytes).is_ok()
                && ed25519_dalek::VerifyingKey::from_bytes(&bytes).is_ok();
            if !valid {
                return Err(ConfigError::Invalid {
                    path: path.to_owned(),
                    key: "bundles.trusted_authors",
                    value: format!("{key:?}"),
                    allowed: "Ed25519 public keys, 64 hex digits each (`appliance bundle keygen` \
                              prints one)",
                });
            }
        }
        Ok(())
    }
}
