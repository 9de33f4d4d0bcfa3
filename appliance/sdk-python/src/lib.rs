//! `trust_fabric._native`: the Python package's native half, a thin layer over
//! [`tf_partner::sdk`]. Every operation is the facade's; this module only moves values across:
//! strings and bytes in, each result out as the JSON text of the facade's serde type (the
//! field names `partner --json` prints, which the pure-Python half turns into frozen
//! dataclasses), and every [`PartnerError`] raised as the exception class that
//! `trust_fabric.errors` maps its kind to. Requests run on the module's own thread and are
//! awaited from asyncio (runtime.rs).

mod runtime;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde::Serialize;
use tf_partner::sdk::{self, Onboarding, TermsAsk};
use tf_partner::{PartnerError, Retry};

/// The native module; `trust_fabric` wraps it with types, docstrings and input handling.
#[pymodule(name = "_native")]
fn native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    runtime::start()?;
    module.add_function(wrap_pyfunction!(runtime::stop, module)?)?;
    module.add_function(wrap_pyfunction!(onboard, module)?)?;
    module.add_function(wrap_pyfunction!(verify_receipt, module)?)?;
    module.add_function(wrap_pyfunction!(verify_checklist, module)?)?;
    module.add_function(wrap_pyfunction!(verify_evidence, module)?)?;
    module.add_class::<Client>()?;
    Ok(())
}

/// Redeems `invite` at `connect` (`HOST:PORT`) for `tenant`, with a key pair made here, and
/// writes the identity into `out` (default `./partner-<tenant>`). Awaitable of the JSON of an
/// onboarded folder.
#[pyfunction]
#[pyo3(signature = (invite, connect, tenant, out, server_name, retries, timeout))]
#[allow(clippy::too_many_arguments)] // one per keyword of `trust_fabric.onboard`
fn onboard<'py>(
    py: Python<'py>,
    invite: &str,
    connect: &str,
    tenant: &str,
    out: Option<String>,
    server_name: Option<String>,
    retries: u32,
    timeout: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let onboarding = Onboarding::new(invite, connect, tenant)
        .map_err(raised)?
        .with_options(
            out.map(PathBuf::from),
            server_name,
            seconds(timeout)?,
            Retry::retries(retries),
        );
    runtime::awaitable(py, async move {
        let onboarded = sdk::onboard_to_dir(&onboarding, |_| {})
            .await
            .map_err(raised)?;
        json(&onboarded)
    })
}

/// Checks a receipt envelope's JSON text with the appliance's receipt key (64 hex digits);
/// returns the JSON of what it says.
#[pyfunction]
fn verify_receipt(envelope_json: &str, public_key: &str) -> PyResult<String> {
    json(&sdk::verify_receipt(envelope_json, public_key).map_err(raised)?)
}

/// Checks a signed checklist's envelope (JSON text) with the receipt key (hex); the JSON of
/// what it says.
#[pyfunction]
fn verify_checklist(envelope_json: &str, public_key: &str) -> PyResult<String> {
    json(&sdk::verify_checklist(envelope_json, public_key).map_err(raised)?)
}

/// Checks the evidence bundle in folder `dir` with the receipt key (hex), naming every file
/// altered, removed or added; the JSON of what it holds.
#[pyfunction]
fn verify_evidence(dir: &str, public_key: &str) -> PyResult<String> {
    let folder = Path::new(dir);
    if !folder.is_dir() {
        return Err(raised(PartnerError::Local {
            path: dir.to_owned(),
            problem: "not a folder".into(),
        }));
    }
    json(&sdk::verify_evidence_dir(folder, public_key).map_err(raised)?)
}

/// A connection to an appliance as one tenant; every request is retried while the appliance
/// says busy, as the retries given allow.
#[pyclass(frozen, module = "trust_fabric._native")]
struct Client {
    inner: Arc<sdk::Client>,
}

