//! Exit codes the commands share beyond 0, 1 and 2, from sysexits(3): systemd and scripts act
//! on them (docs/runbook.md, "Exit codes").

use std::process::ExitCode;

/// A shard panicked or stopped unasked (EX_SOFTWARE): the supervisor restarts the appliance.
pub const SHARD_FAILED: u8 = 70;

/// The configuration can never load (EX_CONFIG): restarting cannot help until someone edits
/// it, so the unit's `RestartPreventExitStatus` names this code.
pub const CONFIG: u8 = 78;

/// Exits the process at once because a shard failed.
pub fn shard_failed() -> ! {
    std::process::exit(i32::from(SHARD_FAILED))
}

/// What a command returns when its configuration does not load.
pub fn config_unusable() -> ExitCode {
    ExitCode::from(CONFIG)
}
