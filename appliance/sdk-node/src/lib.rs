//! `trust-fabric.<platform>.node`: the npm package `@trust-fabric/partner`'s native half, a thin
//! layer over [`tf_partner::sdk`], as the Python SDK's `trust_fabric._native` is. Every
//! operation is the facade's; this addon only moves values across: strings and buffers in,
//! each result out as the JSON text of the facade's serde type (the field names
//! `partner --json` prints, which the package's `index.js` turns into camelCase objects), and
//! every [`PartnerError`] as a rejected Promise (or a thrown error) whose message is the JSON
//! of its kind, words, wait and reason, from which `index.js` makes the typed error. Requests
//! run on the addon's own thread (see `runtime.rs`).

mod runtime;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, Object};
use napi::{Env, Status};
use napi_derive::napi;
use serde::Serialize;
use tf_partner::sdk::{self, Onboarding};
use tf_partner::{PartnerError, Retry};

use crate::runtime::promise;

/// Redeems `invite` at `connect` (`HOST:PORT`) for `tenant`, with a key pair made here, and
/// writes the identity into `out` (default `./partner-<tenant>`). A Promise of the JSON of an
/// onboarded folder.
#[napi]
#[allow(clippy::too_many_arguments)] // one per option of `onboard()` in index.js
pub fn onboard<'env>(
    env: &'env Env,
    invite: String,
    connect: String,
    tenant: String,
    out: Option<String>,
    server_name: Option<String>,
    retries: u32,
    timeout_ms: f64,
) -> napi::Result<Object<'env>> {
    let mut onboarding = Onboarding::new(&invite, &connect, &tenant).map_err(|e| rejection(&e))?;
    if let Some(out) = out {
        onboarding.dir = out.into();
    }
    if let Some(name) = server_name {
        onboarding.server_name = name;
    }
    onboarding.timeout = milliseconds(timeout_ms)?;
    onboarding.retry = retry(retries);
    promise(env, async move {
        let onboarded = sdk::onboard_to_dir(&onboarding, |_| {}).await?;
        json(&onboarded)
    })
}

/// Checks a receipt envelope's JSON text with the appliance's receipt key (64 hex digits);
/// returns the JSON of what it says. Offline and synchronous.
#[napi]
pub fn verify_receipt(envelope_json: String, public_key: String) -> napi::Result<String> {
    sdk::verify_receipt(&envelope_json, &public_key)
        .and_then(|facts| json(&facts))
        .map_err(|e| rejection(&e))
}

/// Checks a signed checklist's envelope (JSON text) with the receipt key (64 hex digits);
/// returns the JSON of what it says. Offline and synchronous.
#[napi]
pub fn verify_checklist(envelope_json: String, public_key: String) -> napi::Result<String> {
    sdk::verify_checklist(&envelope_json, &public_key)
        .and_then(|said| json(&said))
        .map_err(|e| rejection(&e))
}

/// Checks the evidence bundle in folder `dir` with the receipt key (64 hex digits), naming
/// every file altered, removed or added; returns the JSON of what it holds. Offline and
/// synchronous.
#[napi]
pub fn verify_evidence(dir: String, public_key: String) -> napi::Result<String> {
    let folder = Path::new(&dir);
    if !folder.is_dir() {
        return Err(rejection(&PartnerError::Local {
            path: dir.clone(),
            problem: "not a folder".into(),
        }));
    }
    sdk::verify_evidence_dir(folder, &public_key)
        .and_then(|summary| json(&summary))
        .map_err(|e| rejection(&e))
}

/// A connection to an appliance as one tenant; every request is retried while the appliance
/// says busy, as the retries given allow. Requests on one client run concurrently.
#[napi(js_name = "Client")]
pub struct Client {
    inner: Arc<sdk::Client>,
}

