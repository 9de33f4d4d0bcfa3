//! `GET /api/v1/compliance/snapshots/{name}/archive`: one packet as a gzipped tar, its folder
//! as `<name>/...` and its anchor record as `<name>.anchor.json`.
//!
//! Packets can be gigabytes, so nothing is read whole: the tar and gzip are written on a
//! blocking thread into a bounded channel whose chunks are the response body. The writer waits
//! while the client is slower than the disk, and stops when the client goes away. Memory per
//! download stays at [`CHUNKS_IN_FLIGHT`] chunks of [`CHUNK_BYTES`], and at most
//! [`MAX_ARCHIVES`] are written at once (more are answered `busy`).
//!
//! Only a name the worker lists is served, so a path never comes from the request. The archive
//! is the same bytes for the same packet: entries in name order, with deterministic headers (no
//! owner; every entry's time is when the packet was made).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{Builder, Header, HeaderMode};
use tf_admin_api::{ErrorBody, ErrorCode, SnapshotPath};
use tokio::sync::mpsc;

use super::compliance::compliance;
use super::{ApiError, ApiState, authorize, extracted};
use crate::auth::Permission;

/// Bytes per chunk of the response body.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks written ahead of the client.
pub const CHUNKS_IN_FLIGHT: usize = 8;
/// Archives written at once.
pub const MAX_ARCHIVES: usize = 2;

/// `GET /api/v1/compliance/snapshots/{name}/archive`.
pub(super) async fn archive(
    request: HttpRequest,
    state: web::Data<ApiState>,
    path: Result<web::Path<SnapshotPath>, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &state, Permission::ReadReceipts)?;
    let wanted = extracted("the snapshot name in the path", path)?
        .into_inner()
        .name;
    let handle = compliance(&state)?;
    let Some(packet) = handle
        .status()
        .packets
        .into_iter()
        .find(|p| p.name == wanted.0)
    else {
        return Err(ErrorBody::new(
            ErrorCode::NotFound,
            format!(
                "no compliance snapshot is named {:?}: GET /api/v1/compliance/snapshots lists them",
                wanted.0
            ),
        )
        .into());
    };
    let anchor = tf_compliance::anchor_path(handle.packets_dir(), &packet.name);
    let made_at = packet
        .summary
        .as_ref()
        .ok()
        .map(|summary| summary.made_at_unix_us / 1_000_000);
    let writing = Writing::start(state.clone())?;
    let name = packet.name;
    let folder = packet.path;
    let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let task_name = name.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let _writing = writing;
        let mut chunks = Chunks::new(sender.clone());
        let written = write_archive(&task_name, &folder, &anchor, made_at, &mut chunks);
        match written {
            Ok(()) => {}
            // The client went away: nobody to tell.
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
            Err(error) => {
                tracing::warn!(snapshot = %task_name, %error, "writing a snapshot archive failed");
                // The body ends in an error, so the client sees a cut transfer, never a short
                // archive that looks complete.
                let _ = sender.blocking_send(Err(error));
            }
        }
    });
    let body = futures_lite::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/gzip")
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.tar.gz\""),
        ))
        .insert_header((CACHE_CONTROL, "no-store"))
        .streaming(body))
}

/// Writes packet `name` (its folder `folder`, and its anchor record `anchor` if there is one)
/// to `out` as a gzipped tar, every entry dated `made_at` (Unix seconds) if given.
pub fn write_archive(
    name: &str,
    folder: &Path,
    anchor: &Path,
    made_at: Option<u64>,
    out: impl Write,
) -> io::Result<()> {
    let mut tar = Builder::new(GzEncoder::new(out, Compression::default()));
    append_tree(&mut tar, folder, &PathBuf::from(name), made_at)?;
    match File::open(anchor) {
        Ok(file) => append_file(
            &mut tar,
            file,
            Path::new(&format!("{name}.anchor.json")),
            made_at,
        )?,
        // Not anchored yet.
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let mut out = tar.into_inner()?.finish()?;
    out.flush()
}

/// Appends `dir` as `name`, then everything in it, in name order. Only folders and regular
/// files are a packet's: anything else (a link) is left out, so nothing outside the packet is
/// ever read.
fn append_tree<W: Write>(
    tar: &mut Builder<W>,
    dir: &Path,
    name: &Path,
    made_at: Option<u64>,
) -> io::Result<()> {
    let mut header = header(&fs::symlink_metadata(dir)?, made_at);
    tar.append_data(&mut header, name, io::empty())?;
    let mut entries = fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let inner = name.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            append_tree(tar, &entry.path(), &inner, made_at)?;
        } else if kind.is_file() {
            append_file(tar, File::open(entry.path())?, &inner, made_at)?;
        }
    }
    Ok(())
}

