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

/// Prepares the canary for an appliance listening on `bound`. A configured golden set that
/// does not open is an error (the configuration names a bad file); a canary that cannot run
/// for another reason is reported by its handle, and the appliance serves without it.
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
        let status = CanaryStatus {
            wanted: canary.enabled,
            ..CanaryStatus::off(&canary.tenant, problem)
        };
        Ok(CanarySetup {
            handle: CanaryHandle::new(status, None),
            plan: None,
        })
    };
    if !canary.enabled {
        return off("turned off ([canary] enabled = false)".to_owned());
    }
    let tenant = match config.tenants.iter().find(|t| t.id == canary.tenant) {
        None => {
            return off(format!(
                "its tenant {:?} is not listed in [[tenants]] (or the policy bundle in force); \
                 list it, without caps, to run the canary",
                canary.tenant
            ));
        }
        Some(tenant) if !tenant.caps.is_empty() => {
            return off(format!(
                "its tenant {:?} has budget caps in the policy bundle in force, and the canary \
                 is exempt from budgets: promote a bundle that lists it without caps",
                canary.tenant
            ));
        }
        Some(tenant) => tenant,
    };
    let (identity, server_name) = match identity(config, state) {
        Ok(found) => found,
        Err(problem) => return off(problem),
    };
    let limits = super::wire_limits(config);
    let set = match golden_set(canary.golden.as_deref(), state, signer, &limits) {
        Ok(set) => set,
        // A default set that does not open (a start cut short while writing it, lowered
        // wire limits) is not the configuration's fault: the canary says so and stays off.
        Err(error) if canary.golden.is_none() => return off(format!("{error:#}")),
        Err(error) => return Err(error),
    };
    if tenant.max_registered_keys < set.keys.len() {
        return off(format!(
            "its tenant {:?} may register {} keys and the golden set registers {}: raise its \
             max_registered_keys",
            canary.tenant,
            tenant.max_registered_keys,
            set.keys.len()
        ));
    }
    // Fewer samples than the comparators need would judge latency and errors never.
    let least = tf_canary::judge::LatencyRule::default()
        .min_samples
        .max(tf_canary::judge::ErrorRule::default().min_requests as usize);
    let shortest = canary.current_runs.min(canary.baseline_runs);
    if shortest * set.items.len() < least {
        return off(format!(
            "its windows are too small to judge: {shortest} runs of {} requests is under the \
             {least} samples latency and error rate need; raise [canary] current_runs and \
             baseline_runs",
            set.items.len()
        ));
    }
    let partner = PartnerConfig {
        address: tf_config::reachable_from_here(bound).into(),
        server_name,
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
        handle: CanaryHandle::new(CanaryStatus::off(&canary.tenant, String::new()), None),
    };
    plan.handle = CanaryHandle::new(plan.starting_status(), Some(ledger.to_owned()));
    Ok(CanarySetup {
        handle: plan.handle.clone(),
        plan: Some(plan),
    })
}

/// The canary's client identity (configured, or issued by the state directory's CA once and
/// kept in `tenants/<id>/`), with the CA and name it checks the server's certificate by.
fn identity(config: &Config, state: &State) -> Result<(Identity, String), String> {
    let canary = &config.canary;
    let (ca, server_name) = match (&canary.ca, &canary.server_name, &config.tls.certificate) {
        (Some(ca), Some(name), _) => (ca.clone(), name.clone()),
        (None, None, None) => (state.path(layout::CA_CERT), "localhost".to_owned()),
        (_, _, Some(_)) => {
            return Err(
                "[tls] certificate is not the state directory's: set [canary] ca (the \
                        CA that issued it) and server_name (a name it carries)"
                    .to_owned(),
            );
        }
        (ca, _, None) => (
            ca.clone().unwrap_or_else(|| state.path(layout::CA_CERT)),
            canary
                .server_name
                .clone()
                .unwrap_or_else(|| "localhost".to_owned()),
        ),
    };
    if let (Some(certificate), Some(key)) = (&canary.certificate, &canary.private_key) {
        let identity = Identity::from_files(&ca, certificate, key).map_err(|e| e.to_string())?;
        return Ok((identity, server_name));
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
    let identity = Identity::from_files(&ca, &certificate, &key).map_err(|e| e.to_string())?;
    Ok((identity, server_name))
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
        .context("the golden set")?;
    GoldenSet::open(&text, &signer.public_key(), limits)
        .with_context(|| format!("the golden set {}", path.display()))
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
