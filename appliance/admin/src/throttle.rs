//! Login throttling: a bounded table of attempt counts with exponential backoff, one for source
//! addresses (every unknown token presented, at the console's login or as a bearer token) and
//! one for tokens (every console session a token starts). Sans-IO: the caller passes `now`.
//!
//! After [`FREE_ATTEMPTS`] counted attempts, each further one blocks the key for twice as long
//! as the one before, from 1 s up to [`MAX_BLOCK`]; a key left alone for [`FORGET_AFTER`]
//! starts again from nothing. While a key is blocked every attempt is refused unread, the right
//! token included, so guessing cannot go on behind the block.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts a key may make before backoff starts: more than a person mistyping ever needs.
pub const FREE_ATTEMPTS: u32 = 16;
/// The first block; each further counted attempt doubles it.
pub const FIRST_BLOCK: Duration = Duration::from_secs(1);
/// The longest block.
pub const MAX_BLOCK: Duration = Duration::from_secs(300);
/// How long a key must stay quiet to be forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Keys kept per table. Past it, new keys share one entry, so a flood of new addresses slows
/// itself down instead of pushing known offenders out of the table.
pub const MAX_KEYS: usize = 1024;

/// Where an attempt came from: an IPv4 address, or an IPv6 /64 (one host usually holds a
/// whole /64, so counting single IPv6 addresses would count nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// An IPv4 address (IPv4-mapped IPv6 included).
    V4([u8; 4]),
    /// The first 64 bits of an IPv6 address.
    V6([u8; 8]),
    /// No peer address (a test request).
    Unknown,
}

impl Source {
    /// The source of a connection from `peer`.
    pub fn of(peer: Option<SocketAddr>) -> Self {
        match peer.map(|p| p.ip().to_canonical()) {
            Some(IpAddr::V4(v4)) => Source::V4(v4.octets()),
            Some(IpAddr::V6(v6)) => {
                let mut prefix = [0u8; 8];
                prefix.copy_from_slice(&v6.octets()[..8]);
                Source::V6(prefix)
            }
            None => Source::Unknown,
        }
    }
}

/// Both tables of one admin server.
#[derive(Debug, Default)]
pub struct Throttle {
    /// Unknown tokens presented, by source.
    pub sources: Backoff<Source>,
    /// Console sessions started, by the token's name.
    pub tokens: Backoff<String>,
}

/// One table: counts and blocks per key.
#[derive(Debug)]
pub struct Backoff<K> {
    inner: Mutex<Table<K>>,
}

#[derive(Debug)]
struct Table<K> {
    entries: HashMap<K, Entry>,
    /// Shared by new keys while the table is full.
    overflow: Entry,
}

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    attempts: u32,
    /// The last counted attempt; `None` before the first.
    last: Option<Instant>,
    blocked_until: Option<Instant>,
}

impl<K> Default for Backoff<K> {
    fn default() -> Self {
        Backoff {
            inner: Mutex::new(Table {
                entries: HashMap::new(),
                overflow: Entry::default(),
            }),
        }
    }
}

