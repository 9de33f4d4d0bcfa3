//! One tenant's budgets: its caps, what each has used and has reserved, and the checks that
//! keep every request within all of them.

use tf_wire::DatasetClass;

use crate::history::PastCharge;
use crate::rolling::RollingUsage;
use crate::window::{Span, Window};

/// One cap: at most `limit` cost units per window for a class, for one purpose or across all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapSpec {
    /// The purpose it limits; `None` for a cap across every purpose of the class.
    pub purpose: Option<String>,
    /// The dataset class it limits.
    pub class: DatasetClass,
    /// Cost units allowed per window.
    pub limit: u64,
    /// When the count starts afresh.
    pub window: Window,
}

impl CapSpec {
    fn applies_to(&self, purpose: &str, class: DatasetClass) -> bool {
        self.class == class && self.purpose.as_deref().is_none_or(|p| p == purpose)
    }
}

/// The purpose of partners' sandbox submissions (evidence previews).
pub const SANDBOX_PURPOSE: &str = "sandbox";

/// The classes in which a tenant has caps of its own for [`SANDBOX_PURPOSE`], by
/// [`class_index`].
type Sandboxed = [bool; 3];

fn class_index(class: DatasetClass) -> usize {
    match class {
        DatasetClass::P0 => 0,
        DatasetClass::P1 => 1,
        _ => 2,
    }
}

fn sandboxed(caps: impl IntoIterator<Item = impl std::borrow::Borrow<CapSpec>>) -> Sandboxed {
    let mut sandboxed = [false; 3];
    for cap in caps {
        let cap = cap.borrow();
        if cap.purpose.as_deref() == Some(SANDBOX_PURPOSE) {
            sandboxed[class_index(cap.class)] = true;
        }
    }
    sandboxed
}

/// Whether a cap counts a request of `purpose` and `class`. A tenant with sandbox caps of its
/// own in a class pays for sandbox requests there alone: its class-wide caps, its privacy
/// budget, do not count them. Without such caps a sandbox request is like any other.
fn counts(spec: &CapSpec, purpose: &str, class: DatasetClass, sandboxed: &Sandboxed) -> bool {
    spec.applies_to(purpose, class)
        && !(spec.purpose.is_none() && purpose == SANDBOX_PURPOSE && sandboxed[class_index(class)])
}

/// The earliest instant from which charges must be read back (from the ledger, at start) to
/// restore these caps; `None` without caps.
pub fn restore_from(caps: &[CapSpec], now: u64) -> Option<u64> {
    caps.iter().map(|c| c.window.counts_since(now)).min()
}

/// When a class's requests are charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargePolicy {
    /// Every verified attempt is charged, valid or not (the default for P0: a failed proof can
    /// still reveal something).
    OnAttempt,
    /// Only a valid verdict is charged; the reservation is released otherwise.
    OnValid,
}

/// The charge policy of each class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChargePolicies {
    /// For P0.
    pub p0: ChargePolicy,
    /// For P1.
    pub p1: ChargePolicy,
    /// For P2.
    pub p2: ChargePolicy,
}

impl Default for ChargePolicies {
    fn default() -> Self {
        ChargePolicies {
            p0: ChargePolicy::OnAttempt,
            p1: ChargePolicy::OnValid,
            p2: ChargePolicy::OnValid,
        }
    }
}

impl ChargePolicies {
    /// The policy for a class.
    pub fn of(&self, class: DatasetClass) -> ChargePolicy {
        match class {
            DatasetClass::P0 => self.p0,
            DatasetClass::P1 => self.p1,
            _ => self.p2,
        }
    }
}

/// A request that would overspend a cap, with everything the partner needs to act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverBudget {
    /// The cap that was hit.
    pub cap: CapSpec,
    /// What the request would cost.
    pub requested: u64,
    /// Charged in the current window.
    pub used: u64,
    /// What is left in the window (after charges and in-flight reservations).
    pub remaining: u64,
    /// Of the cap, held by requests still being verified.
    pub reserved: u64,
    /// When enough frees up (the window's reset, or for a rolling window the moment enough
    /// charges age out), Unix microseconds; `None` if the request is larger than the cap.
    pub resets_at_us: Option<u64>,
    /// Whether this appliance's share of the cap (its [`FleetGrant`]) is what ran out, and
    /// not the cap: the fleet may grant more soon, or the fleet's database is away.
    pub by_grant: bool,
    /// What this appliance may spend of the cap in the current window (see
    /// [`CapStatus::granted`]), so the refusal shows the share that ran out.
    pub granted: u64,
}