/// Appends the open `file` as `name`: exactly the length its header gives, even if the file
/// were to change while it is read.
fn append_file<W: Write>(
    tar: &mut Builder<W>,
    file: File,
    name: &Path,
    made_at: Option<u64>,
) -> io::Result<()> {
    let metadata = file.metadata()?;
    let mut header = header(&metadata, made_at);
    let length = metadata.len();
    let mut data = file.take(length);
    tar.append_data(&mut header, name, &mut data)?;
    if data.limit() > 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{} shrank while it was archived", name.display()),
        ));
    }
    Ok(())
}

/// A header for an entry like `metadata` describes: no owner, modes 644 and 755, dated
/// `made_at` (else tar's fixed deterministic time).
fn header(metadata: &fs::Metadata, made_at: Option<u64>) -> Header {
    let mut header = Header::new_gnu();
    header.set_metadata_in_mode(metadata, HeaderMode::Deterministic);
    if let Some(made_at) = made_at {
        header.set_mtime(made_at);
    }
    header
}

/// One archive being written: counted against [`MAX_ARCHIVES`] until dropped.
struct Writing(web::Data<ApiState>);

impl Writing {
    fn start(state: web::Data<ApiState>) -> Result<Self, ErrorBody> {
        if state.archives.fetch_add(1, Ordering::AcqRel) >= MAX_ARCHIVES {
            state.archives.fetch_sub(1, Ordering::AcqRel);
            return Err(ErrorBody::new(
                ErrorCode::Busy,
                format!(
                    "{MAX_ARCHIVES} snapshot archives are being sent already: retry in a few \
                     seconds"
                ),
            ));
        }
        Ok(Writing(state))
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.archives.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What the archive is written to: chunks of [`CHUNK_BYTES`] sent to the response, waiting
/// while the channel is full. A closed channel (the client went away) is a broken pipe.
struct Chunks {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl Chunks {
    fn new(sender: mpsc::Sender<io::Result<Bytes>>) -> Self {
        Chunks {
            sender,
            buffer: Vec::with_capacity(CHUNK_BYTES),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
        self.sender
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for Chunks {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use flate2::read::GzDecoder;

    use super::*;

    /// A small packet: files at two depths, an empty folder, and a link out of it.
    fn packet(root: &Path) -> PathBuf {
        let folder = root.join("snapshot-20260102T030405Z");
        fs::create_dir_all(folder.join("receipts")).expect("folders");
        fs::create_dir_all(folder.join("log/tile/0")).expect("folders");
        fs::write(folder.join("index.dsse.json"), b"{}").expect("index");
        fs::write(folder.join("receipts/acme.jsonl"), b"\"x\"\n").expect("receipts");
        fs::write(folder.join("log/tile/0/000"), vec![7u8; 200_000]).expect("tile");
        fs::write(root.join("secret"), b"not in the packet").expect("secret");
        std::os::unix::fs::symlink(root.join("secret"), folder.join("link")).expect("link");
        folder
    }

    /// Each entry's path, bytes, modification time and owner.
    fn unpack(archive: &[u8]) -> Vec<(String, Vec<u8>, u64, u64)> {
        let mut tar = tar::Archive::new(GzDecoder::new(archive));
        tar.entries()
            .expect("a tar")
            .map(|entry| {
                let mut entry = entry.expect("an entry");
                let path = entry.path().expect("a path").display().to_string();
                let mtime = entry.header().mtime().expect("a time");
                let uid = entry.header().uid().expect("an owner");
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).expect("read");
                (path, bytes, mtime, uid)
            })
            .collect()
    }

    #[test]
    fn the_archive_holds_the_folder_and_its_anchor_in_name_order_and_nothing_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        let folder = packet(dir.path());
        let anchor = dir.path().join("snapshot-20260102T030405Z.anchor.json");
        fs::write(&anchor, b"{\"seq\": 9}").expect("anchor");
        let mut archive = Vec::new();
        write_archive(
            "snapshot-20260102T030405Z",
            &folder,
            &anchor,
            Some(1_767_323_049),
            &mut archive,
        )
        .expect("written");
        let entries = unpack(&archive);
        let names: Vec<&str> = entries.iter().map(|(n, ..)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "snapshot-20260102T030405Z",
                "snapshot-20260102T030405Z/index.dsse.json",
                "snapshot-20260102T030405Z/log",
                "snapshot-20260102T030405Z/log/tile",
                "snapshot-20260102T030405Z/log/tile/0",
                "snapshot-20260102T030405Z/log/tile/0/000",
                "snapshot-20260102T030405Z/receipts",
                "snapshot-20260102T030405Z/receipts/acme.jsonl",
                "snapshot-20260102T030405Z.anchor.json",
            ],
            "no link, nothing from outside the packet"
        );
        let tile = &entries[5].1;
        assert_eq!(tile.len(), 200_000);
        assert!(tile.iter().all(|b| *b == 7));
        assert_eq!(entries[8].1, b"{\"seq\": 9}");
        assert!(
            entries.iter().all(|e| e.2 == 1_767_323_049 && e.3 == 0),
            "dated when made, no owner"
        );

        // The same packet gives the same bytes.
        let mut again = Vec::new();
        write_archive(
            "snapshot-20260102T030405Z",
            &folder,
            &anchor,
            Some(1_767_323_049),
            &mut again,
        )
        .expect("written");
        assert_eq!(archive, again);

        // Not anchored yet: no anchor record.
        fs::remove_file(&anchor).expect("removed");
        let mut unanchored = Vec::new();
        write_archive(
            "snapshot-20260102T030405Z",
            &folder,
            &anchor,
            None,
            &mut unanchored,
        )
        .expect("written");
        assert!(
            unpack(&unanchored)
                .iter()
                .all(|(n, ..)| !n.ends_with(".anchor.json"))
        );
    }

    #[test]
    fn chunks_are_bounded_and_a_gone_client_stops_the_writer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let folder = packet(dir.path());
        let anchor = dir.path().join("none.anchor.json");
        // The reader takes two chunks, then goes away: the writer must stop, not buffer the
        // rest.
        let (sender, mut receiver) = mpsc::channel::<io::Result<Bytes>>(1);
        let reader = std::thread::spawn(move || {
            let mut sizes = Vec::new();
            for _ in 0..2 {
                match receiver.blocking_recv() {
                    Some(Ok(chunk)) => sizes.push(chunk.len()),
                    _ => break,
                }
            }
            sizes
        });
        // Incompressible, so the archive is many chunks.
        let mut noise = vec![0u8; 1 << 20];
        let mut x: u32 = 1;
        for byte in &mut noise {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *byte = x as u8;
        }
        fs::write(folder.join("log/tile/0/000"), &noise).expect("noise");
        let written = write_archive(
            "snapshot-20260102T030405Z",
            &folder,
            &anchor,
            None,
            Chunks::new(sender),
        );
        let sizes = reader.join().expect("reader");
        assert_eq!(sizes.len(), 2);
        assert!(
            sizes
                .iter()
                .all(|s| *s >= CHUNK_BYTES && *s < 2 * CHUNK_BYTES),
            "{sizes:?}"
        );
        assert_eq!(
            written.expect_err("stopped").kind(),
            io::ErrorKind::BrokenPipe
        );
    }
}
