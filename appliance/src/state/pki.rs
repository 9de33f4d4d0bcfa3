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
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(pki)?;
    ca_params.distinguished_name = name("Trust Fabric development CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).map_err(pki)?;

    let server_key = KeyPair::generate().map_err(pki)?;
    let mut server_params = CertificateParams::new(server_names.to_vec()).map_err(pki)?;
    server_params.distinguished_name = name("Trust Fabric appliance");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = server_params
        .signed_by(&server_key, &ca, &ca_key)
        .map_err(pki)?;

    let client_key = KeyPair::generate().map_err(pki)?;
    let mut client_params = CertificateParams::new(Vec::<String>::new()).map_err(pki)?;
    client_params.distinguished_name = name(DEMO_TENANT);
    let uri = format!("{TENANT_URI_PREFIX}{DEMO_TENANT}");
    client_params.subject_alt_names = vec![SanType::URI(uri.as_str().try_into().map_err(pki)?)];
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = client_params
        .signed_by(&client_key, &ca, &ca_key)
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
    write_public(
        &root.join(layout::DEMO_CLIENT_CERT),
        client.pem().as_bytes(),
    )?;
    write_private(
        &root.join(layout::DEMO_CLIENT_KEY),
        client_key.serialize_pem().as_bytes(),
    )?;
    Ok(())
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

fn pki(error: impl std::fmt::Display) -> StateError {
    StateError::Pki(error.to_string())
}
