//! Who a connection's client certificate says it is: the leaf's URI name
//! `urn:trust-fabric:tenant:<id>`, looked up in the tenant table.

use rustls::pki_types::CertificateDer;
use tf_seam::TenantTable;
use tf_shard::TenantSlot;
use tf_state::TENANT_URI_PREFIX;
use tf_wire::close_code;

/// Why a client certificate does not identify a tenant we serve.
#[derive(Debug, PartialEq, Eq)]
pub struct NotATenant {
    /// The QUIC close code to send.
    pub code: u32,
    /// The reason to send with it (and log).
    pub reason: String,
}

/// The tenant a verified client certificate chain names. The chain was already verified against
/// the CA by TLS.
pub fn identify(
    tenants: &TenantTable,
    chain: &[CertificateDer<'_>],
) -> Result<TenantSlot, NotATenant> {
    let no_identity = |why: &str| NotATenant {
        code: close_code::NO_TENANT_IDENTITY,
        reason: format!("the client certificate names no tenant: {why}"),
    };
    let leaf = chain
        .first()
        .ok_or_else(|| no_identity("no certificate was presented"))?;
    let cert = webpki::EndEntityCert::try_from(leaf)
        .map_err(|_| no_identity("the certificate does not parse"))?;
    let mut names = cert
        .valid_uri_names()
        .filter_map(|uri| uri.strip_prefix(TENANT_URI_PREFIX));
    let id = names
        .next()
        .ok_or_else(|| no_identity(&format!("it has no {TENANT_URI_PREFIX}<id> URI name")))?;
    if names.next().is_some() {
        return Err(no_identity("it names more than one tenant"));
    }
    let slot = tenants.slot(id).ok_or_else(|| NotATenant {
        code: close_code::UNKNOWN_TENANT,
        reason: format!("tenant {id:?} is not configured on this appliance"),
    })?;
    if !tenants.is_listed(slot) {
        return Err(removed(id));
    }
    Ok(slot)
}

/// Why a tenant the policy in force dropped is refused (and its connections closed).
pub fn removed(id: &str) -> NotATenant {
    NotATenant {
        code: close_code::TENANT_REMOVED,
        reason: format!("tenant {id:?} is no longer listed by the policy bundle in force"),
    }
}

#[cfg(test)]
mod tests {
    use tf_config::TenantConfig;

    use super::*;

    /// A leaf certificate with these URI names (the chain's CA is not checked here: TLS did).
    fn leaf(uris: &[&str]) -> Vec<CertificateDer<'static>> {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(vec!["partner".to_owned()]).expect("params");
        params.subject_alt_names.extend(
            uris.iter()
                .map(|u| rcgen::SanType::URI((*u).try_into().expect("uri"))),
        );
        vec![params.self_signed(&key).expect("signs").der().clone()]
    }

    fn table(ids: &[&str]) -> TenantTable {
        let tenants: Vec<TenantConfig> = ids
            .iter()
            .map(|id| TenantConfig {
                id: (*id).to_owned(),
                ..TenantConfig::demo()
            })
            .collect();
        TenantTable::new(&tenants, 2)
    }

    fn code(result: Result<TenantSlot, NotATenant>) -> u32 {
        result.expect_err("refused").code
    }

    #[test]
    fn a_certificate_names_exactly_one_tenant_the_policy_in_force_lists() {
        let tenants = table(&["demo", "acme"]);
        let uri = |id: &str| format!("{TENANT_URI_PREFIX}{id}");
        assert_eq!(
            identify(&tenants, &leaf(&[&uri("acme")])),
            Ok(TenantSlot(1))
        );
        assert_eq!(
            code(identify(&tenants, &[])),
            close_code::NO_TENANT_IDENTITY
        );
        assert_eq!(
            code(identify(&tenants, &leaf(&["https://example.com"]))),
            close_code::NO_TENANT_IDENTITY
        );
        assert_eq!(
            code(identify(&tenants, &leaf(&[&uri("demo"), &uri("acme")]))),
            close_code::NO_TENANT_IDENTITY,
            "two tenants in one certificate"
        );
        assert_eq!(
            code(identify(&tenants, &leaf(&[&uri("ghost")]))),
            close_code::UNKNOWN_TENANT
        );
        // A bundle listing only demo: acme keeps its slot and is refused as removed.
        let relisted = tenants.relisted(&[TenantConfig::demo()]);
        assert_eq!(
            code(identify(&relisted, &leaf(&[&uri("acme")]))),
            close_code::TENANT_REMOVED
        );
        assert_eq!(
            identify(&relisted, &leaf(&[&uri("demo")])),
            Ok(TenantSlot(0))
        );
    }
}
