//! `[admin]`: the operators' HTTP server (metrics, admin API, console) and who may use it.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::ConfigError;

/// The roles a token can hold.
pub const ROLES: [&str; 4] = ["sre", "policy-author", "auditor", "viewer"];

/// `[admin]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Where the admin server listens (HTTP): `/metrics` for Prometheus, `/healthz`, the admin
    /// API and the console. Keep it on loopback or a management network. Default
    /// `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Whether to run it. Default true.
    pub enabled: bool,
    /// The names clients reach it by, as their `Host` header carries them: `name` (any port)
    /// or `name:port`, IP addresses too (`[fd00::5]:8080`). A request naming another host is
    /// refused, so a web page cannot reach the server through DNS rebinding. `localhost`,
    /// `127.0.0.1` and `[::1]` with the listening port are always accepted. Empty (the
    /// default): the `listen` address itself.
    pub hosts: Vec<String>,
    /// TLS on the admin port: `true` (the appliance's server certificate: `[tls]
    /// certificate` and `private_key`, else the state directory's `server.pem`), `false`, or
    /// `{ cert = "FILE", key = "FILE" }`. Unset (the default): off when `listen` is loopback,
    /// on otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<AdminTls>,
    /// How long a request body may take to arrive once its headers have, ms (a bundle upload
    /// is at most 8 MiB). Slower uploads are answered 408. Default 60000; 1000 to 600000.
    pub body_timeout_ms: u64,
    /// Bearer tokens and their roles (`[[admin.tokens]]`). Empty (the default): one
    /// development token with every role, in the state directory's `admin.token`.
    pub tokens: Vec<AdminToken>,
}

/// `[admin] tls`: on with the appliance's certificate, off, or on with files of its own.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum AdminTls {
    /// `true` or `false`.
    Enabled(bool),
    /// `{ cert = "FILE", key = "FILE" }`.
    Files(AdminTlsFiles),
}

/// `[admin] tls = { cert, key }`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AdminTlsFiles {
    /// The certificate chain, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
}

/// The admin port's TLS as resolved from `[admin] tls` and `listen`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdminTlsMode {
    /// Plain HTTP.
    Off,
    /// The appliance's server certificate and key (`[tls]`, else the state directory's).
    ServerCertificate,
    /// These files.
    Files(AdminTlsFiles),
}

/// One `[[admin.tokens]]` entry. Only the token's SHA-256 is configured, never the token.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AdminToken {
    /// Who holds it, as the timeline records them: 1 to 64 characters of a-z, 0-9, `-`, `_`,
    /// `.` and `@`.
    pub name: String,
    /// What it may do: `sre`, `policy-author`, `auditor`, `viewer`.
    pub roles: Vec<String>,
    /// Hex SHA-256 of the token (`appliance ctl token new` prints both).
    pub sha256: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            enabled: true,
            hosts: Vec::new(),
            tls: None,
            body_timeout_ms: 60_000,
            tokens: Vec::new(),
        }
    }
}

impl AdminConfig {
    /// Whether and with what the admin port speaks TLS; unset means on unless `listen` is a
    /// loopback address.
    pub fn tls_mode(&self) -> AdminTlsMode {
        match &self.tls {
            Some(AdminTls::Enabled(false)) => AdminTlsMode::Off,
            Some(AdminTls::Enabled(true)) => AdminTlsMode::ServerCertificate,
            Some(AdminTls::Files(files)) => AdminTlsMode::Files(files.clone()),
            None if self.listen.ip().is_loopback() => AdminTlsMode::Off,
            None => AdminTlsMode::ServerCertificate,
        }
    }

    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, value: String, allowed: &'static str| {
            Err(ConfigError::Invalid {
                path: path.to_owned(),
                key,
                value,
                allowed,
            })
        };
        for host in &self.hosts {
            if parse_host(host).is_none() {
                return invalid(
                    "admin.hosts",
                    format!("{host:?}"),
                    "host names or IP addresses, each with an optional :port (\"admin.example.net\", \"10.0.0.5:8080\", \"[fd00::5]\")",
                );
            }
        }
        if !(1_000..=600_000).contains(&self.body_timeout_ms) {
            return invalid(
                "admin.body_timeout_ms",
                self.body_timeout_ms.to_string(),
                "1000 to 600000",
            );
        }
        let mut names = HashSet::new();
        for token in &self.tokens {
            let name_ok = (1..=64).contains(&token.name.len())
                && token
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.@".contains(&b));
            if !name_ok || !names.insert(token.name.as_str()) {
                return invalid(
                    "admin.tokens.name",
                    format!("{:?}", token.name),
                    "1 to 64 characters of a-z, 0-9, -, _, . and @, each name once",
                );
            }
            if token.roles.is_empty() || token.roles.iter().any(|r| !ROLES.contains(&r.as_str())) {
                return invalid(
                    "admin.tokens.roles",
                    format!("{:?}", token.roles),
                    "one or more of \"sre\", \"policy-author\", \"auditor\", \"viewer\"",
                );
            }
            let mut digest = [0u8; 32];
            if hex::decode_to_slice(&token.sha256, &mut digest).is_err() {
                return invalid(
                    "admin.tokens.sha256",
                    format!("{:?}", token.sha256),
                    "64 hex digits: the SHA-256 of the token, never the token itself",
                );
            }
        }
        Ok(())
    }
}

