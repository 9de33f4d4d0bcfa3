//! C2SP signed notes with Ed25519 (signature type 0x01): signing and verifying by one key.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signed-note signature type of Ed25519.
const ED25519: u8 = 0x01;

/// The longest note [`NoteVerifier::verify`] reads.
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// The most signature lines [`NoteVerifier::verify`] reads (the spec asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The start of a signature line: em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// A key id: the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key), big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyId(pub u32);

impl KeyId {
    /// The id of an Ed25519 key under `name`.
    pub fn of(name: &str, key: &VerifyingKey) -> KeyId {
        let digest = Sha256::new()
            .chain_update(name.as_bytes())
            .chain_update([b'\n', ED25519])
            .chain_update(key.as_bytes())
            .finalize();
        KeyId(u32::from_be_bytes([
            digest[0], digest[1], digest[2], digest[3],
        ]))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// Why a note could not be signed or verified, or a key not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The key name is empty or holds whitespace or `+`.
    #[error("key names must be non-empty, without spaces or '+'")]
    KeyName,
    /// The verifier key is not `<name>+<8 hex id>+<base64(0x01 || 32-byte key)>`.
    #[error("malformed verifier key")]
    MalformedKey,
    /// The verifier key is not an Ed25519 key.
    #[error("verifier key of unsupported type {0:#04x}")]
    UnsupportedKeyType(u8),
    /// The verifier key's id is not the id of its name and key.
    #[error("verifier key id does not match its name and key")]
    KeyIdMismatch,
    /// The text to sign is empty, does not end in a newline, or holds control characters.
    #[error("note text must end in a newline and hold no control characters but newlines")]
    MalformedText,
    /// The note is too long, holds control characters, or has no signature block.
    #[error("malformed note")]
    MalformedNote,
    /// A signature line is malformed.
    #[error("malformed signature line {line}")]
    MalformedSignature {
        /// Position of the line in the signature block, from 0.
        line: usize,
    },
    /// No signature line is by this verifier's name and key id.
    #[error("the note carries no signature by this key")]
    NotSigned,
    /// The signature by this verifier's name and key id does not verify.
    #[error("the note's signature by this key does not verify")]
    BadSignature,
}

/// Signs notes with one Ed25519 key under one name.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    key_id: KeyId,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret key.
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// A signer for a 32-byte Ed25519 secret key under `name` (non-empty, no whitespace, no
    /// `+`; by convention the log's origin).
    pub fn new(name: &str, secret: &[u8; 32]) -> Result<NoteSigner, NoteError> {
        if !is_key_name(name) {
            return Err(NoteError::KeyName);
        }
        let key = SigningKey::from_bytes(secret);
        let key_id = KeyId::of(name, &key.verifying_key());
        Ok(NoteSigner {
            name: name.to_owned(),
            key,
            key_id,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The public key.
    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The verifier key: `<name>+<8 hex key id>+<base64(0x01 || public key)>`.
    pub fn vkey(&self) -> String {
        let mut key = [0u8; 33];
        key[0] = ED25519;
        key[1..].copy_from_slice(self.key.verifying_key().as_bytes());
        format!("{}+{}+{}", self.name, self.key_id, STANDARD.encode(key))
    }

    /// The signed note: `text`, a blank line, and one signature line
    /// `— <name> <base64(key id || signature)>`. The text (which is what is signed) must end
    /// in a newline and hold no control characters but newlines, as a checkpoint's text does:
    /// a note of other text verifies nowhere. [`NoteSigner::try_sign`] checks it.
    pub fn sign(&self, text: &str) -> String {
        debug_assert!(is_note_text(text), "note text ends in a newline");
        let signature = self.key.sign(text.as_bytes());
        let mut blob = [0u8; 4 + 64];
        blob[..4].copy_from_slice(&self.key_id.0.to_be_bytes());
        blob[4..].copy_from_slice(&signature.to_bytes());
        format!(
            "{text}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(blob)
        )
    }

    /// [`NoteSigner::sign`], refusing text that does not end in a newline or holds control
    /// characters but newlines.
    pub fn try_sign(&self, text: &str) -> Result<String, NoteError> {
        if !is_note_text(text) {
            return Err(NoteError::MalformedText);
        }
        Ok(self.sign(text))
    }
}

/// Verifies notes signed by one Ed25519 key, ignoring other keys' signatures.
#[derive(Clone, Debug)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
    key_id: KeyId,
}

impl NoteVerifier {
    /// The verifier for a verifier key string (see [`NoteSigner::vkey`]).
    pub fn from_vkey(vkey: &str) -> Result<NoteVerifier, NoteError> {
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedKey);
        };
        if !is_key_name(name) {
            return Err(NoteError::KeyName);
        }
        let id = parse_key_id(id).ok_or(NoteError::MalformedKey)?;
        let key = STANDARD.decode(key).map_err(|_| NoteError::MalformedKey)?;
        let Some((&kind, key)) = key.split_first() else {
            return Err(NoteError::MalformedKey);
        };
        if kind != ED25519 {
            return Err(NoteError::UnsupportedKeyType(kind));
        }
        let key = <&[u8; 32]>::try_from(key).map_err(|_| NoteError::MalformedKey)?;
        let key = VerifyingKey::from_bytes(key).map_err(|_| NoteError::MalformedKey)?;
        if KeyId::of(name, &key) != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            key,
            key_id: id,
        })
    }

    /// The verifier for `name`'s Ed25519 public key.
    pub fn new(name: &str, key: VerifyingKey) -> Result<NoteVerifier, NoteError> {
        if !is_key_name(name) {
            return Err(NoteError::KeyName);
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            key_id: KeyId::of(name, &key),
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The note's text (up to and including its final newline) once a signature by this key
    /// verifies. The text and signatures split at the last blank line; every signature line
    /// must be well-formed; lines by other keys (another name or key id) are ignored.
    pub fn verify<'n>(&self, note: &'n str) -> Result<&'n str, NoteError> {
        if note.len() > MAX_NOTE_SIZE || note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::MalformedNote);
        }
        let split = note.rfind("\n\n").ok_or(NoteError::MalformedNote)?;
        let (text, signatures) = (&note[..=split], &note[split + 2..]);
        let signatures = signatures
            .strip_suffix('\n')
            .ok_or(NoteError::MalformedNote)?;
        let mut found = false;
        for (line_number, line) in signatures.split('\n').enumerate() {
            if line_number >= MAX_SIGNATURES {
                return Err(NoteError::MalformedNote);
            }
            let malformed = NoteError::MalformedSignature { line: line_number };
            let (name, id, signature) = parse_signature_line(line).ok_or(malformed)?;
            if name != self.name || id != self.key_id {
                continue;
            }
            let signature =
                Signature::from_slice(&signature).map_err(|_| NoteError::BadSignature)?;
            self.key
                .verify_strict(text.as_bytes(), &signature)
                .map_err(|_| NoteError::BadSignature)?;
            found = true;
        }
        if found {
            Ok(text)
        } else {
            Err(NoteError::NotSigned)
        }
    }
}

/// C2SP key names: non-empty, no Unicode whitespace, no `+`.
fn is_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// Note text: ends in a newline, no control characters but newlines.
fn is_note_text(text: &str) -> bool {
    text.ends_with('\n') && !text.chars().any(|c| c < ' ' && c != '\n')
}

fn parse_key_id(text: &str) -> Option<KeyId> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok().map(KeyId)
}

/// `— <name> <base64(key id || signature)>` into its name, key id and signature bytes.
fn parse_signature_line(line: &str) -> Option<(&str, KeyId, Vec<u8>)> {
    let rest = line.strip_prefix(SIGNATURE_PREFIX)?;
    let (name, blob) = rest.split_once(' ')?;
    if !is_key_name(name) {
        return None;
    }
    let blob = STANDARD.decode(blob).ok()?;
    if blob.len() < 5 {
        return None;
    }
    let (id, signature) = blob.split_at(4);
    let id = KeyId(u32::from_be_bytes([id[0], id[1], id[2], id[3]]));
    Some((name, id, signature.to_vec()))
}

#[cfg(test)]
mod tests;
