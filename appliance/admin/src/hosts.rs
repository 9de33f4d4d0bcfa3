//! Which `Host` a request may name. A web page can point a DNS name it controls at this
//! server's address (DNS rebinding); the browser then sends that name as `Host`, so refusing
//! hosts not configured in `[admin] hosts` keeps such pages out of `/metrics`, the API and the
//! console's login.

use std::net::{IpAddr, SocketAddr};

use tf_admin_api::{ErrorBody, ErrorCode};
use tf_config::parse_host;

/// The accepted hosts, each with its port or any port.
#[derive(Clone, Debug)]
pub struct AllowedHosts {
    entries: Vec<(String, Option<u16>)>,
    /// The port a `Host` without one means: 443 with TLS, else 80.
    default_port: u16,
}

impl AllowedHosts {
    /// `configured` (`[admin] hosts`; empty: the bound address itself), and always
    /// `localhost`, `127.0.0.1` and `[::1]` with the bound port: a browser sends those only
    /// for a page loaded from this machine's loopback, never for a rebound name.
    pub fn new(configured: &[String], bound: SocketAddr, tls: bool) -> Result<Self, String> {
        let port = Some(bound.port());
        let mut entries: Vec<(String, Option<u16>)> = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .map(|h| ((*h).to_owned(), port))
            .collect();
        if configured.is_empty() {
            let host = match bound.ip() {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            };
            entries.push((host, port));
        }
        for host in configured {
            entries.push(parse_host(host).ok_or_else(|| {
                format!(
                    "admin.hosts: {host:?} is not a host name or IP address with an optional :port"
                )
            })?);
        }
        Ok(AllowedHosts {
            entries,
            default_port: if tls { 443 } else { 80 },
        })
    }

    /// Whether a request whose `Host` is `host` is answered; else the `unknown-host` error.
    pub fn check(&self, host: Option<&str>) -> Result<(), ErrorBody> {
        let Some(host) = host else {
            return Err(ErrorBody::new(
                ErrorCode::UnknownHost,
                "the request has no Host header: send the name you reached the admin server by",
            ));
        };
        let accepted = parse_host(host).is_some_and(|(name, port)| {
            let port = port.unwrap_or(self.default_port);
            self.entries
                .iter()
                .any(|(allowed, only)| *allowed == name && only.is_none_or(|p| p == port))
        });
        if accepted {
            return Ok(());
        }
        // The name is shown, never the list: the caller may be a page from another site.
        let shown: String = host.chars().take(100).collect();
        Err(ErrorBody::new(
            ErrorCode::UnknownHost,
            format!(
                "this admin server does not answer to Host {shown:?}: if you reached it by that \
                 name, add it to [admin] hosts in the appliance configuration and restart the \
                 appliance"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound() -> SocketAddr {
        "127.0.0.1:8080".parse().expect("literal")
    }

    #[test]
    fn loopback_names_with_the_port_and_the_listen_address_are_accepted_by_default() {
        let hosts = AllowedHosts::new(&[], bound(), false).expect("valid");
        for ok in [
            "localhost:8080",
            "LOCALHOST:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
        ] {
            assert_eq!(hosts.check(Some(ok)), Ok(()), "{ok}");
        }
        for refused in [
            "localhost:9090",
            "localhost",
            "attacker.example:8080",
            "127.0.0.1.nip.io:8080",
            "",
        ] {
            let error = hosts.check(Some(refused)).expect_err(refused);
            assert_eq!(error.error, ErrorCode::UnknownHost);
            assert!(error.message.contains("[admin] hosts"), "{}", error.message);
        }
        assert!(hosts.check(None).is_err(), "a Host header is required");
    }

    #[test]
    fn configured_names_match_any_port_unless_they_name_one() {
        let configured = ["admin.example.net".to_owned(), "10.0.0.5:9000".to_owned()];
        let wildcard: SocketAddr = "0.0.0.0:8080".parse().expect("literal");
        let hosts = AllowedHosts::new(&configured, wildcard, true).expect("valid");
        assert_eq!(hosts.check(Some("admin.example.net")), Ok(()));
        assert_eq!(hosts.check(Some("Admin.Example.Net:8443")), Ok(()));
        assert_eq!(hosts.check(Some("10.0.0.5:9000")), Ok(()));
        assert!(hosts.check(Some("10.0.0.5")).is_err(), "443 is not 9000");
        assert!(
            hosts.check(Some("0.0.0.0:8080")).is_err(),
            "only the configured names"
        );
        assert_eq!(
            hosts.check(Some("localhost:8080")),
            Ok(()),
            "loopback stays"
        );
    }

    #[test]
    fn a_host_without_a_port_means_the_schemes_port() {
        let on_443: SocketAddr = "127.0.0.1:443".parse().expect("literal");
        let tls = AllowedHosts::new(&[], on_443, true).expect("valid");
        assert_eq!(tls.check(Some("localhost")), Ok(()));
        let plain = AllowedHosts::new(&[], on_443, false).expect("valid");
        assert!(
            plain.check(Some("localhost")).is_err(),
            "plain HTTP means 80"
        );
    }
}
