//! Where `appliance log` reads a log: the admin server's C2SP paths over HTTP(S), or a
//! mirrored log directory, both read the way any tlog-tiles client reads them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tf_log::LogDir;
use tf_tlog::{StoreError, TILE_WIDTH, TileId, TileLevel, TileStore};

use crate::ctl::http;

/// How long one fetch may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A log to read.
pub enum LogSource {
    /// An admin server: its base URL and, for https, the CA to trust.
    Http {
        /// `http://HOST:PORT` or `https://HOST:PORT`.
        base: String,
        /// The CA (PEM) for https.
        ca: PathBuf,
    },
    /// A mirrored log directory.
    Dir(LogDir),
}

impl LogSource {
    /// `http(s)://...` is a server; anything else a directory.
    pub fn new(url: &str, ca: &Path) -> Self {
        match url.starts_with("http://") || url.starts_with("https://") {
            true => LogSource::Http {
                base: url.trim_end_matches('/').to_owned(),
                ca: ca.to_owned(),
            },
            false => LogSource::Dir(LogDir::at(Path::new(url))),
        }
    }

    /// The latest signed checkpoint note, unverified.
    pub fn checkpoint(&self) -> Result<String, String> {
        match self {
            LogSource::Http { .. } => {
                let bytes = self.fetch("/checkpoint")?;
                String::from_utf8(bytes).map_err(|_| "the checkpoint is not text".to_owned())
            }
            LogSource::Dir(dir) => dir
                .checkpoint()
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("{}: no checkpoint", dir.root().display())),
        }
    }

    /// One tile of the tree of `size` entries.
    fn tile(&self, tile: &TileId, size: u64) -> Result<Vec<u8>, String> {
        match self {
            LogSource::Http { .. } => self.fetch(&format!("/{}", tile.path())),
            LogSource::Dir(dir) => tf_log::serve(dir, &tile.path(), size)
                .map(|served| served.bytes)
                .map_err(|e| e.to_string()),
        }
    }

    fn fetch(&self, path: &str) -> Result<Vec<u8>, String> {
        let LogSource::Http { base, ca } = self else {
            return Err("not a server".into());
        };
        let call = http::Call {
            base,
            method: "GET",
            path,
            token: "",
            content_type: "text/plain",
            body: &[],
            ca,
            host_roots: false,
        };
        let answer = http::send(&call, TIMEOUT)?;
        match answer.status {
            200 => Ok(answer.bytes),
            status => Err(format!(
                "{base}{path}: HTTP {status}: {}",
                answer.body.trim()
            )),
        }
    }

    /// The tiles of the tree of `size` entries, as a store proofs are computed from.
    pub fn tiles(&self, size: u64) -> SourceTiles<'_> {
        SourceTiles {
            source: self,
            size,
            cache: RefCell::new(HashMap::new()),
        }
    }
}

/// The tiles of one tree size, fetched once each (`.p/<W>` for partial tiles).
pub struct SourceTiles<'a> {
    source: &'a LogSource,
    size: u64,
    cache: RefCell<HashMap<(TileLevel, u64), Vec<u8>>>,
}

impl TileStore for SourceTiles<'_> {
    fn read_tile(&self, level: TileLevel, index: u64) -> Result<Vec<u8>, StoreError> {
        if let Some(bytes) = self.cache.borrow().get(&(level, index)) {
            return Ok(bytes.clone());
        }
        let shift = match level {
            TileLevel::Hashes(level) => 8 * u32::from(level),
            _ => 0,
        };
        let nodes = self.size.checked_shr(shift).unwrap_or(0);
        let start = index.saturating_mul(u64::from(TILE_WIDTH));
        // At most TILE_WIDTH, so it fits; 0 (a tile beyond the tree) is asked as 1 and refused.
        let width = nodes.saturating_sub(start).clamp(1, u64::from(TILE_WIDTH)) as u16;
        let tile = TileId {
            level,
            index,
            width,
        };
        let bytes = self
            .source
            .tile(&tile, self.size)
            .map_err(|message| StoreError::Io {
                path: tile.path(),
                message,
            })?;
        self.cache
            .borrow_mut()
            .insert((level, index), bytes.clone());
        Ok(bytes)
    }
}
