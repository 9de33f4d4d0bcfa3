//! A connected tenant with its retry policy: what the language bindings hold, and what the
//! `partner` command's requests go through.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use tf_engine::KeyId;
use tf_wire::{CapState, Curve, DatasetClass, VerdictCode, VerdictReply};

use super::unusable;
use crate::budget_text::utc;
use crate::{ApplianceAddress, Partner, PartnerConfig, PartnerError, Retry, Submission, formats};

/// A connection to an appliance as one tenant, and how to ask again when it says when to.
/// Every request goes through the [`Retry`]; requests on one client run concurrently.
#[derive(Debug)]
pub struct Client {
    partner: Partner,
    retry: Retry,
    receipt_public_key: Option<[u8; 32]>,
}

/// A verdict and its receipt. Serialised, the fields `partner submit --json` prints, with the
/// receipt as its envelope's JSON text.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// `valid`, `invalid` or `rejected`.
    pub verdict: &'static str,
    /// Why, for `invalid` and `rejected`; empty for `valid`.
    pub reason: String,
    /// The request id the appliance answered.
    pub request_id: u64,
    /// What was verified (key id and public inputs, or keys and messages, digested), hex.
    pub statement_digest: String,
    /// The signed receipt: its DSSE envelope's JSON text, as `partner submit --receipt` writes
    /// it.
    pub receipt: String,
    /// The verdict as the wire says it.
    #[serde(skip)]
    pub code: VerdictCode,
}

/// One budget cap of the tenant and where it stands. Serialised, an element of
/// `partner budgets --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// The tenant.
    pub tenant: String,
    /// The purpose it limits; `None` for a cap across all purposes of its class.
    pub purpose: Option<String>,
    /// The dataset class it limits: `P0`, `P1` or `P2`.
    pub class: &'static str,
    /// Its window: `hour`, `day`, `week`, `month` (UTC) or `rolling Ns`.
    pub window: String,
    /// Units allowed per window.
    pub limit: u64,
    /// What the appliance answering may spend of it in the current window: `limit`, or in a
    /// fleet of appliances its share of the cap (0 until it has leased one).
    pub granted: u64,
    /// Charged in the current window (in a fleet, by the appliance answering).
    pub used: u64,
    /// Held by requests still being verified.
    pub reserved: u64,
    /// Left to spend on the appliance answering: of `granted`, what is neither used nor held.
    pub remaining: u64,
    /// When it resets (or, rolling, when enough frees up), RFC 3339; `None` when never.
    pub resets_at: Option<String>,
    /// The same in Unix milliseconds.
    pub resets_at_unix_ms: Option<u64>,
}

impl Client {
    /// Connects with `config`; `retry` governs every request made through the client.
    pub async fn connect(config: &PartnerConfig, retry: Retry) -> Result<Self, PartnerError> {
        Ok(Client {
            partner: Partner::connect(config).await?,
            retry,
            receipt_public_key: config.receipt_public_key,
        })
    }

    /// Connects as the identity in `dir`, a folder with a `partner.toml` (as onboarding writes
    /// it, or an appliance's state directory), waiting `timeout` for each answer.
    pub async fn connect_dir(
        dir: &Path,
        timeout: Duration,
        retry: Retry,
    ) -> Result<Self, PartnerError> {
        let mut config = PartnerConfig::from_state_dir(dir)?;
        config.request_timeout = timeout;
        Self::connect(&config, retry).await
    }

    /// Connects to `address` (`HOST:PORT`) with PEM files for the appliance's CA and this
    /// tenant's certificate and key; `server_name` is the name the appliance's certificate
    /// must carry (default: the address's host).
    pub async fn connect_files(
        address: &str,
        ca: &Path,
        certificate: &Path,
        key: &Path,
        server_name: Option<&str>,
        timeout: Duration,
        retry: Retry,
    ) -> Result<Self, PartnerError> {
        let address = address
            .trim()
            .parse::<ApplianceAddress>()
            .map_err(|e| unusable("address", e))?;
        let mut config = PartnerConfig::from_files(address, ca, certificate, key)?;
        if let Some(name) = server_name {
            config.server_name = name.to_owned();
        }
        config.request_timeout = timeout;
        Self::connect(&config, retry).await
    }

