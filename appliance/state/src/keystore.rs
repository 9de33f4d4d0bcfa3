//! Verifying keys partners registered, kept in the state directory so they survive restarts:
//! `verifying-keys/<key id>.<curve>` holds the canonical bytes, and `tenants/<id>/keys` lists
//! the key ids a tenant registered (one per line).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tf_engine::KeyId;
use tf_engine::groth16::Curve;

use super::files::{read_to_string, write_public};
use super::{State, StateError};

/// A registered key as stored.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// Its id (SHA-256 of the canonical bytes).
    pub id: KeyId,
    /// Its curve.
    pub curve: Curve,
    /// arkworks canonical compressed bytes.
    pub bytes: Vec<u8>,
}

/// What the key store read back.
#[derive(Debug)]
pub struct Loaded<K> {
    /// The keys whose bytes hash to their file names.
    pub keys: Vec<K>,
    /// Files skipped.
    pub unreadable: Vec<UnreadableKey>,
}

impl<K> Default for Loaded<K> {
    fn default() -> Self {
        Loaded {
            keys: Vec::new(),
            unreadable: Vec::new(),
        }
    }
}

/// A key file that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableKey {
    /// The file.
    pub path: String,
    /// What is wrong with it.
    pub problem: String,
}

impl std::fmt::Display for UnreadableKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}; the key is not served. Restore the file from a backup, or move it out of \
             the directory and have the tenant register the key again",
            self.path, self.problem
        )
    }
}

/// The key store of one state directory.
#[derive(Debug, Clone)]
pub struct KeyStore {
    keys: PathBuf,
    tenants: PathBuf,
}

const KEYS_DIR: &str = "verifying-keys";
const TENANTS_DIR: &str = "tenants";
const GRANTS_FILE: &str = "keys";

impl KeyStore {
    /// The store in this state directory.
    pub fn new(state: &State) -> Self {
        KeyStore {
            keys: state.path(KEYS_DIR),
            tenants: state.path(TENANTS_DIR),
        }
    }

    /// Saves a key and records that `tenant` registered it. Idempotent.
    pub fn save(&self, tenant: &str, key: &StoredKey) -> Result<(), StateError> {
        let path = self.key_path(&key.id, key.curve);
        if !path.exists() {
            write_public(&path, &key.bytes)?;
        }
        let mut grants = self.grants(tenant)?;
        if grants.insert(key.id.to_string()) {
            let mut text = String::new();
            for id in &grants {
                text.push_str(id);
                text.push('\n');
            }
            write_public(&self.grants_path(tenant), text.as_bytes())?;
        }
        Ok(())
    }