/// In fleet mode, this appliance's share of a calendar cap: the units it may have spent in the
/// window starting at `window_start_us`, as its budget leases grant (`tf-fleet`'s keeper). In
/// any other window it may spend nothing from the cap until it is granted that one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FleetGrant {
    /// The start of the window the grant is for, Unix microseconds.
    pub window_start_us: u64,
    /// Units this appliance may have spent in it, in all.
    pub units: u64,
    /// Units the fleet counts spent (or possibly spent, by an appliance that stopped) from
    /// the cap in the window on every appliance, as last read: when the cap itself has no
    /// room left, a refusal says so rather than blaming this appliance's share. 0 when not
    /// read (there was room).
    pub fleet_spent: u64,
}

impl OverBudget {
    /// How much more the request needs than is left.
    pub fn short_by(&self) -> u64 {
        self.requested - self.remaining
    }
}

/// A cap's state at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapStatus {
    /// The cap.
    pub cap: CapSpec,
    /// Charged in the current window.
    pub used: u64,
    /// Held by requests being verified.
    pub reserved: u64,
    /// Left to spend: of `granted`, what neither charges nor reservations hold.
    pub remaining: u64,
    /// When the window resets (calendar) or the oldest charge ages out (rolling; `None` when
    /// nothing is charged), Unix microseconds.
    pub resets_at_us: Option<u64>,
    /// What this appliance may spend of the cap in the current window: the cap's limit, or in
    /// fleet mode its [`FleetGrant`] for the window (0 before one is granted). Partners see
    /// it so a fleet's share is not mistaken for the cap.
    pub granted: u64,
    /// Fleet mode: units asked for in the current window and refused for lack of a grant
    /// while the cap had room; the lease keeper counts them as demand, so a tenant that
    /// starts spending gets a lease its rate needs.
    pub refused_by_grant: u64,
}

/// What a settled request was charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settlement {
    /// Cost units charged (0 when released).
    pub charged: u64,
    /// The least left in any cap that applied, after the charge; `None` when no cap applied.
    pub remaining: Option<u64>,
}

#[derive(Clone, Debug)]
enum Usage {
    Calendar { span: Span, used: u64 },
    Rolling(RollingUsage),
}

#[derive(Clone, Debug)]
struct Cap {
    spec: CapSpec,
    usage: Usage,
    reserved: u64,
    /// In fleet mode, this appliance's share of the cap; `None`: the whole cap is its own.
    grant: Option<FleetGrant>,
    /// Units refused in the current window for lack of a grant ([`CapStatus::refused_by_grant`]).
    refused_by_grant: u64,
}

impl Cap {
    fn new(spec: CapSpec, now: u64) -> Self {
        let usage = match spec.window.span(now) {
            Some(span) => Usage::Calendar { span, used: 0 },
            None => Usage::Rolling(RollingUsage::new(spec.window.rolling_us().unwrap_or(0))),
        };
        Cap {
            spec,
            usage,
            reserved: 0,
            grant: None,
            refused_by_grant: 0,
        }
    }

    /// What may be spent in the current window: the cap, or this appliance's grant of it (none
    /// for a window it was not granted, or a rolling cap, which leases do not cover).
    fn allowed(&self) -> u64 {
        match (&self.grant, &self.usage) {
            (None, _) => self.spec.limit,
            (Some(grant), Usage::Calendar { span, .. }) if grant.window_start_us == span.start => {
                grant.units.min(self.spec.limit)
            }
            (Some(_), _) => 0,
        }
    }

    /// Moves the window to `now`: a calendar period that ended starts afresh. A `now` before
    /// the period (the wall clock stepped back) counts as inside it: a window never moves
    /// backwards, or stepping the clock back across an edge would reset the count.
    fn refresh(&mut self, now: u64) {
        match &mut self.usage {
            Usage::Calendar { span, used } => {
                if now < span.end {
                    return;
                }
                if let Some(current) = self.spec.window.span(now) {
                    *span = current;
                    *used = 0;
                    self.refused_by_grant = 0;
                }
            }
            Usage::Rolling(rolling) => rolling.expire(now),
        }
    }

    fn used(&self) -> u64 {
        match &self.usage {
            Usage::Calendar { used, .. } => *used,
            Usage::Rolling(rolling) => rolling.total(),
        }
    }

