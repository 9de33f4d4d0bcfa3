//! Time as the appliance's logic sees it: monotonic microseconds for scheduling, Unix
//! microseconds for receipts and budget windows. Only the runtimes read the clocks; the logic
//! is handed a [`Now`].

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tf_shard::Micros;

/// A monotonic clock counting from when it was made.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock starting now.
    pub fn new() -> Self {
        Clock {
            start: Instant::now(),
        }
    }

    /// Microseconds since the clock started.
    pub fn now(&self) -> Micros {
        Micros(self.start.elapsed().as_micros() as u64)
    }

    /// Both clocks, read once: what a turn of the shard's logic passes down.
    pub fn read(&self) -> Now {
        Now {
            mono: self.now(),
            unix_us: unix_micros(),
        }
    }
}

/// One reading of both clocks, taken by the runtime and passed into the logic (which reads no
/// clock itself, so tests control time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Monotonic, for scheduling, quotas and deadlines.
    pub mono: Micros,
    /// The wall clock in Unix microseconds, for receipts and budget windows.
    pub unix_us: u64,
}

/// The wall clock in Unix microseconds (0 if the clock is before 1970).
pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