    /// Every stored key that reads back whole, and the files that do not. A bad file is
    /// skipped, never fatal: one unreadable key must not stop the appliance serving everyone.
    pub fn load_all(&self) -> Result<Loaded<StoredKey>, StateError> {
        let entries = match std::fs::read_dir(&self.keys) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(source) => return Err(io(&self.keys, source)),
        };
        let mut loaded = Loaded::default();
        for entry in entries {
            let path = entry.map_err(|e| io(&self.keys, e))?.path();
            let Some((id, curve)) = parse_name(&path) else {
                continue;
            };
            match std::fs::read(&path) {
                Ok(bytes) if KeyId::of_canonical_bytes(&bytes) == id => {
                    loaded.keys.push(StoredKey { id, curve, bytes });
                }
                Ok(_) => loaded.unreadable.push(UnreadableKey {
                    path: path.display().to_string(),
                    problem: "its bytes do not hash to its file name".into(),
                }),
                Err(error) => loaded.unreadable.push(UnreadableKey {
                    path: path.display().to_string(),
                    problem: error.to_string(),
                }),
            }
        }
        Ok(loaded)
    }

    /// Every stored key, each with those of `tenants` that registered it (a key only others
    /// registered comes with none: configuration may still grant it by id), and the files that
    /// do not read back.
    pub fn registered_by(
        &self,
        tenants: &[String],
    ) -> Result<Loaded<(StoredKey, Vec<String>)>, StateError> {
        let grants = tenants
            .iter()
            .map(|t| Ok((t.clone(), self.grants(t)?)))
            .collect::<Result<Vec<_>, StateError>>()?;
        let Loaded { keys, unreadable } = self.load_all()?;
        let keys = keys
            .into_iter()
            .map(|key| {
                let id = key.id.to_string();
                let by = grants
                    .iter()
                    .filter(|(_, granted)| granted.contains(&id))
                    .map(|(tenant, _)| tenant.clone())
                    .collect();
                (key, by)
            })
            .collect();
        Ok(Loaded { keys, unreadable })
    }

    /// The key ids a tenant registered.
    pub fn grants(&self, tenant: &str) -> Result<BTreeSet<String>, StateError> {
        let path = self.grants_path(tenant);
        if !path.exists() {
            return Ok(BTreeSet::new());
        }
        Ok(read_to_string(&path)?
            .lines()
            .map(str::trim)
            .filter(|l| KeyId::from_hex(l).is_some())
            .map(str::to_owned)
            .collect())
    }

    fn key_path(&self, id: &KeyId, curve: Curve) -> PathBuf {
        self.keys.join(format!("{id}.{}", curve_name(curve)))
    }

    fn grants_path(&self, tenant: &str) -> PathBuf {
        self.tenants.join(tenant).join(GRANTS_FILE)
    }
}

fn curve_name(curve: Curve) -> &'static str {
    match curve {
        Curve::Bn254 => "bn254",
        _ => "bls12-381",
    }
}

fn parse_name(path: &Path) -> Option<(KeyId, Curve)> {
    let name = path.file_name()?.to_str()?;
    let (id, curve) = name.split_once('.')?;
    let curve = match curve {
        "bn254" => Curve::Bn254,
        "bls12-381" => Curve::Bls12_381,
        _ => return None,
    };
    Some((KeyId::from_hex(id)?, curve))
}

fn io(path: &Path, source: std::io::Error) -> StateError {
    StateError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_keys_and_grants_load_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = State::open_or_init(dir.path(), &["localhost".into()]).expect("state");
        let store = KeyStore::new(&state);
        let bytes = vec![1, 2, 3];
        let key = StoredKey {
            id: KeyId::of_canonical_bytes(&bytes),
            curve: Curve::Bn254,
            bytes,
        };
        store.save("demo", &key).expect("saved");
        store.save("demo", &key).expect("saved twice");
        let loaded = store.load_all().expect("loads").keys;
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].id, key.id);
        assert_eq!(store.grants("demo").expect("grants").len(), 1);
        assert!(store.grants("acme").expect("none").is_empty());

        let path = store.key_path(&key.id, Curve::Bn254);
        // A second, intact key is still served beside a tampered one.
        let other_bytes = vec![4, 5, 6];
        let other = StoredKey {
            id: KeyId::of_canonical_bytes(&other_bytes),
            curve: Curve::Bls12_381,
            bytes: other_bytes,
        };
        store.save("acme", &other).expect("saved");
        std::fs::write(&path, [9, 9]).expect("tamper");
        let loaded = store
            .registered_by(&["demo".into(), "acme".into()])
            .expect("a tampered key is skipped, not fatal");
        assert_eq!(loaded.keys.len(), 1);
        assert_eq!(loaded.keys[0].0.id, other.id);
        assert_eq!(loaded.keys[0].1, vec!["acme".to_owned()]);
        assert_eq!(loaded.unreadable.len(), 1);
        assert_eq!(loaded.unreadable[0].path, path.display().to_string());
        assert!(
            loaded.unreadable[0].to_string().contains("do not hash"),
            "{}",
            loaded.unreadable[0]
        );
    }
}