    /// The connection, for what this facade does not cover (log proofs, `about`).
    pub fn partner(&self) -> &Partner {
        &self.partner
    }

    /// The key receipts are signed with, when the settings named it (`partner.toml`).
    pub fn receipt_public_key(&self) -> Option<[u8; 32]> {
        self.receipt_public_key
    }

    /// Runs `request` on the connection, asking again as the retry allows.
    pub async fn call<'a, T, F, R>(&'a self, mut request: F) -> Result<T, PartnerError>
    where
        F: FnMut(&'a Partner) -> R,
        R: Future<Output = Result<T, PartnerError>>,
    {
        self.retry.run(|| request(&self.partner)).await
    }

    /// Registers a Groth16 verifying key (canonical compressed bytes); returns its key id.
    pub async fn register_key(&self, curve: Curve, key: Vec<u8>) -> Result<KeyId, PartnerError> {
        self.call(|partner| partner.register_key(curve, key.clone()))
            .await
    }

    /// Registers a verifying key given as snarkjs `verification_key.json` text.
    pub async fn register_key_json(&self, json: &str) -> Result<KeyId, PartnerError> {
        let (curve, key) = formats::verifying_key_json(json)
            .map_err(|problem| unusable("verifying key JSON", problem))?;
        self.register_key(curve, key).await
    }

    /// Submits a statement and returns its verdict and receipt (each retry under a new
    /// request id).
    pub async fn submit(&self, submission: Submission) -> Result<Verdict, PartnerError> {
        let reply = self
            .call(|partner| partner.submit(submission.clone()))
            .await?;
        Ok(Verdict::from_reply(&reply))
    }

    /// Submits a Groth16 proof as snarkjs `proof.json` and `public.json` texts under a
    /// registered key (`key_id` in hex), for `purpose` and `dataset_class` (`P0`, `P1`, `P2`).
    pub async fn submit_groth16_json(
        &self,
        key_id: &str,
        proof: &str,
        public: &str,
        purpose: &str,
        dataset_class: &str,
    ) -> Result<Verdict, PartnerError> {
        let key_id =
            formats::hex_array::<32>("key id", key_id).map_err(|p| unusable("key id", p))?;
        let statement = formats::groth16_json(key_id, proof, public)
            .map_err(|problem| unusable("proof / public inputs", problem))?;
        self.submit(submission(purpose, dataset_class, statement)?)
            .await
    }

    /// Submits a BLS signature (Ethereum ciphersuite, compressed encodings): one key and one
    /// message is a single signature, several keys and one message a fast aggregate, as many
    /// messages as keys an aggregate.
    pub async fn submit_bls(
        &self,
        public_keys: &[&[u8]],
        messages: &[&[u8]],
        signature: &[u8],
        purpose: &str,
        dataset_class: &str,
    ) -> Result<Verdict, PartnerError> {
        let keys = public_keys
            .iter()
            .map(|key| sized::<48>("public key", key))
            .collect::<Result<Vec<_>, _>>()?;
        let signature = sized::<96>("signature", signature)?;
        let messages = messages.iter().map(|m| m.to_vec()).collect();
        let statement = formats::bls_statement(keys, messages, signature)
            .map_err(|problem| unusable("BLS statement", problem))?;
        self.submit(submission(purpose, dataset_class, statement)?)
            .await
    }

    /// The tenant's budget caps and where they stand (empty when it has none).
    pub async fn budgets(&self) -> Result<Vec<Budget>, PartnerError> {
        let caps = self.call(Partner::budgets).await?;
        Ok(caps.iter().map(Budget::from).collect())
    }

    /// Closes the connection politely and waits until the appliance has been told; requests
    /// after it fail as a lost connection.
    pub async fn close(&self) {
        self.partner.close_shared().await;
    }
}

