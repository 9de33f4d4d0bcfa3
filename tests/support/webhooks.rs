//! The reference webhook receiver, `appliance webhooks receive`, as a second process on a
//! loopback port: started with its keys and fault options, restarted on the same port and
//! out dir, killed or stopped; what it recorded read back from its out dir. Also waiting for
//! every receipt to be recorded (with support/server.rs's `wait_for`, re-exported here), and
//! checking that each receipt arrived once.
//!
//! Included beside support/server.rs (as `mod server`), whose process and HTTP helpers it
//! uses.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;

pub use crate::server::wait_for;
use crate::server::{self, Server};

/// `appliance webhooks receive` as a child process.
pub struct Receiver {
    child: Child,
    // Kept open: the receiver's stdout is a pipe.
    _stdout: BufReader<ChildStdout>,
    address: SocketAddr,
    out: PathBuf,
    args: Vec<String>,
    log: PathBuf,
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1:`port` (0: any free port) recording into `out`, with
    /// `args` (keys, fault options, ...); it logs to `out` with the extension `log`. Returns
    /// once it says where it listens.
    pub fn start(port: u16, out: &Path, args: &[&str]) -> Receiver {
        let log = out.with_extension("log");
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let listen = format!("127.0.0.1:{port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_appliance"))
            .args(["webhooks", "receive", "--listen", &listen])
            .arg("--out")
            .arg(out)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("receiver starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("stdout readable");
        let logged = || std::fs::read_to_string(&log).unwrap_or_default();
        if port != 0 {
            assert_eq!(
                line.trim(),
                format!("listening on http://{listen}"),
                "{}",
                logged()
            );
        }
        let address = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no `listening on` line ({line:?}): {}", logged()));
        Receiver {
            child,
            _stdout: stdout,
            address,
            out: out.to_path_buf(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            log,
        }
    }

    /// [`Receiver::start`] as an appliance endpoint's receiver: it checks signatures with the
    /// endpoint's `secret` and receipts with the key in the appliance's `state` directory;
    /// `extra` adds fault options.
    pub fn for_endpoint(
        port: u16,
        out: &Path,
        secret: &str,
        state: &Path,
        extra: &[&str],
    ) -> Receiver {
        let state = state.to_str().expect("utf-8 path");
        let args = [&["--secret", secret, "--state-dir", state], extra].concat();
        Receiver::start(port, out, &args)
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its out dir.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// SIGKILL: no goodbye.
    pub fn kill(&mut self) {
        server::kill_and_reap(&mut self.child);
    }

    /// SIGTERM, and its exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        server::send_signal(self.child.id(), "TERM");
        server::wait_child_exit(&mut self.child, || {
            std::fs::read_to_string(&self.log).unwrap_or_default()
        })
    }

    /// The same receiver again: same port, same out dir, same options.
    pub fn restart(self) -> Receiver {
        let (port, out, args) = (self.address.port(), self.out.clone(), self.args.clone());
        drop(self);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Receiver::start(port, &out, &args)
    }

    /// POSTs `body` to /webhooks with `headers` (and `Content-Type: application/json`); the
    /// status, the response's head and its body.
    pub fn post_with_head(
        &self,
        headers: &[(String, String)],
        body: &[u8],
    ) -> (u16, String, String) {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        server::http_with_head(self.address, "POST", "/webhooks", &all, body)
    }

    /// [`Receiver::post_with_head`]: the status and the body.
    pub fn post_with(&self, headers: &[(String, String)], body: &[u8]) -> (u16, String) {
        let (status, _, text) = self.post_with_head(headers, body);
        (status, text)
    }

    /// The JSON lines of a file in the out dir written so far (none if it does not exist); a
    /// line being written is left out.
    pub fn lines(&self, file: &str) -> Vec<Value> {
        whole_lines(&self.text(file))
    }

    /// Every JSON line of a file in the out dir, once the receiver has answered what was sent
    /// to it: then no line may be half written.
    pub fn settled_lines(&self, file: &str) -> Vec<Value> {
        let text = self.text(file);
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{file} ends in a torn line: {text:?}"
        );
        whole_lines(&text)
    }

    /// The seq of every receipt recorded, in the order recorded.
    pub fn recorded(&self) -> Vec<u64> {
        self.lines("receipts.jsonl")
            .iter()
            .map(|line| line["seq"].as_u64().expect("seq"))
            .collect()
    }

    /// Waits (up to `deadline`) until every receipt of `expected` is recorded.
    pub fn wait_for_all(&self, expected: &BTreeSet<u64>, deadline: Duration, server: &Server) {
        wait_for(
            &format!("{} to record every receipt", self.out.display()),
            deadline,
            || {
                let got: BTreeSet<u64> = self.recorded().into_iter().collect();
                expected.is_subset(&got)
            },
            || {
                let got: BTreeSet<u64> = self.recorded().into_iter().collect();
                let missing: Vec<_> = expected.difference(&got).collect();
                format!(
                    "missing {missing:?}\nreceiver:\n{}\nappliance:\n{}",
                    self.log(),
                    server.log()
                )
            },
        );
    }

    /// What it logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn text(&self, file: &str) -> String {
        std::fs::read_to_string(self.out.join(file)).unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON lines of `text` that end in a newline.
fn whole_lines(text: &str) -> Vec<Value> {
    text.split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// Each of `expected` once in `got`, and nothing else.
pub fn assert_exactly_once(got: &[u64], expected: &BTreeSet<u64>, what: impl std::fmt::Display) {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for seq in got {
        *counts.entry(*seq).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    let missing: Vec<_> = expected
        .iter()
        .filter(|s| !counts.contains_key(s))
        .collect();
    let unexpected: Vec<_> = counts.keys().filter(|s| !expected.contains(s)).collect();
    assert!(
        twice.is_empty() && missing.is_empty() && unexpected.is_empty(),
        "{what}: (seq, times) more than once {twice:?}; missing {missing:?}; not issued \
         {unexpected:?}"
    );
}
