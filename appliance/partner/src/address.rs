//! Where an appliance listens: a host (a DNS name or an IP address) and a port, as partners
//! write it (`appliance.example.com:4433`, `localhost:4433`, `127.0.0.1:4433`,
//! `[::1]:4433`). Names are resolved when connecting, so an appliance behind a DNS name that
//! moves is found where it is now.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::PartnerError;

/// A host and a port.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApplianceAddress {
    host: Host,
    port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Host {
    Ip(IpAddr),
    Name(String),
}

impl ApplianceAddress {
    /// The host as written: a DNS name, or an IP address without brackets.
    pub fn host(&self) -> String {
        match &self.host {
            Host::Ip(ip) => ip.to_string(),
            Host::Name(name) => name.clone(),
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the appliance is on this machine: a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        match &self.host {
            Host::Ip(ip) => ip.is_loopback(),
            Host::Name(name) => name.eq_ignore_ascii_case("localhost"),
        }
    }

    /// The addresses it stands for now: itself for an IP address, what DNS answers for a name
    /// (IPv6 and IPv4 as the resolver orders them).
    pub async fn resolve(&self) -> Result<Vec<SocketAddr>, PartnerError> {
        let name = match &self.host {
            Host::Ip(ip) => return Ok(vec![SocketAddr::new(*ip, self.port)]),
            Host::Name(name) => name,
        };
        let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), self.port))
            .await
            .map_err(|e| PartnerError::Connect {
                address: self.to_string(),
                reason: format!("the name does not resolve: {e}"),
            })?
            .collect();
        if found.is_empty() {
            return Err(PartnerError::Connect {
                address: self.to_string(),
                reason: "the name resolves to no address".into(),
            });
        }
        Ok(found)
    }
}

impl From<SocketAddr> for ApplianceAddress {
    fn from(address: SocketAddr) -> Self {
        ApplianceAddress {
            host: Host::Ip(address.ip()),
            port: address.port(),
        }
    }
}

impl fmt::Display for ApplianceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            Host::Ip(ip) => write!(f, "{ip}:{}", self.port),
            Host::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

/// Why an address was not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not HOST:PORT ({why}); for example appliance.example.com:4433, 127.0.0.1:4433 or [::1]:4433"
)]
pub struct AddressError {
    text: String,
    why: &'static str,
}

impl FromStr for ApplianceAddress {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |why| AddressError {
            text: text.to_owned(),
            why,
        };
        if let Ok(address) = text.parse::<SocketAddr>() {
            return Ok(address.into());
        }
        let (host, port) = text.rsplit_once(':').ok_or_else(|| error("no port"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| error("the port is not 1 to 65535"))?;
        if port == 0 {
            return Err(error("the port is not 1 to 65535"));
        }
        if host.starts_with('[') || host.contains(':') {
            return Err(error("an IPv6 address goes in brackets: [::1]:4433"));
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(ApplianceAddress {
                host: Host::Ip(ip),
                port,
            });
        }
        if !is_dns_name(host) {
            return Err(error("the host is not a DNS name"));
        }
        Ok(ApplianceAddress {
            host: Host::Name(host.to_ascii_lowercase()),
            port,
        })
    }
}

/// Letters, digits and hyphens in dot-separated labels of 1 to 63, at most 253 in all, no
/// label starting or ending with a hyphen (RFC 1123); one trailing dot allowed.
fn is_dns_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    (1..=253).contains(&host.len())
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl<'de> serde::Deserialize<'de> for ApplianceAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for ApplianceAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_are_taken_as_partners_write_them() {
        for (text, host, port, shown) in [
            ("localhost:4433", "localhost", 4433, "localhost:4433"),
            (
                "Appliance.Example.COM:443",
                "appliance.example.com",
                443,
                "appliance.example.com:443",
            ),
            ("127.0.0.1:4433", "127.0.0.1", 4433, "127.0.0.1:4433"),
            ("[::1]:4433", "::1", 4433, "[::1]:4433"),
            (
                "trust-fabric.:4433",
                "trust-fabric.",
                4433,
                "trust-fabric.:4433",
            ),
        ] {
            let address: ApplianceAddress = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((address.host().as_str(), address.port()), (host, port));
            assert_eq!(address.to_string(), shown);
        }
        assert!(
            "localhost:1"
                .parse::<ApplianceAddress>()
                .expect("ok")
                .is_loopback()
        );
        assert!(
            "[::1]:1"
                .parse::<ApplianceAddress>()
                .expect("ok")
                .is_loopback()
        );
        assert!(
            !"10.0.0.1:1"
                .parse::<ApplianceAddress>()
                .expect("ok")
                .is_loopback()
        );
    }

    #[test]
    fn what_is_not_host_and_port_is_refused_saying_why() {
        for (text, why) in [
            ("localhost", "no port"),
            ("localhost:0", "1 to 65535"),
            ("localhost:99999", "1 to 65535"),
            ("::1:4433", "brackets"),
            ("[::1:4433", "brackets"),
            ("under_score.example:1", "not a DNS name"),
            ("-bad.example:1", "not a DNS name"),
            (":4433", "not a DNS name"),
            ("a..b:4433", "not a DNS name"),
        ] {
            let error = text.parse::<ApplianceAddress>().expect_err(text);
            assert!(error.to_string().contains(why), "{text}: {error}");
        }
    }
}
