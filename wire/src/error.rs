//! Why a frame could not be read.

/// A frame that cannot be decoded. `Copy` and allocation-free: decoding errors are hot-path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The header does not start with the protocol's magic bytes.
    #[error("not a Trust Fabric frame (bad magic); is the client speaking this protocol?")]
    BadMagic,
    /// The peer speaks a protocol version this side does not.
    #[error("protocol version {got} is not supported; this side speaks {supported}")]
    UnsupportedVersion {
        /// The version in the frame.
        got: u16,
        /// The version this side speaks.
        supported: u16,
    },
    /// The body is longer than the frame limit.
    #[error("frame body of {len} bytes exceeds the limit of {limit}")]
    FrameTooLarge {
        /// Declared body length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Fewer bytes than the header or body needs.
    #[error("truncated frame: need {needed} bytes, have {got}")]
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// The body is not a valid archive of a message (bytecheck failed).
    #[error("malformed message body: it does not validate as a protocol message")]
    Malformed,
    /// A field is over its limit.
    #[error("{field}: {actual} exceeds the limit of {limit}")]
    OverLimit {
        /// The field.
        field: &'static str,
        /// The limit.
        limit: usize,
        /// The value received.
        actual: usize,
    },
    /// The message could not be encoded (only on the sending side).
    #[error("message could not be encoded")]
    Encode,
}
