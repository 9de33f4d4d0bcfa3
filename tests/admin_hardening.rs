//! The admin server against callers who only reach its port, over real sockets to a real
//! appliance: slow and unauthenticated uploads cannot starve `/healthz` or the API, a body is
//! read only after the caller is allowed to send it and only until its deadline, a request
//! naming another host (DNS rebinding) is refused, TLS serves the API and the console with a
//! `Secure` cookie (and `appliance ctl` speaks it), unknown tokens and repeated logins are
//! throttled, and one token's logins never end another token's console session.

#[path = "support/server.rs"]
mod server;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use server::{Server, console_login, http, with_admin_tokens};

const TOKENS: [(&str, &str, &str); 3] = [
    ("author-token", "policy-team", "policy-author"),
    ("viewer-token", "dashboard", "viewer"),
    ("sre-token", "oncall", "sre"),
];

/// Long enough that a server that answers at all has answered: a read that waits this long
/// means the server is not answering.
const PATIENCE: Duration = Duration::from_secs(30);

fn config(admin: &str) -> String {
    with_admin_tokens(&format!("[admin]\n{admin}\n"), &TOKENS)
}

fn connect(admin: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&admin, PATIENCE).expect("the admin server accepts");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream
}

/// The head of a POST that announces a large body, with `extra` header lines.
fn upload_head(admin: SocketAddr, path: &str, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {admin}\r\nContent-Type: application/gzip\r\n\
         Content-Length: 8000000\r\n{extra}\r\n"
    )
}

/// Everything the server sends until it closes the connection; panics if it neither answers
/// nor closes within [`PATIENCE`].
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            // Closed with our unread bytes in its buffer: what it sent before is all there is.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "no answer and no close ({e}); so far: {:?}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// Status, head (lower-cased) and body of a raw answer.
fn parse(answer: &str) -> (u16, String, String) {
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not HTTP: {answer:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status: {answer:?}"));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// The `error` code of an ErrorBody.
fn code(body: &str) -> String {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    value["error"].as_str().expect("error code").to_owned()
}

/// Whether the server still holds `stream` open without having answered on it.
fn still_waiting(stream: &mut TcpStream) -> bool {
    stream.set_nonblocking(true).expect("nonblocking");
    let mut byte = [0u8; 1];
    let waiting = matches!(stream.read(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock);
    stream.set_nonblocking(false).expect("blocking");
    waiting
}

#[test]
fn slow_and_unauthenticated_uploads_cannot_starve_health_checks_or_the_api() {
    let server = Server::start(&config(""), &[], &[]);
    let admin = server.admin_address();
    // More held connections than the server used to allow at all (64), of three kinds: allowed
    // uploads that stall after their first bytes, uploads without a token, and requests that
    // stall inside their headers.
    let mut allowed: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut stream = connect(admin);
            let head = upload_head(
                admin,
                "/api/v1/bundles/validate",
                "Authorization: Bearer author-token\r\n",
            );
            stream.write_all(head.as_bytes()).expect("head sent");
            stream.write_all(&[0u8; 1024]).expect("first bytes sent");
            stream
        })
        .collect();
    let mut anonymous: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut stream = connect(admin);
            let head = upload_head(admin, "/api/v1/bundles/promote", "");
            stream.write_all(head.as_bytes()).expect("head sent");
            stream
        })
        .collect();
    let mut half_headers: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut stream = connect(admin);
            let head = upload_head(admin, "/api/v1/bundles/promote", "");
            stream
                .write_all(&head.as_bytes()[..40])
                .expect("part of a head sent");
            stream
        })
        .collect();

    // Meanwhile health checks, metrics, the API and the console answer.
    assert_eq!(http(admin, "GET", "/healthz", &[], b"").0, 200);
    assert_eq!(http(admin, "GET", "/metrics", &[], b"").0, 200);
    let (status, body) = http(
        admin,
        "GET",
        "/api/v1/status",
        &[("Authorization", "Bearer viewer-token")],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(http(admin, "GET", "/console/login", &[], b"").0, 200);

    // The uploads without a token were refused from their headers, their bodies never read.
    for stream in &mut anonymous {
        let (status, head, body) = parse(&read_until_closed(stream));
        assert_eq!(status, 401, "{body}");
        assert_eq!(code(&body), "unauthenticated");
        assert!(head.contains("www-authenticate: bearer"), "{head}");
    }
    // The allowed ones are still being waited for (their deadline is a minute away), so the
    // answers above came while the server held them all.
    for stream in &mut allowed {
        assert!(
            still_waiting(stream),
            "an allowed upload was answered early"
        );
    }
    // Headers that stall are cut off (actix answers 408, or just closes).
    for stream in &mut half_headers {
        let answer = read_until_closed(stream);
        assert!(
            answer.is_empty() || parse(&answer).0 == 408,
            "a stalled head got {answer:?}"
        );
    }
}