impl<K: Eq + Hash + Clone> Backoff<K> {
    /// `Err(wait)` while `key` is blocked.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let table = self.lock();
        let entry = match table.entries.get(key) {
            Some(entry) => entry,
            None if table.entries.len() >= MAX_KEYS => &table.overflow,
            None => return Ok(()),
        };
        match entry.blocked_until {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Counts an attempt by `key`; returns the block it now has, if any.
    pub fn count(&self, key: &K, now: Instant) -> Option<Duration> {
        let mut table = self.lock();
        let table = &mut *table;
        if !table.entries.contains_key(key) && table.entries.len() >= MAX_KEYS {
            table.entries.retain(|_, e| !e.forgotten(now));
        }
        let entry = if table.entries.len() < MAX_KEYS || table.entries.contains_key(key) {
            table.entries.entry(key.clone()).or_default()
        } else {
            &mut table.overflow
        };
        entry.count(now)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table<K>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Entry {
    fn forgotten(&self, now: Instant) -> bool {
        self.last
            .is_some_and(|last| now.saturating_duration_since(last) >= FORGET_AFTER)
    }

    fn count(&mut self, now: Instant) -> Option<Duration> {
        if self.forgotten(now) {
            *self = Entry::default();
        }
        self.attempts = self.attempts.saturating_add(1);
        self.last = Some(now);
        let over = self.attempts.checked_sub(FREE_ATTEMPTS)?;
        // 1 s, 2 s, 4 s, ... up to MAX_BLOCK; the shift is capped so it cannot overflow.
        let block = FIRST_BLOCK
            .saturating_mul(1u32 << over.min(20))
            .min(MAX_BLOCK);
        self.blocked_until = Some(now + block);
        Some(block)
    }
}

/// Whole seconds to announce in `Retry-After` for `wait` (rounded up, at least 1).
pub fn retry_after_seconds(wait: Duration) -> u32 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    u32::try_from(seconds.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempts(table: &Backoff<Source>, key: Source, n: u32, now: Instant) -> Option<Duration> {
        let mut last = None;
        for _ in 0..n {
            last = table.count(&key, now);
        }
        last
    }

    #[test]
    fn blocks_double_after_the_free_attempts_up_to_the_cap() {
        let table = Backoff::default();
        let key = Source::V4([10, 0, 0, 1]);
        let now = Instant::now();
        assert_eq!(attempts(&table, key, FREE_ATTEMPTS - 1, now), None);
        assert_eq!(table.check(&key, now), Ok(()));
        assert_eq!(table.count(&key, now), Some(Duration::from_secs(1)));
        assert_eq!(table.check(&key, now), Err(Duration::from_secs(1)));
        assert_eq!(table.count(&key, now), Some(Duration::from_secs(2)));
        assert_eq!(table.count(&key, now), Some(Duration::from_secs(4)));
        assert_eq!(attempts(&table, key, 30, now), Some(MAX_BLOCK));
        // The block ends by itself.
        assert_eq!(table.check(&key, now + MAX_BLOCK), Ok(()));
    }

    #[test]
    fn a_key_left_alone_is_forgotten_and_others_are_not_touched() {
        let table = Backoff::default();
        let (noisy, quiet) = (Source::V4([10, 0, 0, 1]), Source::V4([10, 0, 0, 2]));
        let now = Instant::now();
        attempts(&table, noisy, FREE_ATTEMPTS + 3, now);
        assert!(table.check(&noisy, now).is_err());
        assert_eq!(table.check(&quiet, now), Ok(()));
        let later = now + FORGET_AFTER;
        assert_eq!(table.check(&noisy, later), Ok(()));
        assert_eq!(
            table.count(&noisy, later),
            None,
            "starts again from nothing"
        );
    }

    #[test]
    fn a_full_table_keeps_its_offenders_and_makes_new_keys_share_one_entry() {
        let table = Backoff::default();
        let now = Instant::now();
        let offender = Source::V4([192, 0, 2, 1]);
        attempts(&table, offender, FREE_ATTEMPTS + 5, now);
        for i in 0..MAX_KEYS as u32 {
            let [a, b, c, d] = i.to_be_bytes();
            table.count(&Source::V4([a + 100, b, c, d]), now);
        }
        assert!(table.check(&offender, now).is_err(), "still blocked");
        // Every new key now counts against one shared entry.
        let fresh = |i: u8| Source::V4([203, 0, 113, i]);
        for i in 0..FREE_ATTEMPTS as u8 {
            table.count(&fresh(i), now);
        }
        assert!(
            table.check(&fresh(200), now).is_err(),
            "the shared entry is blocked"
        );
    }

    #[test]
    fn ipv6_sources_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: SocketAddr = "[2001:db8:1:2::10]:5000".parse().expect("literal");
        let b: SocketAddr = "[2001:db8:1:2:ffff::1]:6000".parse().expect("literal");
        let c: SocketAddr = "[2001:db8:1:3::10]:5000".parse().expect("literal");
        assert_eq!(Source::of(Some(a)), Source::of(Some(b)));
        assert_ne!(Source::of(Some(a)), Source::of(Some(c)));
        let mapped: SocketAddr = "[::ffff:10.1.2.3]:1".parse().expect("literal");
        assert_eq!(Source::of(Some(mapped)), Source::V4([10, 1, 2, 3]));
        assert_eq!(Source::of(None), Source::Unknown);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(300)), 300);
    }
}
