//! Receipts: what the appliance answers with every verdict, signed so an auditor can check it
//! offline with any DSSE or Ed25519 library.
//!
//! A receipt is a JSON payload (see [`Receipt`]) wrapped in a DSSE v1 envelope whose payload type
//! names the schema ([`PAYLOAD_TYPE`]). The appliance's Ed25519 key signs the DSSE
//! pre-authentication encoding of the type and the exact payload bytes; verifiers check the
//! signature before parsing anything.

mod dsse;
mod keys;
mod receipt;
mod verify;

pub use dsse::{Envelope, EnvelopeSignature, pae};
pub use keys::{ApplianceKeyId, ReceiptSigner};
pub use receipt::{PAYLOAD_TYPE, Receipt, VerdictLabel};
pub use verify::{ReceiptError, verify, verify_signature};