impl Verdict {
    /// The verdict, its receipt as DSSE JSON text, and the digest in hex, from the wire's
    /// answer.
    pub fn from_reply(reply: &VerdictReply) -> Self {
        Verdict {
            verdict: verdict_word(reply.verdict),
            reason: reply.reason.clone(),
            request_id: reply.request_id,
            statement_digest: hex::encode(reply.statement_digest),
            receipt: crate::receipt_envelope(reply).to_json(),
            code: reply.verdict,
        }
    }
}

impl From<&CapState> for Budget {
    fn from(cap: &CapState) -> Self {
        let resets = (cap.resets_at_unix_ms != 0).then_some(cap.resets_at_unix_ms);
        Budget {
            tenant: cap.tenant.clone(),
            purpose: (!cap.purpose.is_empty()).then(|| cap.purpose.clone()),
            class: cap.dataset_class.name(),
            window: cap.window.clone(),
            limit: cap.limit,
            granted: cap.granted,
            used: cap.used,
            reserved: cap.reserved,
            remaining: cap.remaining,
            resets_at: resets.map(utc),
            resets_at_unix_ms: resets,
        }
    }
}

/// A verdict as the CLI and receipts spell it: `valid`, `invalid` or `rejected`.
pub fn verdict_word(verdict: VerdictCode) -> &'static str {
    match verdict {
        VerdictCode::Valid => "valid",
        VerdictCode::Invalid => "invalid",
        _ => "rejected",
    }
}

/// A dataset class by name: `P0`, `P1` or `P2`.
pub fn dataset_class(name: &str) -> Result<DatasetClass, PartnerError> {
    DatasetClass::from_name(name.trim())
        .ok_or_else(|| unusable("dataset class", format!("{name:?}: expected P0, P1 or P2")))
}

fn submission(
    purpose: &str,
    dataset_class: &str,
    statement: tf_wire::Statement,
) -> Result<Submission, PartnerError> {
    Ok(Submission {
        purpose: purpose.to_owned(),
        dataset_class: self::dataset_class(dataset_class)?,
        statement,
    })
}

/// Exactly `N` bytes.
fn sized<const N: usize>(what: &str, bytes: &[u8]) -> Result<[u8; N], PartnerError> {
    bytes
        .try_into()
        .map_err(|_| unusable(what, format!("expected {N} bytes, got {}", bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_reads_as_partner_budgets_json_prints_it() {
        let mut cap = CapState {
            tenant: "pilot-x".into(),
            purpose: String::new(),
            dataset_class: DatasetClass::P1,
            window: "day".into(),
            limit: 100_000,
            used: 3,
            reserved: 1,
            remaining: 99_996,
            resets_at_unix_ms: 0,
            granted: 100_000,
        };
        let never = serde_json::to_value(Budget::from(&cap)).expect("JSON");
        assert_eq!(
            never,
            serde_json::json!({
                "tenant": "pilot-x", "purpose": null, "class": "P1", "window": "day",
                "limit": 100_000, "granted": 100_000, "used": 3, "reserved": 1,
                "remaining": 99_996, "resets_at": null, "resets_at_unix_ms": null,
            })
        );
        // In a fleet, the appliance's share of the cap.
        cap.granted = 500;
        cap.remaining = 496;
        let shared = Budget::from(&cap);
        assert_eq!(
            (shared.limit, shared.granted, shared.remaining),
            (100_000, 500, 496)
        );
        cap.purpose = "kyc".into();
        cap.resets_at_unix_ms = 1_795_564_800_000;
        let budget = Budget::from(&cap);
        assert_eq!(budget.purpose.as_deref(), Some("kyc"));
        assert_eq!(budget.resets_at.as_deref(), Some("2026-11-25T00:00:00Z"));
    }

    #[test]
    fn classes_and_sizes_are_checked_by_name() {
        assert_eq!(dataset_class("P1").expect("a class"), DatasetClass::P1);
        let error = dataset_class("p9").expect_err("no such class");
        assert!(error.to_string().starts_with("dataset class: "), "{error}");
        assert!(sized::<48>("public key", &[0; 48]).is_ok());
        let error = sized::<96>("signature", &[0; 95]).expect_err("short");
        assert_eq!(error.to_string(), "signature: expected 96 bytes, got 95");
    }
}