    fn remaining(&self) -> u64 {
        self.allowed()
            .saturating_sub(self.used())
            .saturating_sub(self.reserved)
    }

    /// What the cap itself would leave, whatever this appliance's grant.
    fn remaining_in_cap(&self) -> u64 {
        let fleet_spent = match (&self.grant, &self.usage) {
            (Some(grant), Usage::Calendar { span, .. }) if grant.window_start_us == span.start => {
                grant.fleet_spent
            }
            _ => 0,
        };
        self.spec
            .limit
            .saturating_sub((self.used() + self.reserved).max(fleet_spent))
    }

    /// When `needed` more becomes available.
    fn frees_at(&self, needed: u64, now: u64) -> Option<u64> {
        if needed > self.spec.limit {
            return None;
        }
        match &self.usage {
            Usage::Calendar { span, .. } => Some(span.end),
            // Reservations settle soon; what must age out is what the charges hold beyond them.
            Usage::Rolling(rolling) => {
                let over = (self.used() + self.reserved + needed).saturating_sub(self.spec.limit);
                rolling.frees_at(over, now)
            }
        }
    }

    /// Charges `amount` now (call `refresh(now)` first): a calendar cap counts it in its
    /// period, which is the latest one seen even when the clock has stepped back before it.
    fn charge_now(&mut self, now: u64, amount: u64) {
        match &mut self.usage {
            Usage::Calendar { used, .. } => *used += amount,
            Usage::Rolling(rolling) => rolling.add(now, amount),
        }
    }

    /// Takes back `amount` charged at `at`, if it still counts.
    fn uncharge(&mut self, at: u64, amount: u64) {
        match &mut self.usage {
            Usage::Calendar { span, used } => {
                if span.contains(at) {
                    *used = used.saturating_sub(amount);
                }
            }
            Usage::Rolling(rolling) => rolling.remove(at, amount),
        }
    }

    /// Counts `amount` charged at some time in `[first_at, last_at]`: a calendar cap counts it
    /// if that time is in the current period, a rolling cap holds it as if made at `last_at`.
    /// A charge later than `now` was made before the clock stepped back: its period is the
    /// latest seen, so the window moves forward to it, as it did when the charge was made.
    fn count_past(&mut self, amount: u64, first_at: u64, last_at: u64, now: u64) {
        match &mut self.usage {
            Usage::Calendar { .. } => {
                self.refresh(now.max(first_at));
                if let Usage::Calendar { span, used } = &mut self.usage
                    && span.contains(first_at)
                {
                    *used += amount;
                }
            }
            Usage::Rolling(rolling) => {
                rolling.expire(now);
                rolling.add(last_at, amount);
                rolling.expire(now);
            }
        }
    }

    fn status(&self, now: u64) -> CapStatus {
        let resets_at_us = match &self.usage {
            Usage::Calendar { span, .. } => Some(span.end),
            Usage::Rolling(rolling) => rolling.frees_at(1, now).filter(|_| rolling.total() > 0),
        };
        CapStatus {
            cap: self.spec.clone(),
            used: self.used(),
            reserved: self.reserved,
            remaining: self.remaining(),
            resets_at_us,
            granted: self.allowed(),
            refused_by_grant: self.refused_by_grant,
        }
    }
}

/// Purposes with nothing in verification whose entries are kept anyway.
const IDLE_PURPOSES_KEPT: usize = 16;

/// Cost reserved and not yet settled, per purpose and class: what a cap added by a
/// promotion must count as reserved for requests admitted before it.
#[derive(Clone, Debug)]
struct InFlight {
    purpose: String,
    class: DatasetClass,
    cost: u64,
}

/// One tenant's caps. Lives on the tenant's home shard, so checks and reservations are never
/// raced: concurrent requests over any number of connections and cores are serialised here.
#[derive(Clone, Debug)]
pub struct TenantBudget {
    caps: Vec<Cap>,
    /// Fleet mode: every cap is spent from grants ([`TenantBudget::lease_caps`]).
    leased: bool,
    /// Where sandbox requests are kept out of the class-wide caps (see [`counts`]).
    sandboxed: Sandboxed,
    policies: ChargePolicies,
    /// Few entries (purposes with requests in verification), so a scan beats a map.
    in_flight: Vec<InFlight>,
}

