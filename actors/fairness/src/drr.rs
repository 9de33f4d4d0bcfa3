//! Weighted deficit round robin over bounded tenant mailboxes.

use std::collections::VecDeque;

/// A tenant's place in a scheduler (the shard maps tenant ids to slots).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantSlot(pub u32);

/// The tenant's mailbox is full: answer "busy" now rather than queue without bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the tenant's queue holds its limit of {capacity} requests; retry shortly")]
pub struct Busy {
    /// The mailbox's capacity.
    pub capacity: usize,
}

#[derive(Debug)]
struct Tenant<T> {
    quantum: u64,
    deficit: u64,
    /// Whether this visit's quantum was already added (a visit lasts until the tenant yields).
    credited: bool,
    mailbox: VecDeque<(T, u64)>,
    capacity: usize,
}

/// Picks the next request to verify. Each visit to a backlogged tenant adds `quantum_unit *
/// weight` to its deficit, and it is served while its deficit covers the next item's cost; an
/// emptied mailbox forfeits the remaining deficit, so idle tenants cannot save up a burst.
/// Over any backlogged interval each tenant's served cost is proportional to its weight, within
/// one quantum.
#[derive(Debug)]
pub struct DrrScheduler<T> {
    tenants: Vec<Tenant<T>>,
    /// Backlogged tenants in visiting order; the front is being visited.
    active: VecDeque<u32>,
    quantum_unit: u64,
    queued: usize,
}

impl<T> DrrScheduler<T> {
    /// A scheduler whose weight-1 quantum is `quantum_unit` cost units. An item costlier than
    /// its tenant's quantum waits as many rounds as it needs, the deficit carried over.
    pub fn new(quantum_unit: u64) -> Self {
        DrrScheduler {
            tenants: Vec::new(),
            active: VecDeque::new(),
            quantum_unit: quantum_unit.max(1),
            queued: 0,
        }
    }

    /// Adds a tenant with a weight (at least 1) and a mailbox of `capacity` requests, allocated
    /// now so enqueueing never allocates.
    pub fn add_tenant(&mut self, weight: u32, capacity: usize) -> TenantSlot {
        let slot = u32::try_from(self.tenants.len()).expect("fewer than 2^32 tenants per shard");
        self.tenants.push(Tenant {
            quantum: self.quantum_unit * u64::from(weight.max(1)),
            deficit: 0,
            credited: false,
            mailbox: VecDeque::with_capacity(capacity),
            capacity,
        });
        self.active.reserve(1);
        TenantSlot(slot)
    }

    /// Changes a tenant's weight from its next visit on.
    pub fn set_weight(&mut self, slot: TenantSlot, weight: u32) {
        self.tenants[slot.0 as usize].quantum = self.quantum_unit * u64::from(weight.max(1));
    }

    /// Queues a request costing `cost` units; a full mailbox hands the request back with
    /// [`Busy`] so the caller can answer it and nothing is silently dropped.
    pub fn enqueue(&mut self, slot: TenantSlot, item: T, cost: u64) -> Result<(), (Busy, T)> {
        let tenant = &mut self.tenants[slot.0 as usize];
        if tenant.mailbox.len() >= tenant.capacity {
            return Err((
                Busy {
                    capacity: tenant.capacity,
                },
                item,
            ));
        }
        if tenant.mailbox.is_empty() {
            self.active.push_back(slot.0);
        }
        tenant.mailbox.push_back((item, cost));
        self.queued += 1;
        Ok(())
    }

    /// The next request to serve, or `None` when every mailbox is empty.
    pub fn pick_next(&mut self) -> Option<(TenantSlot, T)> {
        self.pick_next_where(|_| true)
    }

