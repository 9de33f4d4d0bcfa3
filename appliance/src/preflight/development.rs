//! The development defaults a fresh appliance runs with, so that it works before anything is
//! configured: an admin token with every role, the state directory's own bundle author key,
//! and the state directory's CA for partners' certificates. Each gives whoever can read the
//! state directory (or a copy of it) more than they should have in production, so each is a
//! WARN while it is in use, naming what to configure instead. `serve` logs them too: as
//! warnings when it listens beyond loopback, else as information.

use std::path::Path;

use tf_config::Config;
use tf_state::layout;

use super::checks::{Check, Status, check};

/// How each of these checks' details begins, so `serve` can tell them from host problems.
pub const DEVELOPMENT_DEFAULT: &str = "DEVELOPMENT DEFAULT";

/// One row per development default: WARN while it is in use, PASS once configured away.
pub fn checks(config: &Config, state_dir: &Path) -> Vec<Check> {
    vec![
        admin_token(config, state_dir),
        bundle_authors(config, state_dir),
        client_ca(config, state_dir),
    ]
}

/// The admin server's name for the development token's file (`tf_admin::auth::DEV_TOKEN_FILE`,
/// not a dependency of the preflight).
const DEV_TOKEN_FILE: &str = "admin.token";

fn admin_token(config: &Config, state_dir: &Path) -> Check {
    let name = "admin tokens";
    if !config.admin.enabled {
        return check(
            name,
            Status::Pass,
            "the admin server is disabled".to_owned(),
            "",
        );
    }
    if !config.admin.tokens.is_empty() {
        return check(
            name,
            Status::Pass,
            format!("{} configured token(s)", config.admin.tokens.len()),
            "",
        );
    }
    check(
        name,
        Status::Warn,
        format!(
            "DEVELOPMENT DEFAULT: no [[admin.tokens]], so the admin API and console accept the \
             token in {} with every role (promote, roll back, read every receipt)",
            state_dir.join(DEV_TOKEN_FILE).display()
        ),
        "configure one [[admin.tokens]] entry per person or system with only the roles it \
         needs (`appliance ctl token new --name oncall --role sre` prints a token and its entry); \
         the development token is then refused and its file can be deleted",
    )
}

fn bundle_authors(config: &Config, state_dir: &Path) -> Check {
    let name = "bundle authors";
    if !config.bundles.trusted_authors.is_empty() {
        return check(
            name,
            Status::Pass,
            format!(
                "{} trusted author key(s) in [bundles] trusted_authors",
                config.bundles.trusted_authors.len()
            ),
            "",
        );
    }
    check(
        name,
        Status::Warn,
        format!(
            "DEVELOPMENT DEFAULT: [bundles] trusted_authors is empty, so policy bundles signed by \
             the appliance's own development author key {} are promoted: whoever can read the \
             state directory can change every tenant's policy and budgets",
            state_dir.join(layout::DEV_AUTHOR_KEY).display()
        ),
        "make an author key on the policy authors' machine (`appliance bundle keygen --out \
         author.key`) and list its public key in [bundles] trusted_authors; the development key \
         is then no longer trusted and can be deleted",
    )
}

fn client_ca(config: &Config, state_dir: &Path) -> Check {
    let name = "client CA";
    let development = state_dir.join(layout::CA_CERT);
    match &config.tls.client_ca {
        Some(ca) if *ca != development => check(
            name,
            Status::Pass,
            format!(
                "partners' certificates are checked against {}",
                ca.display()
            ),
            "",
        ),
        _ => check(
            name,
            Status::Warn,
            format!(
                "DEVELOPMENT DEFAULT: partners' certificates are checked against the \
                 development CA {}, whose private key {} is kept in the state directory: \
                 whoever can read it can issue a certificate for any tenant",
                development.display(),
                state_dir.join(layout::CA_KEY).display()
            ),
            "set [tls] client_ca to the certificate of the CA that issues your partners' \
             certificates (and [tls] certificate and private_key to a server certificate from \
             your PKI); then move ca.key out of the state directory to offline storage",
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use tf_config::AdminToken;

    use super::*;

    fn status(config: &Config) -> Vec<(&'static str, Status)> {
        checks(config, Path::new("/var/lib/trust-fabric"))
            .into_iter()
            .map(|c| (c.name, c.status))
            .collect()
    }

    #[test]
    fn each_development_default_warns_until_configured_away() {
        let mut config = Config::default();
        let rows = checks(&config, Path::new("/var/lib/trust-fabric"));
        for row in &rows {
            assert_eq!(row.status, Status::Warn, "{row:?}");
            assert!(row.detail.starts_with(DEVELOPMENT_DEFAULT), "{row:?}");
        }
        assert!(rows[0].detail.contains("/var/lib/trust-fabric/admin.token"));
        assert!(rows[0].fix.contains("[[admin.tokens]]"));
        assert!(
            rows[1]
                .detail
                .contains("/var/lib/trust-fabric/bundle-author.key")
        );
        assert!(rows[1].fix.contains("trusted_authors"));
        assert!(rows[2].detail.contains("/var/lib/trust-fabric/ca.key"));
        assert!(rows[2].fix.contains("client_ca"));

        config.admin.tokens.push(AdminToken {
            name: "oncall".into(),
            roles: vec!["sre".into()],
            sha256: "00".repeat(32),
        });
        config.bundles.trusted_authors.push("11".repeat(32));
        // The state directory's own CA, named explicitly, is still the development CA.
        config.tls.client_ca = Some(PathBuf::from("/var/lib/trust-fabric/ca.pem"));
        assert_eq!(
            status(&config),
            [
                ("admin tokens", Status::Pass),
                ("bundle authors", Status::Pass),
                ("client CA", Status::Warn)
            ]
        );
        config.tls.client_ca = Some(PathBuf::from("/etc/trust-fabric/partners-ca.pem"));
        assert_eq!(status(&config)[2], ("client CA", Status::Pass));
        config.admin.tokens.clear();
        config.admin.enabled = false;
        assert_eq!(status(&config)[0], ("admin tokens", Status::Pass));
    }
}
