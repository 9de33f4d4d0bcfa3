//! The development PKI made on first start: a CA, the server's certificate, and the demo
//! tenant's client certificate. A tenant's identity is a URI SAN `urn:trust-fabric:tenant:<id>`
//! (and its common name), so the server reads it from the certificate, never from a request.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

use super::files::{write_private, write_public};
use super::{StateError, layout};

/// The tenant whose client certificate is made for demos and first steps.
pub const DEMO_TENANT: &str = "demo";

/// Prefix of the URI SAN that names a tenant in a client certificate.
pub const TENANT_URI_PREFIX: &str = "urn:trust-fabric:tenant:";

/// Generates and writes the CA, server and demo client certificates and keys.
pub fn generate(root: &Path, server_names: &[String]) -> Result<(), StateError> {
    let ca_key = KeyPair::generate().map_err(pki)?;
    let ca = ca_params()?.self_signed(&ca_key).map_err(pki)?;

    let server_key = KeyPair::generate().map_err(pki)?;
    let mut server_params = CertificateParams::new(server_names.to_vec()).map_err(pki)?;
    server_params.distinguished_name = name("Trust Fabric appliance");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = server_params
        .signed_by(&server_key, &ca, &ca_key)
        .map_err(pki)?;

    write_public(&root.join(layout::CA_CERT), ca.pem().as_bytes())?;
    write_private(
        &root.join(layout::CA_KEY),
        ca_key.serialize_pem().as_bytes(),
    )?;
    write_public(&root.join(layout::SERVER_CERT), server.pem().as_bytes())?;
    write_private(
        &root.join(layout::SERVER_KEY),
        server_key.serialize_pem().as_bytes(),
    )?;
    write_tenant(root, DEMO_TENANT, &ca, &ca_key)
}

/// Issues a client certificate for a tenant with the state directory's CA, written to
/// `tenants/<id>/client.pem` and `client.key`.
pub fn issue_tenant(root: &Path, tenant: &str) -> Result<(), StateError> {
    let ca_key = read_ca_key(root)?;
    // Signing needs the issuer's name and key, not its original certificate: the same name and
    // key give an issuer that the CA certificate in ca.pem verifies.
    let ca = ca_params()?.self_signed(&ca_key).map_err(pki)?;
    write_tenant(root, tenant, &ca, &ca_key)
}

/// The CA's private key from the state directory at `root`.
pub(crate) fn read_ca_key(root: &Path) -> Result<KeyPair, StateError> {
    let path = root.join(layout::CA_KEY);
    let pem = std::fs::read_to_string(&path).map_err(|source| StateError::Io {
        path: path.display().to_string(),
        source,
    })?;
    KeyPair::from_pem(&pem).map_err(|e| StateError::Corrupt {
        path: path.display().to_string(),
        problem: format!("not a PEM private key: {e}"),
    })
}

/// The client certificate and key paths of a tenant, relative to the state directory.
pub fn tenant_files(tenant: &str) -> (String, String) {
    (
        format!("tenants/{tenant}/client.pem"),
        format!("tenants/{tenant}/client.key"),
    )
}

pub(crate) fn ca_params() -> Result<CertificateParams, StateError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(pki)?;
    params.distinguished_name = name("Trust Fabric development CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn write_tenant(
    root: &Path,
    tenant: &str,
    ca: &rcgen::Certificate,
    ca_key: &KeyPair,
) -> Result<(), StateError> {
    let client_key = KeyPair::generate().map_err(pki)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(pki)?;
    params.distinguished_name = name(tenant);
    let uri = format!("{TENANT_URI_PREFIX}{tenant}");
    params.subject_alt_names = vec![SanType::URI(uri.as_str().try_into().map_err(pki)?)];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = params.signed_by(&client_key, ca, ca_key).map_err(pki)?;
    let (cert_path, key_path) = tenant_files(tenant);
    write_public(&root.join(cert_path), client.pem().as_bytes())?;
    write_private(&root.join(key_path), client_key.serialize_pem().as_bytes())
}

pub(crate) fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

fn pki(error: impl std::fmt::Display) -> StateError {
    StateError::Pki(error.to_string())
}
