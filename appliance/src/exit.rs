//! Exit codes the commands share: 0 done, 1 failed, 2 bad usage, and beyond them codes from
//! sysexits(3) that systemd and scripts act on (docs/runbook.md, "Exit codes").

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

/// Why a command stopped short.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Refused by the appliance, not allowed, unreachable, or not done: exit 1.
    Failed(String),
    /// Unusable arguments or input files: exit 2.
    Usage(String),
}

impl Failure {
    /// Says why on stderr, as `command: why`, and gives the exit code.
    pub(crate) fn report(self, command: &str) -> ExitCode {
        let (why, code) = match self {
            Failure::Failed(why) => (why, 1),
            Failure::Usage(why) => (why, 2),
        };
        eprintln!("{command}: {why}");
        ExitCode::from(code)
    }
}
