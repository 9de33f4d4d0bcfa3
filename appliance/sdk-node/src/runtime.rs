//! Where the addon's requests run, and how JavaScript awaits them: tokio's current-thread
//! scheduler driven by one thread of the addon's own (`trust-fabric-io`), and each request
//! handed to JavaScript as a Promise that the thread settles through a Node-API deferred (a
//! threadsafe function, so the value is made on the JavaScript thread).
//!
//! One thread, not a pool per core, as the Python SDK does it: a partner's requests are I/O,
//! and the appliance's rule is no hidden thread pools. It also keeps a short request's bytes
//! and the end of its stream in one packet, as the `partner` command (also on one thread)
//! sends them. A pending Promise keeps Node's event loop alive (its threadsafe function is
//! referenced until settled); the thread itself does not, and ends with the process. A
//! request settled after its Node environment has gone is dropped by napi.

use std::future::Future;
use std::sync::Mutex;

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{Env, Error, Status};
use tf_partner::PartnerError;
use tokio::runtime::Handle;

use crate::rejection;

/// The runtime's handle, once its thread runs.
static IO: Mutex<Option<Handle>> = Mutex::new(None);

/// `request` as a Promise: it runs on the addon's thread and settles the Promise with its
/// value, or rejects it with the error's JSON (see [`rejection`]).
pub fn promise<'env, T, F>(env: &'env Env, request: F) -> napi::Result<Object<'env>>
where
    F: Future<Output = Result<T, PartnerError>> + Send + 'static,
    T: ToNapiValue + Send + 'static,
{
    let io = handle()?;
    let (deferred, promise) = env.create_deferred()?;
    io.spawn(async move {
        match request.await {
            Ok(value) => deferred.resolve(move |_| Ok(value)),
            Err(error) => deferred.reject(rejection(&error)),
        }
    });
    Ok(promise)
}

/// The runtime's handle, starting it and its thread on first use (once per process, shared by
/// every Node environment that loads the addon, worker threads included).
fn handle() -> napi::Result<Handle> {
    let mut io = IO
        .lock()
        .map_err(|_| failure("the SDK's runtime failed earlier".into()))?;
    if let Some(handle) = io.as_ref() {
        return Ok(handle.clone());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failure(format!("starting the async runtime failed: {e}")))?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name("trust-fabric-io".into())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .map_err(|e| failure(format!("starting the SDK's thread failed: {e}")))?;
    *io = Some(handle.clone());
    Ok(handle)
}

/// A failure of the addon itself (not of a request), as a plain JavaScript error.
fn failure(message: String) -> Error {
    Error::new(Status::GenericFailure, message)
}
