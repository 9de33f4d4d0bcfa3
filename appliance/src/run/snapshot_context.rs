//! What the appliance says of itself in each compliance snapshot: its version, the bundle in
//! force, the configuration's digest and the host preflight's result when the packet is made.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tf_compliance::{
    ActiveBundle, CheckStatus, PreflightCheck, PreflightResult, Sha256Digest, SnapshotContext,
};
use tf_config::Config;
use tf_seam::Board;

use crate::preflight::{Status, run_checks};

/// A function the compliance worker calls for each packet. `config_file` is the file the
/// configuration was read from (`None`: the embedded defaults, digested as an empty file,
/// which gives the same configuration).
pub fn context_of(
    config: Config,
    config_file: Option<&Path>,
    state_root: PathBuf,
    board: Arc<Board>,
) -> anyhow::Result<Box<dyn Fn() -> SnapshotContext + Send>> {
    let bytes = match config_file {
        Some(path) => std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("reading {} to digest it: {e}", path.display()))?,
        None => Vec::new(),
    };
    let config_sha256 = Sha256Digest::of(&bytes);
    Ok(Box::new(move || SnapshotContext {
        appliance_version: env!("CARGO_PKG_VERSION").to_owned(),
        active_bundle: board.policy().bundle.as_ref().map(|bundle| ActiveBundle {
            revision: bundle.revision(),
            hash: bundle.hash.clone(),
        }),
        config_sha256,
        preflight: preflight(&config, &state_root),
    }))
}

fn preflight(config: &Config, state_root: &Path) -> PreflightResult {
    let checks: Vec<PreflightCheck> = run_checks(config, state_root)
        .into_iter()
        .map(|check| PreflightCheck {
            name: check.name.to_owned(),
            status: match check.status {
                Status::Pass => CheckStatus::Pass,
                Status::Warn => CheckStatus::Warn,
                Status::Fail => CheckStatus::Fail,
            },
            detail: check.detail,
        })
        .collect();
    let status = if checks.iter().any(|c| c.status == CheckStatus::Fail) {
        CheckStatus::Fail
    } else if checks.iter().any(|c| c.status == CheckStatus::Warn) {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    PreflightResult { status, checks }
}
