//! Keeping the newest packets: older complete packets beyond a count are removed, never one
//! being made (those have a temporary name until they are complete).

use std::fs;
use std::path::Path;

use crate::error::{SnapshotError, io};
use crate::layout::{INDEX_FILE, is_packet_name, is_removing_name, removing_name};
use crate::packets::anchor_path;
use crate::staging::{remove_leftovers, sync_dir};

/// Removes the oldest complete packets in `packets_dir` beyond the newest `keep`, and returns
/// their names, oldest first. A packet is complete when it has its name and its index: a
/// packet being made has a temporary name and is never counted or removed, and other files and
/// folders are left alone. Each packet is first renamed to a temporary name, so a crash while
/// removing leaves no half packet that looks whole. A removed packet's anchor record goes too.
pub fn prune_packets(packets_dir: &Path, keep: usize) -> Result<Vec<String>, SnapshotError> {
    let mut packets = Vec::new();
    for entry in fs::read_dir(packets_dir).map_err(io(packets_dir))? {
        let entry = entry.map_err(io(packets_dir))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let complete = is_packet_name(&name)
            && entry.file_type().is_ok_and(|kind| kind.is_dir())
            && entry.path().join(INDEX_FILE).is_file();
        if complete {
            packets.push(name);
        }
    }
    // Names are the period's end in a fixed-width UTC form: sorting them sorts the periods.
    packets.sort();
    let excess = packets.len().saturating_sub(keep);
    let removed: Vec<String> = packets.drain(..excess).collect();
    for name in &removed {
        let from = packets_dir.join(name);
        let aside = packets_dir.join(removing_name(name));
        fs::rename(&from, &aside).map_err(io(&from))?;
        let anchor = anchor_path(packets_dir, name);
        match fs::remove_file(&anchor) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(&anchor)(error));
            }
            _ => {}
        }
    }
    if !removed.is_empty() {
        sync_dir(packets_dir)?;
    }
    // What was set aside here, and what an interrupted removal left; packets being made are
    // not touched.
    remove_leftovers(packets_dir, is_removing_name)?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::staging_name;

    fn packet(dir: &Path, name: &str) {
        fs::create_dir_all(dir.join(name).join("receipts")).expect("mkdir");
        fs::write(dir.join(name).join(INDEX_FILE), b"{}").expect("write");
    }

    #[test]
    fn the_oldest_complete_packets_go_and_nothing_else() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [
            "snapshot-20261201T000000Z",
            "snapshot-20261203T000000Z",
            "snapshot-20261202T000000Z",
            "snapshot-20261204T000000Z",
        ] {
            packet(dir.path(), name);
        }
        // Being made (temporary name), without an index, and not a packet at all.
        let in_progress = staging_name("snapshot-20261130T000000Z");
        fs::create_dir_all(dir.path().join(&in_progress)).expect("mkdir");
        fs::create_dir_all(dir.path().join("snapshot-20261129T000000Z")).expect("mkdir");
        fs::create_dir_all(dir.path().join("notes")).expect("mkdir");

        let removed = prune_packets(dir.path(), 2).expect("prune");
        assert_eq!(
            removed,
            ["snapshot-20261201T000000Z", "snapshot-20261202T000000Z"]
        );
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                in_progress.as_str(),
                "notes",
                "snapshot-20261129T000000Z",
                "snapshot-20261203T000000Z",
                "snapshot-20261204T000000Z",
            ]
        );
        assert_eq!(
            prune_packets(dir.path(), 2).expect("prune"),
            Vec::<String>::new()
        );
    }
}
