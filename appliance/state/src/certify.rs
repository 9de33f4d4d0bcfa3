//! Certifying a partner's own key: the partner made its key pair and sent a certificate signing
//! request; the appliance's CA signs a client certificate for the tenant. Only the request's
//! public key (and the signature proving the partner holds its private key) is used: the
//! appliance names the certificate, so a request cannot ask for another tenant, a server
//! certificate or a CA.

use std::path::Path;

use rcgen::{
    CertificateParams, CertificateSigningRequestParams, ExtendedKeyUsagePurpose, KeyPair, SanType,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateSigningRequestDer};
use time::OffsetDateTime;

use super::pki::{TENANT_URI_PREFIX, ca_params, name};
use super::{StateError, layout};

/// How long a partner's certificate is valid: a year, from an hour before it is signed (clocks
/// disagree).
const VALID_FOR: time::Duration = time::Duration::days(365);
const BACKDATED: time::Duration = time::Duration::hours(1);

/// Why a certificate request was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CsrRefused(String);

/// Signs partners' client certificates with the state directory's CA.
pub struct PartnerCertifier {
    ca: rcgen::Certificate,
    ca_key: KeyPair,
    ca_der: Vec<u8>,
}

impl std::fmt::Debug for PartnerCertifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerCertifier").finish_non_exhaustive()
    }
}

impl PartnerCertifier {
    /// Reads the CA's key and certificate from the state directory at `root`.
    pub fn open(root: &Path) -> Result<Self, StateError> {
        let ca_key = super::pki::read_ca_key(root)?;
        // Signing needs the issuer's name and key; the same name and key give an issuer that
        // the CA certificate in ca.pem verifies.
        let ca = ca_params()?
            .self_signed(&ca_key)
            .map_err(|e| StateError::Pki(e.to_string()))?;
        let path = root.join(layout::CA_CERT);
        let ca_der = CertificateDer::from_pem_file(&path)
            .map_err(|e| StateError::Corrupt {
                path: path.display().to_string(),
                problem: format!("not a PEM certificate: {e}"),
            })?
            .to_vec();
        Ok(PartnerCertifier { ca, ca_key, ca_der })
    }

    /// The CA certificate, DER, as partners trust it.
    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// A client certificate for `tenant` over the key of `csr` (DER), valid from `now_unix_s`
    /// for a year; DER. The request's signature must verify (the partner holds the key) and
    /// its key must be one TLS accepts.
    pub fn certify(
        &self,
        tenant: &str,
        csr: &[u8],
        now_unix_s: u64,
    ) -> Result<Vec<u8>, CsrRefused> {
        let request = CertificateSigningRequestDer::from(csr);
        let parsed = CertificateSigningRequestParams::from_der(&request).map_err(|e| {
            CsrRefused(format!(
                "the certificate signing request is not a valid, self-signed PKCS#10 request \
                 ({e}); let `partner onboard` make it"
            ))
        })?;
        let algorithm = parsed.public_key.algorithm();
        let accepted = [
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &rcgen::PKCS_ECDSA_P384_SHA384,
            &rcgen::PKCS_ED25519,
        ];
        if !accepted.contains(&algorithm) {
            return Err(CsrRefused(
                "the request's key is not ECDSA P-256, P-384 or Ed25519; make one of those".into(),
            ));
        }
        let uri = format!("{TENANT_URI_PREFIX}{tenant}");
        let mut params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| CsrRefused(e.to_string()))?;
        params.distinguished_name = name(tenant);
        params.subject_alt_names =
            vec![SanType::URI(uri.as_str().try_into().map_err(|_| {
                CsrRefused(format!("{tenant:?} is not a tenant name"))
            })?)];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let now = OffsetDateTime::from_unix_timestamp(now_unix_s as i64)
            .map_err(|e| CsrRefused(e.to_string()))?;
        params.not_before = now - BACKDATED;
        params.not_after = now + VALID_FOR;
        let certificate = params
            .signed_by(&parsed.public_key, &self.ca, &self.ca_key)
            .map_err(|e| CsrRefused(format!("signing the certificate failed: {e}")))?;
        Ok(certificate.der().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, KeyPair};

    use super::*;

    fn request(key: &KeyPair, common_name: &str) -> Vec<u8> {
        let mut params =
            CertificateParams::new(vec!["ignored.example".to_owned()]).expect("params");
        params.distinguished_name = name(common_name);
        params.serialize_request(key).expect("csr").der().to_vec()
    }

    #[test]
    fn a_request_is_certified_for_the_tenant_the_appliance_names_and_nothing_else() {
        let dir = tempfile::tempdir().expect("dir");
        crate::pki::generate(dir.path(), &["localhost".to_owned()]).expect("pki");
        let certifier = PartnerCertifier::open(dir.path()).expect("opens");
        let key = KeyPair::generate().expect("key");
        let der = certifier
            .certify("initech", &request(&key, "someone-else"), 1_800_000_000)
            .expect("certified");
        let der = CertificateDer::from(der);
        let cert = webpki::EndEntityCert::try_from(&der).expect("parses");
        let uris: Vec<&str> = cert.valid_uri_names().collect();
        assert_eq!(uris, [format!("{TENANT_URI_PREFIX}initech")]);
        assert!(
            der.windows(key.public_key_raw().len())
                .any(|w| w == key.public_key_raw()),
            "the partner's own key is certified"
        );
        // A request whose signature does not verify (one byte of it flipped) is refused.
        let mut forged = request(&key, "initech");
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert!(
            certifier
                .certify("initech", &forged, 1_800_000_000)
                .is_err()
        );
        assert!(certifier.certify("initech", b"\x30\x00", 1).is_err());
    }
}
