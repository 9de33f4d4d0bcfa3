//! The appliance's state directory: where it keeps its development PKI and receipt key, created
//! on first start and reused after. Keys are written owner-only and atomically; an incomplete
//! directory is refused rather than silently regenerated (that would change the appliance's
//! identity and its receipt key).

mod access;
mod certify;
mod files;
mod keystore;
mod pki;

use std::path::{Path, PathBuf};

use tf_receipts::ReceiptSigner;

pub use access::{Exposure, Exposures, check_private, exposures, is_private};
pub use certify::{CsrRefused, PartnerCertifier};
pub use files::{write_private as write_private_file, write_public as write_public_file};
pub use keystore::{KeyStore, Loaded, StoredKey, UnreadableKey};
pub use pki::{DEMO_TENANT, TENANT_URI_PREFIX, tenant_files};

/// Default state directory, relative to the working directory.
const DEFAULT_DIR: &str = "appliance-state";

/// Names the development server certificate is valid for.
pub fn server_names() -> Vec<String> {
    ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec()
}

/// Files the state directory holds, relative to its root.
pub mod layout {
    /// The development CA certificate (issuer of server and tenant certificates).
    pub const CA_CERT: &str = "ca.pem";
    /// The development CA's private key.
    pub const CA_KEY: &str = "ca.key";
    /// The server's certificate.
    pub const SERVER_CERT: &str = "server.pem";
    /// The server's private key.
    pub const SERVER_KEY: &str = "server.key";
    /// The Ed25519 secret key that signs receipts (64 hex digits).
    pub const RECEIPT_KEY: &str = "receipt.key";
    /// The demo tenant's client certificate.
    pub const DEMO_CLIENT_CERT: &str = "tenants/demo/client.pem";
    /// The demo tenant's private key.
    pub const DEMO_CLIENT_KEY: &str = "tenants/demo/client.key";
    /// The ledger (SQLite, WAL): every receipt with its budget charge. Not in `ALL`: it is
    /// created by the first `serve`, and its absence is not an incomplete state directory.
    pub const LEDGER: &str = "ledger.sqlite";
    /// The development bundle author's Ed25519 secret key (64 hex digits), trusted when the
    /// configuration lists no `trusted_authors`. Not in `ALL`: created when first needed.
    pub const DEV_AUTHOR_KEY: &str = "bundle-author.key";
    /// The Ed25519 secret key (64 hex digits) that signs the transparency log's checkpoints.
    /// Not in `ALL`: created when the log first starts.
    pub const LOG_KEY: &str = "log.key";
    /// The transparency log's tiles and latest checkpoint. Not in `ALL`: created with the
    /// log.
    pub const LOG_DIR: &str = "log";
    /// The Ed25519 secret key (64 hex digits) that signs webhook messages (`v1a`). Not in
    /// `ALL`: created when the webhook outbox first starts.
    pub const WEBHOOK_KEY: &str = "webhook.key";
    /// Each webhook endpoint's `whsec_` secrets (`<id>.secrets`). Not in `ALL`: created with
    /// the first endpoint.
    pub const WEBHOOK_SECRETS_DIR: &str = "webhooks";
    /// Compliance snapshots, unless `[compliance] dir` names another folder. Not in `ALL`:
    /// created when the compliance worker first starts.
    pub const COMPLIANCE_DIR: &str = "compliance";
    /// The decision log (SQLite, WAL): every admission decision in compact blocks, for drift
    /// replay. Not in `ALL`: created by the first `serve` that records decisions.
    pub const DECISIONS: &str = "decisions.sqlite";

    /// Every file, in creation order.
    pub const ALL: [&str; 7] = [
        CA_CERT,
        CA_KEY,
        SERVER_CERT,
        SERVER_KEY,
        RECEIPT_KEY,
        DEMO_CLIENT_CERT,
        DEMO_CLIENT_KEY,
    ];
}

