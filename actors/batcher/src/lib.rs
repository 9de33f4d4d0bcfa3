//! The batch former: requests that can be verified together (same kind, curve and verifying
//! key) are grouped; a batch closes when it reaches its size, when its oldest request has waited
//! the latency window, or at once when the shard has no backlog (an idle appliance never waits
//! for company). Sans-IO: time is passed in, and [`BatchFormer::next_deadline`] tells the
//! runtime when to call back.
//!
//! Batch buffers are recycled ([`BatchFormer::recycle`]), so steady-state batching does not
//! allocate.

use tf_fairness::Micros;

/// A closed batch: everything in it shares the key.
#[derive(Debug, PartialEq, Eq)]
pub struct Batch<K, T> {
    /// What the items have in common (kind, curve, verifying key).
    pub key: K,
    /// The items, oldest first.
    pub items: Vec<T>,
}

#[derive(Debug)]
struct Open<K, T> {
    key: K,
    opened_at: Micros,
    items: Vec<T>,
}

/// Groups items into batches. At most `max_open` keys are open at once (adding a new key beyond
/// that closes the oldest batch), so memory is bounded by `max_open * max_size` items.
#[derive(Debug)]
pub struct BatchFormer<K, T> {
    /// Open batches, oldest first.
    open: Vec<Open<K, T>>,
    spare: Vec<Vec<T>>,
    max_size: usize,
    max_open: usize,
    window: Micros,
}

impl<K: PartialEq, T> BatchFormer<K, T> {
    /// A former closing batches at `max_size` items or after `window`, with at most `max_open`
    /// keys open.
    pub fn new(max_size: usize, window: Micros, max_open: usize) -> Self {
        let (max_size, max_open) = (max_size.max(1), max_open.max(1));
        BatchFormer {
            open: Vec::with_capacity(max_open),
            spare: (0..max_open + 1)
                .map(|_| Vec::with_capacity(max_size))
                .collect(),
            max_size,
            max_open,
            window,
        }
    }

