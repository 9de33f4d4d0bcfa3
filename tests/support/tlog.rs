//! Helpers for the transparency log's end-to-end tests: receipts saved as a partner saves
//! them, the log read over plain HTTP, and the log checked with the independent `signed_note`
//! and `tlog_tiles` crates (never with the appliance's own log code).

#![allow(dead_code)] // each test binary uses a different subset

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, PartnerConfig, Statement, Submission, VerdictReply};

/// A receipt as a partner saved it.
#[derive(Clone, Debug)]
pub struct Saved {
    /// Its ledger sequence number: its index in the log.
    pub seq: u64,
    /// Its DSSE envelope, as JSON.
    pub json: String,
}

impl Saved {
    /// The receipt saved from a verdict.
    pub fn from_reply(reply: &VerdictReply) -> Saved {
        let envelope = tf_partner::receipt_envelope(reply);
        let seq = serde_json::from_slice::<serde_json::Value>(&envelope.payload)
            .expect("receipt JSON")["ledger_seq"]
            .as_u64()
            .expect("ledger_seq");
        Saved {
            seq,
            json: envelope.to_json(),
        }
    }

    /// Its log entry: the SHA-256 of its envelope JSON.
    pub fn entry(&self) -> [u8; 32] {
        Sha256::digest(self.json.as_bytes()).into()
    }
}

/// Request `n`: a valid BLS signature over a message of its own.
pub fn submission(n: u64) -> Submission {
    let message = n.to_le_bytes().to_vec();
    let (signature, public_key) = bls::sign(&[3; 32], &message).expect("signs");
    Submission {
        purpose: "transparency".into(),
        dataset_class: DatasetClass::P2,
        statement: Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message,
            signature: signature.to_bytes(),
        },
    }
}

/// Submits requests `first..first + count` over one connection, saving every receipt; any
/// failure panics (for appliances that are not being killed).
pub async fn submit(config: PartnerConfig, first: u64, count: u64) -> Vec<Saved> {
    let partner = Partner::connect(&config).await.expect("connects");
    let mut saved = Vec::with_capacity(count as usize);
    for n in first..first + count {
        let reply = partner.submit(submission(n)).await.expect("answered");
        saved.push(Saved::from_reply(&reply));
    }
    partner.close().await;
    saved
}

/// [`submit`] over `connections` connections at once, `each` requests per connection.
pub async fn submit_concurrently(
    config: &PartnerConfig,
    first: u64,
    connections: u64,
    each: u64,
) -> Vec<Saved> {
    let tasks: Vec<_> = (0..connections)
        .map(|c| tokio::spawn(submit(config.clone(), first + c * each, each)))
        .collect();
    let mut saved = Vec::new();
    for task in tasks {
        saved.extend(task.await.expect("submitter"));
    }
    saved
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The status line and headers, lowercased.
    pub head: String,
    /// The body, as sent.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value (name in lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim())
        })
    }
}

/// A GET over a fresh HTTP/1.1 connection; an error if the server cannot be reached (a killed
/// appliance) instead of a panic.
pub fn try_get(address: SocketAddr, path: &str) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let malformed = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not HTTP");
    let response = super::server::read_response(&mut stream)?;
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(malformed)?;
    let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(malformed)?;
    Ok(Response {
        status,
        head,
        body: response[end + 4..].to_vec(),
    })
}

/// [`try_get`] of a running server.
pub fn get(address: SocketAddr, path: &str) -> Response {
    try_get(address, path).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// The checkpoint a signed note carries, its signature verified by `signed_note` with the
/// log's verifier key and its text parsed by `tlog_tiles`.
pub fn independently_verified(note: &str, vkey: &str) -> Result<tlog_tiles::Checkpoint, String> {
    let verifier =
        signed_note::StandardVerifier::new(vkey).map_err(|e| format!("the vkey {vkey}: {e}"))?;
    let parsed = signed_note::Note::from_bytes(note.as_bytes())
        .map_err(|e| format!("not a signed note ({e}):\n{note}"))?;
    parsed
        .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|e| format!("the signature does not verify ({e}):\n{note}"))?;
    tlog_tiles::Checkpoint::from_bytes(parsed.text())
        .map_err(|e| format!("not a checkpoint ({e}):\n{note}"))
}