/// Why the state directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Some files exist and others do not.
    #[error(
        "{root}: the state directory is incomplete (missing {missing}); restore it from a backup, \
         or move it aside to start over with a new identity and receipt key"
    )]
    Incomplete {
        /// The directory.
        root: String,
        /// The first missing file.
        missing: String,
    },
    /// There is no state directory here.
    #[error(
        "{root}: no state directory here; run `appliance init` (or `appliance serve`) to create one"
    )]
    NotFound {
        /// The directory looked for.
        root: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file's content is not what it should be.
    #[error("{path}: {problem}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// Others could read or change the directory's keys or ledger, or another user owns
    /// them: refused rather than used.
    #[error(
        "{root}: the state directory must be readable and writable by the appliance's user \
         alone (its keys sign receipts and issue tenant certificates):{exposures}"
    )]
    Exposed {
        /// The directory.
        root: String,
        /// What is exposed, each with the command that fixes it.
        exposures: Exposures,
    },
    /// Certificate generation failed.
    #[error("generating the development certificates failed: {0}")]
    Pki(String),
}

/// An opened state directory.
#[derive(Debug)]
pub struct State {
    root: PathBuf,
    /// Whether this call created it.
    pub created: bool,
}

impl State {
    /// Chooses the directory: the flag, else `$STATE_DIRECTORY` (set by systemd's
    /// `StateDirectory=`), else `./appliance-state`.
    pub fn resolve(flag: Option<PathBuf>) -> PathBuf {
        flag.or_else(|| std::env::var_os("STATE_DIRECTORY").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR))
    }

    /// Opens the directory, creating the PKI and receipt key if it is empty or absent.
    /// Refuses one that others could read or change ([`StateError::Exposed`]).
    pub fn open_or_init(root: &Path, server_names: &[String]) -> Result<State, StateError> {
        let present: Vec<bool> = layout::ALL.iter().map(|f| root.join(f).exists()).collect();
        if present.iter().all(|p| *p) {
            access::check_private(root)?;
            return Ok(State {
                root: root.to_owned(),
                created: false,
            });
        }
        if let Some(i) = present
            .iter()
            .position(|p| !p)
            .filter(|_| present.iter().any(|p| *p))
        {
            return Err(StateError::Incomplete {
                root: root.display().to_string(),
                missing: layout::ALL[i].to_owned(),
            });
        }
        files::create_private_dir(root)?;
        files::restrict_if_empty(root)?;
        access::check_private(root)?;
        pki::generate(root, server_names)?;
        let signer = ReceiptSigner::generate(&mut rand_core::OsRng);
        files::write_private(
            &root.join(layout::RECEIPT_KEY),
            hex::encode(signer.secret_bytes()).as_bytes(),
        )?;
        Ok(State {
            root: root.to_owned(),
            created: true,
        })
    }

    /// Opens an existing, complete directory without creating anything. Refuses one that
    /// others could read or change ([`StateError::Exposed`]).
    pub fn open_existing(root: &Path) -> Result<State, StateError> {
        if !root.is_dir() {
            return Err(StateError::NotFound {
                root: root.display().to_string(),
            });
        }
        access::check_private(root)?;
        match layout::ALL.iter().find(|f| !root.join(f).exists()) {
            None => Ok(State {
                root: root.to_owned(),
                created: false,
            }),
            Some(missing) => Err(StateError::Incomplete {
                root: root.display().to_string(),
                missing: (*missing).to_owned(),
            }),
        }
    }

    /// Issues a client certificate for a tenant with this directory's CA; returns the
    /// certificate and key paths.
    pub fn issue_tenant(&self, tenant: &str) -> Result<(PathBuf, PathBuf), StateError> {
        pki::issue_tenant(&self.root, tenant)?;
        let (cert, key) = pki::tenant_files(tenant);
        Ok((self.path(&cert), self.path(&key)))
    }

    /// What signs partners' certificates when they onboard: this directory's CA.
    pub fn partner_certifier(&self) -> Result<PartnerCertifier, StateError> {
        PartnerCertifier::open(&self.root)
    }

    /// A file's path.
    pub fn path(&self, file: &str) -> PathBuf {
        self.root.join(file)
    }

    /// The development bundle author key, created on first use (owner-only).
    pub fn dev_author(&self) -> Result<tf_bundles::AuthorKey, StateError> {
        let path = self.path(layout::DEV_AUTHOR_KEY);
        if !path.exists() {
            let key = tf_bundles::AuthorKey::generate(&mut rand_core::OsRng);
            files::write_private(&path, key.secret_hex().as_bytes())?;
        }
        tf_bundles::AuthorKey::read(&path).map_err(|problem| StateError::Corrupt {
            path: path.display().to_string(),
            problem,
        })
    }

    /// The transparency log's Ed25519 secret key from `log.key`, created on first use
    /// (owner-only). It is not the receipt key: a log key can be rotated with a new log.
    pub fn log_secret(&self) -> Result<[u8; 32], StateError> {
        self.secret_created_on_first_use(layout::LOG_KEY)
    }

    /// The webhook signing key's secret from `webhook.key`, created on first use
    /// (owner-only). Its own key: receivers trust it for webhooks only, and it can be
    /// rotated without touching receipts or the log.
    pub fn webhook_secret(&self) -> Result<[u8; 32], StateError> {
        self.secret_created_on_first_use(layout::WEBHOOK_KEY)
    }

    fn secret_created_on_first_use(&self, file: &str) -> Result<[u8; 32], StateError> {
        let path = self.path(file);
        if !path.exists() {
            let mut secret = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
            files::write_private(&path, hex::encode(secret).as_bytes())?;
        }
        read_secret(&path)
    }

    /// The receipt signer from `receipt.key`.
    pub fn receipt_signer(&self) -> Result<ReceiptSigner, StateError> {
        let secret = read_secret(&self.path(layout::RECEIPT_KEY))?;
        Ok(ReceiptSigner::from_secret(&secret))
    }
}