impl TenantBudget {
    /// A tenant's budget with nothing charged yet.
    pub fn new(caps: Vec<CapSpec>, policies: ChargePolicies, now: u64) -> Self {
        TenantBudget {
            sandboxed: sandboxed(&caps),
            caps: caps.into_iter().map(|spec| Cap::new(spec, now)).collect(),
            leased: false,
            policies,
            in_flight: Vec::new(),
        }
    }

    /// The earliest instant from which charges must be read back to count the caps in `caps`
    /// this budget does not hold already; `None` when it holds them all (or `caps` is empty).
    pub fn history_needed(&self, caps: &[CapSpec], now: u64) -> Option<u64> {
        let fresh: Vec<CapSpec> = caps
            .iter()
            .filter(|spec| !self.caps.iter().any(|cap| &cap.spec == *spec))
            .cloned()
            .collect();
        restore_from(&fresh, now)
    }

    /// Puts new caps and charge policies in force (a promoted policy bundle). A cap held
    /// already keeps its count; any other counts `history` (charges read back from the ledger
    /// plus those made since, see [`crate::ChargeJournal`]) and the cost of requests still in
    /// verification, so a promotion neither forgets nor double-counts a charge.
    pub fn reconfigure(
        &mut self,
        caps: Vec<CapSpec>,
        policies: ChargePolicies,
        history: &[PastCharge],
        now: u64,
    ) {
        let mut held = std::mem::take(&mut self.caps);
        let mut next = Vec::with_capacity(caps.len());
        self.sandboxed = sandboxed(&caps);
        let sandboxed = self.sandboxed;
        for spec in caps {
            if let Some(i) = held.iter().position(|cap| cap.spec == spec) {
                next.push(held.swap_remove(i));
                continue;
            }
            let mut cap = Cap::new(spec, now);
            if self.leased {
                cap.grant = Some(FleetGrant {
                    window_start_us: 0,
                    units: 0,
                    fleet_spent: 0,
                });
            }
            for charge in history {
                if !counts(&cap.spec, &charge.purpose, charge.class, &sandboxed) {
                    continue;
                }
                cap.count_past(charge.amount, charge.first_at, charge.last_at, now);
            }
            cap.refresh(now);
            let spec = &cap.spec;
            cap.reserved = self
                .in_flight
                .iter()
                .filter(|f| counts(spec, &f.purpose, f.class, &sandboxed))
                .map(|f| f.cost)
                .sum();
            next.push(cap);
        }
        self.caps = next;
        self.policies = policies;
    }

    fn hold(&mut self, purpose: &str, class: DatasetClass, cost: u64) {
        match self
            .in_flight
            .iter_mut()
            .find(|f| f.class == class && f.purpose == purpose)
        {
            Some(entry) => entry.cost += cost,
            None => self.in_flight.push(InFlight {
                purpose: purpose.to_owned(),
                class,
                cost,
            }),
        }
    }

    fn unhold(&mut self, purpose: &str, class: DatasetClass, cost: u64) {
        if let Some(i) = self
            .in_flight
            .iter()
            .position(|f| f.class == class && f.purpose == purpose)
        {
            let entry = &mut self.in_flight[i];
            entry.cost = entry.cost.saturating_sub(cost);
            // An idle entry is kept for its purpose's next request (no allocation per request),
            // up to a few: a tenant naming ever new purposes cannot grow the list.
            if entry.cost == 0 && self.in_flight.len() > IDLE_PURPOSES_KEPT {
                self.in_flight.swap_remove(i);
            }
        }
    }

    /// Fleet mode: from now on every cap, and every cap a promotion adds, is spent only from
    /// what [`TenantBudget::grant`] gives it; until then from nothing.
    pub fn lease_caps(&mut self) {
        self.leased = true;
        for cap in &mut self.caps {
            cap.grant.get_or_insert(FleetGrant {
                window_start_us: 0,
                units: 0,
                fleet_spent: 0,
            });
        }
    }

    /// Sets this appliance's share of the cap `spec` (fleet mode); returns whether the tenant
    /// has that cap.
    pub fn grant(&mut self, spec: &CapSpec, grant: FleetGrant) -> bool {
        match self.caps.iter_mut().find(|cap| &cap.spec == spec) {
            Some(cap) => {
                cap.grant = Some(grant);
                true
            }
            None => false,
        }
    }

    /// Whether any cap is configured.
    pub fn is_capped(&self) -> bool {
        !self.caps.is_empty()
    }

