//! C2SP tlog-tiles coordinates and their paths: `tile/<L>/<N>[.p/<W>]` and
//! `tile/entries/<N>[.p/<W>]`.

use std::fmt::{self, Write as _};

/// Tree levels a tile spans (C2SP fixes it at 8).
pub const TILE_HEIGHT: u8 = 8;

/// Hashes (or entries) in a full tile: 2^[`TILE_HEIGHT`].
pub const TILE_WIDTH: u16 = 256;

/// The highest tile level a path may name.
pub const MAX_TILE_LEVEL: u8 = 63;

/// What a tile holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TileLevel {
    /// Merkle hashes of tree level 8·L (`tile/<L>/...`), L in 0..=63.
    Hashes(u8),
    /// Entry bundle: the log entries themselves (`tile/entries/...`).
    Entries,
}

/// A tile's coordinates: what it holds, its index within its level, and its width.
///
/// A full tile has [`TILE_WIDTH`] items; a partial one (the rightmost of a level) fewer. The
/// fields are plain coordinates: [`TileId::new`] and [`TileId::parse`] validate them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Hash tile level, or entry bundle.
    pub level: TileLevel,
    /// Index of the tile within its level.
    pub index: u64,
    /// Items in the tile, 1..=256.
    pub width: u16,
}

/// Why a tile path or coordinate is not valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TilePathError {
    /// The path does not start with `tile/` (a leading slash is refused too), or has segments
    /// missing or left over.
    #[error("not a tile path")]
    Shape,
    /// The level is not `entries` nor a decimal 0..=63 without leading zeros.
    #[error("bad tile level")]
    Level,
    /// The index is not 3-digit groups, `x`-prefixed but the last, without leading zero groups,
    /// fitting 64 bits.
    #[error("bad tile index")]
    Index,
    /// The partial width is not a decimal 1..=255 without leading zeros (or, for
    /// [`TileId::new`], not 1..=256).
    #[error("bad tile width")]
    Width,
}

impl TileId {
    /// Validated coordinates: level at most 63, width 1..=256.
    pub fn new(level: TileLevel, index: u64, width: u16) -> Result<TileId, TilePathError> {
        if let TileLevel::Hashes(l) = level
            && l > MAX_TILE_LEVEL
        {
            return Err(TilePathError::Level);
        }
        if width == 0 || width > TILE_WIDTH {
            return Err(TilePathError::Width);
        }
        Ok(TileId {
            level,
            index,
            width,
        })
    }

    /// The full tile at this position.
    pub const fn full(level: TileLevel, index: u64) -> TileId {
        TileId {
            level,
            index,
            width: TILE_WIDTH,
        }
    }

    /// Whether the tile has fewer than [`TILE_WIDTH`] items.
    pub const fn is_partial(&self) -> bool {
        self.width < TILE_WIDTH
    }

    /// The C2SP path, relative (no leading slash): `tile/0/x001/x234/067.p/5`.
    pub fn path(&self) -> String {
        let mut path = self.storage_path();
        if self.is_partial() {
            // Writing to a String cannot fail.
            let _ = write!(path, ".p/{}", self.width);
        }
        path
    }

    /// The path of the full tile at this position, without `.p/<W>`: where a store keeps the
    /// one file of this position, whose length tells its width.
    pub fn storage_path(&self) -> String {
        let mut path = String::with_capacity(48);
        path.push_str("tile/");
        match self.level {
            TileLevel::Hashes(l) => {
                let _ = write!(path, "{l}");
            }
            TileLevel::Entries => path.push_str("entries"),
        }
        path.push('/');
        push_index(&mut path, self.index);
        path
    }

