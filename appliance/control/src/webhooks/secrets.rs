//! Each endpoint's `whsec_` secrets, in the state directory (`webhooks/<id>.secrets`, owner
//! only), not in the ledger: the ledger file is for auditors to open, and a secret in it would
//! let them sign as the appliance. A rotation adds a new secret and keeps the old one signing
//! for a grace period, so a receiver can switch without dropping a message.

use std::path::{Path, PathBuf};

use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use tf_state::StateError;
use tf_webhooks::WebhookSecret;

/// The endpoints' secret files.
#[derive(Clone, Debug)]
pub struct SecretStore {
    dir: PathBuf,
}

/// One secret and its life.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    /// The `whsec_` form.
    secret: String,
    /// When it was made, Unix microseconds.
    added_us: u64,
    /// When it stops signing (set by the rotation that replaced it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retires_us: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    /// Newest first.
    secrets: Vec<Entry>,
}

impl SecretStore {
    /// The store in `dir` (the state directory's `webhooks/`).
    pub fn at(dir: &Path) -> Self {
        SecretStore {
            dir: dir.to_owned(),
        }
    }

    fn path(&self, endpoint: u64) -> PathBuf {
        self.dir.join(format!("{endpoint}.secrets"))
    }

    /// Makes endpoint `endpoint`'s first secret (replacing any left by an endpoint that was
    /// never stored) and returns it: the only time it is shown.
    pub fn create(
        &self,
        endpoint: u64,
        now_us: u64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<WebhookSecret, StateError> {
        let secret = WebhookSecret::generate(rng);
        self.save(
            endpoint,
            &File {
                secrets: vec![Entry {
                    secret: secret.to_string(),
                    added_us: now_us,
                    retires_us: None,
                }],
            },
        )?;
        Ok(secret)
    }

    /// Adds a new secret that signs from now; the ones before it keep signing until
    /// `now_us + grace_us`. Returns the new secret.
    pub fn rotate(
        &self,
        endpoint: u64,
        now_us: u64,
        grace_us: u64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<WebhookSecret, StateError> {
        let mut file = self.load(endpoint)?;
        let retires = now_us.saturating_add(grace_us);
        for entry in &mut file.secrets {
            entry.retires_us = Some(entry.retires_us.map_or(retires, |r| r.min(retires)));
        }
        file.secrets
            .retain(|entry| entry.retires_us.is_none_or(|r| r > now_us));
        let secret = WebhookSecret::generate(rng);
        file.secrets.insert(
            0,
            Entry {
                secret: secret.to_string(),
                added_us: now_us,
                retires_us: None,
            },
        );
        self.save(endpoint, &file)?;
        Ok(secret)
    }

    /// The secrets that sign at `now_us`, newest first.
    pub fn signing(&self, endpoint: u64, now_us: u64) -> Result<Vec<WebhookSecret>, StateError> {
        let path = self.path(endpoint);
        self.load(endpoint)?
            .secrets
            .into_iter()
            .filter(|entry| entry.retires_us.is_none_or(|r| r > now_us))
            .map(|entry| {
                WebhookSecret::parse(&entry.secret).map_err(|e| StateError::Corrupt {
                    path: path.display().to_string(),
                    problem: e.to_string(),
                })
            })
            .collect()
    }

    /// Forgets endpoint `endpoint`'s secrets (it was removed).
    pub fn remove(&self, endpoint: u64) -> Result<(), StateError> {
        let path = self.path(endpoint);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StateError::Io {
                path: path.display().to_string(),
                source: e,
            }),
            _ => Ok(()),
        }
    }

    fn load(&self, endpoint: u64) -> Result<File, StateError> {
        let path = self.path(endpoint);
        let text = std::fs::read_to_string(&path).map_err(|e| StateError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
            path: path.display().to_string(),
            problem: format!("not a webhook secrets file: {e}"),
        })
    }

    fn save(&self, endpoint: u64, file: &File) -> Result<(), StateError> {
        let text = serde_json::to_vec_pretty(file).expect("strings and numbers serialise");
        tf_state::write_private_file(&self.path(endpoint), &text)
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;

    #[test]
    fn a_rotation_keeps_the_old_secret_signing_for_the_grace_period_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SecretStore::at(&dir.path().join("webhooks"));
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let first = store.create(3, 1_000, &mut rng).expect("created");
        let shown =
            |list: Vec<WebhookSecret>| list.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            shown(store.signing(3, 2_000).expect("read")),
            [first.to_string()]
        );
        let second = store.rotate(3, 5_000, 10_000, &mut rng).expect("rotated");
        assert_eq!(
            shown(store.signing(3, 6_000).expect("read")),
            [second.to_string(), first.to_string()]
        );
        assert_eq!(
            shown(store.signing(3, 15_000).expect("read")),
            [second.to_string()]
        );
        let mode = std::fs::metadata(dir.path().join("webhooks/3.secrets"))
            .expect("stat")
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        store.remove(3).expect("removed");
        assert!(store.signing(3, 15_000).is_err());
        store.remove(3).expect("removing twice is fine");
    }
}
