//! The receiver's record in `--out`: each message once, durably, before it is acknowledged.
//!
//! - `messages.jsonl`: a line per message, `{"id", "type", "timestamp", "received_at_unix_us",
//!   "first_seq", "last_seq", "receipts"}`. A message is recorded when its line is: the ids
//!   deduplicated against are reloaded from here at start.
//! - `receipts.jsonl`: a line per receipt, `{"seq", "log_index", "envelope"}`, the envelope's
//!   text exactly as received, in the order of the messages.
//! - `events/<id>.json`: the body of any other event, byte for byte.
//! - `rejected/<id>.json`: the latest refused attempt of a batch whose receipts did not hold,
//!   `{"id", "type", "timestamp", "received_at_unix_us", "reason", "body"}`.
//!
//! A message's receipts (or its event file) are written and synced before its line, so a crash
//! cannot leave a message recorded without them. What a crash can leave, [`Store::open`]
//! repairs: a torn last line of `messages.jsonl` is cut off (that message was never
//! acknowledged, so it comes again), and `receipts.jsonl` is cut back to the receipts the
//! recorded messages account for.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::receive::Message;

const MESSAGES: &str = "messages.jsonl";
const RECEIPTS: &str = "receipts.jsonl";
const EVENTS: &str = "events";
const REJECTED: &str = "rejected";
/// Longest id used as a file name as it is; longer ones, or ones with other characters, are
/// named by their SHA-256.
const MAX_PLAIN_ID: usize = 128;

/// Whether a message was new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded now.
    New,
    /// Recorded before (a retry, or a resend after a restart of either side).
    Duplicate,
}

/// The files of `--out`, open for appending, and the ids recorded in them.
pub struct Store {
    dir: PathBuf,
    messages: File,
    receipts: File,
    /// The files' lengths after the last message recorded: where a failed write is cut back to.
    messages_len: u64,
    receipts_len: u64,
    seen: HashSet<String>,
    /// Reused for each message's lines.
    buf: Vec<u8>,
    /// A failed write could not be cut back: nothing more is written until a restart repairs
    /// the files.
    damaged: bool,
}

