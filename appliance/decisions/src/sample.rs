//! A signed sample of the decision log, for the drift guard where the appliance is out of
//! reach (a CI job): a gzipped tar of the window's blocks, the bundle in force, the keys
//! tenants registered, and a manifest naming each file's SHA-256, signed by the appliance's
//! receipt key in a DSSE envelope.
//!
//! Reading streams: the blocks are read one at a time as the tar is unpacked (a second pass
//! over the file, after the manifest), and their digest is checked when the last is read,
//! before anything read is reported.

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tf_drift::Event;
use tf_drift::block::decode_block;
use tf_receipts::{Envelope, ReceiptSigner};

use crate::store::{DecisionLog, LogError};

/// The DSSE payload type of a sample's manifest.
pub const PAYLOAD_TYPE: &str = "application/vnd.trust-fabric.decision-sample.v1+json";
/// The signed manifest, first in the archive.
pub const MANIFEST_FILE: &str = "manifest.dsse.json";
/// The bundle in force when the sample was taken (as promoted).
pub const BUNDLE_FILE: &str = "bundle.tar.gz";
/// The keys tenants registered: `{"tenant": ["key id", ...]}`.
pub const REGISTRATIONS_FILE: &str = "registrations.json";
/// The blocks, framed, last in the archive.
pub const BLOCKS_FILE: &str = "decisions.bin";
/// The largest block read back: a block holds at most 4096 events of a few dozen bytes and
/// a dictionary of strings of at most 4 KiB each.
const MAX_BLOCK_BYTES: u32 = 8 << 20;
/// The largest manifest, bundle or registrations file read back.
const MAX_SMALL_FILE: u64 = 64 << 20;

/// What a sample says about itself (signed).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SampleManifest {
    /// The appliance key that signed it: its id.
    pub appliance_key_id: String,
    /// And the key (hex), which shows the sample is whole; that it is your appliance's, only
    /// its key from elsewhere shows (`--public-key`).
    pub appliance_public_key: String,
    /// When it was taken, Unix microseconds.
    pub exported_at_us: u64,
    /// The window judged, Unix microseconds.
    pub from_us: u64,
    /// Its end.
    pub to_us: u64,
    /// Where the blocks start: before the window, so budgets stand where they stood.
    pub warm_from_us: u64,
    /// Blocks in the sample.
    pub blocks: u64,
    /// Events in them (decisions and settlements).
    pub events: u64,
    /// Decisions the shards could not record in the blocks' period.
    pub not_recorded: u64,
    /// The bundle in force: its revision.
    pub revision: u64,
    /// Its hash.
    pub bundle_hash: String,
    /// Each other file: name, SHA-256 (hex) and size.
    pub files: Vec<SampleFile>,
}

/// One file of a sample.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SampleFile {
    /// Its name in the archive.
    pub name: String,
    /// Hex SHA-256.
    pub sha256: String,
    /// Bytes.
    pub bytes: u64,
}

/// Why a sample could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Writing or reading the archive failed.
    #[error("the sample archive: {0}")]
    Io(#[from] std::io::Error),
    /// The archive is not a sample, or was changed after it was signed.
    #[error("not a usable decision sample: {0}")]
    Invalid(String),
}

/// What goes into a sample besides the blocks.
pub struct SampleParts<'a> {
    /// The window, Unix microseconds.
    pub from_us: u64,
    /// Its end.
    pub to_us: u64,
    /// Where blocks start.
    pub warm_from_us: u64,
    /// The bundle in force, as promoted.
    pub bundle_archive: &'a [u8],
    /// Its revision.
    pub revision: u64,
    /// Its hash.
    pub bundle_hash: &'a str,
    /// The keys tenants registered, as JSON.
    pub registrations_json: &'a [u8],
}