#[test]
fn a_body_is_read_only_from_an_allowed_caller_and_only_until_its_deadline() {
    let server = Server::start(&config("body_timeout_ms = 1000"), &[], &[]);
    let admin = server.admin_address();

    // Headers only: the refusal comes back without a byte of the announced body, and the
    // connection is closed behind it.
    for (extra, status, error) in [
        ("", 401, "unauthenticated"),
        (
            "Authorization: Bearer not-a-token\r\n",
            401,
            "unauthenticated",
        ),
        ("Authorization: Bearer viewer-token\r\n", 403, "forbidden"),
        (
            "Cookie: tf_console=not-a-session\r\n",
            401,
            "unauthenticated",
        ),
    ] {
        let mut stream = connect(admin);
        let head = upload_head(admin, "/api/v1/bundles/promote", extra);
        stream.write_all(head.as_bytes()).expect("head sent");
        let (answered, _, body) = parse(&read_until_closed(&mut stream));
        assert_eq!((answered, code(&body).as_str()), (status, error), "{extra}");
    }
    // A console form from someone not logged in: sent to the login page, form unread.
    let mut stream = connect(admin);
    let head = format!(
        "POST /console/rollback HTTP/1.1\r\nHost: {admin}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("head sent");
    let (status, head, _) = parse(&read_until_closed(&mut stream));
    assert_eq!(status, 303);
    assert!(head.contains("location: /console/login"), "{head}");
    // A method no route takes a body with is refused unread as well.
    let mut stream = connect(admin);
    let head = format!("PUT /healthz HTTP/1.1\r\nHost: {admin}\r\nContent-Length: 4000\r\n\r\n");
    stream.write_all(head.as_bytes()).expect("head sent");
    let (status, _, body) = parse(&read_until_closed(&mut stream));
    assert_eq!((status, code(&body).as_str()), (404, "not-found"));

    // An allowed caller whose body stalls, or trickles, is answered 408 at its deadline.
    let mut stalled = connect(admin);
    let head = upload_head(
        admin,
        "/api/v1/bundles/validate",
        "Authorization: Bearer author-token\r\n",
    );
    stalled.write_all(head.as_bytes()).expect("head sent");
    stalled.write_all(&[0u8; 100]).expect("first bytes sent");
    let (status, _, body) = parse(&read_until_closed(&mut stalled));
    assert_eq!(status, 408, "{body}");
    assert_eq!(code(&body), "request-timeout");
    assert!(body.contains("body_timeout_ms"), "{body}");

    let mut trickle = connect(admin);
    trickle.write_all(head.as_bytes()).expect("head sent");
    trickle
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    // One byte every 200 ms keeps the connection busy but never finishes the body; bounded so
    // a server that never answers fails the test instead of hanging it.
    for _ in 0..(PATIENCE.as_millis() / 200) {
        if trickle.write_all(b"x").is_err() {
            break;
        }
        match trickle.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.is_empty(), "a trickled body was never cut off");
    let (status, _, body) = parse(&answer);
    assert_eq!((status, code(&body).as_str()), (408, "request-timeout"));

    // The login form is read before anyone is known, so it is small and quick or refused.
    let login_head = |length: usize| {
        format!(
            "POST /console/login HTTP/1.1\r\nHost: {admin}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
        )
    };
    let mut slow_login = connect(admin);
    slow_login
        .write_all(format!("{}token=", login_head(100)).as_bytes())
        .expect("head sent");
    let (status, _, _) = parse(&read_until_closed(&mut slow_login));
    assert_eq!(status, 408, "a login form that stalls");
    let mut huge_login = connect(admin);
    huge_login
        .write_all(login_head(1 << 20).as_bytes())
        .expect("head sent");
    let (status, _, _) = parse(&read_until_closed(&mut huge_login));
    assert_eq!(status, 400, "a login form too large to be one");

    // A body that arrives in time is read as before (the archive is junk, so it is refused
    // on its content, which proves it was read).
    let (status, body) = http(
        admin,
        "POST",
        "/api/v1/bundles/validate",
        &[("Authorization", "Bearer author-token")],
        b"not a bundle",
    );
    assert!(status == 400 || status == 422, "{status} {body}");
}

#[test]
fn a_second_request_on_a_connection_cannot_hold_it_open() {
    let server = Server::start(&config(""), &[], &[]);
    let admin = server.admin_address();
    let mut stream = connect(admin);
    // Keep-alive asked for, then the start of another request that never ends.
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {admin}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("request sent");
    stream
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {admin}\r\nX-Slow: ").as_bytes())
        .expect("second head started");
    let answer = read_until_closed(&mut stream);
    let (status, head, _) = parse(&answer);
    assert_eq!(status, 200);
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(answer.matches("HTTP/1.1").count(), 1, "{answer}");
}

#[test]
fn a_request_naming_another_host_is_refused_with_what_to_configure() {
    let server = Server::start(&config("hosts = [\"admin.example.net\"]"), &[], &[]);
    let admin = server.admin_address();
    let port = admin.port();
    let ask = |host: &str, path: &str| {
        let mut stream = connect(admin);
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer viewer-token\r\n\
             Connection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).expect("request sent");
        parse(&read_until_closed(&mut stream))
    };
    // A page on another site whose name now resolves to this server.
    for path in ["/healthz", "/metrics", "/api/v1/status", "/console/login"] {
        let (status, _, body) = ask(&format!("rebound.attacker.example:{port}"), path);
        assert_eq!(status, 421, "{path}: {body}");
        assert_eq!(code(&body), "unknown-host");
        assert!(body.contains("[admin] hosts"), "{body}");
        assert!(body.contains("rebound.attacker.example"), "{body}");
    }
    // The configured name (on any port), and loopback with the listening port.
    for host in [
        "admin.example.net".to_owned(),
        format!("Admin.Example.Net:{port}"),
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
    ] {
        let (status, _, body) = ask(&host, "/api/v1/status");
        assert_eq!(status, 200, "{host}: {body}");
    }
    let (status, _, _) = ask(&format!("localhost:{}", port.wrapping_add(1)), "/healthz");
    assert_eq!(status, 421, "loopback on another port");
    // No Host at all (HTTP/1.0) is refused too.
    let mut stream = connect(admin);
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\n\r\n")
        .expect("request sent");
    let (status, _, body) = parse(&read_until_closed(&mut stream));
    assert_eq!((status, code(&body).as_str()), (421, "unknown-host"));
}

