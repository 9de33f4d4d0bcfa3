//! Open batches per key, what each key costs and how often it arrives, and which batch is due.

use tf_fairness::Micros;

use crate::company::Company;
use crate::cost::{CostModel, Line};
use crate::lane::Lane;
use crate::policy::{Plan, Situation, plan, size_limit, standing_too_long};
use crate::rate::{ArrivalRate, mean_gap_us};

/// A closed batch: everything in it shares the key.
#[derive(Debug, PartialEq, Eq)]
pub struct Batch<K, T> {
    /// What the items have in common (kind, curve, verifying key).
    pub key: K,
    /// The lane its items travel in (every item of a batch is in the same lane).
    pub lane: Lane,
    /// The items, in the order they were added.
    pub items: Vec<T>,
}

/// How batches form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FormerSettings {
    /// The largest batch.
    pub max_size: usize,
    /// Keys open at once; adding a new key beyond it closes the oldest batch.
    pub max_open: usize,
    /// How long after its arrival a request should be answered; batches wait for company only
    /// within it (see [`crate::policy`]). Zero: never wait.
    pub latency_budget: Micros,
}

/// What the former needs to know of an item besides its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// When the request arrived (was admitted), which its budget counts from.
    pub at: Micros,
    /// Its scheduling cost in units of one single BLS verification, for the cost a key is
    /// assumed to have before any of its batches was measured.
    pub units: u64,
    /// When it is handed to the former (now): how long its batch has stood open is counted
    /// from the first item's (see [`BatchFormer::take_standing`]).
    pub handed_over: Micros,
    /// Its lane: it batches only with items of its key in the same lane.
    pub lane: Lane,
}

#[derive(Debug)]
struct Open<K, T> {
    key: K,
    lane: Lane,
    oldest: Micros,
    /// When its first item was handed over.
    opened: Micros,
    items: Vec<T>,
    /// When it closes unless another item joins first (as of the last plan).
    close_at: Micros,
}

/// What is learned of one key.
#[derive(Debug)]
struct Known<K> {
    key: K,
    cost: CostModel,
    /// Arrivals per lane (see [`Lane::index`]): a lane's batches wait for their own company.
    rate: [ArrivalRate; Lane::ALL.len()],
    /// What its open batches found: the company waiting brings.
    company: Company,
    last_used: u64,
}

impl<K> Known<K> {
    /// The expected wait for the next request to join a batch of this key in `lane`: as
    /// often as they arrive, unless waiting batches found clearly less company than that (see
    /// [`Company`]). Infinite when none is expected.
    fn expected_gap_us(&self, lane: Lane, now: Micros) -> f64 {
        let arriving = self.rate[lane.index()].rate_at(now);
        mean_gap_us(
            self.company
                .shortfall(lane, now, arriving)
                .unwrap_or(arriving),
        )
    }
}

/// Keys whose costs and rates are remembered; the least recently used is forgotten beyond it.
const KNOWN_KEYS: usize = 64;
/// Microseconds per scheduling unit assumed before any batch was measured.
const INITIAL_UNIT_US: f64 = 1_000.0;

/// Groups items into batches. At most `max_open` keys are open at once, so memory is bounded
/// by `max_open * max_size` items.
#[derive(Debug)]
pub struct BatchFormer<K, T> {
    /// Open batches, oldest first.
    open: Vec<Open<K, T>>,
    known: Vec<Known<K>>,
    /// A full batch a standing one went before (see [`BatchFormer::take_held_back`]).
    held_back: Option<Batch<K, T>>,
    spare: Vec<Vec<T>>,
    settings: FormerSettings,
    /// Measured microseconds per scheduling unit, over every key (a new key's first guess).
    unit_us: f64,
    uses: u64,
    /// Scratch: open batches in the order they will be verified.
    order: Vec<usize>,
}

impl<K: PartialEq + Clone, T> BatchFormer<K, T> {
    /// A former with these settings (sizes below 1 count as 1).
    pub fn new(settings: FormerSettings) -> Self {
        let settings = FormerSettings {
            max_size: settings.max_size.max(1),
            max_open: settings.max_open.max(1),
            ..settings
        };
        BatchFormer {
            open: Vec::with_capacity(settings.max_open),
            known: Vec::new(),
            held_back: None,
            spare: (0..settings.max_open + 1)
                .map(|_| Vec::with_capacity(settings.max_size))
                .collect(),
            settings,
            unit_us: INITIAL_UNIT_US,
            uses: 0,
            order: Vec::with_capacity(settings.max_open),
        }
    }