    /// Like [`DrrScheduler::pick_next`], among the tenants `eligible` accepts only; the others
    /// keep their place and deficit.
    pub fn pick_next_where(
        &mut self,
        eligible: impl Fn(TenantSlot) -> bool,
    ) -> Option<(TenantSlot, T)> {
        loop {
            let position = self.active.iter().position(|&s| eligible(TenantSlot(s)))?;
            let slot = self.active[position];
            let tenant = &mut self.tenants[slot as usize];
            if !tenant.credited {
                tenant.deficit += tenant.quantum;
                tenant.credited = true;
            }
            let cost = tenant
                .mailbox
                .front()
                .expect("active tenants have queued requests")
                .1;
            if tenant.deficit >= cost {
                let (item, _) = tenant.mailbox.pop_front().expect("checked non-empty");
                tenant.deficit -= cost;
                self.queued -= 1;
                if tenant.mailbox.is_empty() {
                    tenant.deficit = 0;
                    tenant.credited = false;
                    self.active.remove(position);
                }
                return Some((TenantSlot(slot), item));
            }
            // This visit is over: to the back of the line, the remaining deficit kept.
            tenant.credited = false;
            self.active.remove(position);
            self.active.push_back(slot);
        }
    }

    /// Requests queued for one tenant.
    pub fn queued_for(&self, slot: TenantSlot) -> usize {
        self.tenants[slot.0 as usize].mailbox.len()
    }

