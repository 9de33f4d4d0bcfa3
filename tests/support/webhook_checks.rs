//! What the appliance posts, seen without the appliance's own code: a capturing HTTP
//! receiver written here with nothing but std, and the independent signature checkers in
//! tests/tools/webhooks (the Standard Webhooks Python library with `cryptography`, in the venv
//! tests/run sets up at target/test-venv/webhooks, and Node's own `crypto`).

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::{Value, json};

/// A receiver written here with nothing but std: answers every request 200 and keeps its
/// headers and its body exactly as they arrived.
pub struct Capture {
    address: SocketAddr,
    seen: Arc<Mutex<Vec<Delivery>>>,
}

/// One request, as it arrived.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Names lowercased.
    pub headers: BTreeMap<String, String>,
    /// Byte for byte.
    pub body: Vec<u8>,
}

impl Delivery {
    /// The value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The seqs of the receipts its body carries.
    pub fn seqs(&self) -> Vec<u64> {
        let body: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        body["data"]["receipts"]
            .as_array()
            .map(|r| r.iter().filter_map(|e| e["seq"].as_u64()).collect())
            .unwrap_or_default()
    }
}

impl Capture {
    /// Listens on a free loopback port.
    pub fn start() -> Capture {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("bound");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = seen.clone();
        // Left running until the test process ends.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve_connection(stream, &seen);
                });
            }
        });
        Capture { address, seen }
    }

    /// Where to post to it.
    pub fn url(&self) -> String {
        format!("http://{}/hooks/capture", self.address)
    }

    /// Every request received, retries included, in arrival order.
    pub fn all(&self) -> Vec<Delivery> {
        self.seen.lock().expect("not poisoned").clone()
    }

    /// The first request of each webhook-id.
    pub fn unique(&self) -> Vec<Delivery> {
        let mut ids = BTreeSet::new();
        self.all()
            .into_iter()
            .filter(|d| ids.insert(d.header("webhook-id").unwrap_or_default().to_owned()))
            .collect()
    }
}

/// HTTP/1.1 requests on one kept-alive connection, each recorded, then answered 200.
fn serve_connection(stream: TcpStream, seen: &Mutex<Vec<Delivery>>) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut headers = BTreeMap::new();
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        // The appliance's bodies have a known length, so no chunked encoding.
        let length = headers
            .get("content-length")
            .map_or(0, |l| l.parse().unwrap_or(0));
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        seen.lock()
            .expect("not poisoned")
            .push(Delivery { headers, body });
        writer.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")?;
    }
}

/// The deliveries as the checkers read them: `[{"headers": {...}, "body_b64": "..."}]`.
pub fn checker_input(deliveries: &[Delivery]) -> Vec<u8> {
    let list: Vec<Value> = deliveries
        .iter()
        .map(|d| {
            json!({
                "headers": d.headers,
                "body_b64": base64::engine::general_purpose::STANDARD.encode(&d.body),
            })
        })
        .collect();
    serde_json::to_vec(&list).expect("serialises")
}

/// The venv's Python, where tests/run installs the Standard Webhooks library.
pub fn venv_python() -> PathBuf {
    let python = root().join("target/test-venv/webhooks/bin/python3");
    assert!(
        python.exists(),
        "{} is missing: run tests/run to set up the Python venv with the Standard Webhooks \
         library (tests/tools/webhooks/requirements.txt)",
        python.display()
    );
    python
}

/// tests/tools/webhooks/check_signatures.py with the venv's Python.
pub fn python_checker(python: &Path, args: &[&str], input: &[u8]) -> Output {
    checker(
        Command::new(python)
            .arg(root().join("tests/tools/webhooks/check_signatures.py"))
            .args(args),
        input,
    )
}

/// tests/tools/webhooks/verify.mjs with Node.
pub fn node_checker(args: &[&str], input: &[u8]) -> Output {
    checker(
        Command::new("node")
            .arg(root().join("tests/tools/webhooks/verify.mjs"))
            .args(args),
        input,
    )
}

/// Runs a checker with `input` on its stdin.
fn checker(command: &mut Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} runs (run tests/run to set it up): {e}"));
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input)
        .expect("input written");
    child.wait_with_output().expect("checker ends")
}

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
