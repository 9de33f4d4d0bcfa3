//! A minimal HTTP/1.1 client for the admin API: one request per connection, plain HTTP (the
//! admin server listens on loopback or a management network), bounded answer size.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Largest answer read.
const MAX_ANSWER_BYTES: u64 = 16 << 20;

/// An answer: status code and body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: String,
}

/// One request to the admin API.
pub struct Call<'a> {
    /// `http://HOST:PORT`.
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
}

/// Sends one request and reads the whole answer.
pub fn send(call: &Call<'_>, timeout: Duration) -> Result<Answer, String> {
    let base = call.base;
    let authority = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("--admin {base:?}: expected http://HOST:PORT"))?
        .trim_end_matches('/');
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
    let head = format!(
        "{} {} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         Authorization: Bearer {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
        call.method,
        call.path,
        call.token,
        call.content_type,
        call.body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(call.body))
        .map_err(|e| format!("sending to {base}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .take(MAX_ANSWER_BYTES)
        .read_to_end(&mut raw)
        .map_err(|e| format!("reading the answer from {base}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{base} did not answer in HTTP"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{base} did not answer in HTTP"))?;
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(Answer { status, body })
}

/// Joins a chunked body.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}
