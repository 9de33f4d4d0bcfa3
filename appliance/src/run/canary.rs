//! The golden canary at start: its golden set (built from the built-in known answers at the
//! first start when none is configured), its tenant's client certificate (issued by the state
//! directory's CA unless configured), and how it reaches this appliance's own listener.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tf_canary::golden::GoldenSet;
use tf_config::Config;
use tf_control::canary::{CanaryHandle, CanaryPlan, CanaryStatus};
use tf_partner::{Identity, PartnerConfig};
use tf_receipts::ReceiptSigner;
use tf_state::{State, layout};

/// Where the golden set is kept unless `[canary] golden` says otherwise.
pub const DEFAULT_GOLDEN: &str = "canary/golden.dsse.json";
/// The purpose the built-in set is sent under.
const PURPOSE: &str = "canary";

/// The canary's handle, and its plan when it is to run.
pub struct CanarySetup {
    /// What the admin server reads.
    pub handle: CanaryHandle,
    /// Everything the worker needs; `None` when the canary does not run (the handle says
    /// why).
    pub plan: Option<CanaryPlan>,
}

/// Prepares the canary for an appliance listening on `bound`. A golden set that does not
/// open is an error (the configuration names a bad file); a canary that cannot run for
/// another reason is reported by its handle, and the appliance serves without it.
pub fn prepare(
    config: &Config,
    state: &State,
    signer: &ReceiptSigner,
    bound: SocketAddr,
    ledger: &Path,
) -> anyhow::Result<CanarySetup> {
    let canary = &config.canary;
    let off = |problem: String| {
        if canary.enabled {
            tracing::warn!(tenant = %canary.tenant, "the golden canary does not run: {problem}");
        }
        Ok(CanarySetup {
            handle: CanaryHandle::new(CanaryStatus::off(&canary.tenant, problem)),
            plan: None,
        })
    };
    if !canary.enabled {
        return off("turned off ([canary] enabled = false)".to_owned());
    }
    if !config.tenants.iter().any(|t| t.id == canary.tenant) {
        return off(format!(
            "its tenant {:?} is not listed in [[tenants]] (or the policy bundle in force); \
             list it, without caps, to run the canary",
            canary.tenant
        ));
    }
    let identity = match identity(config, state) {
        Ok(identity) => identity,
        Err(problem) => return off(problem),
    };
    let limits = super::wire_limits(config);
    let set = golden_set(canary.golden.as_deref(), state, signer, &limits)?;
    let partner = PartnerConfig {
        address: tf_config::reachable_from_here(bound),
        server_name: "localhost".to_owned(),
        identity,
        receipt_public_key: Some(signer.public_key().to_bytes()),
        request_timeout: Duration::from_millis(canary.timeout_ms),
    };
    let mut plan = CanaryPlan {
        set,
        partner,
        tenant: canary.tenant.clone(),
        receipt_key: signer.public_key(),
        interval: Duration::from_millis(canary.interval_ms),
        current_runs: canary.current_runs,
        baseline_runs: canary.baseline_runs,
        consecutive_failures: canary.consecutive_failures,
        handle: CanaryHandle::new(CanaryStatus::off(&canary.tenant, String::new())),
        ledger: Some(ledger.to_owned()),
    };
    plan.handle = CanaryHandle::new(plan.starting_status());
    Ok(CanarySetup {
        handle: plan.handle.clone(),
        plan: Some(plan),
    })
}

/// The canary's client identity: configured, or issued by the state directory's CA (once,
/// kept in `tenants/<id>/`), which is then the CA partners' certificates must chain to.
fn identity(config: &Config, state: &State) -> Result<Identity, String> {
    let canary = &config.canary;
    let ca = config
        .tls
        .certificate
        .clone()
        .unwrap_or_else(|| state.path(layout::CA_CERT));
    if let (Some(certificate), Some(key)) = (&canary.certificate, &canary.private_key) {
        return Identity::from_files(&ca, certificate, key).map_err(|e| e.to_string());
    }
    if config.tls.client_ca.is_some() {
        return Err(format!(
            "[tls] client_ca names another CA than the state directory's: set [canary] \
             certificate and private_key to a client certificate for tenant {:?} from it",
            canary.tenant
        ));
    }
    let (certificate, key) = tf_state::tenant_files(&canary.tenant);
    let (certificate, key) = (state.path(&certificate), state.path(&key));
    if !certificate.exists() || !key.exists() {
        state
            .issue_tenant(&canary.tenant)
            .map_err(|e| format!("issuing the canary's client certificate: {e}"))?;
    }
    Identity::from_files(&ca, &certificate, &key).map_err(|e| e.to_string())
}

/// The golden set, opened with the receipt key; the default file is built at the first
/// start.
fn golden_set(
    configured: Option<&Path>,
    state: &State,
    signer: &ReceiptSigner,
    limits: &tf_wire::WireLimits,
) -> anyhow::Result<GoldenSet> {
    let path: PathBuf = match configured {
        Some(path) => path.to_owned(),
        None => {
            let path = state.path(DEFAULT_GOLDEN);
            if !path.exists() {
                build_default(&path, signer, limits)?;
            }
            path
        }
    };
    let text = crate::golden_file::read_bounded(&path)
        .map_err(anyhow::Error::msg)
        .context("[canary] golden")?;
    GoldenSet::open(&text, &signer.public_key(), limits)
        .with_context(|| format!("[canary] golden: {}", path.display()))
}

fn build_default(
    path: &Path,
    signer: &ReceiptSigner,
    limits: &tf_wire::WireLimits,
) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let set = crate::golden_file::built_in_set(PURPOSE).map_err(anyhow::Error::msg)?;
    let mut signer = ReceiptSigner::from_secret(&signer.secret_bytes());
    crate::golden_file::write_sealed(path, &set, &mut signer, limits)
        .map_err(anyhow::Error::msg)?;
    tracing::info!(
        path = %path.display(),
        requests = set.items.len(),
        "golden canary: built the golden set from the built-in known answers"
    );
    Ok(())
}
