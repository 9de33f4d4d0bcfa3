//! RFC 6962 / RFC 9162 §2.1 Merkle hashing with SHA-256, and the hash type.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// The size of a hash in bytes.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 Merkle tree hash: a leaf hash, an interior node or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_SIZE]);

/// Why text is not a hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashParseError {
    /// Not canonical standard base64 (RFC 4648 §4, padded).
    #[error("not canonical base64")]
    Base64,
    /// Not lowercase or uppercase hex.
    #[error("not hex")]
    Hex,
    /// The decoded bytes are not 32 long.
    #[error("a hash is 32 bytes, not {0}")]
    Length(usize),
}

impl Hash {
    /// The hash's bytes.
    pub const fn as_bytes(&self) -> &[u8; HASH_SIZE] {
        &self.0
    }

    /// Standard padded base64, as in checkpoints.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Parses standard padded base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Hash, HashParseError> {
        // 32 bytes are 44 base64 characters; refuse longer input before decoding it.
        if text.len() != 44 {
            return Err(HashParseError::Base64);
        }
        let bytes = STANDARD.decode(text).map_err(|_| HashParseError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses hex of exactly 32 bytes.
    pub fn from_hex(text: &str) -> Result<Hash, HashParseError> {
        let bytes = hex::decode(text).map_err(|_| HashParseError::Hex)?;
        Self::from_slice(&bytes)
    }

    /// The hash made of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Hash, HashParseError> {
        <[u8; HASH_SIZE]>::try_from(bytes)
            .map(Hash)
            .map_err(|_| HashParseError::Length(bytes.len()))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", hex::encode(self.0))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The hash of a log entry: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(entry);
    Hash(hasher.finalize().into())
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: Hash, right: Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// The root of the perfect subtree whose leaves (at any tree level) are `hashes`, the
/// concatenation of a power-of-two count of 32-byte hashes.
pub(crate) fn perfect_root(hashes: &[u8]) -> Hash {
    debug_assert!(
        hashes.len() >= HASH_SIZE && (hashes.len() / HASH_SIZE).is_power_of_two(),
        "a perfect subtree has a power-of-two number of hashes"
    );
    if hashes.len() <= HASH_SIZE {
        let mut bytes = [0; HASH_SIZE];
        bytes.copy_from_slice(hashes);
        return Hash(bytes);
    }
    let (left, right) = hashes.split_at(hashes.len() / 2);
    node_hash(perfect_root(left), perfect_root(right))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_hash(text: &str) -> Hash {
        Hash::from_hex(text).expect("test vector is hex of 32 bytes")
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            empty_root(),
            hex_hash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(empty_root().0, tlog_tiles::EMPTY_HASH.0);
    }

    #[test]
    fn leaf_and_node_hashes_have_rfc6962_prefixes() {
        // SHA-256(0x00), the leaf hash of the empty entry (RFC 6962 test data).
        assert_eq!(
            leaf_hash(b""),
            hex_hash("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        );
        assert_eq!(
            leaf_hash(b"hello world").0,
            tlog_tiles::record_hash(b"hello world").0
        );
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        assert_eq!(
            node_hash(a, b).0,
            tlog_tiles::node_hash(tlog_tiles::Hash(a.0), tlog_tiles::Hash(b.0)).0
        );
        assert_ne!(node_hash(a, b), node_hash(b, a));
    }

    /// The roots of the first eight trees over the RFC 6962 reference leaves (the Certificate
    /// Transparency test data, also recomputed independently).
    #[test]
    fn rfc6962_reference_roots() {
        let leaves: [&str; 8] = [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ];
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let mut tree = crate::Tree::empty();
        for (leaf, root) in leaves.iter().zip(roots) {
            let entry = hex::decode(leaf).expect("test vector is hex");
            tree.append(&entry);
            assert_eq!(tree.root(), hex_hash(root), "size {}", tree.size());
        }
    }

    #[test]
    fn text_forms_round_trip_and_are_strict() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()), Ok(h));
        assert_eq!(Hash::from_hex(&h.to_hex()), Ok(h));
        assert_eq!(format!("{h:?}"), format!("Hash({})", h.to_hex()));
        // 31 bytes, 33 bytes, non-canonical trailing bits, missing padding, junk.
        assert!(Hash::from_base64(&STANDARD.encode([0u8; 31])).is_err());
        assert!(Hash::from_base64(&STANDARD.encode([0u8; 33])).is_err());
        assert_eq!(
            Hash::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="),
            Err(HashParseError::Base64)
        );
        assert!(Hash::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").is_err());
        assert!(Hash::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!=").is_err());
        assert_eq!(Hash::from_hex("00"), Err(HashParseError::Length(1)));
        assert_eq!(Hash::from_hex("zz"), Err(HashParseError::Hex));
    }

    #[test]
    fn perfect_root_hashes_pairs_up() {
        let leaves: Vec<Hash> = (0u8..8).map(|i| leaf_hash(&[i])).collect();
        let bytes: Vec<u8> = leaves.iter().flat_map(|h| h.0).collect();
        let left = node_hash(
            node_hash(leaves[0], leaves[1]),
            node_hash(leaves[2], leaves[3]),
        );
        let right = node_hash(
            node_hash(leaves[4], leaves[5]),
            node_hash(leaves[6], leaves[7]),
        );
        assert_eq!(perfect_root(&bytes), node_hash(left, right));
        assert_eq!(perfect_root(&bytes[..32]), leaves[0]);
    }
}