/// Where a server listening on `listen` is reached from this host: an address that listens on
/// every interface is reached on loopback.
pub fn reachable_from_here(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// A `Host` value split into its host, lower-cased (an IPv6 address in brackets, in its
/// shortest form), and its port if it has one; `None` when it is not a host name, an IPv4
/// address or a bracketed IPv6 address, with an optional port from 1 to 65535. Used for both
/// `[admin] hosts` and the `Host` header of requests.
pub fn parse_host(text: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let address: Ipv6Addr = inside.parse().ok()?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (format!("[{address}]"), port)
    } else {
        let (name, port) = match text.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (text, None),
        };
        let name = name.to_ascii_lowercase();
        let is_name = (1..=253).contains(&name.len())
            && name.split('.').all(|label| {
                (1..=63).contains(&label.len())
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !is_name && name.parse::<Ipv4Addr>().is_err() {
            return None;
        }
        (name, port)
    };
    let port = match port {
        None => None,
        Some(digits) => {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(digits.parse::<u16>().ok().filter(|p| *p != 0)?)
        }
    };
    Some((host, port))
}

impl<'de> Deserialize<'de> for AdminTls {
    // By hand rather than `untagged`, so a wrong value is told what is allowed.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = AdminTls;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true, false or { cert = \"FILE\", key = \"FILE\" }")
            }

            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<AdminTls, E> {
                Ok(AdminTls::Enabled(value))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<AdminTls, A::Error> {
                AdminTlsFiles::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(AdminTls::Files)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse_as_name_address_and_optional_port() {
        let parsed = |text: &str| parse_host(text);
        assert_eq!(
            parsed("Admin.Example.NET"),
            Some(("admin.example.net".into(), None))
        );
        assert_eq!(
            parsed("localhost:8080"),
            Some(("localhost".into(), Some(8080)))
        );
        assert_eq!(parsed("10.0.0.5:443"), Some(("10.0.0.5".into(), Some(443))));
        assert_eq!(parsed("[::1]:8080"), Some(("[::1]".into(), Some(8080))));
        assert_eq!(
            parsed("[FD00:0:0::5]"),
            Some(("[fd00::5]".into(), None)),
            "IPv6 in its shortest form"
        );
        for bad in [
            "", ":80", "a:", "a:0", "a:65536", "a:+1", "::1", "[::1", "[::1]x", "a b", "-a.b",
            "a..b", "a/b", "*",
        ] {
            assert_eq!(parsed(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tls_is_a_switch_or_files_and_defaults_by_listen_address() {
        let parse = |text: &str| crate::Config::parse(text, Path::new("t.toml"));
        let mode = |text: &str| parse(text).expect("valid").admin.tls_mode();
        assert_eq!(mode(""), AdminTlsMode::Off, "loopback: off");
        assert_eq!(
            mode("[admin]\nlisten = \"0.0.0.0:8080\""),
            AdminTlsMode::ServerCertificate,
            "elsewhere: on"
        );
        assert_eq!(
            mode("[admin]\nlisten = \"0.0.0.0:8080\"\ntls = false"),
            AdminTlsMode::Off
        );
        assert_eq!(mode("[admin]\ntls = true"), AdminTlsMode::ServerCertificate);
        assert_eq!(
            mode("[admin]\ntls = { cert = \"/c.pem\", key = \"/k.pem\" }"),
            AdminTlsMode::Files(AdminTlsFiles {
                cert: "/c.pem".into(),
                key: "/k.pem".into()
            })
        );
        let error = parse("[admin]\ntls = \"yes\"")
            .expect_err("refused")
            .to_string();
        assert!(error.contains("true, false or { cert"), "{error}");
        assert!(
            parse("[admin]\ntls = { cert = \"/c.pem\" }").is_err(),
            "key missing"
        );
    }
}