/// A request over TLS trusting only `ca`; returns status, lower-cased head and body.
fn https(
    admin: SocketAddr,
    ca: &Path,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots.add(cert.expect("a certificate")).expect("added");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").expect("a name");
    let connection = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let mut stream = rustls::StreamOwned::new(connection, connect(admin));
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        admin.port(),
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("request sent");
    stream.write_all(body).expect("body sent");
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof && !answer.is_empty() => {}
        Err(e) => panic!("reading over TLS: {e}"),
    }
    parse(&String::from_utf8_lossy(&answer))
}

#[test]
fn tls_serves_health_the_api_and_a_secure_console_cookie_and_ctl_speaks_it() {
    let server = Server::start(&config("tls = true"), &[], &[]);
    let admin = server.admin_address();
    let ca = server.state_path("ca.pem");
    assert!(
        server.log().contains("scheme=\"https\""),
        "{}",
        server.log()
    );

    let (status, _, body) = https(admin, &ca, "GET", "/healthz", &[], b"");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, _, body) = https(
        admin,
        &ca,
        "GET",
        "/api/v1/status",
        &[("Authorization", "Bearer viewer-token")],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    let status_reply: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(status_reply["revision"], 0);
    let (status, head, _) = https(
        admin,
        &ca,
        "POST",
        "/console/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"token=viewer-token",
    );
    assert_eq!(status, 303, "{head}");
    let cookie = head
        .lines()
        .find(|l| l.starts_with("set-cookie: tf_console="))
        .unwrap_or_else(|| panic!("a session cookie: {head}"));
    assert!(cookie.contains("; secure"), "{cookie}");
    assert!(cookie.contains("httponly"), "{cookie}");

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = connect(admin);
    plain
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {admin}\r\n\r\n").as_bytes())
        .expect("request sent");
    let answer = read_until_closed(&mut plain);
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer:?}");

    // `appliance ctl` over https, trusting the state directory's CA by default.
    std::fs::write(server.dir.path().join("viewer.txt"), "viewer-token").expect("token file");
    let ctl = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_appliance"))
            .args([
                "ctl",
                "--admin",
                &format!("https://localhost:{}", admin.port()),
            ])
            .arg("--state-dir")
            .arg(&server.state)
            .arg("--token-file")
            .arg(server.dir.path().join("viewer.txt"))
            .args(extra)
            .args(["status", "--json"])
            .output()
            .expect("appliance ctl runs")
    };
    let out = ctl(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Value = serde_json::from_slice(&out.stdout).expect("JSON status");
    assert_eq!(reply["revision"], 0);
    // A CA that did not issue the server's certificate is not trusted.
    let other = server.dir.path().join("other-state");
    let init = Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(["init", "--state-dir"])
        .arg(&other)
        .output()
        .expect("appliance init runs");
    assert!(init.status.success());
    let other_ca = other.join("ca.pem");
    // A certificate that does not check out fails the call: exit 1.
    let out = ctl(&["--ca", other_ca.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("certificate"), "{stderr}");
}

/// A connection from `source` (any 127.0.0.0/8 address is this machine).
fn connect_from(source: &str, admin: SocketAddr) -> TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let local: SocketAddr = format!("{source}:0").parse().expect("address");
    socket.bind(&local.into()).expect("bound to the source");
    socket
        .connect_timeout(&admin.into(), PATIENCE)
        .expect("connected");
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream
}

