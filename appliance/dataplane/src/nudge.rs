//! Wakes an executor thread that sleeps past its own timers.
//!
//! glommio parks an idle executor in `io_uring_enter` on its main ring, linked to the ring
//! where its timers and network receives complete. Under heavy host contention that link was
//! seen to miss: a shard slept in the kernel with its 20 ms tick long expired, datagrams
//! unread, and partners' connections timed out (start-up stalled the same way). A signal
//! interrupts the wait (EINTR); the executor loops, finds its expired timers and carries on.
//! The main thread sends one only to an executor whose tick stopped (see
//! [`super::wakeup::keep_polling`]), so a healthy appliance never sees one.
#![allow(unsafe_code)] // sigaction, gettid and tgkill: integer arguments and a no-op handler

use std::time::{Duration, Instant};

use tf_seam::Board;

/// The signal used; nothing else in the appliance uses it, and its default action (ignore)
/// would not interrupt the wait, so a handler is installed.
const NUDGE_SIGNAL: libc::c_int = libc::SIGURG;

/// How often the main thread looks at the executors' ticks.
const CHECK_EVERY: Duration = Duration::from_millis(100);
/// Checks in a row without a tick before a nudge: ten ticks missed.
const QUIET_CHECKS: u32 = 2;

extern "C" fn on_nudge(_signal: libc::c_int) {}

/// Installs the no-op handler, without SA_RESTART so a sleeping `io_uring_enter` returns.
pub fn install() -> std::io::Result<()> {
    // SAFETY: a zeroed sigaction is a valid value; the handler is async-signal-safe (does
    // nothing) and the pointers passed are to locals that outlive the call.
    let result = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_nudge as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(NUDGE_SIGNAL, &action, std::ptr::null_mut())
    };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The calling thread's kernel id.
pub fn current_thread() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Whether `thread` is in an interruptible sleep (state `S` in /proc), where a parked
/// executor waits. A thread running, or in uninterruptible I/O such as the ledger's fsync
/// (`D`), is left alone: its tick stopped because it is busy, and a signal could only cut a
/// system call short.
fn asleep(thread: i32) -> bool {
    std::fs::read_to_string(format!("/proc/self/task/{thread}/stat"))
        .ok()
        .and_then(|stat| {
            // The state follows the command name, which is in parentheses and may hold spaces.
            let after = &stat[stat.rfind(')')? + 1..];
            after.split_whitespace().next().map(|state| state == "S")
        })
        .unwrap_or(false)
}

fn send(thread: i32) -> bool {
    // SAFETY: tgkill only reads its integer arguments; a stale thread id of this process at
    // worst reaches a thread that ignores the signal, and never another process.
    unsafe { libc::tgkill(libc::getpid(), thread, NUDGE_SIGNAL) == 0 }
}

/// The main thread's watch over the executors' ticks.
#[derive(Debug)]
pub struct Nudger {
    next_check: Instant,
    last: Vec<u64>,
    quiet: Vec<u32>,
    nudges: u64,
}

impl Nudger {
    /// Watches `executors` executors (shards, then the ledger).
    pub fn new(executors: usize, now: Instant) -> Self {
        Nudger {
            next_check: now + CHECK_EVERY,
            last: vec![0; executors],
            quiet: vec![0; executors],
            nudges: 0,
        }
    }

    /// Called every few milliseconds: nudges every executor whose tick stopped.
    pub fn tick(&mut self, board: &Board, now: Instant) {
        if now < self.next_check {
            return;
        }
        self.next_check = now + CHECK_EVERY;
        for (index, (thread, ticks)) in board.executor_ticks().into_iter().enumerate() {
            if thread == 0 || ticks != self.last[index] {
                self.last[index] = ticks;
                self.quiet[index] = 0;
                continue;
            }
            self.quiet[index] += 1;
            if self.quiet[index] < QUIET_CHECKS {
                continue;
            }
            self.quiet[index] = 0;
            if asleep(thread) && send(thread) {
                self.nudges += 1;
                if self.nudges == 1 {
                    tracing::info!(
                        executor = index,
                        "an executor slept past its timers and was woken (counted in \
                         trust_fabric_executor_nudges_total from now on)"
                    );
                } else {
                    tracing::debug!(executor = index, nudges = self.nudges, "executor woken");
                }
                board.count_nudge();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thread that sleeps until told to stop; returns its kernel id.
    fn sleeper(
        stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> (i32, std::thread::JoinHandle<()>) {
        let (id_tx, id_rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            id_tx.send(current_thread()).expect("id sent");
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        (id_rx.recv().expect("id"), handle)
    }

    #[test]
    fn a_sleeping_thread_whose_tick_stopped_gets_the_signal_and_others_do_not() {
        install().expect("handler installed");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (sleeping, handle) = sleeper(stop.clone());
        let board = Board::new(2);
        // Executor 0 ticks; executor 1 sleeps and never ticks; executor 2 never ticks but is
        // this running thread (busy, not asleep).
        board.executor_started(0, sleeping);
        board.executor_started(1, sleeping);
        board.executor_started(2, current_thread());
        // Let the sleeper reach its sleep.
        std::thread::sleep(Duration::from_millis(50));
        let start = Instant::now();
        let mut nudger = Nudger::new(3, start);
        for step in 1..=6u32 {
            board.executor_tick(0);
            nudger.tick(&board, start + CHECK_EVERY * step);
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, std::sync::atomic::Ordering::Release);
        handle.join().expect("sleeper");
        // Executor 1 was quiet for 6 checks: nudged every second one; executor 2 never.
        assert_eq!(board.nudges(), 3);
        assert!(!asleep(current_thread()), "this thread is running");
    }
}
