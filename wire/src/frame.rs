//! Framing: an 8-byte header (magic, version, body length) and an rkyv body read only through
//! validated access.

use std::num::NonZeroUsize;

use rkyv::api::access_with_context;
use rkyv::rancor;
use rkyv::util::AlignedVec;
use rkyv::validation::Validator;
use rkyv::validation::archive::ArchiveValidator;

use crate::messages::{ArchivedMessage, Message};
use crate::{WireError, WireLimits};

/// The first two bytes of every frame.
pub const MAGIC: [u8; 2] = *b"TF";
/// The protocol version this build speaks. It changes whenever an existing message's layout
/// does, so a peer that would misread the other's bytes is refused by the header instead
/// (`docs/wire-protocol.md`, "Versions"). 2: `OverBudget.reason` and `CapState.granted`.
pub const PROTOCOL_VERSION: u16 = 2;
/// Bytes in a frame header.
pub const HEADER_BYTES: usize = 8;

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// The sender's protocol version.
    pub version: u16,
    /// Length of the body that follows.
    pub body_len: usize,
}

impl FrameHeader {
    /// Parses and checks a header: magic, version, and body length against the limit, so a
    /// reader knows how much to read (and refuses oversize frames) before buffering the body.
    pub fn parse(bytes: &[u8], limits: &WireLimits) -> Result<Self, WireError> {
        if bytes.len() < HEADER_BYTES {
            return Err(WireError::Truncated {
                needed: HEADER_BYTES,
                got: bytes.len(),
            });
        }
        if bytes[..2] != MAGIC {
            return Err(WireError::BadMagic);
        }
        let version = u16::from_le_bytes([bytes[2], bytes[3]]);
        if version != PROTOCOL_VERSION {
            return Err(WireError::UnsupportedVersion {
                got: version,
                supported: PROTOCOL_VERSION,
            });
        }
        let body_len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        if body_len > limits.max_frame_bytes {
            return Err(WireError::FrameTooLarge {
                len: body_len,
                limit: limits.max_frame_bytes,
            });
        }
        Ok(FrameHeader { version, body_len })
    }
}

/// Appends one framed message to `out`.
pub fn encode(message: &Message, out: &mut Vec<u8>) -> Result<(), WireError> {
    let body = rkyv::to_bytes::<rancor::Error>(message).map_err(|_| WireError::Encode)?;
    let len = u32::try_from(body.len()).map_err(|_| WireError::Encode)?;
    out.reserve(HEADER_BYTES + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(())
}

/// Decodes frames into a buffer it reuses, so steady-state decoding does not allocate.
#[derive(Debug)]
pub struct FrameDecoder {
    limits: WireLimits,
    body: AlignedVec<16>,
}

impl FrameDecoder {
    /// A decoder with these limits.
    pub fn new(limits: WireLimits) -> Self {
        FrameDecoder {
            limits,
            body: AlignedVec::with_capacity(4096),
        }
    }

    /// The decoder's limits.
    pub fn limits(&self) -> &WireLimits {
        &self.limits
    }

    /// Decodes one whole frame (header and body, nothing after it).
    pub fn decode<'a>(&'a mut self, frame: &[u8]) -> Result<&'a ArchivedMessage, WireError> {
        let header = FrameHeader::parse(frame, &self.limits)?;
        let body = &frame[HEADER_BYTES..];
        if body.len() != header.body_len {
            return Err(if body.len() < header.body_len {
                WireError::Truncated {
                    needed: HEADER_BYTES + header.body_len,
                    got: frame.len(),
                }
            } else {
                WireError::Malformed
            });
        }
        self.decode_body(body)
    }

    /// Decodes a body whose header was already parsed with [`FrameHeader::parse`]: copies it
    /// into the aligned buffer, validates it with a depth limit, then checks field limits.
    pub fn decode_body<'a>(&'a mut self, body: &[u8]) -> Result<&'a ArchivedMessage, WireError> {
        if body.len() > self.limits.max_frame_bytes {
            return Err(WireError::FrameTooLarge {
                len: body.len(),
                limit: self.limits.max_frame_bytes,
            });
        }
        self.body.clear();
        self.body.extend_from_slice(body);
        let bytes = self.body.as_slice();
        let mut validator = Validator::new(
            ArchiveValidator::with_max_depth(bytes, NonZeroUsize::new(self.limits.max_depth)),
            (),
        );
        let message =
            access_with_context::<ArchivedMessage, _, rancor::Failure>(bytes, &mut validator)
                .map_err(|_| WireError::Malformed)?;
        self.limits.check(message)?;
        Ok(message)
    }
}

/// Deserialises a validated archive into an owned message (for clients and tests; the appliance
/// works on the archive directly).
pub fn to_owned(message: &ArchivedMessage) -> Message {
    rkyv::deserialize::<Message, rancor::Panic>(message).unwrap_or_else(|never| match never {})
}