/// The C2SP path of a hash tile: `tlog_tiles` renders Go's sumdb layout, whose height segment
/// (`tile/8/...`) C2SP tlog-tiles drops.
pub fn c2sp_path(tile: &tlog_tiles::Tile) -> String {
    assert!(!tile.is_data(), "tlog_tiles asks for hash tiles only");
    let go = tile.path();
    let rest = go
        .strip_prefix("tile/8/")
        .unwrap_or_else(|| panic!("a height-8 tile: {go}"));
    format!("tile/{rest}")
}

/// Hash tiles for `tlog_tiles::TileHashReader`, read by C2SP path through `fetch` (over HTTP,
/// or from a log directory); which paths were read is kept.
pub struct C2spTiles<F> {
    fetch: F,
    fetched: RefCell<BTreeSet<String>>,
}

impl<F: Fn(&str) -> Option<Vec<u8>>> C2spTiles<F> {
    /// Tiles read through `fetch(path)`, `path` relative (`tile/0/001.p/45`).
    pub fn new(fetch: F) -> Self {
        C2spTiles {
            fetch,
            fetched: RefCell::new(BTreeSet::new()),
        }
    }

    /// The paths read so far.
    pub fn fetched(&self) -> BTreeSet<String> {
        self.fetched.borrow().clone()
    }
}

impl<F: Fn(&str) -> Option<Vec<u8>>> tlog_tiles::TileReader for C2spTiles<F> {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|tile| {
                let path = c2sp_path(tile);
                let bytes = (self.fetch)(&path).ok_or(tlog_tiles::Error::InvalidTile)?;
                self.fetched.borrow_mut().insert(path);
                Ok(bytes)
            })
            .collect()
    }

    fn save_tiles(&self, _tiles: &[tlog_tiles::Tile], _data: &[Vec<u8>]) {}
}

/// Checks with `tlog_tiles` alone that `entry` is record `index` of the tree of `size` records
/// with root `root`, reading the proof's hashes through tiles it authenticates.
pub fn check_included(
    tiles: &impl tlog_tiles::TileReader,
    size: u64,
    root: tlog_tiles::Hash,
    index: u64,
    entry: &[u8],
) -> Result<(), tlog_tiles::Error> {
    let reader = tlog_tiles::TileHashReader::new(size, root, tiles);
    let proof = tlog_tiles::prove_record(size, index, &reader)?;
    tlog_tiles::check_record(&proof, size, root, index, tlog_tiles::record_hash(entry))
}

/// Checks with `tlog_tiles` alone that the tree of `old_size` with `old_root` is a prefix of
/// the tree of `size` with `root`, reading the proof's hashes through tiles of the larger tree.
pub fn check_extends(
    tiles: &impl tlog_tiles::TileReader,
    size: u64,
    root: tlog_tiles::Hash,
    old_size: u64,
    old_root: tlog_tiles::Hash,
) -> Result<(), tlog_tiles::Error> {
    let reader = tlog_tiles::TileHashReader::new(size, root, tiles);
    let proof = tlog_tiles::prove_tree(size, old_size, &reader)?;
    tlog_tiles::check_tree(&proof, size, root, old_size, old_root)
}

/// The entries of a C2SP entry bundle: each a big-endian u16 length, then its bytes.
pub fn bundle_entries(mut bundle: &[u8]) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    while !bundle.is_empty() {
        let (length, rest) = bundle.split_at_checked(2).expect("a length prefix");
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        let (entry, rest) = rest.split_at_checked(length).expect("the entry's bytes");
        entries.push(entry.to_vec());
        bundle = rest;
    }
    entries
}

/// A C2SP tile index as path segments: `x001/234` for 1234.
pub fn index_path(index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}
