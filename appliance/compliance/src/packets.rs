//! The packets in a folder as the appliance lists them: each complete packet's signed summary
//! (its index opened with the appliance key), its size, and the transparency-log anchor of its
//! index once the appliance has stored one.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::error::{SnapshotError, io};
use crate::index::{SnapshotSummary, open_index};
use crate::layout::{INDEX_FILE, is_packet_name};
use crate::staging::sync_dir;

/// One complete packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketInfo {
    /// Its name (`snapshot-20261202T000000Z`).
    pub name: String,
    /// Its folder.
    pub path: PathBuf,
    /// SHA-256 of its `index.dsse.json`.
    pub index_sha256: Sha256Digest,
    /// The signed summary, or why the index does not open with the appliance key (a damaged
    /// packet, or one made by another appliance).
    pub summary: Result<SnapshotSummary, String>,
    /// Bytes of all its files.
    pub bytes: u64,
    /// Where its index digest is in the ledger and the log, once anchored.
    pub anchor: Option<AnchorRecord>,
}

/// The receipt that anchors a packet's index digest in the ledger, and so in the transparency
/// log: kept next to the packet as `<name>.anchor.json` (outside it: the packet is sealed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorRecord {
    /// The anchor receipt's ledger sequence number: its index in the log.
    pub seq: u64,
    /// The anchor receipt's DSSE envelope, exactly as issued (the log entry hashes it).
    pub envelope: String,
}

/// The file next to packet `name` that records its anchor.
pub fn anchor_path(packets_dir: &Path, name: &str) -> PathBuf {
    packets_dir.join(format!("{name}.anchor.json"))
}

/// Records packet `name`'s anchor durably (written aside, synced, renamed).
pub fn save_anchor(
    packets_dir: &Path,
    name: &str,
    anchor: &AnchorRecord,
) -> Result<(), SnapshotError> {
    let path = anchor_path(packets_dir, name);
    let aside = packets_dir.join(format!(".{name}.anchor.json.partial"));
    let mut json =
        serde_json::to_vec_pretty(anchor).map_err(|e| io(&path)(std::io::Error::other(e)))?;
    json.push(b'\n');
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&aside)
        .map_err(io(&aside))?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .map_err(io(&aside))?;
    fs::rename(&aside, &path).map_err(io(&path))?;
    sync_dir(packets_dir)
}

/// Packet `name`'s anchor record, `None` until it has one (one that does not parse counts as
/// none: the packet is anchored again).
pub fn read_anchor(packets_dir: &Path, name: &str) -> Result<Option<AnchorRecord>, SnapshotError> {
    let path = anchor_path(packets_dir, name);
    match fs::read(&path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io(&path)(error)),
    }
}

/// Every complete packet in `packets_dir`, oldest period first, with its index opened with
/// `key`. Packets being made or removed, and anything else in the folder, are not listed.
pub fn list_packets(
    packets_dir: &Path,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<Vec<PacketInfo>, SnapshotError> {
    packet_names(packets_dir)?
        .into_iter()
        .map(|name| packet_info(packets_dir, name, key))
        .collect()
}

/// The names of the complete packets in `packets_dir`, oldest period first.
pub fn packet_names(packets_dir: &Path) -> Result<Vec<String>, SnapshotError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(packets_dir).map_err(io(packets_dir))? {
        let entry = entry.map_err(io(packets_dir))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if is_packet_name(&name) && entry.path().join(INDEX_FILE).is_file() {
            names.push(name);
        }
    }
    // Names are the period's end in a fixed-width UTC form: sorting them sorts the periods.
    names.sort();
    Ok(names)
}

/// Packet `name` in `packets_dir`, its index opened with `key`.
pub fn packet_info(
    packets_dir: &Path,
    name: String,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<PacketInfo, SnapshotError> {
    let path = packets_dir.join(&name);
    let index_path = path.join(INDEX_FILE);
    let index = fs::read(&index_path).map_err(io(&index_path))?;
    let anchor = read_anchor(packets_dir, &name)?;
    Ok(PacketInfo {
        index_sha256: Sha256Digest::of(&index),
        summary: open_index(&index, key).map(|statement| statement.predicate),
        bytes: size_of_tree(&path)?,
        anchor,
        path,
        name,
    })
}

/// Bytes of every file under `dir`.
fn size_of_tree(dir: &Path) -> Result<u64, SnapshotError> {
    let mut total = 0;
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder).map_err(io(&folder))? {
            let entry = entry.map_err(io(&folder))?;
            let metadata = entry.metadata().map_err(io(&entry.path()))?;
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                total += metadata.len();
            }
        }
    }
    Ok(total)
}
