//! Where a message may go: the endpoint's URL read strictly, and every address it resolves to
//! checked, so an endpoint cannot make the appliance post into its own network (its admin
//! port, a cloud metadata service, a database) unless an SRE marked the endpoint local.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hyper::Uri;

/// An endpoint's URL, read and checked once when the endpoint is added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// Whether the connection is TLS.
    pub https: bool,
    /// The host name or address literal, as TLS and `Host` name it (no brackets).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The `Host` header: the URL's authority.
    pub authority: String,
    /// The path and query posted to.
    pub path_and_query: String,
}

/// Why a URL cannot be an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Not a URL.
    #[error("{0:?} is not a URL; give one such as https://audit.example.com/hooks/trust-fabric")]
    NotAUrl(String),
    /// A scheme other than https (or http for a local endpoint).
    #[error(
        "{0:?}: only https:// endpoints are accepted (http:// only for an endpoint marked local)"
    )]
    Scheme(String),
    /// Credentials in the URL would be sent in the clear in logs and listings.
    #[error("{0:?}: a URL with user:password@ is refused; authenticate receivers by our signature")]
    Credentials(String),
    /// No host.
    #[error("{0:?}: the URL has no host")]
    NoHost(String),
    /// An address literal inside the operator's network, for an endpoint not marked local
    /// (a name is checked at each connection, to every address it resolves to).
    #[error(
        "{0:?}: the address is loopback, private, link-local or otherwise not public; only an \
         endpoint an SRE marks local (--local) may post there"
    )]
    NotPublic(String),
    /// Longer than any endpoint needs.
    #[error("the URL is {0} bytes; at most {MAX_URL_BYTES} are accepted")]
    TooLong(usize),
}

/// The longest URL accepted.
pub const MAX_URL_BYTES: usize = 2048;

impl Destination {
    /// Reads `url`: `https://HOST[:PORT]/PATH[?QUERY]`, or `http://` when `local`.
    pub fn parse(url: &str, local: bool) -> Result<Self, UrlError> {
        if url.len() > MAX_URL_BYTES {
            return Err(UrlError::TooLong(url.len()));
        }
        let uri: Uri = url.parse().map_err(|_| UrlError::NotAUrl(url.to_owned()))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if local => false,
            _ => return Err(UrlError::Scheme(url.to_owned())),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| UrlError::NoHost(url.to_owned()))?;
        if authority.as_str().contains('@') {
            return Err(UrlError::Credentials(url.to_owned()));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(UrlError::NoHost(url.to_owned()));
        }
        if let Ok(address) = host.parse::<IpAddr>()
            && !address_allowed(address, local)
        {
            return Err(UrlError::NotPublic(url.to_owned()));
        }
        Ok(Destination {
            https,
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
            authority: authority.as_str().to_owned(),
            path_and_query: uri.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
        })
    }
}

/// Whether the appliance may connect to `address` for an endpoint (`local`: marked local by
/// an SRE, which allows every address).
pub fn address_allowed(address: IpAddr, local: bool) -> bool {
    local || is_public(address)
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared
/// (carrier NAT), unspecified, multicast, broadcast, documentation or otherwise reserved.
fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            // ::ffff:a.b.c.d reaches a.b.c.d.
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    !(v4.is_unspecified()
        || v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_multicast()
        || v4.is_broadcast()
        || v4.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let first = v6.segments()[0];
    !(v6.is_unspecified()
        || v6.is_loopback()
        || v6.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || first == 0x2001 && v6.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && v6.segments()[1] == 0xff9b // NAT64 (reaches IPv4 behind it)
        || v6.to_ipv4().is_some_and(|v4| !is_public_v4(v4))) // ::a.b.c.d (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_strictly() {
        let d = Destination::parse("https://audit.example.com/hooks?x=1", false).expect("valid");
        assert_eq!(
            d,
            Destination {
                https: true,
                host: "audit.example.com".into(),
                port: 443,
                authority: "audit.example.com".into(),
                path_and_query: "/hooks?x=1".into(),
            }
        );
        let d = Destination::parse("http://[::1]:8080", true).expect("local");
        assert_eq!((d.https, d.host.as_str(), d.port), (false, "::1", 8080));
        assert_eq!(d.path_and_query, "/");
        assert!(matches!(
            Destination::parse("http://audit.example.com/", false),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            Destination::parse("ftp://audit.example.com/", true),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            Destination::parse("https://user:pw@audit.example.com/", false),
            Err(UrlError::Credentials(_))
        ));
        assert!(matches!(
            Destination::parse("audit.example.com/hooks", false),
            Err(UrlError::Scheme(_) | UrlError::NotAUrl(_))
        ));
        for literal in [
            "https://10.1.2.3/x",
            "https://[::1]/x",
            "https://169.254.169.254/",
        ] {
            assert!(
                matches!(
                    Destination::parse(literal, false),
                    Err(UrlError::NotPublic(_))
                ),
                "{literal}"
            );
            assert!(Destination::parse(literal, true).is_ok(), "{literal} local");
        }
        assert!(Destination::parse("https://93.184.216.34/x", false).is_ok());
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL_BYTES));
        assert!(matches!(
            Destination::parse(&long, false),
            Err(UrlError::TooLong(_))
        ));
    }

    #[test]
    fn only_public_addresses_unless_local() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            let address: IpAddr = refused.parse().expect("an address");
            assert!(!address_allowed(address, false), "{refused} refused");
            assert!(
                address_allowed(address, true),
                "{refused} allowed when local"
            );
        }
        for allowed in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            let address: IpAddr = allowed.parse().expect("an address");
            assert!(address_allowed(address, false), "{allowed} allowed");
        }
    }
}
