//! Scheduling precedence for the ledger thread. It needs little CPU but sits on the path of
//! every answer, while the shard threads keep every core busy verifying; at equal priority the
//! kernel lets a woken ledger thread wait for a shard's time slice, which showed up as
//! milliseconds between a verdict and its stored receipt.
#![allow(unsafe_code)] // two libc calls with no pointer arguments

/// The ledger thread's nice value: ahead of the shards (0) when it wakes.
const LEDGER_NICE: i32 = -10;

/// Raises the calling thread's priority to [`LEDGER_NICE`]. Needs CAP_SYS_NICE (root, or
/// `AmbientCapabilities=CAP_SYS_NICE` under systemd); without it the appliance runs as before
/// and says so once.
pub fn raise_ledger_thread() {
    // SAFETY: gettid has no preconditions; setpriority only reads its integer arguments.
    let result = unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, LEDGER_NICE)
    };
    if result == 0 {
        tracing::debug!(nice = LEDGER_NICE, "ledger thread priority raised");
    } else {
        let error = std::io::Error::last_os_error();
        tracing::info!(
            %error,
            "could not raise the ledger thread's priority (needs CAP_SYS_NICE); answers may \
             wait behind verification on a busy host"
        );
    }
}
