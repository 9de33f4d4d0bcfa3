//! The Trust Fabric wire protocol: what partners and the appliance say to each other.
//!
//! A frame is an 8-byte header (magic `TF`, protocol version, body length) followed by an rkyv
//! archive of one [`Message`]. Bodies are only ever read through validated access (bytecheck),
//! once, at ingress, from a reused aligned buffer; frame size, nesting depth and every count are
//! limited before any work. The crate has no runtime dependency.

mod error;
mod frame;
mod invite;
mod limits;
// rkyv's derive emits undocumented resolver fields for enum variants; every item written here
// is documented.
#[allow(missing_docs)]
mod messages;
mod text;

pub use error::WireError;
pub use frame::{
    FrameDecoder, FrameHeader, HEADER_BYTES, MAGIC, PROTOCOL_VERSION, encode, to_owned,
};
pub use invite::{InviteCode, NotAnInvite};
pub use limits::{
    MAX_ABOUT_TEXT_BYTES, MAX_CERTIFICATE_BYTES, MAX_CHECKLIST_ENVELOPE_BYTES, MAX_CHECKLIST_STEPS,
    MAX_CSR_BYTES, MAX_PREVIEW_FILE_BYTES, MAX_PREVIEW_FILES, MAX_PREVIEW_RECEIPTS, MAX_TERMS_CAPS,
    WireLimits,
};
pub use messages::*;
pub use text::is_plain_line;