    /// Adds an item. Returns a batch if one closed because of it: its own batch reaching its
    /// size limit (see [`size_limit`]), or a batch that stood open too long going before it
    /// (see [`BatchFormer::take_held_back`]), or the oldest batch making room for a new key. Call [`BatchFormer::take_due`]
    /// after adding for batches the latency rule closes.
    pub fn add(&mut self, key: K, item: T, arrival: Arrival) -> Option<Batch<K, T>> {
        let lane = arrival.lane;
        let joins = self
            .open
            .iter()
            .position(|o| o.key == key && o.lane == lane);
        let known = self.known_mut(&key, arrival.units);
        known.rate[lane.index()].arrival(arrival.at);
        let line = known.cost.line();
        if let Some(i) = joins {
            known.company.joined(lane, arrival.handed_over);
            let limit = size_limit(&line, self.settings.max_size, self.settings.latency_budget);
            let open = &mut self.open[i];
            open.items.push(item);
            open.oldest = Micros(open.oldest.0.min(arrival.at.0));
            if open.items.len() < limit {
                return None;
            }
            let full = self.close(i, arrival.handed_over);
            return Some(self.standing_first(full, arrival.handed_over));
        }
        if self.settings.max_size == 1 {
            // Nothing waits for company: the item is a batch of its own.
            let mut items = self.spare.pop().unwrap_or_default();
            items.push(item);
            return Some(Batch { key, lane, items });
        }
        let evicted = if self.open.len() >= self.settings.max_open {
            Some(self.close(0, arrival.handed_over))
        } else {
            None
        };
        let mut items = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.settings.max_size));
        items.push(item);
        self.open.push(Open {
            key,
            lane,
            oldest: arrival.at,
            opened: arrival.handed_over,
            items,
            close_at: arrival.at,
        });
        evicted
    }

    /// The batch that should be verified now, if the latency rule closes one: of those it
    /// closes, the share lane's first, then the one whose oldest request arrived first. Plans
    /// every open batch again, for [`BatchFormer::next_deadline`].
    pub fn take_due(&mut self, now: Micros) -> Option<Batch<K, T>> {
        self.plan_open(now).map(|i| self.close(i, now))
    }

    /// Like [`BatchFormer::take_due`], but only a batch of the share lane: what may go before
    /// a surplus batch already being verified.
    pub fn take_due_share(&mut self, now: Micros) -> Option<Batch<K, T>> {
        self.plan_open(now)
            .filter(|&i| self.open[i].lane == Lane::Share)
            .map(|i| self.close(i, now))
    }

    /// Plans every open batch; returns the first due, in the order batches are verified.
    fn plan_open(&mut self, now: Micros) -> Option<usize> {
        // Batches are verified share lane first, then oldest first, so the work ahead of one
        // is the batches of its lane or a lane before it whose oldest request came before its
        // own.
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(0..self.open.len());
        order.sort_by_key(|&i| (self.open[i].lane, self.open[i].oldest));
        let mut ahead_us = 0.0;
        let mut due: Option<usize> = None;
        for &i in &order {
            let open = &self.open[i];
            let known = self.known.iter().find(|k| k.key == open.key);
            let cost = self.line_of(&open.key);
            let situation = Situation {
                items: open.items.len(),
                max_size: size_limit(&cost, self.settings.max_size, self.settings.latency_budget),
                oldest: open.oldest,
                now,
                ahead_us,
                cost,
                gap_us: known.map_or(f64::INFINITY, |k| k.expected_gap_us(open.lane, now)),
                budget: self.settings.latency_budget,
            };
            ahead_us += cost.batch_us(open.items.len());
            let close_at = match plan(&situation) {
                Plan::Close => now,
                Plan::WaitUntil(at) => at,
            };
            self.open[i].close_at = close_at;
            if close_at <= now && due.is_none() {
                due = Some(i);
            }
        }
        self.order = order;
        due
    }

    /// A batch that just filled, or, if another has stood open for the longest time a batch
    /// may take, that one, the full one held back to go next. Under backlog batches fill as
    /// fast as the fair scheduler hands requests over and the latency rule is not asked: a key
    /// the backlog rarely holds would otherwise wait for its size limit however long that
    /// takes, and with it the quiet tenant whose request opened the batch.
    fn standing_first(&mut self, full: Batch<K, T>, now: Micros) -> Batch<K, T> {
        if self.held_back.is_some() {
            return full;
        }
        match self.take_standing(now) {
            Some(standing) => {
                self.held_back = Some(full);
                standing
            }
            None => full,
        }
    }

    /// The full batch a standing one went before: verify it before adding more, so batches of
    /// its key keep their order.
    pub fn take_held_back(&mut self) -> Option<Batch<K, T>> {
        self.held_back.take()
    }

    /// Closes every open batch, oldest request first, labelled `lane`: when tenants change
    /// lanes, what they had waiting is handed out before anything that joins after (batches of
    /// a key in different lanes may be handed out in either order, so a tenant's requests of
    /// a key could otherwise pass each other). Take the held-back batch first: it goes before
    /// these.
    pub fn close_all(&mut self, lane: Lane, now: Micros) -> Vec<Batch<K, T>> {
        self.open.sort_by_key(|o| o.oldest);
        let mut closed = Vec::with_capacity(self.open.len());
        while !self.open.is_empty() {
            let mut batch = self.close(0, now);
            batch.lane = lane;
            closed.push(batch);
        }
        closed
    }

    /// The lane of the full batch held back, if one is.
    pub fn held_back_lane(&self) -> Option<Lane> {
        self.held_back.as_ref().map(|batch| batch.lane)
    }

    /// The open batch that has stood open the longest, if that is the longest time a batch may
    /// take (see [`standing_too_long`]).
    pub fn take_standing(&mut self, now: Micros) -> Option<Batch<K, T>> {
        let (index, open) = self
            .open
            .iter()
            .enumerate()
            .min_by_key(|(_, open)| open.opened)?;
        standing_too_long(open.opened, now, self.settings.latency_budget)
            .then(|| self.close(index, now))
    }

    /// When the first open batch closes unless others join it, as of the last
    /// [`BatchFormer::take_due`] (or when a batch opened since); `None` when nothing is open.
    pub fn next_deadline(&self) -> Option<Micros> {
        if self.held_back.is_some() {
            // Due at once.
            return Some(Micros(0));
        }
        self.open.iter().map(|o| o.close_at).min()
    }

    /// Learns from a verified batch of `key`: `items` items of `units` scheduling units in all
    /// took `elapsed` to verify.
    pub fn observe(&mut self, key: &K, items: usize, units: u64, elapsed: Micros) {
        let elapsed_us = elapsed.0 as f64;
        if units > 0 {
            self.unit_us = 0.9 * self.unit_us + 0.1 * (elapsed_us / units as f64);
        }
        let per_unit = units.checked_div(items as u64).unwrap_or(1);
        self.known_mut(key, per_unit)
            .cost
            .observe(items, elapsed_us);
    }

    /// Measured microseconds of verification per scheduling unit (for "retry after" hints).
    pub fn us_per_unit(&self) -> f64 {
        self.unit_us
    }

    /// The learned cost of a key (the first guess if none of its batches was measured).
    pub fn cost_of(&self, key: &K) -> Option<Line> {
        self.known
            .iter()
            .find(|k| &k.key == key)
            .map(|k| k.cost.line())
    }

    /// Items waiting in open batches.
    pub fn pending(&self) -> usize {
        let held_back = self.held_back.as_ref().map_or(0, |b| b.items.len());
        self.open.iter().map(|o| o.items.len()).sum::<usize>() + held_back
    }

    /// Returns a verified batch's buffer for reuse.
    pub fn recycle(&mut self, mut items: Vec<T>) {
        if self.spare.len() <= self.settings.max_open {
            items.clear();
            self.spare.push(items);
        }
    }

    fn line_of(&self, key: &K) -> Line {
        self.known
            .iter()
            .find(|k| &k.key == key)
            .map_or_else(|| self.first_guess(1), |k| k.cost.line())
    }

    /// Before any batch of a key was measured: a single item of `units` at the measured rate,
    /// half of it shared by a batch (about what batching saves on pairings).
    fn first_guess(&self, units: u64) -> Line {
        let single = units.max(1) as f64 * self.unit_us;
        Line {
            fixed_us: single / 2.0,
            per_item_us: single / 2.0,
        }
    }

    fn known_mut(&mut self, key: &K, units: u64) -> &mut Known<K> {
        self.uses += 1;
        let index = match self.known.iter().position(|k| &k.key == key) {
            Some(i) => i,
            None => {
                let fresh = Known {
                    key: key.clone(),
                    cost: CostModel::new(self.first_guess(units)),
                    rate: [ArrivalRate::new(); Lane::ALL.len()],
                    company: Company::new(),
                    last_used: 0,
                };
                if self.known.len() < KNOWN_KEYS {
                    self.known.push(fresh);
                    self.known.len() - 1
                } else {
                    let stalest = (0..self.known.len())
                        .min_by_key(|&i| self.known[i].last_used)
                        .expect("KNOWN_KEYS is not zero");
                    self.known[stalest] = fresh;
                    stalest
                }
            }
        };
        let known = &mut self.known[index];
        known.last_used = self.uses;
        known
    }

    /// Closes open batch `index` at `now`, noting how long it stood open.
    fn close(&mut self, index: usize, now: Micros) -> Batch<K, T> {
        let open = self.open.remove(index);
        if let Some(known) = self.known.iter_mut().find(|k| k.key == open.key) {
            known.company.closed(open.lane, open.opened, now);
        }
        Batch {
            key: open.key,
            lane: open.lane,
            items: open.items,
        }
    }
}
