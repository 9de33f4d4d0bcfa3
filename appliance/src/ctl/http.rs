//! A minimal HTTP/1.1 client for the admin API: one request per connection, plain HTTP or
//! HTTPS (rustls, TLS 1.3, the server's certificate checked against a CA file), bounded answer
//! size.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// Largest answer read.
const MAX_ANSWER_BYTES: u64 = 16 << 20;

/// An answer: status code and body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body as text (JSON answers).
    pub body: String,
    /// The body as sent (binary answers: log tiles).
    pub bytes: Vec<u8>,
}

/// One request to the admin API.
pub struct Call<'a> {
    /// `http://HOST:PORT` or `https://HOST:PORT`.
    pub base: &'a str,
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The path and query.
    pub path: &'a str,
    /// The bearer token.
    pub token: &'a str,
    /// The body's type.
    pub content_type: &'a str,
    /// The body.
    pub body: &'a [u8],
    /// For `https`: the CA (PEM) the admin server's certificate must chain to.
    pub ca: &'a Path,
}

/// Sends one request and reads the whole answer.
pub fn send(call: &Call<'_>, timeout: Duration) -> Result<Answer, String> {
    let base = call.base;
    let (tls, authority) = match (base.strip_prefix("https://"), base.strip_prefix("http://")) {
        (Some(authority), _) => (true, authority),
        (None, Some(authority)) => (false, authority),
        (None, None) => {
            return Err(format!(
                "--admin {base:?}: expected http://HOST:PORT or https://HOST:PORT"
            ));
        }
    };
    let authority = authority.trim_end_matches('/');
    let address: SocketAddr = authority
        .to_socket_addrs()
        .map_err(|e| format!("--admin {base:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("--admin {base:?}: no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, timeout).map_err(|e| {
        format!(
            "cannot reach the admin API at {base}: {e} (is the appliance running? see admin.listen)"
        )
    })?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    // No token for the log's public routes.
    let authorization = match call.token {
        "" => String::new(),
        token => format!("Authorization: Bearer {token}\r\n"),
    };
    let head = format!(
        "{} {} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         {authorization}Content-Type: {}\r\nContent-Length: {}\r\n\r\n",
        call.method,
        call.path,
        call.content_type,
        call.body.len()
    );
    let raw = if tls {
        let connection = client(call.ca, authority)?;
        let mut stream = rustls::StreamOwned::new(connection, stream);
        exchange(&mut stream, head.as_bytes(), call.body)
    } else {
        exchange(&mut stream, head.as_bytes(), call.body)
    }
    .map_err(|e| format!("talking to {base}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{base} did not answer in HTTP"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = &raw[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{base} did not answer in HTTP"))?;
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let bytes = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    })
}

/// Writes the request and reads the answer until the server closes the connection.
fn exchange(
    stream: &mut (impl Read + Write),
    head: &[u8],
    body: &[u8],
) -> std::io::Result<Vec<u8>> {
    stream.write_all(head)?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut raw = Vec::new();
    match stream.take(MAX_ANSWER_BYTES).read_to_end(&mut raw) {
        // A server that closes without TLS's close_notify has still answered in full: HTTP
        // said where the answer ends (Connection: close).
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => Ok(raw),
        Err(e) => Err(e),
        Ok(_) => Ok(raw),
    }
}

/// A TLS client for `authority` that trusts only the CA in `ca`.
fn client(ca: &Path, authority: &str) -> Result<rustls::ClientConnection, String> {
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(ca)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--ca {}: {e}", ca.display()))?;
    if certificates.is_empty() {
        return Err(format!("--ca {}: no certificate in the file", ca.display()));
    }
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|e| format!("--ca {}: {e}", ca.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // The host without its port; an IPv6 address without its brackets.
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| format!("--admin: {host:?} is not a server name: {e}"))?;
    rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())
}

/// Joins a chunked body.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..line_end])
            .ok()
            .and_then(|size| usize::from_str_radix(size.trim(), 16).ok());
        let after = &rest[line_end + 2..];
        let Some(size) = size.filter(|size| *size > 0 && after.len() >= *size) else {
            break;
        };
        out.extend_from_slice(&after[..size]);
        rest = after[size..]
            .strip_prefix(b"\r\n")
            .unwrap_or(&after[size..]);
    }
    out
}
