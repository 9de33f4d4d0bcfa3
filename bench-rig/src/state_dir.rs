//! The appliance's state directory as the rig reads it: `partner.toml` (where the appliance
//! listens; `appliance serve` writes it at each start), the CA certificate, and each tenant's
//! client certificate and key. It is checked before any work, so a wrong `--state-dir` is
//! reported with the file it lacks, not later as a TLS failure or a missing tenant.

use std::path::{Path, PathBuf};

use crate::spec::{SpecError, spec_error};

/// Written by `appliance serve` each time it starts: the address to connect to.
pub const PARTNER_FILE: &str = "partner.toml";
/// The CA that issued the appliance's server certificate and the tenants' certificates.
pub const CA: &str = "ca.pem";
/// The folder of the tenants' identities, one folder per tenant.
pub const TENANTS: &str = "tenants";

/// A tenant's client certificate.
pub fn client_certificate(dir: &Path, tenant: &str) -> PathBuf {
    dir.join(TENANTS).join(tenant).join("client.pem")
}

/// A tenant's client key.
pub fn client_key(dir: &Path, tenant: &str) -> PathBuf {
    dir.join(TENANTS).join(tenant).join("client.key")
}

/// The first of a tenant's certificate and key that `dir` lacks.
pub fn missing_client_file(dir: &Path, tenant: &str) -> Option<PathBuf> {
    [client_certificate(dir, tenant), client_key(dir, tenant)]
        .into_iter()
        .find(|file| !file.is_file())
}

/// Checks that `dir` is the state directory of an appliance that has been started, holding
/// an identity for each of `tenants`; the error names the directory and the missing file.
pub fn check(dir: &Path, tenants: &[String]) -> Result<(), SpecError> {
    let shown = dir.display();
    let what = format!("--state-dir {shown}");
    if !dir.is_dir() {
        let problem = if dir.exists() {
            "not a directory"
        } else {
            "no such directory"
        };
        return Err(spec_error(
            &what,
            format!(
                "{problem}; give the appliance's state directory (made by `appliance init`, \
                 ./appliance-state by default): the rig reads {PARTNER_FILE}, {CA} and \
                 {TENANTS}/NAME/ from it"
            ),
        ));
    }
    if !dir.join(CA).is_file() {
        return Err(spec_error(
            &what,
            format!(
                "not an appliance state directory: it has no {CA} (`appliance init` makes \
                 one; the rig reads {PARTNER_FILE}, {CA} and {TENANTS}/NAME/ from it)"
            ),
        ));
    }
    if !dir.join(PARTNER_FILE).is_file() {
        return Err(spec_error(
            &what,
            format!(
                "it has no {PARTNER_FILE}, so no appliance has been started on it \
                 (`appliance serve` writes it at each start, with the address to connect to)"
            ),
        ));
    }
    for tenant in tenants {
        if let Some(missing) = missing_client_file(dir, tenant) {
            return Err(spec_error(
                &what,
                format!(
                    "tenant {tenant} has no client identity here: {} is missing (`appliance \
                     tenants issue {tenant} --state-dir {shown}`)",
                    missing.display()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_missing_piece_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let gone = root.join("nowhere");
        let error = check(&gone, &[]).unwrap_err();
        assert_eq!(error.what, format!("--state-dir {}", gone.display()));
        assert!(error.problem.starts_with("no such directory"), "{error}");
        assert!(
            check(root, &[])
                .unwrap_err()
                .problem
                .contains("has no ca.pem")
        );
        std::fs::write(root.join(CA), "").unwrap();
        assert!(
            check(root, &[])
                .unwrap_err()
                .problem
                .contains("has no partner.toml")
        );
        std::fs::write(root.join(PARTNER_FILE), "").unwrap();
        let tenants = vec!["acme".to_string()];
        let error = check(root, &tenants).unwrap_err();
        assert!(
            error.problem.contains("tenants/acme/client.pem is missing"),
            "{error}"
        );
        std::fs::create_dir_all(root.join(TENANTS).join("acme")).unwrap();
        std::fs::write(client_certificate(root, "acme"), "").unwrap();
        std::fs::write(client_key(root, "acme"), "").unwrap();
        assert!(check(root, &tenants).is_ok());
    }
}