    /// Parses a C2SP tile path strictly: only the canonical form [`TileId::path`] renders.
    pub fn parse(path: &str) -> Result<TileId, TilePathError> {
        // The longest canonical path: tile/entries/ + 7 groups + .p/255.
        if path.len() > 64 {
            return Err(TilePathError::Shape);
        }
        let rest = path.strip_prefix("tile/").ok_or(TilePathError::Shape)?;
        let (level, rest) = rest.split_once('/').ok_or(TilePathError::Shape)?;
        let level = parse_level(level)?;
        let (index, width) = match rest.split_once(".p/") {
            Some((index, width)) => (index, parse_width(width)?),
            None => (rest, TILE_WIDTH),
        };
        let index = parse_index(index)?;
        TileId::new(level, index, width)
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// Writes `index` as 3-digit groups, all but the last prefixed with `x`.
fn push_index(path: &mut String, index: u64) {
    let mut groups = [0u16; 7];
    let mut count = 0;
    let mut rest = index;
    loop {
        groups[count] = (rest % 1000) as u16;
        count += 1;
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    for (i, group) in groups[..count].iter().rev().enumerate() {
        if i + 1 < count {
            let _ = write!(path, "x{group:03}/");
        } else {
            let _ = write!(path, "{group:03}");
        }
    }
}

fn parse_level(text: &str) -> Result<TileLevel, TilePathError> {
    if text == "entries" {
        return Ok(TileLevel::Entries);
    }
    let level = parse_decimal(text).ok_or(TilePathError::Level)?;
    u8::try_from(level)
        .ok()
        .filter(|l| *l <= MAX_TILE_LEVEL)
        .map(TileLevel::Hashes)
        .ok_or(TilePathError::Level)
}

fn parse_width(text: &str) -> Result<u16, TilePathError> {
    let width = parse_decimal(text).ok_or(TilePathError::Width)?;
    u16::try_from(width)
        .ok()
        .filter(|w| (1..TILE_WIDTH).contains(w))
        .ok_or(TilePathError::Width)
}

/// A decimal of at most 3 ASCII digits without leading zeros.
fn parse_decimal(text: &str) -> Option<u32> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 3 || (bytes.len() > 1 && bytes[0] == b'0') {
        return None;
    }
    bytes.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

fn parse_index(text: &str) -> Result<u64, TilePathError> {
    let groups: Vec<&str> = text.split('/').collect();
    if groups.len() > 7 {
        return Err(TilePathError::Index);
    }
    let last = groups.len() - 1;
    let mut index: u64 = 0;
    for (i, group) in groups.iter().enumerate() {
        let digits = if i < last {
            group.strip_prefix('x').ok_or(TilePathError::Index)?
        } else {
            group
        };
        let value = three_digits(digits).ok_or(TilePathError::Index)?;
        // A leading group of zeros is a non-canonical spelling of a shorter index.
        if i == 0 && i < last && value == 0 {
            return Err(TilePathError::Index);
        }
        index = index
            .checked_mul(1000)
            .and_then(|n| n.checked_add(value))
            .ok_or(TilePathError::Index)?;
    }
    Ok(index)
}

/// Exactly three ASCII digits.
fn three_digits(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.len() != 3 {
        return None;
    }
    bytes.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(level: TileLevel, index: u64, width: u16) -> TileId {
        TileId::new(level, index, width).expect("valid test coordinates")
    }

    #[test]
    fn paths_follow_the_c2sp_examples() {
        let cases = [
            (
                id(TileLevel::Hashes(0), 1_234_067, 256),
                "tile/0/x001/x234/067",
            ),
            (
                id(TileLevel::Hashes(0), 1_234_067, 5),
                "tile/0/x001/x234/067.p/5",
            ),
            (id(TileLevel::Hashes(3), 0, 256), "tile/3/000"),
            (id(TileLevel::Hashes(63), 999, 255), "tile/63/999.p/255"),
            (id(TileLevel::Hashes(1), 1000, 1), "tile/1/x001/000.p/1"),
            (id(TileLevel::Entries, 67, 256), "tile/entries/067"),
            (
                id(TileLevel::Entries, 1_000_000, 9),
                "tile/entries/x001/x000/000.p/9",
            ),
            (
                id(TileLevel::Hashes(0), u64::MAX, 256),
                "tile/0/x018/x446/x744/x073/x709/x551/615",
            ),
        ];
        for (tile, path) in cases {
            assert_eq!(tile.path(), path);
            assert_eq!(tile.to_string(), path);
            assert_eq!(TileId::parse(path), Ok(tile), "{path}");
            assert_eq!(
                tile.storage_path(),
                path.split(".p/").next().expect("split yields one part")
            );
        }
        assert_eq!(
            TileId::full(TileLevel::Entries, 5).path(),
            id(TileLevel::Entries, 5, 17).storage_path()
        );
    }

    #[test]
    fn paths_round_trip() {
        let indices = [
            0,
            1,
            9,
            10,
            99,
            100,
            999,
            1000,
            1001,
            999_999,
            1_000_000,
            123_456_789,
        ];
        let levels = [
            TileLevel::Hashes(0),
            TileLevel::Hashes(1),
            TileLevel::Hashes(10),
            TileLevel::Hashes(63),
            TileLevel::Entries,
        ];
        for level in levels {
            for index in indices.into_iter().chain([u64::MAX, u64::MAX / 256]) {
                for width in [1, 2, 10, 99, 100, 255, 256] {
                    let tile = id(level, index, width);
                    assert_eq!(TileId::parse(&tile.path()), Ok(tile));
                }
            }
        }
    }

    #[test]
    fn hash_tile_paths_match_tlog_tiles() {
        // tlog_tiles renders Go's sumdb form, `tile/<H>/<L>/<N>`, which C2SP drops the height
        // from; the rest of the path must be identical.
        for level in [0u8, 1, 2, 7, 63] {
            for index in [0, 1, 999, 1000, 1_234_067, u64::MAX >> 8] {
                for width in [1u16, 5, 128, 255, 256] {
                    let ours = id(TileLevel::Hashes(level), index, width).path();
                    let theirs =
                        tlog_tiles::Tile::new(8, level, index, u32::from(width), false).path();
                    let expected = theirs.replacen("tile/8/", "tile/", 1);
                    assert_eq!(ours, expected);
                }
            }
        }
    }

    #[test]
    fn parse_rejects_non_canonical_and_hostile_paths() {
        let bad: &[(&str, TilePathError)] = &[
            ("", TilePathError::Shape),
            ("/tile/0/000", TilePathError::Shape),
            ("tiles/0/000", TilePathError::Shape),
            ("tile/0", TilePathError::Shape),
            ("tile/../000", TilePathError::Level),
            ("tile/0/../000", TilePathError::Index),
            ("tile/0/x001/../000", TilePathError::Index),
            ("tile/00/000", TilePathError::Level),
            ("tile/01/000", TilePathError::Level),
            ("tile/64/000", TilePathError::Level),
            ("tile/256/000", TilePathError::Level),
            ("tile/-1/000", TilePathError::Level),
            ("tile/+1/000", TilePathError::Level),
            ("tile/data/000", TilePathError::Level),
            ("tile/8/0/000", TilePathError::Index),
            ("tile/0/", TilePathError::Index),
            ("tile/0/0", TilePathError::Index),
            ("tile/0/00", TilePathError::Index),
            ("tile/0/0000", TilePathError::Index),
            ("tile/0/+00", TilePathError::Index),
            ("tile/0/x000/001", TilePathError::Index),
            ("tile/0/x1/001", TilePathError::Index),
            ("tile/0/001/002", TilePathError::Index),
            ("tile/0/x001/x002", TilePathError::Index),
            ("tile/0/x001/", TilePathError::Index),
            ("tile/0/000/", TilePathError::Index),
            ("tile/0/X001/000", TilePathError::Index),
            (
                "tile/0/x018/x446/x744/x073/x709/x551/616",
                TilePathError::Index,
            ),
            (
                "tile/0/x001/x001/x001/x001/x001/x001/x001/000",
                TilePathError::Index,
            ),
            ("tile/0/000.p/0", TilePathError::Width),
            ("tile/0/000.p/256", TilePathError::Width),
            ("tile/0/000.p/05", TilePathError::Width),
            ("tile/0/000.p/", TilePathError::Width),
            ("tile/0/000.p/5/6", TilePathError::Width),
            ("tile/0/000.p/+5", TilePathError::Width),
            ("tile/0/000.p/5 ", TilePathError::Width),
            ("tile/0/000.p5", TilePathError::Index),
            ("tile/0/000.p/1.p/1", TilePathError::Width),
            ("tile/entries/000.p/256", TilePathError::Width),
            (" tile/0/000", TilePathError::Shape),
        ];
        for (path, error) in bad {
            assert_eq!(TileId::parse(path), Err(*error), "{path:?}");
        }
    }

    #[test]
    fn new_validates_level_and_width() {
        assert_eq!(
            TileId::new(TileLevel::Hashes(64), 0, 1),
            Err(TilePathError::Level)
        );
        assert_eq!(
            TileId::new(TileLevel::Hashes(0), 0, 0),
            Err(TilePathError::Width)
        );
        assert_eq!(
            TileId::new(TileLevel::Entries, 0, 257),
            Err(TilePathError::Width)
        );
        assert!(id(TileLevel::Entries, 0, 255).is_partial());
        assert!(!TileId::full(TileLevel::Hashes(0), 0).is_partial());
    }
}