/// Writes a sample of `log` to `out`; the blocks go to a temporary file first (their count
/// and digest are signed in the manifest, which leads the archive). Returns the manifest.
pub fn write_sample(
    log: &DecisionLog,
    parts: &SampleParts<'_>,
    signer: &mut ReceiptSigner,
    out: impl Write,
) -> Result<SampleManifest, SampleError> {
    let mut framed = tempfile::tempfile()?;
    let (mut blocks, mut events, mut digest, mut bytes) = (0u64, 0u64, Sha256::new(), 0u64);
    log.blocks(
        parts.warm_from_us,
        parts.to_us,
        |run, shard, count, data| {
            let mut header = Vec::with_capacity(FRAME_HEADER);
            header.extend_from_slice(&run.to_le_bytes());
            header.extend_from_slice(&shard.to_le_bytes());
            header.extend_from_slice(&(data.len() as u32).to_le_bytes());
            header.extend_from_slice(&(count as u64).to_le_bytes());
            for piece in [&header[..], data] {
                digest.update(piece);
                framed.write_all(piece)?;
                bytes += piece.len() as u64;
            }
            blocks += 1;
            events += count as u64;
            Ok(true)
        },
    )?;
    let not_recorded = log.not_recorded(parts.warm_from_us, parts.to_us)?;
    let file = |name: &str, data: &[u8]| SampleFile {
        name: name.to_owned(),
        sha256: hex::encode(Sha256::digest(data)),
        bytes: data.len() as u64,
    };
    let manifest = SampleManifest {
        appliance_key_id: signer.key_id().as_str().to_owned(),
        appliance_public_key: hex::encode(signer.public_key().as_bytes()),
        exported_at_us: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0),
        from_us: parts.from_us,
        to_us: parts.to_us,
        warm_from_us: parts.warm_from_us,
        blocks,
        events,
        not_recorded,
        revision: parts.revision,
        bundle_hash: parts.bundle_hash.to_owned(),
        files: vec![
            file(BUNDLE_FILE, parts.bundle_archive),
            file(REGISTRATIONS_FILE, parts.registrations_json),
            SampleFile {
                name: BLOCKS_FILE.to_owned(),
                sha256: hex::encode(digest.finalize()),
                bytes,
            },
        ],
    };
    let payload = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
    let envelope = signer.sign_payload(PAYLOAD_TYPE, payload).to_json();
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut append = |name: &str, size: u64, data: &mut dyn Read| -> std::io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o600);
        header.set_mtime(manifest.exported_at_us / 1_000_000);
        header.set_cksum();
        tar.append_data(&mut header, name, data)
    };
    append(
        MANIFEST_FILE,
        envelope.len() as u64,
        &mut envelope.as_bytes(),
    )?;
    append(
        BUNDLE_FILE,
        parts.bundle_archive.len() as u64,
        &mut &parts.bundle_archive[..],
    )?;
    append(
        REGISTRATIONS_FILE,
        parts.registrations_json.len() as u64,
        &mut &parts.registrations_json[..],
    )?;
    framed.flush()?;
    framed.seek(SeekFrom::Start(0))?;
    append(BLOCKS_FILE, bytes, &mut framed)?;
    tar.into_inner()?.finish()?.flush()?;
    Ok(manifest)
}

/// A sample opened: its signed manifest and small files, checked; the blocks follow
/// ([`sample_events`]).
pub struct OpenedSample {
    /// The manifest, its signature checked.
    pub manifest: SampleManifest,
    /// Whether it was checked against a key the caller named (otherwise against the key it
    /// names itself, which shows only that it is whole).
    pub signer_named: bool,
    /// The bundle in force when it was taken.
    pub bundle_archive: Vec<u8>,
    /// The registrations, as JSON.
    pub registrations_json: Vec<u8>,
}

/// Opens the sample in `input`: its manifest's signature checked against `public_key` when
/// given (else against the key it names: the caller says so), the bundle and registrations
/// against the manifest. The blocks are read by [`sample_events`].
pub fn open_sample(
    input: impl Read,
    public_key: Option<&ed25519_dalek::VerifyingKey>,
) -> Result<OpenedSample, SampleError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(input));
    let mut entries = archive.entries()?;
    let envelope = small(&mut entry(&mut entries, MANIFEST_FILE)?)?;
    let envelope = Envelope::from_json(
        std::str::from_utf8(&envelope).map_err(|_| invalid("the manifest is not UTF-8"))?,
    )
    .map_err(|e| invalid(&e))?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(invalid(&format!(
            "the manifest's payload type is {:?}, not {PAYLOAD_TYPE:?}",
            envelope.payload_type
        )));
    }
    let manifest: SampleManifest = serde_json::from_slice(&envelope.payload)
        .map_err(|e| invalid(&format!("the manifest does not parse: {e}")))?;
    let named = match public_key {
        Some(key) => *key,
        None => self_named_key(&manifest)?,
    };
    tf_receipts::verify_signature(&envelope, &named)
        .map_err(|e| invalid(&format!("the manifest's signature: {e}")))?;
    let bundle_archive = small(&mut entry(&mut entries, BUNDLE_FILE)?)?;
    check(&manifest, BUNDLE_FILE, &bundle_archive)?;
    let registrations_json = small(&mut entry(&mut entries, REGISTRATIONS_FILE)?)?;
    check(&manifest, REGISTRATIONS_FILE, &registrations_json)?;
    Ok(OpenedSample {
        manifest,
        signer_named: public_key.is_some(),
        bundle_archive,
        registrations_json,
    })
}