impl Store {
    /// Opens (or creates) the record in `dir`, repairing what a crash left.
    pub fn open(dir: &Path) -> Result<Self, String> {
        for sub in [dir.to_path_buf(), dir.join(EVENTS), dir.join(REJECTED)] {
            fs::create_dir_all(&sub).map_err(|e| format!("{}: {e}", sub.display()))?;
        }
        let messages_path = dir.join(MESSAGES);
        let receipts_path = dir.join(RECEIPTS);
        let messages = open_append(&messages_path)?;
        // Two receivers appending to the same files would interleave their lines.
        messages.try_lock().map_err(|e| match e {
            TryLockError::WouldBlock => {
                format!("{}: another receiver is recording here", dir.display())
            }
            TryLockError::Error(e) => format!("{}: {e}", messages_path.display()),
        })?;
        let receipts = open_append(&receipts_path)?;
        let loaded = load_messages(&messages, &messages_path)?;
        let receipts_len = receipts_end(&receipts, loaded.receipts, &receipts_path)?;
        cut_back(&messages, loaded.len, &messages_path, "a torn last line")?;
        cut_back(
            &receipts,
            receipts_len,
            &receipts_path,
            "receipts of an unrecorded message",
        )?;
        // The files' directory entries, so that what is synced into them is found again.
        sync_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            messages,
            receipts,
            messages_len: loaded.len,
            receipts_len,
            seen: loaded.ids,
            buf: Vec::with_capacity(64 * 1024),
            damaged: false,
        })
    }

    /// Messages recorded so far.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether a message with this id is recorded.
    pub fn contains(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    /// Records a message unless its id is recorded already; on `Ok` it is on disk.
    ///
    /// Synced (fsync), not merely flushed: a 2xx lets the appliance drop the message from its
    /// outbox for good, so it must survive a power cut, not only a crash of this process.
    /// Batching makes that a couple of syncs per batch of receipts.
    pub fn record(
        &mut self,
        id: &str,
        received_at_us: u64,
        message: &Message,
        body: &[u8],
    ) -> io::Result<Recorded> {
        if self.seen.contains(id) {
            return Ok(Recorded::Duplicate);
        }
        if self.damaged {
            return Err(io::Error::other(
                "an earlier write failed and could not be undone; restart the receiver to \
                 repair --out",
            ));
        }
        match self.append(id, received_at_us, message, body) {
            Ok(()) => {
                self.seen.insert(id.to_owned());
                Ok(Recorded::New)
            }
            Err(e) => {
                self.undo();
                Err(e)
            }
        }
    }

    /// Keeps a refused batch aside, with why. Not synced: nothing was acknowledged, and the
    /// sender will try again.
    pub fn reject(
        &self,
        id: &str,
        received_at_us: u64,
        timestamp: &str,
        reason: &str,
        body: &[u8],
    ) -> io::Result<()> {
        let record = RejectedRecord {
            id,
            event_type: tf_webhooks::EventType::ReceiptIssued.as_str(),
            timestamp,
            received_at_unix_us: received_at_us,
            reason,
            body: &String::from_utf8_lossy(body),
        };
        let mut text = serde_json::to_vec_pretty(&record)?;
        text.push(b'\n');
        fs::write(self.dir.join(REJECTED).join(file_name(id)), text)
    }

    fn append(
        &mut self,
        id: &str,
        received_at_us: u64,
        message: &Message,
        body: &[u8],
    ) -> io::Result<()> {
        // A batch's receipts go to receipts.jsonl, any other event's body to events/; either
        // is on disk before the message's line.
        self.buf.clear();
        if message.receipts.is_empty() {
            let path = self.dir.join(EVENTS).join(file_name(id));
            let mut file = File::create(&path)?;
            file.write_all(body)?;
            file.sync_data()?;
            sync_dir(&self.dir.join(EVENTS))?;
        } else {
            for entry in &message.receipts {
                let line = ReceiptLine {
                    seq: entry.seq,
                    log_index: entry.log_index,
                    envelope: &entry.envelope,
                };
                serde_json::to_writer(&mut self.buf, &line)?;
                self.buf.push(b'\n');
            }
            self.receipts.write_all(&self.buf)?;
            self.receipts.sync_data()?;
        }
        let receipts_written = self.buf.len() as u64;

        self.buf.clear();
        let line = MessageLine {
            id,
            event_type: &message.event_type,
            timestamp: &message.timestamp,
            received_at_unix_us: received_at_us,
            first_seq: message.receipts.first().map(|r| r.seq),
            last_seq: message.receipts.last().map(|r| r.seq),
            receipts: message.receipts.len() as u64,
        };
        serde_json::to_writer(&mut self.buf, &line)?;
        self.buf.push(b'\n');
        self.messages.write_all(&self.buf)?;
        self.messages.sync_data()?;

        self.receipts_len += receipts_written;
        self.messages_len += self.buf.len() as u64;
        Ok(())
    }

    /// Cuts both files back to the last message recorded, so the next one starts on a fresh
    /// line and no receipt is left without its message.
    fn undo(&mut self) {
        let undone = self
            .messages
            .set_len(self.messages_len)
            .and_then(|()| self.receipts.set_len(self.receipts_len));
        if let Err(e) = undone {
            eprintln!(
                "error: {}: a failed write could not be undone ({e}); refusing every message \
                 until a restart repairs the files",
                self.dir.display()
            );
            self.damaged = true;
        }
    }
}

#[derive(Serialize)]
struct MessageLine<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: &'a str,
    received_at_unix_us: u64,
    first_seq: Option<u64>,
    last_seq: Option<u64>,
    receipts: u64,
}

/// What a restart needs of a message line.
#[derive(Deserialize)]
struct LoadedLine {
    id: String,
    receipts: u64,
}

#[derive(Serialize)]
struct ReceiptLine<'a> {
    seq: u64,
    log_index: Option<u64>,
    envelope: &'a str,
}

#[derive(Serialize)]
struct RejectedRecord<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: &'a str,
    received_at_unix_us: u64,
    reason: &'a str,
    body: &'a str,
}

