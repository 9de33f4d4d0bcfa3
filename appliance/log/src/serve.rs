//! Serving the log read-only at C2SP tlog-tiles paths, for any standard client.

use tf_tlog::{TILE_WIDTH, TileId, TileLevel};

use crate::LogDir;

/// A tile ready to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Served {
    /// The tile's bytes: `width` hashes, or `width` entries of an entry bundle.
    pub bytes: Vec<u8>,
    /// A full tile never changes: clients and proxies may cache it for good.
    pub immutable: bool,
}

/// Why a tile is not served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Not a tile path of the C2SP layout.
    #[error("not a tile path: {0}")]
    BadPath(String),
    /// The tile is not in the tree of the latest checkpoint (not yet, or never).
    #[error("tile {0} is beyond the latest checkpoint")]
    Beyond(String),
    /// The tile's file could not be read, or is shorter than the checkpoint says.
    #[error("tile {path}: {why}")]
    Unreadable {
        /// The tile's path.
        path: String,
        /// Why.
        why: String,
    },
}

/// The tile at `path` (relative, such as `tile/0/x001/234.p/7`) of the tree of `size` entries
/// (the latest checkpoint's): a partial tile is cut from the stored tile, which may be wider.
pub fn serve(dir: &LogDir, path: &str, size: u64) -> Result<Served, ServeError> {
    let tile = TileId::parse(path).map_err(|e| ServeError::BadPath(e.to_string()))?;
    let width = u64::from(tile.width);
    let level_shift = match tile.level {
        TileLevel::Hashes(level) => 8 * u32::from(level),
        TileLevel::Entries => 0,
        _ => return Err(ServeError::BadPath(path.to_owned())),
    };
    // Nodes at the tile's tree level that the tree of `size` holds.
    let available = size.checked_shr(level_shift).unwrap_or(0);
    let end = tile
        .index
        .checked_mul(u64::from(TILE_WIDTH))
        .and_then(|start| start.checked_add(width));
    if end.is_none_or(|end| end > available) {
        return Err(ServeError::Beyond(path.to_owned()));
    }
    let bytes = tf_tlog::tile_bytes(tile, dir).map_err(|e| ServeError::Unreadable {
        path: path.to_owned(),
        why: e.to_string(),
    })?;
    Ok(Served {
        bytes,
        immutable: tile.width == TILE_WIDTH,
    })
}

/// The size of the tree of the stored checkpoint (read from its text, which only the log
/// worker writes after verifying its tiles), `None` before the first.
pub fn checkpoint_size(dir: &LogDir) -> Result<Option<u64>, crate::LogStorageError> {
    let Some(note) = dir.checkpoint()? else {
        return Ok(None);
    };
    let text = note
        .split_once("\n\n")
        .map_or(note.as_str(), |(text, _)| text);
    Ok(text.lines().nth(1).and_then(|size| size.parse().ok()))
}