    /// The charge policy for a class.
    pub fn policy(&self, class: DatasetClass) -> ChargePolicy {
        self.policies.of(class)
    }

    /// Checks every cap that applies and, if all hold, reserves `cost` in each. On refusal
    /// nothing is reserved; the error names the cap that resets last among those hit, since
    /// that is the one the partner has to wait for.
    pub fn reserve(
        &mut self,
        purpose: &str,
        class: DatasetClass,
        cost: u64,
        now: u64,
    ) -> Result<(), OverBudget> {
        let sandboxed = self.sandboxed;
        let mut worst: Option<OverBudget> = None;
        for cap in self
            .caps
            .iter_mut()
            .filter(|c| counts(&c.spec, purpose, class, &sandboxed))
        {
            cap.refresh(now);
            let remaining = cap.remaining();
            if cost > remaining {
                let by_grant = cost <= cap.remaining_in_cap();
                let resets_at_us = cap.frees_at(cost, now);
                let later = match &worst {
                    None => true,
                    Some(w) => match (w.resets_at_us, resets_at_us) {
                        (Some(a), Some(b)) => b > a,
                        (Some(_), None) => true,
                        _ => false,
                    },
                };
                if later {
                    worst = Some(OverBudget {
                        cap: cap.spec.clone(),
                        requested: cost,
                        used: cap.used(),
                        remaining,
                        reserved: cap.reserved,
                        resets_at_us,
                        by_grant,
                        granted: cap.allowed(),
                    });
                }
            }
        }
        if let Some(over) = worst {
            return Err(over);
        }
        for cap in self
            .caps
            .iter_mut()
            .filter(|c| counts(&c.spec, purpose, class, &sandboxed))
        {
            cap.reserved += cost;
        }
        self.hold(purpose, class, cost);
        Ok(())
    }

    /// Settles a reservation made by `reserve` once the verdict is known: charges it (always
    /// for on-attempt classes, only when valid for on-valid ones) or releases it.
    pub fn settle(
        &mut self,
        purpose: &str,
        class: DatasetClass,
        cost: u64,
        valid: bool,
        now: u64,
    ) -> Settlement {
        self.settle_under(purpose, class, cost, self.policies.of(class), valid, now)
    }

    /// Settles under the charge policy the request was admitted with (a promotion may have
    /// changed the class's policy since).
    pub fn settle_under(
        &mut self,
        purpose: &str,
        class: DatasetClass,
        cost: u64,
        policy: ChargePolicy,
        valid: bool,
        now: u64,
    ) -> Settlement {
        let sandboxed = self.sandboxed;
        self.unhold(purpose, class, cost);
        let charged = match policy {
            ChargePolicy::OnAttempt => cost,
            ChargePolicy::OnValid if valid => cost,
            ChargePolicy::OnValid => 0,
        };
        let mut remaining: Option<u64> = None;
        for cap in self
            .caps
            .iter_mut()
            .filter(|c| counts(&c.spec, purpose, class, &sandboxed))
        {
            cap.reserved = cap.reserved.saturating_sub(cost);
            cap.refresh(now);
            cap.charge_now(now, charged);
            let left = cap.remaining();
            remaining = Some(remaining.map_or(left, |r| r.min(left)));
        }
        Settlement { charged, remaining }
    }

    /// Counts a refusal for lack of a grant ([`OverBudget::by_grant`]) as demand on the cap
    /// it names ([`CapStatus::refused_by_grant`]): the caller counts only requests that
    /// nothing else would have refused, so the lease keeper sizes leases by real demand.
    pub fn count_refused_by_grant(&mut self, over: &OverBudget) {
        if !over.by_grant {
            return;
        }
        if let Some(cap) = self.caps.iter_mut().find(|cap| cap.spec == over.cap) {
            cap.refused_by_grant += over.requested;
        }
    }

    /// Releases a reservation without charging (the request was never verified, for example
    /// because the appliance is shutting down).
    pub fn release(&mut self, purpose: &str, class: DatasetClass, cost: u64) {
        let sandboxed = self.sandboxed;
        self.unhold(purpose, class, cost);
        for cap in self
            .caps
            .iter_mut()
            .filter(|c| counts(&c.spec, purpose, class, &sandboxed))
        {
            cap.reserved = cap.reserved.saturating_sub(cost);
        }
    }