/// What `messages.jsonl` holds.
struct Loaded {
    ids: HashSet<String>,
    /// Receipts the messages account for.
    receipts: u64,
    /// Bytes up to the end of the last good line.
    len: u64,
}

fn load_messages(file: &File, path: &Path) -> Result<Loaded, String> {
    let mut loaded = Loaded {
        ids: HashSet::new(),
        receipts: 0,
        len: 0,
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    // A line that does not parse is a torn write only if nothing follows it.
    let mut bad_line: Option<usize> = None;
    for number in 1.. {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if read == 0 {
            break;
        }
        if let Some(bad) = bad_line {
            return Err(format!(
                "{}: line {bad} is not a message record, and more follow; refusing to add to a \
                 record edited or damaged by hand",
                path.display()
            ));
        }
        let parsed = line
            .strip_suffix(b"\n")
            .and_then(|text| serde_json::from_slice::<LoadedLine>(text).ok());
        match parsed {
            Some(message) => {
                loaded.receipts += message.receipts;
                loaded.ids.insert(message.id);
                loaded.len += read as u64;
            }
            None => bad_line = Some(number),
        }
    }
    Ok(loaded)
}

/// Where the first `count` lines of `receipts.jsonl` end.
fn receipts_end(file: &File, count: u64, path: &Path) -> Result<u64, String> {
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let (mut lines, mut end) = (0u64, 0u64);
    while lines < count {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if read == 0 || !line.ends_with(b"\n") {
            return Err(format!(
                "{}: holds {lines} receipts, but {MESSAGES} accounts for {count}; refusing to \
                 add to a record edited or damaged by hand",
                path.display()
            ));
        }
        lines += 1;
        end += read as u64;
    }
    Ok(end)
}

fn cut_back(file: &File, len: u64, path: &Path, what: &str) -> Result<(), String> {
    let actual = file
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if actual > len {
        eprintln!(
            "{}: cutting off {} bytes after offset {len} ({what}, left by a crash)",
            path.display(),
            actual - len
        );
        file.set_len(len)
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn open_append(path: &Path) -> Result<File, String> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// `<id>.json` for ids that are safe file names; `sha256=<hex>.json` for the rest (`=` is
/// not in the safe set, so the two forms never meet).
fn file_name(id: &str) -> String {
    let plain = id.len() <= MAX_PLAIN_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        format!("{id}.json")
    } else {
        format!("sha256={}.json", hex::encode(Sha256::digest(id.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook_commands::receive::ReceiptEntry;

    fn batch(seqs: &[u64]) -> Message {
        Message {
            event_type: "receipt.issued".into(),
            timestamp: "2030-01-01T00:00:00.000000Z".into(),
            receipts: seqs
                .iter()
                .map(|&seq| ReceiptEntry {
                    seq,
                    log_index: None,
                    envelope: format!("{{\n  \"payload\": \"{seq}\"\n}}"),
                })
                .collect(),
        }
    }

    fn lines(dir: &Path, file: &str) -> Vec<String> {
        fs::read_to_string(dir.join(file))
            .expect("readable")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn records_each_message_once_across_reopening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path()).expect("opens");
        let body = b"{}";
        assert_eq!(
            store
                .record("msg_1", 5, &batch(&[1, 2]), body)
                .expect("written"),
            Recorded::New
        );
        assert_eq!(
            store
                .record("msg_1", 6, &batch(&[1, 2]), body)
                .expect("written"),
            Recorded::Duplicate
        );
        let event = Message {
            event_type: "bundle.promoted".into(),
            timestamp: "t".into(),
            receipts: Vec::new(),
        };
        assert_eq!(
            store
                .record("msg_2", 7, &event, br#"{"a": 1}"#)
                .expect("written"),
            Recorded::New
        );
        drop(store);

        let mut store = Store::open(dir.path()).expect("reopens");
        assert_eq!(store.len(), 2);
        assert_eq!(
            store
                .record("msg_1", 8, &batch(&[1, 2]), body)
                .expect("written"),
            Recorded::Duplicate
        );
        assert_eq!(
            store
                .record("msg_3", 9, &batch(&[3]), body)
                .expect("written"),
            Recorded::New
        );

        let messages = lines(dir.path(), MESSAGES);
        assert_eq!(messages.len(), 3);
        let first: serde_json::Value = serde_json::from_str(&messages[0]).expect("json");
        assert_eq!(
            first,
            serde_json::json!({"id": "msg_1", "type": "receipt.issued",
                "timestamp": "2030-01-01T00:00:00.000000Z", "received_at_unix_us": 5,
                "first_seq": 1, "last_seq": 2, "receipts": 2})
        );
        let receipts = lines(dir.path(), RECEIPTS);
        assert_eq!(receipts.len(), 3);
        let third: serde_json::Value = serde_json::from_str(&receipts[2]).expect("json");
        assert_eq!(third["envelope"], "{\n  \"payload\": \"3\"\n}");
        assert_eq!(
            fs::read(dir.path().join(EVENTS).join("msg_2.json")).expect("event"),
            br#"{"a": 1}"#
        );
    }

    #[test]
    fn a_crash_mid_message_is_repaired_at_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path()).expect("opens");
        store
            .record("msg_1", 5, &batch(&[1]), b"{}")
            .expect("written");
        drop(store);
        // Receipts of a message whose line never made it, and a torn line after it.
        let append = |file: &str, text: &str| {
            let mut f = OpenOptions::new()
                .append(true)
                .open(dir.path().join(file))
                .expect("open");
            f.write_all(text.as_bytes()).expect("append");
        };
        append(
            RECEIPTS,
            "{\"seq\":2,\"log_index\":null,\"envelope\":\"x\"}\n{\"seq\":3,",
        );
        append(MESSAGES, "{\"id\":\"msg_2\",\"ty");

        let mut store = Store::open(dir.path()).expect("repairs");
        assert!(store.contains("msg_1") && !store.contains("msg_2"));
        assert_eq!(
            store
                .record("msg_2", 6, &batch(&[2, 3]), b"{}")
                .expect("written"),
            Recorded::New
        );
        let messages = lines(dir.path(), MESSAGES);
        assert_eq!(messages.len(), 2);
        assert!(
            messages[1].starts_with("{\"id\":\"msg_2\""),
            "{}",
            messages[1]
        );
        let seqs: Vec<u64> = lines(dir.path(), RECEIPTS)
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).expect("json")["seq"]
                    .as_u64()
                    .expect("seq")
            })
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
    }

    #[test]
    fn a_record_damaged_by_hand_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path()).expect("opens");
        store
            .record("msg_1", 5, &batch(&[1, 2]), b"{}")
            .expect("written");
        store
            .record("msg_2", 5, &batch(&[3]), b"{}")
            .expect("written");
        drop(store);
        let receipts = dir.path().join(RECEIPTS);
        let text = fs::read_to_string(&receipts).expect("readable");
        fs::write(&receipts, text.lines().next().expect("a line")).expect("written");
        let error = Store::open(dir.path()).err().expect("refused");
        assert!(
            error.contains("holds 0 receipts") && error.contains("accounts for 3"),
            "{error}"
        );

        fs::write(&receipts, text).expect("restored");
        let messages = dir.path().join(MESSAGES);
        let text = fs::read_to_string(&messages).expect("readable");
        fs::write(&messages, format!("garbage\n{text}")).expect("written");
        let error = Store::open(dir.path()).err().expect("refused");
        assert!(error.contains("line 1"), "{error}");
    }

    #[test]
    fn one_receiver_at_a_time() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("opens");
        let error = Store::open(dir.path()).err().expect("locked");
        assert!(error.contains("another receiver"), "{error}");
        drop(store);
        Store::open(dir.path()).expect("free again");
    }

    #[test]
    fn unsafe_ids_are_named_by_digest() {
        assert_eq!(file_name("msg_receipts_1_2_3"), "msg_receipts_1_2_3.json");
        let hashed = file_name("../etc/passwd");
        assert!(
            hashed.starts_with("sha256=") && !hashed.contains('/'),
            "{hashed}"
        );
        assert!(file_name(&"a".repeat(MAX_PLAIN_ID + 1)).starts_with("sha256="));
    }
}
