//! Trusting an appliance by the fingerprint of its CA, before having the CA: how a partner
//! onboarding with an invite knows it talks to the appliance that made the invite. The
//! appliance presents its CA after its own certificate; the CA whose SHA-256 starts with the
//! invite's fingerprint is then the only root the appliance's certificate is checked against.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, OtherError, SignatureScheme};
use sha2::{Digest, Sha256};

/// What a handshake fails with when the appliance presents no CA with the invite's
/// fingerprint.
pub const CA_NOT_PRESENTED: &str = "the appliance did not present the CA this invite names: \
     check the address, or ask the operator for a new invite";

/// A server certificate verifier that trusts only the CA, among those the server presents,
/// whose SHA-256 starts with a fingerprint: the server's certificate and name are checked
/// against that CA as the only root, as [`WebPkiServerVerifier`] checks them.
#[derive(Debug)]
pub struct PinnedCaVerifier {
    fingerprint: [u8; 16],
    provider: Arc<CryptoProvider>,
}

impl PinnedCaVerifier {
    /// A verifier for the CA whose SHA-256 (of its DER) starts with `fingerprint`, as an
    /// invite carries it.
    pub fn new(fingerprint: [u8; 16]) -> Self {
        PinnedCaVerifier {
            fingerprint,
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        }
    }

    fn algorithms(&self) -> &WebPkiSupportedAlgorithms {
        &self.provider.signature_verification_algorithms
    }
}

/// The first 16 bytes of the SHA-256 of a certificate's DER: how an invite names the
/// appliance's CA.
pub fn ca_fingerprint(certificate: &[u8]) -> [u8; 16] {
    let digest = Sha256::digest(certificate);
    let mut fingerprint = [0u8; 16];
    fingerprint.copy_from_slice(&digest[..16]);
    fingerprint
}

/// The certificate among `presented` with `fingerprint`, if any.
pub fn pinned_ca<'a, 'b>(
    fingerprint: &[u8; 16],
    presented: &'a [CertificateDer<'b>],
) -> Option<&'a CertificateDer<'b>> {
    presented
        .iter()
        .find(|certificate| ca_fingerprint(certificate) == *fingerprint)
}

impl ServerCertVerifier for PinnedCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let ca = pinned_ca(&self.fingerprint, intermediates).ok_or_else(|| {
            Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                CaNotPresented,
            ))))
        })?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.clone())?;
        let verifier = WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::clone(&self.provider),
        )
        .build()
        .map_err(|e| Error::General(e.to_string()))?;
        // The root is an anchor, not a link of the chain.
        let others: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .filter(|certificate| certificate.as_ref() != ca.as_ref())
            .cloned()
            .collect();
        verifier.verify_server_cert(end_entity, &others, server_name, ocsp_response, now)
    }

    // The handshake signatures are checked as `WebPkiServerVerifier` checks them: with the
    // same functions over the same algorithms (they do not depend on the roots).
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, self.algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, self.algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms().supported_schemes()
    }
}

/// Carried through the TLS error as text: its `Debug` form is the sentence itself, since
/// rustls prints the error in the handshake's failure with `{:?}`.
struct CaNotPresented;

impl std::fmt::Debug for CaNotPresented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Display for CaNotPresented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(CA_NOT_PRESENTED)
    }
}

impl std::error::Error for CaNotPresented {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_pki::TestCa;

    struct Pki {
        ca: CertificateDer<'static>,
        leaf: CertificateDer<'static>,
    }

    fn pki(names: &[&str]) -> Pki {
        let ca = TestCa::new();
        Pki {
            ca: ca.der(),
            leaf: ca.server(names).0,
        }
    }

    fn verify(
        fingerprint: [u8; 16],
        pki: &Pki,
        intermediates: &[CertificateDer<'static>],
        name: &str,
    ) -> Result<ServerCertVerified, Error> {
        let name = ServerName::try_from(name.to_owned()).expect("a name");
        PinnedCaVerifier::new(fingerprint).verify_server_cert(
            &pki.leaf,
            intermediates,
            &name,
            &[],
            UnixTime::now(),
        )
    }

    #[test]
    fn the_ca_the_invite_names_is_found_and_trusted_for_the_name_on_the_certificate() {
        let pki = pki(&["appliance.test"]);
        let fingerprint = ca_fingerprint(&pki.ca);
        assert_eq!(fingerprint[..], Sha256::digest(&pki.ca)[..16]);
        let chain = [pki.ca.clone()];
        verify(fingerprint, &pki, &chain, "appliance.test").expect("trusted");
        assert_eq!(pinned_ca(&fingerprint, &chain), Some(&pki.ca));
    }

    #[test]
    fn another_fingerprint_or_no_ca_presented_is_refused_saying_what_to_do() {
        let pki = pki(&["appliance.test"]);
        let mut wrong = ca_fingerprint(&pki.ca);
        wrong[0] ^= 1;
        for (fingerprint, chain) in [
            (wrong, vec![pki.ca.clone()]),
            (ca_fingerprint(&pki.ca), vec![]),
            // The appliance's own certificate is not a CA to pin, whatever its fingerprint.
            (ca_fingerprint(&pki.leaf), vec![]),
        ] {
            let error = verify(fingerprint, &pki, &chain, "appliance.test").expect_err("refused");
            assert!(
                error.to_string().contains(CA_NOT_PRESENTED),
                "{error}; {error:?}"
            );
        }
    }

    #[test]
    fn a_certificate_from_another_ca_than_the_pinned_one_is_refused() {
        let (pki, other) = (pki(&["appliance.test"]), pki(&["appliance.test"]));
        // The presented chain carries the pinned CA, but the leaf is another CA's.
        let spliced = Pki {
            ca: pki.ca.clone(),
            leaf: other.leaf.clone(),
        };
        let error = verify(
            ca_fingerprint(&pki.ca),
            &spliced,
            &[pki.ca.clone(), other.ca.clone()],
            "appliance.test",
        )
        .expect_err("refused");
        // Both CAs bear the same name, so the signature is what fails to check.
        assert!(
            matches!(
                error,
                Error::InvalidCertificate(
                    CertificateError::BadSignature | CertificateError::UnknownIssuer
                )
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_name_not_on_the_certificate_is_refused() {
        let pki = pki(&["appliance.test"]);
        let error = verify(
            ca_fingerprint(&pki.ca),
            &pki,
            std::slice::from_ref(&pki.ca),
            "elsewhere.test",
        )
        .expect_err("refused");
        assert!(
            matches!(
                error,
                Error::InvalidCertificate(
                    CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. }
                )
            ),
            "{error:?}"
        );
    }
}
