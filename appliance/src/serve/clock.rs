//! Time as the shard logic sees it: monotonic microseconds for scheduling, Unix microseconds
//! for receipts.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tf_shard::Micros;

/// A monotonic clock counting from the process start.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
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
}

/// The wall clock in Unix microseconds (0 if the clock is before 1970).
pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