#[napi]
impl Client {
    /// Connects as the identity in `state_dir` (a folder with a partner.toml). A Promise of a
    /// Client.
    #[napi]
    pub fn connect_dir<'env>(
        env: &'env Env,
        state_dir: String,
        retries: u32,
        timeout_ms: f64,
    ) -> napi::Result<Object<'env>> {
        let timeout = milliseconds(timeout_ms)?;
        promise(env, async move {
            let client =
                sdk::Client::connect_dir(Path::new(&state_dir), timeout, retry(retries)).await?;
            Ok(Client {
                inner: Arc::new(client),
            })
        })
    }

    /// Connects to `address` with PEM files for the CA, the certificate and the key. A Promise
    /// of a Client.
    #[napi]
    #[allow(clippy::too_many_arguments)] // one per option of `Partner.connectFiles()`
    pub fn connect_files<'env>(
        env: &'env Env,
        address: String,
        ca: String,
        cert: String,
        key: String,
        server_name: Option<String>,
        retries: u32,
        timeout_ms: f64,
    ) -> napi::Result<Object<'env>> {
        let timeout = milliseconds(timeout_ms)?;
        promise(env, async move {
            let client = sdk::Client::connect_files(
                &address,
                Path::new(&ca),
                Path::new(&cert),
                Path::new(&key),
                server_name.as_deref(),
                timeout,
                retry(retries),
            )
            .await?;
            Ok(Client {
                inner: Arc::new(client),
            })
        })
    }

    /// The receipt key from partner.toml (64 hex digits), when it names one.
    #[napi(getter)]
    pub fn receipt_public_key(&self) -> Option<String> {
        self.inner.receipt_public_key().map(hex::encode)
    }

    /// Registers a snarkjs verification key (its JSON text). A Promise of the key id, hex.
    #[napi]
    pub fn register_key_json<'env>(
        &self,
        env: &'env Env,
        vkey: String,
    ) -> napi::Result<Object<'env>> {
        let client = Arc::clone(&self.inner);
        promise(env, async move {
            let key_id = client.register_key_json(&vkey).await?;
            Ok(key_id.to_string())
        })
    }

    /// Submits a snarkjs proof and public inputs (JSON texts). A Promise of a verdict's JSON.
    #[napi]
    pub fn submit_groth16_json<'env>(
        &self,
        env: &'env Env,
        key_id: String,
        proof: String,
        public: String,
        purpose: String,
        dataset_class: String,
    ) -> napi::Result<Object<'env>> {
        let client = Arc::clone(&self.inner);
        promise(env, async move {
            let verdict = client
                .submit_groth16_json(&key_id, &proof, &public, &purpose, &dataset_class)
                .await?;
            json(&verdict)
        })
    }

    /// Submits a BLS signature over messages under compressed public keys (bytes each). A
    /// Promise of a verdict's JSON.
    #[napi]
    pub fn submit_bls<'env>(
        &self,
        env: &'env Env,
        public_keys: Vec<Buffer>,
        messages: Vec<Buffer>,
        signature: Buffer,
        purpose: String,
        dataset_class: String,
    ) -> napi::Result<Object<'env>> {
        let client = Arc::clone(&self.inner);
        // Copied here, on the JavaScript thread: the buffers belong to JavaScript.
        let keys: Vec<Vec<u8>> = public_keys.iter().map(|key| key.to_vec()).collect();
        let messages: Vec<Vec<u8>> = messages.iter().map(|m| m.to_vec()).collect();
        let signature = signature.to_vec();
        promise(env, async move {
            let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            let messages: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
            let verdict = client
                .submit_bls(&keys, &messages, &signature, &purpose, &dataset_class)
                .await?;
            json(&verdict)
        })
    }

    /// The tenant's budget caps. A Promise of their JSON array.
    #[napi]
    pub fn budgets<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let client = Arc::clone(&self.inner);
        promise(env, async move { json(&client.budgets().await?) })
    }

    /// Asks for other terms, given as `TermsAsk` JSON. A Promise of the `TermsAnswer` JSON.
    #[napi]
    pub fn request_terms<'env>(&self, env: &'env Env, terms: String) -> napi::Result<Object<'env>> {
        let asked: sdk::TermsAsk =
            serde_json::from_str(&terms).map_err(|e| napi::Error::from_reason(e.to_string()))?;
        let client = Arc::clone(&self.inner);
        promise(
            env,
            async move { json(&client.request_terms(&asked).await?) },
        )
    }

    /// The onboarding checklist, naming two receipts by ledger sequence (0 for none). A
    /// Promise of the `ChecklistAnswer` JSON.
    #[napi]
    pub fn checklist<'env>(
        &self,
        env: &'env Env,
        sandbox_receipt: i64,
        first_receipt: i64,
    ) -> napi::Result<Object<'env>> {
        let client = Arc::clone(&self.inner);
        let seq = |n: i64| u64::try_from(n).unwrap_or(0);
        let (sandbox, first) = (seq(sandbox_receipt), seq(first_receipt));
        promise(env, async move {
            json(&client.checklist(sandbox, first).await?)
        })
    }

    /// The evidence preview over the sandbox receipts `receipts` (ledger sequence numbers, 1
    /// to 16), checked against the appliance's receipt key and written into `out`, a new or
    /// empty folder. A Promise of the `EvidenceSummary` JSON.
    #[napi]
    pub fn evidence_preview<'env>(
        &self,
        env: &'env Env,
        receipts: Vec<i64>,
        out: String,
    ) -> napi::Result<Object<'env>> {
        let seqs = receipts
            .into_iter()
            .map(|seq| {
                u64::try_from(seq).map_err(|_| {
                    rejection(&PartnerError::Local {
                        path: "receipts".into(),
                        problem: format!("{seq} is no ledger sequence number"),
                    })
                })
            })
            .collect::<napi::Result<Vec<u64>>>()?;
        let client = Arc::clone(&self.inner);
        promise(env, async move {
            let preview = client.evidence_preview(&seqs).await?;
            preview.write_to(Path::new(&out))?;
            json(&preview.summary)
        })
    }

    /// Closes the connection politely. A Promise of nothing.
    #[napi]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let client = Arc::clone(&self.inner);
        promise(env, async move {
            client.close().await;
            Ok(())
        })
    }
}

