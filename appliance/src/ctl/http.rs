//! The command line's HTTP client for the admin API: one request per connection over hyper's
//! HTTP/1.1 client, plain or TLS (rustls, the appliance's one TLS stack), a deadline for the
//! whole exchange and a bound on the answer's size.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Uri;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Largest answer read (a log tile is at most 8 KiB, a bundle diff a few hundred).
const MAX_ANSWER_BYTES: usize = 16 << 20;

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
    /// The bearer token; empty for the log's public routes.
    pub token: &'a str,
    /// The body's type.
    pub content_type: &'a str,
    /// The body.
    pub body: &'a [u8],
    /// For `https`: the CA (PEM) the admin server's certificate may chain to.
    pub ca: &'a Path,
    /// For `https`: also trust the host's CA certificates (always when `ca` does not exist).
    pub host_roots: bool,
}

/// Where a base URL points.
struct Base {
    tls: bool,
    /// As the `Host` header carries it.
    authority: String,
    /// Without brackets, for connecting and for the certificate's name.
    host: String,
    port: u16,
}

/// Sends one request and reads the whole answer within `timeout`.
pub fn send(call: &Call<'_>, timeout: Duration) -> Result<Answer, String> {
    let base = parse_base(call.base)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("starting the HTTP client: {e}"))?;
    runtime.block_on(async {
        match tokio::time::timeout(timeout, exchange(call, &base)).await {
            Ok(answer) => answer,
            Err(_) => Err(format!(
                "{} did not answer within {} s",
                call.base,
                timeout.as_secs()
            )),
        }
    })
}

fn parse_base(text: &str) -> Result<Base, String> {
    let bad = |why: &str| {
        format!("admin address {text:?}: {why}; expected http://HOST:PORT or https://HOST:PORT")
    };
    let uri: Uri = text.parse().map_err(|e| bad(&format!("{e}")))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(bad("no http:// or https://")),
    };
    if uri.path() != "/" && !uri.path().is_empty() {
        return Err(bad("a path is not expected"));
    }
    let authority = uri.authority().ok_or_else(|| bad("no host"))?;
    let host = authority.host();
    Ok(Base {
        tls,
        authority: authority.as_str().to_owned(),
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port: authority.port_u16().unwrap_or(if tls { 443 } else { 80 }),
    })
}

async fn exchange(call: &Call<'_>, base: &Base) -> Result<Answer, String> {
    let stream = TcpStream::connect((base.host.as_str(), base.port))
        .await
        .map_err(|e| {
            format!(
                "cannot reach the admin API at {}: {e} (is the appliance running? its address is \
                 [admin] listen in its configuration)",
                call.base
            )
        })?;
    let _ = stream.set_nodelay(true);
    let mut request = hyper::Request::builder()
        .method(call.method)
        .uri(call.path)
        .header(HOST, base.authority.as_str())
        .header(CONTENT_TYPE, call.content_type)
        .header(USER_AGENT, concat!("appliance/", env!("CARGO_PKG_VERSION")));
    if !call.token.is_empty() {
        request = request.header(AUTHORIZATION, format!("Bearer {}", call.token));
    }
    let request = request
        .body(Full::new(Bytes::copy_from_slice(call.body)))
        .map_err(|e| format!("request {} {}: {e}", call.method, call.path))?;
    let talking = |e: &dyn std::fmt::Display| format!("talking to {}: {e}", call.base);
    let response = if base.tls {
        let name = ServerName::try_from(base.host.clone())
            .map_err(|e| format!("{:?} is not a server name: {e}", base.host))?;
        let secured = TlsConnector::from(tls_config(call.ca, call.host_roots)?)
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS with {}: {e}", call.base))?;
        round_trip(TokioIo::new(secured), request).await
    } else {
        round_trip(TokioIo::new(stream), request).await
    }
    .map_err(|e| talking(&e))?;
    let status = response.status().as_u16();
    let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| talking(&e))?
        .to_bytes()
        .to_vec();
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    })
}

async fn round_trip<T>(
    io: T,
    request: hyper::Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, hyper::Error>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    // The connection runs beside the request until the answer has been read.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender.send_request(request).await
}

/// TLS that trusts the CA in `ca`, and the host's CA certificates when asked or when there is
/// no such file (an admin port with a certificate from the organisation's CA).
fn tls_config(ca: &Path, host_roots: bool) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    if ca.exists() {
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
    }
    if host_roots || !ca.exists() {
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if roots.is_empty() {
            return Err(format!(
                "no CA to check the admin server's certificate: {} does not exist and the host \
                 has no CA certificates; pass --ca FILE",
                ca.display()
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::parse_base;

    #[test]
    fn base_urls_name_scheme_host_and_port() {
        let base = parse_base("https://[::1]:8443").expect("IPv6");
        assert!(base.tls);
        assert_eq!(
            (base.host.as_str(), base.port, base.authority.as_str()),
            ("::1", 8443, "[::1]:8443")
        );
        let base = parse_base("http://admin.example:8080/").expect("trailing slash");
        assert!(!base.tls);
        assert_eq!((base.host.as_str(), base.port), ("admin.example", 8080));
        assert_eq!(parse_base("http://localhost").expect("no port").port, 80);
        for bad in ["127.0.0.1:8080", "ftp://x:1", "http://x:1/api", "http://"] {
            assert!(parse_base(bad).is_err(), "{bad}");
        }
    }
}
