//! A value the control plane (or the main thread) replaces and every shard reads, with a count of replacements: a
//! shard compares the count with the one it applied (one atomic load on its hot path) and
//! takes the value only when it moved.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A value with its generation: see the module's doc.
#[derive(Debug)]
pub struct Published<T> {
    value: Mutex<T>,
    generation: AtomicU64,
}

impl<T: Clone> Published<T> {
    /// Holds `value` as generation 0.
    pub fn new(value: T) -> Self {
        Published {
            value: Mutex::new(value),
            generation: AtomicU64::new(0),
        }
    }

    /// Replaces the value.
    pub fn publish(&self, value: T) {
        self.publish_with(|_| value);
    }

    /// Replaces the value with one built knowing its generation; returns it.
    pub fn publish_with(&self, make: impl FnOnce(u64) -> T) -> T {
        let mut slot = self.value.lock().unwrap_or_else(|e| e.into_inner());
        // Only publishers write the count, and they hold the lock.
        let generation = self.generation.load(Ordering::Acquire) + 1;
        let value = make(generation);
        *slot = value.clone();
        self.generation.store(generation, Ordering::Release);
        value
    }

    /// How many times a value was published.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The value published last.
    pub fn get(&self) -> T {
        self.value.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_publication_moves_the_generation_and_the_builder_sees_its_own() {
        let published = Published::new(0u64);
        assert_eq!((published.generation(), published.get()), (0, 0));
        published.publish(7);
        assert_eq!((published.generation(), published.get()), (1, 7));
        let value = published.publish_with(|generation| generation * 10);
        assert_eq!(value, 20);
        assert_eq!((published.generation(), published.get()), (2, 20));
    }
}