    /// Adds an item. Returns a batch if one closed because of it: its own batch reaching the
    /// size, or the oldest batch making room for a new key.
    pub fn add(&mut self, key: K, item: T, now: Micros) -> Option<Batch<K, T>> {
        if let Some(i) = self.open.iter().position(|o| o.key == key) {
            self.open[i].items.push(item);
            if self.open[i].items.len() >= self.max_size {
                return Some(self.close(i));
            }
            return None;
        }
        if self.max_size == 1 {
            // Nothing waits for company: the item is a batch of its own.
            let mut items = self.spare.pop().unwrap_or_default();
            items.push(item);
            return Some(Batch { key, items });
        }
        let evicted = if self.open.len() >= self.max_open {
            Some(self.close(0))
        } else {
            None
        };
        let mut items = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.max_size));
        items.push(item);
        self.open.push(Open {
            key,
            opened_at: now,
            items,
        });
        evicted
    }

    /// The oldest batch whose window has passed.
    pub fn take_expired(&mut self, now: Micros) -> Option<Batch<K, T>> {
        let oldest = self.open.first()?;
        if now.0.saturating_sub(oldest.opened_at.0) >= self.window.0 {
            return Some(self.close(0));
        }
        None
    }

    /// The oldest open batch, whatever its size: for when the shard has no backlog and waiting
    /// would only add latency.
    pub fn take_oldest(&mut self) -> Option<Batch<K, T>> {
        if self.open.is_empty() {
            None
        } else {
            Some(self.close(0))
        }
    }

    /// When the oldest open batch's window ends; `None` when nothing is open.
    pub fn next_deadline(&self) -> Option<Micros> {
        self.open
            .first()
            .map(|o| Micros(o.opened_at.0.saturating_add(self.window.0)))
    }

    /// Items waiting in open batches.
    pub fn pending(&self) -> usize {
        self.open.iter().map(|o| o.items.len()).sum()
    }

    /// Returns a verified batch's buffer for reuse.
    pub fn recycle(&mut self, mut items: Vec<T>) {
        if self.spare.len() <= self.max_open {
            items.clear();
            self.spare.push(items);
        }
    }

    fn close(&mut self, index: usize) -> Batch<K, T> {
        let open = self.open.remove(index);
        Batch {
            key: open.key,
            items: open.items,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const WINDOW: Micros = Micros(2_000);

    #[test]
    fn a_batch_closes_at_its_size() {
        let mut f = BatchFormer::new(3, WINDOW, 4);
        assert_eq!(f.add("bn254", 1, Micros(0)), None);
        assert_eq!(f.add("bn254", 2, Micros(1)), None);
        assert_eq!(
            f.add("bn254", 3, Micros(2)),
            Some(Batch {
                key: "bn254",
                items: vec![1, 2, 3]
            })
        );
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn a_batch_closes_when_its_oldest_item_has_waited_the_window() {
        let mut f = BatchFormer::new(64, WINDOW, 4);
        f.add("bls", 1, Micros(100));
        f.add("bls", 2, Micros(1_500));
        assert_eq!(f.next_deadline(), Some(Micros(2_100)));
        assert_eq!(f.take_expired(Micros(2_099)), None);
        assert_eq!(
            f.take_expired(Micros(2_100)),
            Some(Batch {
                key: "bls",
                items: vec![1, 2]
            })
        );
        assert_eq!(f.next_deadline(), None);
    }

    #[test]
    fn keys_never_mix_and_the_oldest_closes_first() {
        let mut f = BatchFormer::new(64, WINDOW, 4);
        f.add("a", 1, Micros(0));
        f.add("b", 10, Micros(1));
        f.add("a", 2, Micros(2));
        assert_eq!(
            f.take_oldest(),
            Some(Batch {
                key: "a",
                items: vec![1, 2]
            })
        );
        assert_eq!(
            f.take_oldest(),
            Some(Batch {
                key: "b",
                items: vec![10]
            })
        );
        assert_eq!(f.take_oldest(), None);
    }

    #[test]
    fn a_new_key_beyond_the_open_limit_closes_the_oldest() {
        let mut f = BatchFormer::new(64, WINDOW, 2);
        f.add("a", 1, Micros(0));
        f.add("b", 2, Micros(1));
        assert_eq!(
            f.add("c", 3, Micros(2)),
            Some(Batch {
                key: "a",
                items: vec![1]
            })
        );
        assert_eq!(f.pending(), 2);
    }

    #[test]
    fn size_one_batches_close_at_once() {
        let mut f = BatchFormer::new(1, WINDOW, 1);
        assert_eq!(
            f.add("a", 1, Micros(0)),
            Some(Batch {
                key: "a",
                items: vec![1]
            })
        );
        assert_eq!(
            f.add("b", 2, Micros(0)),
            Some(Batch {
                key: "b",
                items: vec![2]
            })
        );
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn recycled_buffers_keep_their_capacity() {
        let mut f = BatchFormer::new(8, WINDOW, 1);
        for i in 0..7 {
            f.add("k", i, Micros(0));
        }
        let batch = f.add("k", 7, Micros(0)).expect("full");
        let pointer = batch.items.as_ptr();
        f.recycle(batch.items);
        f.add("k", 0, Micros(1));
        let again = f.take_oldest().expect("open");
        assert_eq!(
            again.items.as_ptr(),
            pointer,
            "the buffer was reused, not reallocated"
        );
    }

    proptest! {
        #[test]
        fn every_item_leaves_in_exactly_one_batch_of_its_key(
            adds in prop::collection::vec((0u8..5, 0u64..5_000), 1..300)
        ) {
            let mut f = BatchFormer::new(7, WINDOW, 3);
            let mut out: Vec<(u8, u32)> = Vec::new();
            let mut now = 0;
            for (n, (key, step)) in adds.iter().enumerate() {
                now += step;
                let mut collect = |b: Batch<u8, (u8, u32)>| {
                    assert!(b.items.len() <= 7);
                    for item in &b.items {
                        assert_eq!(item.0, b.key);
                    }
                    out.extend(b.items);
                };
                if let Some(b) = f.add(*key, (*key, n as u32), Micros(now)) { collect(b); }
                while let Some(b) = f.take_expired(Micros(now)) { collect(b); }
            }
            while let Some(b) = f.take_oldest() { out.extend(b.items); }
            let mut ids: Vec<u32> = out.iter().map(|i| i.1).collect();
            ids.sort_unstable();
            prop_assert_eq!(ids, (0..adds.len() as u32).collect::<Vec<_>>());
        }
    }
}