    /// Takes back a charge of `amount` settled at `at` whose receipt the ledger could not
    /// store: its partner was answered that nothing was charged.
    pub fn refund(&mut self, purpose: &str, class: DatasetClass, amount: u64, at: u64) {
        let sandboxed = self.sandboxed;
        for cap in self
            .caps
            .iter_mut()
            .filter(|c| counts(&c.spec, purpose, class, &sandboxed))
        {
            cap.uncharge(at, amount);
        }
    }

    /// Restores charges read back from the ledger at start: `amount` charged at some time
    /// between `first_at` and `last_at`. Calendar caps count it if that time is in the current
    /// period (the ledger groups charges so a group never straddles a period), and a charge
    /// later than `now` (the clock stepped back) moves the period forward to its own; rolling
    /// caps hold it as if made at `last_at`, which may hold it slightly longer, never shorter.
    pub fn restore(
        &mut self,
        purpose: &str,
        class: DatasetClass,
        amount: u64,
        first_at: u64,
        last_at: u64,
        now: u64,
    ) {
        let sandboxed = self.sandboxed;
        for cap in self
            .caps
            .iter_mut()
            .filter(|c| counts(&c.spec, purpose, class, &sandboxed))
        {
            cap.count_past(amount, first_at, last_at, now);
        }
    }

    /// Every cap's state now.
    pub fn status(&mut self, now: u64) -> Vec<CapStatus> {
        self.caps
            .iter_mut()
            .map(|cap| {
                cap.refresh(now);
                cap.status(now)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3_600_000_000;
    const DAY: u64 = 24 * HOUR;

    /// 2026-11-24 10:00 UTC, Unix microseconds.
    fn morning() -> u64 {
        crate::days_from_civil(2026, 11, 24) * DAY + 10 * HOUR
    }

    #[test]
    fn a_leased_caps_status_and_refusals_show_this_appliances_grant() {
        let now = morning();
        let spec = CapSpec {
            purpose: None,
            class: DatasetClass::P1,
            limit: 100,
            window: Window::Day,
        };
        let mut budget = TenantBudget::new(vec![spec.clone()], ChargePolicies::default(), now);
        // Outside fleet mode the whole cap is this appliance's.
        assert_eq!(budget.status(now)[0].granted, 100);

        budget.lease_caps();
        let status = &budget.status(now)[0];
        assert_eq!((status.granted, status.remaining), (0, 0), "{status:?}");

        let today = spec.window.span(now).expect("a calendar window").start;
        budget.grant(
            &spec,
            FleetGrant {
                window_start_us: today,
                units: 10,
                fleet_spent: 0,
            },
        );
        budget
            .reserve("kyc", DatasetClass::P1, 4, now)
            .expect("within the grant");
        let status = &budget.status(now)[0];
        assert_eq!(
            (
                status.cap.limit,
                status.granted,
                status.reserved,
                status.remaining
            ),
            (100, 10, 4, 6),
            "{status:?}"
        );
        let over = budget
            .reserve("kyc", DatasetClass::P1, 7, now)
            .expect_err("beyond the grant, within the cap");
        assert!(over.by_grant, "{over:?}");
        budget.count_refused_by_grant(&over);
        assert_eq!((over.granted, over.remaining), (10, 6), "{over:?}");

        // A grant above the cap is the cap; the cap itself running out is not the grant's.
        budget.grant(
            &spec,
            FleetGrant {
                window_start_us: today,
                units: 1_000,
                fleet_spent: 0,
            },
        );
        assert_eq!(budget.status(now)[0].granted, 100);
        let over = budget
            .reserve("kyc", DatasetClass::P1, 97, now)
            .expect_err("beyond the cap");
        assert!(!over.by_grant, "{over:?}");
        assert_eq!(over.granted, 100);
        budget.count_refused_by_grant(&over);
        // What the grant refused is demand the next lease should cover; what the cap
        // refused is not.
        assert_eq!(budget.status(now)[0].refused_by_grant, 7);

        // The next day's window is not granted yet: nothing to spend until it is.
        let status = &budget.status(now + DAY)[0];
        assert_eq!((status.granted, status.remaining), (0, 0), "{status:?}");
        let over = budget
            .reserve("kyc", DatasetClass::P1, 2, now + DAY)
            .expect_err("not granted yet");
        budget.count_refused_by_grant(&over);
        assert_eq!(
            budget.status(now + DAY)[0].refused_by_grant,
            2,
            "counted anew"
        );
    }
}
