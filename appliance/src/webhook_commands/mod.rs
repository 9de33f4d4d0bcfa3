//! `appliance webhooks`: the reference receiver for auditor webhooks. It checks what the
//! appliance sends the way an auditor's endpoint should (Standard Webhooks signatures with
//! `tf-webhooks`, receipts with `tf-receipts`) and records each message once, durably, so
//! deliveries can be tested end to end and auditors have a receiver to start from.

mod faults;
mod keys;
mod receive;
mod server;
mod store;

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Mutex;

use crate::cli::webhooks::{ReceiveArgs, WebhooksArgs, WebhooksWhat};
use faults::Faults;
use server::Receiver;
use store::Store;

/// Exit codes: stopped by a signal, failed while serving, unusable arguments.
const STOPPED: u8 = 0;
const FAILED: u8 = 1;
const UNUSABLE: u8 = 2;

/// Runs one `appliance webhooks` command.
pub fn run(args: WebhooksArgs) -> ExitCode {
    match args.what {
        WebhooksWhat::Receive(args) => receive(args),
    }
}

fn receive(args: ReceiveArgs) -> ExitCode {
    let (listener, receiver) = match start(args) {
        Ok(started) => started,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(UNUSABLE);
        }
    };
    match server::serve(listener, receiver) {
        Ok(()) => ExitCode::from(STOPPED),
        Err(e) => {
            eprintln!("error: serving: {e}");
            ExitCode::from(FAILED)
        }
    }
}

/// Everything that can be refused before serving: keys, faults, the record, the port.
fn start(args: ReceiveArgs) -> Result<(TcpListener, Receiver), String> {
    let keys = keys::webhook_keys(&args)?;
    let faults = Faults::new(&args.faults)?;
    let receipt_key = keys::receipt_key(args.receipt_key.as_deref(), args.state)?;
    let store = Store::open(&args.out)?;
    let listener =
        TcpListener::bind(args.listen).map_err(|e| format!("--listen {}: {e}", args.listen))?;
    // The effective settings, keys counted but never shown.
    eprintln!(
        "receiving webhooks into {} ({} messages recorded before): {} webhook keys, receipt \
         key {}, tolerance {} s, bodies up to {} bytes, faults {}",
        args.out.display(),
        store.len(),
        keys.len(),
        tf_receipts::ApplianceKeyId::of(&receipt_key).as_str(),
        args.tolerance_s,
        args.max_body_bytes,
        faults.describe()
    );
    let receiver = Receiver {
        keys,
        receipt_key,
        tolerance_s: args.tolerance_s,
        max_body_bytes: args.max_body_bytes,
        faults,
        store: Mutex::new(store),
    };
    Ok((listener, receiver))
}
