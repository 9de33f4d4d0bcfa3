//! Certificates for unit tests: a CA as an appliance keeps one, and what it issues.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;
use tf_wire::Onboarded;

/// A fresh CA.
pub(crate) struct TestCa {
    certificate: rcgen::Certificate,
    key: KeyPair,
}

impl TestCa {
    /// Every test CA bears the same name, as an impostor's would.
    pub(crate) fn new() -> Self {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "Test appliance CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        TestCa {
            certificate: params.self_signed(&key).expect("CA"),
            key,
        }
    }

    /// The CA certificate, DER.
    pub(crate) fn der(&self) -> CertificateDer<'static> {
        self.certificate.der().clone()
    }

    /// A server certificate for the DNS `names`, and its key.
    pub(crate) fn server(&self, names: &[&str]) -> (CertificateDer<'static>, KeyPair) {
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|&name| name.to_owned()).collect();
        let certificate = CertificateParams::new(names)
            .expect("params")
            .signed_by(&key, &self.certificate, &self.key)
            .expect("server certificate");
        (certificate.der().clone(), key)
    }

    /// A certificate over `key` for `purpose` (client authentication, as the appliance issues).
    pub(crate) fn issue(
        &self,
        key: &KeyPair,
        purpose: ExtendedKeyUsagePurpose,
    ) -> CertificateDer<'static> {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.extended_key_usages = vec![purpose];
        let certificate = params
            .signed_by(key, &self.certificate, &self.key)
            .expect("certificate");
        certificate.der().clone()
    }

    /// The appliance's answer onboarding `tenant` with `certificate`, under this CA.
    pub(crate) fn onboarded(
        &self,
        request_id: u64,
        tenant: &str,
        certificate: CertificateDer<'_>,
    ) -> Onboarded {
        Onboarded {
            request_id,
            tenant: tenant.to_owned(),
            certificate: certificate.to_vec(),
            ca_certificate: self.der().to_vec(),
            receipt_public_key: [7; 32],
            log_key: String::new(),
            revision: 3,
        }
    }
}
