//! SHA-256 digests of a packet's files, computed while they are written and while they are
//! read, so no file is read twice just to be hashed.

use std::fmt;
use std::io::{self, Read, Write};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest. JSON and the in-toto index spell it as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(bytes).into())
    }

    /// 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 lowercase hex digits (the only spelling a packet uses, so a digest
    /// has one form and compares as text too).
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Sha256Digest(bytes))
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Sha256Digest::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("a SHA-256 digest is 64 lowercase hex digits"))
    }
}

/// A writer that hashes what it passes on.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, and the digest and length of everything written.
    pub(crate) fn finish(self) -> (W, Sha256Digest, u64) {
        (
            self.inner,
            Sha256Digest(self.hasher.finalize().into()),
            self.bytes,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        // Only what the inner writer took: a short write is retried with the rest.
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what it hands out.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The digest of everything read so far.
    pub(crate) fn digest(self) -> Sha256Digest {
        Sha256Digest(self.hasher.finalize().into())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_and_reader_hash_exactly_the_bytes_that_passed() {
        let text = b"one line\nanother line\n";
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(&text[..5]).expect("in memory");
        writer.write_all(&text[5..]).expect("in memory");
        let (written, digest, bytes) = writer.finish();
        assert_eq!(written, text);
        assert_eq!(bytes, text.len() as u64);
        assert_eq!(digest, Sha256Digest::of(text));

        let mut reader = HashingReader::new(&text[..]);
        let mut first = [0u8; 4];
        reader.read_exact(&mut first).expect("in memory");
        io::copy(&mut reader, &mut io::sink()).expect("in memory");
        assert_eq!(reader.digest(), Sha256Digest::of(text));
    }

    #[test]
    fn digests_have_one_spelling() {
        let digest = Sha256Digest::of(b"x");
        let hex = digest.to_hex();
        assert_eq!(Sha256Digest::from_hex(&hex), Some(digest));
        assert_eq!(Sha256Digest::from_hex(&hex.to_uppercase()), None);
        assert_eq!(Sha256Digest::from_hex(&hex[1..]), None);
        assert_eq!(Sha256Digest::from_hex(&format!("{hex}00")), None);
        let json = serde_json::to_string(&digest).expect("serialises");
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(
            serde_json::from_str::<Sha256Digest>(&json).expect("parses"),
            digest
        );
        assert!(serde_json::from_str::<Sha256Digest>("\"00\"").is_err());
    }
}