    /// Requests queued in all.
    pub fn queued(&self) -> usize {
        self.queued
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn picking_among_some_tenants_leaves_the_others_as_they_were() {
        let mut s = DrrScheduler::new(1);
        let flood = s.add_tenant(1, 1000);
        let light = s.add_tenant(1, 1000);
        let heavy = s.add_tenant(2, 1000);
        for slot in [flood, light, heavy] {
            for i in 0..300 {
                s.enqueue(slot, i, 1).expect("room");
            }
        }
        // The flood is visited first and is mid-visit when the others are picked.
        assert_eq!(s.pick_next().map(|p| p.0), Some(flood));
        let others: Vec<TenantSlot> = (0..300)
            .map(|_| s.pick_next_where(|slot| slot != flood).expect("queued").0)
            .collect();
        let heavy_share = others.iter().filter(|t| **t == heavy).count();
        assert!((195..=205).contains(&heavy_share), "{heavy_share} of 300");
        assert_eq!(s.queued_for(flood), 299);
        // Nothing left but the flood: none of the others.
        for _ in 0..300 {
            s.pick_next_where(|slot| slot != flood);
        }
        assert_eq!(s.pick_next_where(|slot| slot != flood).map(|p| p.0), None);
        // The flood's turn is where it was, and its items come in order.
        assert_eq!(s.pick_next(), Some((flood, 1)));
        assert_eq!(s.pick_next(), Some((flood, 2)));
    }

    fn drain<T>(scheduler: &mut DrrScheduler<T>, n: usize) -> Vec<TenantSlot> {
        (0..n)
            .map(|_| scheduler.pick_next().expect("backlogged").0)
            .collect()
    }

    #[test]
    fn backlogged_tenants_are_served_in_proportion_to_weight() {
        let mut s = DrrScheduler::new(1);
        let slots = [
            s.add_tenant(1, 1000),
            s.add_tenant(2, 1000),
            s.add_tenant(3, 1000),
        ];
        for slot in slots {
            for i in 0..600 {
                s.enqueue(slot, i, 1).expect("room");
            }
        }
        let served = drain(&mut s, 600);
        let counts: Vec<usize> = slots
            .iter()
            .map(|t| served.iter().filter(|s| *s == t).count())
            .collect();
        assert_eq!(counts, vec![100, 200, 300]);
    }

    #[test]
    fn a_changed_weight_applies_from_the_next_visit() {
        let mut s = DrrScheduler::new(1);
        let (a, b) = (s.add_tenant(1, 1000), s.add_tenant(1, 1000));
        for i in 0..400 {
            s.enqueue(a, i, 1).expect("room");
            s.enqueue(b, i, 1).expect("room");
        }
        let before = drain(&mut s, 100);
        assert_eq!(before.iter().filter(|t| **t == a).count(), 50);
        s.set_weight(a, 3);
        let after = drain(&mut s, 400);
        let a_share = after.iter().filter(|t| **t == a).count();
        assert!((298..=302).contains(&a_share), "{a_share} of 400");
    }

    #[test]
    fn shares_are_in_cost_units_not_request_counts() {
        let mut s = DrrScheduler::new(3);
        let (heavy, light) = (s.add_tenant(1, 100), s.add_tenant(1, 100));
        for i in 0..60 {
            s.enqueue(heavy, i, 3).expect("room");
            s.enqueue(light, i, 1).expect("room");
        }
        let served = drain(&mut s, 40);
        let heavy_items = served.iter().filter(|t| **t == heavy).count();
        let light_items = served.iter().filter(|t| **t == light).count();
        // Equal work: one heavy item per three light ones.
        assert_eq!((heavy_items, light_items), (10, 30));
    }

    #[test]
    fn a_full_mailbox_hands_the_request_back() {
        let mut s = DrrScheduler::new(1);
        let t = s.add_tenant(1, 2);
        s.enqueue(t, "a", 1).expect("room");
        s.enqueue(t, "b", 1).expect("room");
        assert_eq!(s.enqueue(t, "c", 1), Err((Busy { capacity: 2 }, "c")));
        assert_eq!(s.queued_for(t), 2);
    }

    #[test]
    fn a_flood_does_not_delay_a_quiet_tenant_beyond_one_quantum() {
        let mut s = DrrScheduler::new(4);
        let (flooder, quiet) = (s.add_tenant(1, 10_000), s.add_tenant(1, 10));
        for i in 0..10_000 {
            s.enqueue(flooder, i, 1).expect("room");
        }
        drain(&mut s, 1); // the flooder's visit has begun
        s.enqueue(quiet, 0, 1).expect("room");
        let next = drain(&mut s, 4);
        // At most the rest of the flooder's quantum (3 items) goes before the quiet tenant.
        assert!(next.contains(&quiet), "{next:?}");
    }

    #[test]
    fn idle_tenants_do_not_save_up_credit() {
        let mut s = DrrScheduler::new(1);
        let (busy, idle) = (s.add_tenant(1, 1000), s.add_tenant(1, 1000));
        for i in 0..500 {
            s.enqueue(busy, i, 1).expect("room");
        }
        drain(&mut s, 300);
        for i in 0..100 {
            s.enqueue(idle, i, 1).expect("room");
        }
        // From now on they alternate: the idle tenant gets no catch-up burst.
        let served = drain(&mut s, 20);
        let idle_served = served.iter().filter(|t| **t == idle).count();
        assert_eq!(idle_served, 10, "{served:?}");
    }

    proptest! {
        #[test]
        fn every_request_comes_out_once_in_fifo_order_per_tenant(
            ops in prop::collection::vec((0u32..4, 1u64..5, any::<bool>()), 1..400)
        ) {
            let mut s = DrrScheduler::new(4);
            let slots: Vec<TenantSlot> = (0..4).map(|w| s.add_tenant(w + 1, 50)).collect();
            let mut next_id = [0u32; 4];
            let mut seen = [0u32; 4];
            let mut accepted = 0usize;
            let mut served = 0usize;
            for (tenant, cost, serve) in ops {
                let t = tenant as usize;
                if s.enqueue(slots[t], next_id[t], cost).is_ok() {
                    next_id[t] += 1;
                    accepted += 1;
                }
                if serve
                    && let Some((slot, id)) = s.pick_next() {
                        prop_assert_eq!(id, seen[slot.0 as usize]);
                        seen[slot.0 as usize] += 1;
                        served += 1;
                    }
            }
            while let Some((slot, id)) = s.pick_next() {
                prop_assert_eq!(id, seen[slot.0 as usize]);
                seen[slot.0 as usize] += 1;
                served += 1;
            }
            prop_assert_eq!(served, accepted);
            prop_assert_eq!(s.queued(), 0);
            prop_assert_eq!(seen, next_id);
        }
    }
}
