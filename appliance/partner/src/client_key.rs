//! A partner's own key pair and the certificate signing request over it, made on this machine:
//! the private key never leaves it. Only the request (the public key, signed with the private
//! one) goes to the appliance, which answers with a certificate for it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{CertificateParams, DnType, KeyPair};

use crate::PartnerError;

/// An ECDSA P-256 key pair made here, and a PKCS#10 certificate signing request over it.
pub struct ClientKey {
    key_pair: KeyPair,
    request: Vec<u8>,
}

impl ClientKey {
    /// A fresh key pair (from the operating system's random numbers) and a request over it
    /// naming `tenant` as its common name. The appliance names the certificate itself; the
    /// name in the request is for people reading it.
    pub fn generate(tenant: &str) -> Result<Self, PartnerError> {
        let failed = |e: rcgen::Error| PartnerError::Local {
            path: "key pair".into(),
            problem: format!("making the key pair and its certificate request failed: {e}"),
        };
        let key_pair = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        params.distinguished_name.push(DnType::CommonName, tenant);
        let request = params.serialize_request(&key_pair).map_err(failed)?;
        Ok(ClientKey {
            request: request.der().to_vec(),
            key_pair,
        })
    }

    /// The private key as PEM (PKCS#8, `PRIVATE KEY`), as `partner.toml`'s `key` file holds
    /// it.
    pub fn private_key_pem(&self) -> String {
        self.key_pair.serialize_pem()
    }

    /// The certificate signing request, DER, as [`crate::onboard`] sends it.
    pub fn request_der(&self) -> &[u8] {
        &self.request
    }

    /// The public key as a SubjectPublicKeyInfo, DER.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.key_pair.public_key_der()
    }
}

/// The private key stays out of logs and panics.
impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientKey")
            .field("request_bytes", &self.request.len())
            .finish_non_exhaustive()
    }
}

/// A certificate (DER) as PEM, 64 base64 characters a line (RFC 7468).
pub fn certificate_pem(der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let mut pem = String::with_capacity(base64.len() + base64.len() / 64 + 60);
    pem.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in base64.as_bytes().chunks(64) {
        // Base64 is ASCII.
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, CertificateSigningRequestDer, PrivateKeyDer, alg_id};

    use super::*;

    /// One DER element at the start of `bytes`: its tag, and its header and content lengths.
    fn element(bytes: &[u8]) -> (u8, usize, usize) {
        let (tag, first) = (bytes[0], bytes[1]);
        if first < 0x80 {
            return (tag, 2, usize::from(first));
        }
        let count = usize::from(first & 0x7f);
        let length = bytes[2..2 + count]
            .iter()
            .fold(0usize, |length, &b| (length << 8) | usize::from(b));
        (tag, 2 + count, length)
    }

    /// The elements of a DER SEQUENCE's content, each whole (header included).
    fn elements(mut content: &[u8]) -> Vec<&[u8]> {
        let mut found = Vec::new();
        while !content.is_empty() {
            let (_, header, length) = element(content);
            found.push(&content[..header + length]);
            content = &content[header + length..];
        }
        found
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    }

    #[test]
    fn the_request_is_signed_by_the_key_made_here_and_names_its_public_key_and_tenant() {
        let key = ClientKey::generate("initech").expect("made");
        let der = key.request_der();
        let request = CertificateSigningRequestDer::from(der);
        assert_eq!(request.as_ref(), der);

        // CertificationRequest ::= SEQUENCE { info, signatureAlgorithm, signature BIT STRING }
        let (tag, header, length) = element(der);
        assert_eq!((tag, header + length), (0x30, der.len()), "one SEQUENCE");
        let parts = elements(&der[header..]);
        let [info, algorithm, signature] = parts[..] else {
            panic!("three parts: {parts:?}");
        };
        assert!(contains(info, &key.public_key_der()), "its public key");
        assert!(contains(info, b"initech"), "its tenant");
        let (_, header, _) = element(algorithm);
        assert_eq!(&algorithm[header..], alg_id::ECDSA_SHA256.as_ref());
        let (tag, header, _) = element(signature);
        assert_eq!((tag, signature[header]), (0x03, 0), "a BIT STRING");
        let signature = &signature[header + 1..];

        let provider = rustls::crypto::ring::default_provider();
        let ecdsa = provider
            .signature_verification_algorithms
            .all
            .iter()
            .find(|a| {
                a.public_key_alg_id() == alg_id::ECDSA_P256
                    && a.signature_alg_id() == alg_id::ECDSA_SHA256
            })
            .expect("ECDSA P-256 with SHA-256");
        let public_key = key.key_pair.public_key_raw();
        ecdsa
            .verify_signature(public_key, info, signature)
            .expect("signed by the key made here");
        let mut altered = info.to_vec();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(
            ecdsa
                .verify_signature(public_key, &altered, signature)
                .is_err()
        );
    }

    #[test]
    fn the_private_key_is_pkcs8_pem_that_the_config_loader_reads_and_debug_hides() {
        let key = ClientKey::generate("initech").expect("made");
        let pem = key.private_key_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
        let read = PrivateKeyDer::from_pem_slice(pem.as_bytes()).expect("reads");
        assert!(matches!(read, PrivateKeyDer::Pkcs8(_)));
        assert!(!format!("{key:?}").contains(&pem[30..60]));
        assert_ne!(
            ClientKey::generate("initech")
                .expect("made")
                .public_key_der(),
            key.public_key_der(),
            "a fresh key each time"
        );
    }

    #[test]
    fn a_certificate_reads_back_from_its_pem() {
        for length in [0, 1, 48, 49, 700] {
            let der: Vec<u8> = (0..length).map(|i| (i * 7) as u8).collect();
            let pem = certificate_pem(&der);
            assert!(pem.lines().all(|line| line.len() <= 64), "{pem}");
            if length > 0 {
                let read = CertificateDer::from_pem_slice(pem.as_bytes()).expect("reads");
                assert_eq!(read.as_ref(), der.as_slice());
            }
        }
    }
}
