//! The folder an onboarded partner's identity lives in, as `partner onboard` writes it: the
//! private key made here (`client.key`, written first, readable by its owner only), then on
//! success the certificate (`client.pem`), the appliance's CA (`ca.pem`) and a `partner.toml`
//! naming them, which every other command reads with `--state-dir`.

use std::io::Write;
use std::path::{Path, PathBuf};

use rustls::pki_types::CertificateDer;
use tf_wire::Onboarded;

use crate::config::local;
use crate::{
    ApplianceAddress, ClientKey, PARTNER_FILE, PartnerError, PartnerFile, certificate_pem,
};

/// The private key's file name.
pub const KEY_FILE: &str = "client.key";
/// The client certificate's file name.
pub const CERTIFICATE_FILE: &str = "client.pem";
/// The CA certificate's file name.
pub const CA_FILE: &str = "ca.pem";

/// A folder holding a private key made here, waiting for its certificate.
#[derive(Debug)]
pub struct IdentityDir {
    dir: PathBuf,
    /// Whether the folder was made for this key (and goes with it when it is discarded).
    made: bool,
}

impl IdentityDir {
    /// Writes `key`'s private key into `dir` (made if missing), readable by its owner only.
    /// Refuses a folder that holds a `client.key` or a `partner.toml` already: nothing is
    /// overwritten.
    pub fn create(dir: &Path, key: &ClientKey) -> Result<Self, PartnerError> {
        for taken in [KEY_FILE, PARTNER_FILE] {
            let path = dir.join(taken);
            if path.exists() {
                return Err(local(
                    &path,
                    "exists already: this folder holds an identity, and nothing in it is \
                     overwritten; choose another folder (--out DIR)",
                ));
            }
        }
        let made = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| local(dir, e))?;
        let identity = IdentityDir {
            dir: dir.to_owned(),
            made,
        };
        let path = identity.key();
        let written = private_file(&path).and_then(|mut file| {
            file.write_all(key.private_key_pem().as_bytes())?;
            file.sync_all()
        });
        if let Err(e) = written {
            identity.discard();
            return Err(local(&path, e));
        }
        Ok(identity)
    }

    /// Removes the key, and the folder when it was made for it and holds nothing else: what a
    /// refused onboarding leaves behind is nothing.
    pub fn discard(self) {
        // A key that cannot be removed is reported by the next attempt, which refuses the
        // folder.
        let _ = std::fs::remove_file(self.key());
        if self.made {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }

    /// Writes what the appliance answered beside the key: the certificate, the CA and, last, a
    /// `partner.toml` for `address` and `server_name` naming the three files and the
    /// appliance's receipt and log keys. Returns the `partner.toml` path.
    pub fn complete(
        &self,
        address: &ApplianceAddress,
        server_name: &str,
        onboarded: &Onboarded,
        ca: &CertificateDer<'_>,
    ) -> Result<PathBuf, PartnerError> {
        let file = PartnerFile {
            address: address.clone(),
            server_name: server_name.to_owned(),
            ca: CA_FILE.into(),
            certificate: CERTIFICATE_FILE.into(),
            key: KEY_FILE.into(),
            receipt_public_key: Some(hex::encode(onboarded.receipt_public_key)),
            log_key: (!onboarded.log_key.trim().is_empty())
                .then(|| onboarded.log_key.trim().to_owned()),
        };
        let text = file.to_toml()?;
        for (path, contents) in [
            (self.certificate(), certificate_pem(&onboarded.certificate)),
            (self.ca(), certificate_pem(ca)),
            (self.config(), text),
        ] {
            std::fs::write(&path, contents).map_err(|e| local(&path, e))?;
        }
        Ok(self.config())
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The private key's path.
    pub fn key(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    /// The client certificate's path.
    pub fn certificate(&self) -> PathBuf {
        self.dir.join(CERTIFICATE_FILE)
    }

    /// The CA certificate's path.
    pub fn ca(&self) -> PathBuf {
        self.dir.join(CA_FILE)
    }

    /// The `partner.toml` path.
    pub fn config(&self) -> PathBuf {
        self.dir.join(PARTNER_FILE)
    }
}

/// A new file only its owner can read.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use rcgen::{ExtendedKeyUsagePurpose, KeyPair};
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;

    use super::*;
    use crate::PartnerConfig;
    use crate::test_pki::TestCa;

    /// What an appliance would answer for `key`, and its CA.
    fn answer(key: &ClientKey, log_key: &str) -> (Onboarded, CertificateDer<'static>) {
        let ca = TestCa::new();
        let key = KeyPair::from_pem(&key.private_key_pem()).expect("the key reads back");
        let certificate = ca.issue(&key, ExtendedKeyUsagePurpose::ClientAuth);
        let onboarded = Onboarded {
            log_key: log_key.into(),
            ..ca.onboarded(1, "initech", certificate)
        };
        (onboarded, ca.der())
    }

    #[test]
    fn the_folder_written_is_one_every_command_reads() {
        let root = tempfile::tempdir().expect("dir");
        let dir = root.path().join("partner-initech");
        let key = ClientKey::generate("initech").expect("key");
        let identity = IdentityDir::create(&dir, &key).expect("key written");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(identity.key())
                .expect("key")
                .permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
        let vkey = tf_tlog::NoteSigner::new("appliance.test/log", &[9; 32])
            .expect("signer")
            .vkey();
        let (onboarded, ca) = answer(&key, &format!("{vkey}\n"));
        let address: ApplianceAddress = "appliance.test:4433".parse().expect("address");
        let config_path = identity
            .complete(&address, "appliance.test", &onboarded, &ca)
            .expect("written");
        assert_eq!(config_path, dir.join("partner.toml"));

        let config = PartnerConfig::from_state_dir(&dir).expect("reads");
        assert_eq!(config.address, address);
        assert_eq!(config.server_name, "appliance.test");
        assert_eq!(config.receipt_public_key, Some([7; 32]));
        assert_eq!(config.identity.ca, vec![ca]);
        assert_eq!(
            config.identity.certificate[0].as_ref(),
            onboarded.certificate
        );
        let written = PrivateKeyDer::from_pem_slice(key.private_key_pem().as_bytes()).expect("pem");
        assert_eq!(config.identity.key.secret_der(), written.secret_der());
        assert_eq!(
            PartnerConfig::log_key_from_state_dir(&dir).expect("reads"),
            Some(vkey)
        );
        // The identity makes a TLS client: the certificate is for the key.
        rustls::ClientConfig::builder_with_provider(
            rustls::crypto::ring::default_provider().into(),
        )
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_client_auth_cert(config.identity.certificate, config.identity.key)
        .expect("a usable identity");

        // Once written, the folder is not written again.
        let again = IdentityDir::create(&dir, &ClientKey::generate("initech").expect("key"))
            .expect_err("refused");
        assert!(again.to_string().contains("client.key"), "{again}");
    }

    #[test]
    fn a_discarded_key_leaves_nothing_behind_and_an_appliance_without_a_log_writes_no_log_key() {
        let root = tempfile::tempdir().expect("dir");
        let dir = root.path().join("partner-initech");
        let key = ClientKey::generate("initech").expect("key");
        IdentityDir::create(&dir, &key).expect("written").discard();
        assert!(!dir.exists(), "the folder made for the key goes with it");

        // A folder that was there stays, emptied of the key.
        IdentityDir::create(root.path(), &key)
            .expect("written")
            .discard();
        assert!(root.path().exists() && !root.path().join(KEY_FILE).exists());

        let identity = IdentityDir::create(&dir, &key).expect("written");
        let (onboarded, ca) = answer(&key, "");
        let address: ApplianceAddress = "[::1]:4433".parse().expect("address");
        identity
            .complete(&address, "localhost", &onboarded, &ca)
            .expect("written");
        let text = std::fs::read_to_string(identity.config()).expect("written");
        assert!(!text.contains("log_key"), "{text}");
        assert!(text.contains("address = \"[::1]:4433\""), "{text}");
        assert_eq!(
            PartnerConfig::log_key_from_state_dir(&dir).expect("reads"),
            None
        );
        // A partner.toml alone (an appliance's state directory) is not written over either.
        std::fs::remove_file(identity.key()).expect("removed");
        let error = IdentityDir::create(&dir, &key).expect_err("refused");
        assert!(error.to_string().contains("partner.toml"), "{error}");
    }
}