/// Hands `each` the events of the sample that `open` opens (the file [`open_sample`] opened)
/// within its blocks' period, in order, one block in memory at a time. The blocks' digest is
/// checked against the signed manifest in a first pass that decodes nothing, so a forged or
/// changed sample is refused before any of it is replayed.
pub fn sample_events<R: Read>(
    open: impl Fn() -> std::io::Result<R>,
    opened: &OpenedSample,
    mut each: impl FnMut(Event),
) -> Result<(), SampleError> {
    let manifest = &opened.manifest;
    let signed = signed_file(manifest, BLOCKS_FILE)?.clone();
    let (digest, bytes, count) = frames(open()?, |_, _, _| Ok(()))?;
    if digest != signed.sha256 || bytes != signed.bytes || count != manifest.blocks {
        return Err(invalid(&format!(
            "{BLOCKS_FILE} is not the file the manifest signed"
        )));
    }
    let period = manifest.warm_from_us..=manifest.to_us;
    frames(open()?, |run, shard, data| {
        let events = decode_block(run, shard, data).map_err(|e| invalid(&e.to_string()))?;
        events
            .into_iter()
            .filter(|event| period.contains(&event.at_us()))
            .for_each(&mut each);
        Ok(())
    })?;
    Ok(())
}

/// Reads the framed blocks of the sample in `input`, handing each to `each`; returns their
/// digest (hex), bytes and count.
fn frames(
    input: impl Read,
    mut each: impl FnMut(u64, u16, &[u8]) -> Result<(), SampleError>,
) -> Result<(String, u64, u64), SampleError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(input));
    let mut entries = archive.entries()?;
    for skipped in [MANIFEST_FILE, BUNDLE_FILE, REGISTRATIONS_FILE] {
        entry(&mut entries, skipped)?;
    }
    let mut blocks = entry(&mut entries, BLOCKS_FILE)?;
    let (mut digest, mut bytes, mut count) = (Sha256::new(), 0u64, 0u64);
    let mut header = [0u8; FRAME_HEADER];
    let mut data = Vec::new();
    while read_exact_or_end(&mut blocks, &mut header)? {
        let run = u64::from_le_bytes(header[0..8].try_into().expect("8 bytes"));
        let shard = u16::from_le_bytes(header[8..10].try_into().expect("2 bytes"));
        let len = u32::from_le_bytes(header[10..14].try_into().expect("4 bytes"));
        if len > MAX_BLOCK_BYTES {
            return Err(invalid("a block larger than any the appliance writes"));
        }
        data.resize(len as usize, 0);
        blocks.read_exact(&mut data)?;
        digest.update(header);
        digest.update(&data);
        bytes += FRAME_HEADER as u64 + u64::from(len);
        count += 1;
        each(run, shard, &data)?;
    }
    Ok((hex::encode(digest.finalize()), bytes, count))
}

/// A frame's header: run (8 bytes), shard (2), block length (4), events (8), little-endian.
const FRAME_HEADER: usize = 22;

fn invalid(why: &str) -> SampleError {
    SampleError::Invalid(why.to_owned())
}

/// The next entry, which must be `expected`.
fn entry<'a, R: Read>(
    entries: &mut tar::Entries<'a, R>,
    expected: &str,
) -> Result<tar::Entry<'a, R>, SampleError> {
    let entry = entries
        .next()
        .ok_or_else(|| invalid(&format!("it ends before {expected}")))??;
    let name = entry.path()?.to_string_lossy().into_owned();
    if name != expected {
        return Err(invalid(&format!("{name} where {expected} belongs")));
    }
    Ok(entry)
}

/// A small file, whole.
fn small(entry: &mut impl Read) -> Result<Vec<u8>, SampleError> {
    let mut data = Vec::new();
    entry.take(MAX_SMALL_FILE + 1).read_to_end(&mut data)?;
    if data.len() as u64 > MAX_SMALL_FILE {
        return Err(invalid("a file larger than a sample holds"));
    }
    Ok(data)
}

fn signed_file<'m>(
    manifest: &'m SampleManifest,
    name: &str,
) -> Result<&'m SampleFile, SampleError> {
    manifest
        .files
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| invalid(&format!("the manifest does not name {name}")))
}

fn check(manifest: &SampleManifest, name: &str, data: &[u8]) -> Result<(), SampleError> {
    let file = signed_file(manifest, name)?;
    if hex::encode(Sha256::digest(data)) != file.sha256 || data.len() as u64 != file.bytes {
        return Err(invalid(&format!(
            "{name} is not the file the manifest signed"
        )));
    }
    Ok(())
}

/// The public key a manifest names itself, when the caller names none: it shows the sample
/// is whole, not who made it.
fn self_named_key(manifest: &SampleManifest) -> Result<ed25519_dalek::VerifyingKey, SampleError> {
    let invalid = || {
        SampleError::Invalid(
            "the key the manifest names is not an Ed25519 public key with its key id".into(),
        )
    };
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(&manifest.appliance_public_key, &mut bytes).map_err(|_| invalid())?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| invalid())?;
    if tf_receipts::ApplianceKeyId::of(&key).as_str() != manifest.appliance_key_id {
        return Err(invalid());
    }
    Ok(key)
}

/// Fills `buffer`, or returns `false` at a clean end before its first byte.
fn read_exact_or_end(input: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..])? {
            0 if filled == 0 => return Ok(false),
            0 => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "a block cut short",
                ));
            }
            n => filled += n,
        }
    }
    Ok(true)
}
