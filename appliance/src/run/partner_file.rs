//! `partner.toml` in the state directory: how the partner CLI, run from the same folder,
//! reaches this appliance as the demo tenant with no flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Serialize;
use tf_receipts::ReceiptSigner;
use tf_state::{State, StateError, layout};

/// The file's name in the state directory.
pub const FILE: &str = "partner.toml";

/// What the file says. Paths are relative to the state directory.
#[derive(Debug, Serialize)]
struct PartnerFile<'a> {
    address: String,
    server_name: &'a str,
    ca: &'a str,
    certificate: &'a str,
    key: &'a str,
    receipt_public_key: String,
    /// The transparency log's verifier key, to check checkpoints and inclusion proofs.
    log_key: &'a str,
}

/// Writes the file for the address the shards are bound to; returns its path. `log_key` is
/// the transparency log's verifier key (C2SP signed-note `vkey`).
pub fn write(
    state: &State,
    bound: SocketAddr,
    signer: &ReceiptSigner,
    log_key: &str,
) -> Result<PathBuf, StateError> {
    let file = PartnerFile {
        address: bound.to_string(),
        server_name: "localhost",
        ca: layout::CA_CERT,
        certificate: layout::DEMO_CLIENT_CERT,
        key: layout::DEMO_CLIENT_KEY,
        receipt_public_key: hex::encode(signer.public_key().as_bytes()),
        log_key,
    };
    let mut text = String::from(
        "# Written by `appliance serve` at each start: how the partner CLI reaches this\n\
         # appliance as the demo tenant. Paths are relative to this directory.\n",
    );
    text.push_str(&toml::to_string(&file).expect("plain strings serialise"));
    let path = state.path(FILE);
    tf_state::write_public_file(&path, text.as_bytes())?;
    Ok(path)
}