/// An Ed25519 secret key stored as 64 hex digits.
fn read_secret(path: &Path) -> Result<[u8; 32], StateError> {
    let text = files::read_to_string(path)?;
    let mut secret = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut secret).map_err(|_| StateError::Corrupt {
        path: path.display().to_string(),
        problem: "expected 64 hex digits (an Ed25519 secret key)".into(),
    })?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn names() -> Vec<String> {
        vec!["localhost".into(), "127.0.0.1".into()]
    }

    #[test]
    fn first_open_creates_everything_and_later_opens_reuse_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("state");
        let first = State::open_or_init(&root, &names()).expect("created");
        assert!(first.created);
        for file in layout::ALL {
            assert!(root.join(file).is_file(), "{file}");
        }
        for key in [
            layout::CA_KEY,
            layout::SERVER_KEY,
            layout::RECEIPT_KEY,
            layout::DEMO_CLIENT_KEY,
        ] {
            let mode = std::fs::metadata(root.join(key))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key} must be owner-only");
        }
        let key = first.receipt_signer().expect("key").public_key();
        let second = State::open_or_init(&root, &names()).expect("reopened");
        assert!(!second.created);
        assert_eq!(
            second.receipt_signer().expect("key").public_key(),
            key,
            "same receipt key"
        );
    }

    #[test]
    fn an_incomplete_directory_is_refused_not_regenerated() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("state");
        State::open_or_init(&root, &names()).expect("created");
        std::fs::remove_file(root.join(layout::SERVER_KEY)).expect("remove");
        let err = State::open_or_init(&root, &names()).expect_err("incomplete");
        assert!(err.to_string().contains("missing server.key"), "{err}");
        assert!(State::open_existing(&root).is_err());
        let absent = State::open_existing(&dir.path().join("absent")).expect_err("absent");
        assert!(
            absent.to_string().contains("no state directory here"),
            "{absent}"
        );
    }

    #[test]
    fn a_corrupt_receipt_key_is_reported_with_its_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = State::open_or_init(dir.path(), &names()).expect("created");
        std::fs::write(state.path(layout::RECEIPT_KEY), "not hex").expect("write");
        let err = state.receipt_signer().expect_err("corrupt");
        assert!(
            err.to_string()
                .contains("receipt.key: expected 64 hex digits"),
            "{err}"
        );
    }
}