#[pymethods]
impl Client {
    /// Connects as the identity in `state_dir` (a folder with a partner.toml). Awaitable of a
    /// Client.
    #[staticmethod]
    fn connect_dir(
        py: Python<'_>,
        state_dir: String,
        retries: u32,
        timeout: f64,
    ) -> PyResult<Bound<'_, PyAny>> {
        let timeout = seconds(timeout)?;
        runtime::awaitable(py, async move {
            let client =
                sdk::Client::connect_dir(Path::new(&state_dir), timeout, Retry::retries(retries))
                    .await
                    .map_err(raised)?;
            Ok(Client {
                inner: Arc::new(client),
            })
        })
    }

    /// Connects to `address` with PEM files for the CA, the certificate and the key. Awaitable
    /// of a Client.
    #[staticmethod]
    #[pyo3(signature = (address, ca, cert, key, server_name, retries, timeout))]
    #[allow(clippy::too_many_arguments)] // one per keyword of `Partner.connect_files`
    fn connect_files(
        py: Python<'_>,
        address: String,
        ca: String,
        cert: String,
        key: String,
        server_name: Option<String>,
        retries: u32,
        timeout: f64,
    ) -> PyResult<Bound<'_, PyAny>> {
        let timeout = seconds(timeout)?;
        runtime::awaitable(py, async move {
            let client = sdk::Client::connect_files(
                &address,
                Path::new(&ca),
                Path::new(&cert),
                Path::new(&key),
                server_name.as_deref(),
                timeout,
                Retry::retries(retries),
            )
            .await
            .map_err(raised)?;
            Ok(Client {
                inner: Arc::new(client),
            })
        })
    }

    /// The receipt key from partner.toml (64 hex digits), when it names one.
    #[getter]
    fn receipt_public_key(&self) -> Option<String> {
        self.inner.receipt_public_key().map(hex::encode)
    }

    /// Registers a snarkjs verification key (its JSON text). Awaitable of the key id, hex.
    fn register_key_json<'py>(&self, py: Python<'py>, vkey: String) -> PyResult<Bound<'py, PyAny>> {
        let client = Arc::clone(&self.inner);
        runtime::awaitable(py, async move {
            let key_id = client.register_key_json(&vkey).await.map_err(raised)?;
            Ok(key_id.to_string())
        })
    }

    /// Submits a snarkjs proof and public inputs (JSON texts). Awaitable of a verdict's JSON.
    fn submit_groth16_json<'py>(
        &self,
        py: Python<'py>,
        key_id: String,
        proof: String,
        public: String,
        purpose: String,
        dataset_class: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = Arc::clone(&self.inner);
        runtime::awaitable(py, async move {
            let verdict = client
                .submit_groth16_json(&key_id, &proof, &public, &purpose, &dataset_class)
                .await
                .map_err(raised)?;
            json(&verdict)
        })
    }

    /// Submits a BLS signature over messages under compressed public keys (bytes each).
    /// Awaitable of a verdict's JSON.
    fn submit_bls<'py>(
        &self,
        py: Python<'py>,
        public_keys: Vec<Vec<u8>>,
        messages: Vec<Vec<u8>>,
        signature: Vec<u8>,
        purpose: String,
        dataset_class: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = Arc::clone(&self.inner);
        runtime::awaitable(py, async move {
            let keys: Vec<&[u8]> = public_keys.iter().map(Vec::as_slice).collect();
            let messages: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
            let verdict = client
                .submit_bls(&keys, &messages, &signature, &purpose, &dataset_class)
                .await
                .map_err(raised)?;
            json(&verdict)
        })
    }

    /// The tenant's budget caps. Awaitable of their JSON array.
    fn budgets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = Arc::clone(&self.inner);
        runtime::awaitable(
            py,
            async move { json(&client.budgets().await.map_err(raised)?) },
        )
    }

    /// Asks for other terms, given as `TermsAsk` JSON. Awaitable of the `TermsAnswer` JSON.
    fn request_terms<'py>(&self, py: Python<'py>, terms: String) -> PyResult<Bound<'py, PyAny>> {
        let asked: TermsAsk =
            serde_json::from_str(&terms).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let client = Arc::clone(&self.inner);
        runtime::awaitable(py, async move {
            json(&client.request_terms(&asked).await.map_err(raised)?)
        })
    }

    /// The onboarding checklist, naming two receipts by ledger sequence (0 for none).
    /// Awaitable of the `ChecklistAnswer` JSON.
    fn checklist<'py>(
        &self,
        py: Python<'py>,
        sandbox_receipt: u64,
        first_receipt: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = Arc::clone(&self.inner);
        runtime::awaitable(py, async move {
            let answer = client
                .checklist(sandbox_receipt, first_receipt)
                .await
                .map_err(raised)?;
            json(&answer)
        })
    }

    /// The evidence preview over the sandbox receipts `receipts` (ledger sequence numbers, 1
    /// to 16), checked against the appliance's receipt key and written into `out`, a new or
    /// empty folder. Awaitable of the `EvidenceSummary` JSON.
    fn evidence_preview<'py>(
        &self,
        py: Python<'py>,
        receipts: Vec<u64>,
        out: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = Arc::clone(&self.inner);
        runtime::awaitable(py, async move {
            let preview = client.evidence_preview(&receipts).await.map_err(raised)?;
            preview.write_to(Path::new(&out)).map_err(raised)?;
            json(&preview.summary)
        })
    }

    /// Closes the connection politely. Awaitable.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = Arc::clone(&self.inner);
        runtime::awaitable(py, async move {
            client.close().await;
            Ok(())
        })
    }
}

/// A timeout in seconds, as Python passes it.
fn seconds(timeout: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(timeout)
        .ok()
        .filter(|wait| !wait.is_zero())
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "timeout: {timeout} is not a positive number of seconds"
            ))
        })
}

/// A facade result as JSON text for the Python half.
fn json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A partner error as the exception `trust_fabric.errors.from_kind` makes for its kind, with
/// its message, the wait the appliance asked for and its reason by name (an invite refusal's,
/// or what ran out over budget).
fn raised(error: PartnerError) -> PyErr {
    let retry_after_ms = error
        .retry_after()
        .map(|wait| u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
    let reason = error.reason().map(str::to_owned);
    let (kind, message) = (error.kind(), error.to_string());
    Python::attach(|py| {
        let made = py
            .import("trust_fabric.errors")
            .and_then(|errors| errors.getattr("from_kind"))
            .and_then(|from_kind| from_kind.call1((kind, &message, retry_after_ms, reason)));
        match made {
            Ok(exception) => PyErr::from_value(exception),
            // The pure-Python half is missing or broken: say so, with the error itself.
            Err(import) => {
                let error = PyRuntimeError::new_err(format!("{kind}: {message}"));
                error.set_cause(py, Some(import));
                error
            }
        }
    })
}