/// One request from `source`; status, lower-cased head, body.
fn from(
    source: &str,
    admin: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut stream = connect_from(source, admin);
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("request sent");
    stream.write_all(body).expect("body sent");
    parse(&read_until_closed(&mut stream))
}

fn retry_after(head: &str) -> u64 {
    head.lines()
        .find_map(|l| l.strip_prefix("retry-after: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("a Retry-After: {head}"))
}

/// Repeats `attempt` until it is answered 429 with a wait of at least `at_least` seconds
/// (waiting out shorter blocks, each of which doubles the next); returns that answer.
fn until_blocked_for(
    at_least: u64,
    mut attempt: impl FnMut() -> (u16, String, String),
) -> (u16, String, String) {
    for _ in 0..64 {
        let answer = attempt();
        if answer.0 == 429 {
            let wait = retry_after(&answer.1);
            if wait >= at_least {
                return answer;
            }
            // A wait on time itself: the block ends only once its Retry-After has passed.
            std::thread::sleep(Duration::from_secs(wait));
        }
    }
    panic!("never blocked for {at_least} s");
}

#[test]
fn unknown_tokens_are_throttled_per_address_and_the_block_holds_the_right_token_too() {
    let server = Server::start(&config(""), &[], &[]);
    let admin = server.admin_address();
    let bearer = |token: &str| format!("Bearer {token}");
    let guess = bearer("guess");
    let (status, head, body) = until_blocked_for(4, || {
        from(
            "127.0.0.1",
            admin,
            "GET",
            "/api/v1/status",
            &[("Authorization", &guess)],
            b"",
        )
    });
    assert_eq!(status, 429);
    let error: Value = serde_json::from_str(&body).expect("ErrorBody");
    assert_eq!(error["error"], "too-many-attempts");
    assert_eq!(error["retry_after"].as_u64(), Some(retry_after(&head)));

    // While blocked, even the right token from that address is not looked at, at the API or
    // at the console's login (refused from its headers).
    let right = bearer("viewer-token");
    let (status, _, body) = from(
        "127.0.0.1",
        admin,
        "GET",
        "/api/v1/status",
        &[("Authorization", &right)],
        b"",
    );
    assert_eq!((status, code(&body).as_str()), (429, "too-many-attempts"));
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let (status, head, _) = from(
        "127.0.0.1",
        admin,
        "POST",
        "/console/login",
        &form,
        b"token=viewer-token",
    );
    assert_eq!(status, 429);
    assert!(retry_after(&head) >= 1);

    // Another address is not held back by it.
    let (status, _, body) = from(
        "127.0.0.2",
        admin,
        "GET",
        "/api/v1/status",
        &[("Authorization", &right)],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    let (status, head, _) = from(
        "127.0.0.2",
        admin,
        "POST",
        "/console/login",
        &form,
        b"token=viewer-token",
    );
    assert_eq!(status, 303, "{head}");
}

fn logged_in(admin: SocketAddr, cookie: &str) -> bool {
    let (status, _) = http(admin, "GET", "/console/bundles", &[("Cookie", cookie)], b"");
    match status {
        200 => true,
        303 => false,
        other => panic!("console answered {other}"),
    }
}

#[test]
fn one_tokens_logins_are_throttled_and_never_end_another_tokens_session() {
    let server = Server::start(&config(""), &[], &[]);
    let admin = server.admin_address();
    let operator = console_login(admin, "sre-token").expect("the sre logs in");
    let first = console_login(admin, "viewer-token").expect("the viewer logs in");

    // The viewer logs in again and again: it is made to wait, more each time.
    let mut latest = first.clone();
    let (status, head, _) = until_blocked_for(4, || match console_login(admin, "viewer-token") {
        Ok(cookie) => {
            latest = cookie;
            (303, String::new(), String::new())
        }
        Err((status, head)) => (status, head, String::new()),
    });
    assert_eq!(status, 429, "{head}");

    // Its own oldest session made room for its newer ones; the sre's session was never
    // touched, and the sre may still log in.
    assert!(logged_in(admin, &latest), "the viewer's newest session");
    assert!(
        !logged_in(admin, &first),
        "the viewer's first session ended"
    );
    assert!(logged_in(admin, &operator), "the sre's session lives");
    assert!(console_login(admin, "sre-token").is_ok());
}