/// An error as `index.js` reads it: the message of a rejected Promise or a thrown error is
/// this object's JSON, from which it makes the class of `kind` (the table the Python SDK
/// has too).
#[derive(Serialize)]
struct Rejection<'a> {
    /// `PartnerError::kind()`: the word `partner --json` prints.
    kind: &'static str,
    /// What happened and what to do, in words.
    message: String,
    /// How long the appliance asked to wait before asking again.
    retry_after_ms: Option<u64>,
    /// Why, by name, where the appliance said: an invite's refusal, or what ran out over
    /// budget (`PartnerError::reason()`).
    reason: Option<&'a str>,
}

/// A partner error as the JavaScript error `index.js` makes of it.
fn rejection(error: &PartnerError) -> napi::Error {
    let reason = error.reason();
    let said = Rejection {
        kind: error.kind(),
        message: error.to_string(),
        retry_after_ms: error
            .retry_after()
            .map(|wait| u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)),
        reason,
    };
    let text =
        serde_json::to_string(&said).unwrap_or_else(|_| format!("{}: {}", said.kind, said.message));
    napi::Error::new(Status::GenericFailure, text)
}

/// `retries` asks again after the first, within the default 30 s of waiting.
fn retry(retries: u32) -> Retry {
    Retry {
        attempts: retries.saturating_add(1),
        ..Retry::default()
    }
}

/// A timeout in milliseconds, as JavaScript passes it.
fn milliseconds(timeout_ms: f64) -> napi::Result<Duration> {
    Duration::try_from_secs_f64(timeout_ms / 1000.0)
        .ok()
        .filter(|wait| !wait.is_zero())
        .ok_or_else(|| {
            rejection(&PartnerError::Local {
                path: "timeoutMs".into(),
                problem: format!("{timeout_ms} is not a positive number of milliseconds"),
            })
        })
}

/// A facade result as JSON text for `index.js`.
fn json<T: Serialize>(value: &T) -> Result<String, PartnerError> {
    serde_json::to_string(value).map_err(|e| PartnerError::Local {
        path: "answer".into(),
        problem: e.to_string(),
    })
}
