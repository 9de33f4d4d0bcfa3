//! Where the native module's requests run, and how asyncio awaits them: tokio's
//! current-thread scheduler driven by one thread of the module's own (`trust-fabric-io`), and
//! each request handed to Python as an `asyncio.Future` of the caller's running loop, settled
//! from that thread.
//!
//! One thread, not a pool per core: a partner's requests are I/O, and the appliance's rule is
//! no hidden thread pools. It also keeps a short request's bytes and the end of its stream in
//! one packet, as the `partner` command (also on one thread) sends them. The thread stops at
//! interpreter exit, before Python finalises: a thread that takes the GIL once finalisation
//! has begun brings the process down, and a request settled just then would.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// How long, at exit, requests still running may take to end before they are dropped.
const STOP_WITHIN: Duration = Duration::from_secs(1);

/// The runtime's handle, and how to stop its thread.
struct Io {
    handle: Handle,
    stopped: AtomicBool,
    stop: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

static IO: OnceLock<Io> = OnceLock::new();

/// Starts the runtime and its thread, once per process.
pub fn start() -> PyResult<()> {
    if IO.get().is_some() {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("starting the async runtime failed: {e}")))?;
    let handle = runtime.handle().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("trust-fabric-io".into())
        .spawn(move || {
            // Ends when told to, or when the sender is gone.
            let _ = runtime.block_on(stopped);
            runtime.shutdown_timeout(STOP_WITHIN);
        })
        .map_err(|e| PyRuntimeError::new_err(format!("starting the SDK's thread failed: {e}")))?;
    let io = Io {
        handle,
        stopped: AtomicBool::new(false),
        stop: Mutex::new(Some((stop, thread))),
    };
    // Module initialisation runs under the GIL, once: nobody else sets it meanwhile.
    let _ = IO.set(io);
    Ok(())
}

/// Stops the runtime's thread and waits for it (at most a second beyond the request in
/// hand), with the GIL released so a request being settled can finish. Requests still
/// running are dropped, and later ones refused. `trust_fabric` registers it with `atexit`.
#[pyfunction]
pub fn stop(py: Python<'_>) {
    let Some(io) = IO.get() else {
        return;
    };
    io.stopped.store(true, Ordering::SeqCst);
    let taken = io.stop.lock().ok().and_then(|mut stop| stop.take());
    if let Some((stop, thread)) = taken {
        py.detach(move || {
            let _ = stop.send(());
            let _ = thread.join();
        });
    }
}

/// `request` as an `asyncio.Future` of the running loop: it runs on the runtime's thread and
/// settles the future with its value or its exception. Cancelling the future drops the
/// request.
pub fn awaitable<'py, T, F>(py: Python<'py>, request: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let io = IO
        .get()
        .filter(|io| !io.stopped.load(Ordering::SeqCst))
        .ok_or_else(|| {
            PyRuntimeError::new_err("the Trust Fabric SDK has stopped (the interpreter is exiting)")
        })?;
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let future = event_loop.call_method0("create_future")?;
    let (loop_ref, future_ref) = (event_loop.unbind(), future.clone().unbind());
    let task = io.handle.spawn(async move {
        let outcome = request.await;
        Python::attach(|py| {
            let (ok, value) = match outcome.and_then(|value| value.into_py_any(py)) {
                Ok(value) => (true, value),
                Err(error) => (false, error.into_value(py).into_any()),
            };
            // The loop may be closed by now (its caller gave up): nobody awaits the answer.
            let _ = loop_ref.bind(py).call_method1(
                "call_soon_threadsafe",
                (Settle, future_ref.bind(py), ok, value),
            );
        });
    });
    future.call_method1(
        "add_done_callback",
        (Cancel {
            task: task.abort_handle(),
        },),
    )?;
    Ok(future)
}

/// Settles a future on its loop's thread, unless it was cancelled meanwhile.
#[pyclass(frozen)]
struct Settle;

#[pymethods]
impl Settle {
    fn __call__(
        &self,
        future: &Bound<'_, PyAny>,
        ok: bool,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        if future.call_method0("done")?.is_truthy()? {
            return Ok(());
        }
        let method = if ok { "set_result" } else { "set_exception" };
        future.call_method1(method, (value,))?;
        Ok(())
    }
}

/// Drops a request whose future was cancelled (`asyncio.wait_for`, a cancelled task).
#[pyclass(frozen)]
struct Cancel {
    task: tokio::task::AbortHandle,
}

#[pymethods]
impl Cancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0("cancelled")?.is_truthy()? {
            self.task.abort();
        }
        Ok(())
    }
}
