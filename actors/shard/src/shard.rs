//! The shard: admission, scheduling and batch formation for the tenants homed here.

use std::collections::VecDeque;
use std::sync::Arc;

use rand_core::{CryptoRng, RngCore};
use tf_batcher::{Arrival, Batch, BatchFormer, FormerSettings, Lane};
use tf_budgets::{
    CapSpec, CapStatus, ChargePolicies, Costs, FleetGrant, OverBudget, PastCharge, Settlement,
};
use tf_engine::groth16::{AnyKey, Curve, Holder, KeyRegistry, KeyRoom, RegistryFull};
use tf_engine::{KeyId, Limits, Rejection, Verdict};
use tf_fairness::{DrrScheduler, Micros, TenantSlot};
use tf_wire::{DatasetClass, Statement};

use crate::job::Reservation;
use crate::lanes::Lanes;
use crate::lent::Lent;
use crate::tenant::TenantState;
use crate::verify::Verification;
use crate::{BatchKey, Job, TenantCounters, TenantSpec, TenantTerms};

/// How a shard queues, schedules and batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSettings {
    /// Requests a tenant may have queued; beyond it, "busy".
    pub mailbox_capacity: usize,
    /// Deficit round robin quantum for weight 1, in cost units.
    pub quantum: u64,
    /// Largest batch.
    pub batch_max: usize,
    /// How long after admission a request should be answered: batches wait for company only
    /// within it (see [`tf_batcher::policy`]).
    pub latency_budget: Micros,
    /// Verifying keys the shard keeps prepared: room for the bundle's, and for partners'.
    pub key_room: KeyRoom,
    /// Size and count limits for statements.
    pub limits: Limits,
    /// Budget units per request by kind.
    pub costs: Costs,
    /// When each dataset class is charged.
    pub charge_policies: ChargePolicies,
}

/// Why a request was not admitted. Each carries what the partner needs to act.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Over the tenant's admission rate.
    #[error("over the admission rate; retry after {retry_after_ms} ms")]
    OverRate {
        /// When the bucket will hold enough.
        retry_after_ms: u32,
    },
    /// The tenant's mailbox is full.
    #[error("the tenant's queue is full; retry after {retry_after_ms} ms")]
    MailboxFull {
        /// An estimate of when the queue will have drained.
        retry_after_ms: u32,
    },
    /// A Groth16 key the tenant has not registered (or been granted).
    #[error("verifying key {0} is not registered for this tenant")]
    UnknownKey(KeyId),
    /// A budget cap would be overspent.
    #[error("over budget: {} units requested, {} remaining", .0.requested, .0.remaining)]
    OverBudget(Box<OverBudget>),
}

/// Why a key registration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    /// The tenant registered as many keys as its quota allows.
    #[error(
        "the tenant has registered {quota} verifying keys, its quota (max_registered_keys in \
         its tenant terms); ask the operator for a larger quota"
    )]
    Quota {
        /// The tenant's quota.
        quota: usize,
    },
    /// The shard's room for partners' keys is full.
    #[error(transparent)]
    Full(#[from] RegistryFull),
    /// The key was dropped while the registration waited; it must be prepared again.
    #[error("the key is no longer prepared; register it again")]
    NotPrepared,
}

/// Where a key being registered stands on the tenant's home shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// The tenant registered it already: nothing to do.
    Registered,
    /// Prepared here (for the bundle or another tenant): to be granted and recorded.
    Prepared,
    /// Not prepared here: decoding and preparing it comes first.
    Unprepared,
}

/// Open batch groups at once: BLS, BLS aggregates, and a few Groth16 keys.
const MAX_OPEN_BATCHES: usize = 8;

/// One shard's tenants, queues, batches and prepared keys.
#[derive(Debug)]
pub struct Shard<R> {
    settings: ShardSettings,
    tenants: Vec<TenantState>,
    drr: DrrScheduler<Job<R>>,
    former: BatchFormer<BatchKey, Job<R>>,
    /// Batches closed outside [`Shard::next_batch`], handed out before any other: a surplus
    /// batch that closed while a share-lane batch was looked for ([`Shard::next_share_batch`]),
    /// and every batch waiting when a tenant changed lanes ([`Shard::refresh_lanes`]).
    ready: VecDeque<Batch<BatchKey, Job<R>>>,
    lanes: Lanes,
    keys: KeyRegistry,
    /// Fleet mode: caps are spent only from the fleet's grants ([`Shard::lease_caps`]).
    leased: bool,
}

impl<R> Shard<R> {
    /// A shard serving these tenants; slot `i` is `tenants[i]` (every shard numbers tenants the
    /// same way, so a slot can cross shards).
    /// `now` is the scheduling clock; `unix_now` the wall clock budgets' windows follow.
    pub fn new(
        settings: ShardSettings,
        tenants: &[TenantSpec],
        now: Micros,
        unix_now: u64,
    ) -> Self {
        let mut drr = DrrScheduler::new(settings.quantum);
        let mut lanes = Lanes::new();
        for spec in tenants {
            drr.add_tenant(spec.weight, settings.mailbox_capacity);
            lanes.add_tenant(spec.weight);
        }
        Shard {
            settings,
            tenants: tenants
                .iter()
                .map(|t| TenantState::new(t, settings.charge_policies, now, unix_now))
                .collect(),
            drr,
            former: BatchFormer::new(FormerSettings {
                max_size: settings.batch_max,
                max_open: MAX_OPEN_BATCHES,
                latency_budget: settings.latency_budget,
            }),
            ready: VecDeque::new(),
            lanes,
            keys: KeyRegistry::new(settings.key_room),
            leased: false,
        }
    }

    /// Fleet mode: from now on every tenant's caps, and those of tenants added later, are
    /// spent only from what [`Shard::grant`] gives (see [`tf_budgets::TenantBudget::lease_caps`]).
    pub fn lease_caps(&mut self) {
        self.leased = true;
        for tenant in &mut self.tenants {
            tenant.budget.lease_caps();
        }
    }

    /// Sets this appliance's share of a tenant's cap (fleet mode); returns whether the
    /// tenant has that cap.
    pub fn grant(&mut self, slot: TenantSlot, spec: &CapSpec, grant: FleetGrant) -> bool {
        self.tenants
            .get_mut(slot.0 as usize)
            .is_some_and(|tenant| tenant.budget.grant(spec, grant))
    }

    /// Adds a tenant (a promoted bundle lists one the shard did not serve) in the next slot,
    /// which every shard numbers alike; it starts with nothing charged, and its caps count
    /// past charges when its terms are applied ([`Shard::reconfigure_tenant`]).
    pub fn add_tenant(&mut self, spec: &TenantSpec, now: Micros, unix_now: u64) -> TenantSlot {
        let slot = self
            .drr
            .add_tenant(spec.weight, self.settings.mailbox_capacity);
        self.lanes.add_tenant(spec.weight);
        let mut spec = spec.clone();
        spec.caps.clear();
        let mut tenant = TenantState::new(&spec, self.settings.charge_policies, now, unix_now);
        if self.leased {
            tenant.budget.lease_caps();
        }
        self.tenants.push(tenant);
        slot
    }

    /// How many tenants (slots `0..n`).
    pub fn tenant_count(&self) -> usize {
        self.tenants.len()
    }

    /// A tenant's id.
    pub fn tenant_id(&self, slot: TenantSlot) -> &str {
        &self.tenants[slot.0 as usize].id
    }

    /// Changes a tenant's admission rate and burst (a live reload); tokens already in its
    /// bucket are kept up to the new burst.
    pub fn set_admission(&mut self, slot: TenantSlot, rate_per_sec: u64, burst: u64, now: Micros) {
        self.tenants[slot.0 as usize]
            .bucket
            .reconfigure(rate_per_sec, burst, now);
    }

    /// A tenant's counters.
    pub fn counters(&self, slot: TenantSlot) -> TenantCounters {
        self.tenants[slot.0 as usize].counters
    }

    /// Requests admitted and not yet handed out in a batch.
    pub fn pending(&self) -> usize {
        let ready: usize = self.ready.iter().map(|b| b.items.len()).sum();
        self.drr.queued() + self.former.pending() + ready
    }

    /// Admits a request: checks the key is the tenant's, the mailbox has room, every budget
    /// cap that applies has room (reserving the cost in each) and the quota bucket has a
    /// token, in that order; a refused request costs the tenant nothing and reserves nothing.
    /// `unix_now` is the wall clock, for the budgets' windows.
    // The refused job comes back by value so its route can be answered; boxing it would put
    // an allocation on the overload path, where refusals are most frequent.
    #[allow(clippy::result_large_err)]
    pub fn admit(
        &mut self,
        job: Job<R>,
        now: Micros,
        unix_now: u64,
    ) -> Result<(), (Refusal, Job<R>)> {
        let slot = job.tenant;
        if let Statement::Groth16 { key_id, .. } = &job.submit.statement {
            let id = KeyId(*key_id);
            if !self.can_use_key(slot, id) {
                self.tenants[slot.0 as usize].counters.unknown_key += 1;
                return Err((Refusal::UnknownKey(id), job));
            }
        }
        let tenant = &mut self.tenants[slot.0 as usize];
        let queued = self.drr.queued_for(slot);
        if queued >= self.settings.mailbox_capacity {
            tenant.counters.mailbox_full += 1;
            let wait_us = (queued as f64 * self.former.us_per_unit()) as u64;
            let retry_after_ms = millis(wait_us);
            return Err((Refusal::MailboxFull { retry_after_ms }, job));
        }
        let purpose = job.submit.purpose.as_str();
        let class = job.submit.dataset_class;
        let budget_cost = self.settings.costs.of(&job.submit.statement);
        if let Err(over) = tenant.budget.reserve(purpose, class, budget_cost, unix_now) {
            // Fleet mode: refused for want of this appliance's share is demand its next lease
            // should cover, unless the tenant's rate would have refused it anyway.
            if over.by_grant && tenant.bucket.available(now) >= 1 {
                tenant.budget.count_refused_by_grant(&over);
            }
            tenant.counters.over_budget += 1;
            return Err((Refusal::OverBudget(Box::new(over)), job));
        }
        if let Err(retry) = tenant.bucket.try_take(1, now) {
            tenant.budget.release(purpose, class, budget_cost);
            tenant.counters.over_rate += 1;
            let retry_after_ms = u32::try_from(retry.millis()).unwrap_or(u32::MAX);
            return Err((Refusal::OverRate { retry_after_ms }, job));
        }
        tenant.counters.admitted += 1;
        let mut job = job;
        job.reservation = Reservation {
            cost: budget_cost,
            policy: tenant.budget.policy(class),
        };
        job.admitted = now;
        let cost = job.cost();
        self.lanes.admitted(slot, cost, now);
        if self.drr.enqueue(slot, job, cost).is_err() {
            unreachable!("the mailbox was checked for room above");
        }
        Ok(())
    }

    /// Whether `tenant` may submit proofs under key `id` now: registered, granted or in the
    /// bundle's registry, and prepared.
    pub fn can_use_key(&self, tenant: TenantSlot, id: KeyId) -> bool {
        self.tenants[tenant.0 as usize].allowed_keys.contains(&id) && self.keys.get(&id).is_ok()
    }

    /// What `statement` costs against budgets under the terms in force.
    pub fn budget_cost(&self, statement: &Statement) -> u64 {
        self.settings.costs.of(statement)
    }

    /// Takes one request's worth from `tenant`'s admission bucket, for work that is not a
    /// submission (a key registration): it comes out of the same quota.
    pub fn take_quota(&mut self, tenant: TenantSlot, now: Micros) -> Result<(), u32> {
        let tenant = &mut self.tenants[tenant.0 as usize];
        tenant.bucket.try_take(1, now).map_err(|retry| {
            tenant.counters.over_rate += 1;
            u32::try_from(retry.millis()).unwrap_or(u32::MAX)
        })
    }

    /// Where registering a key for `tenant` stands, before any curve work: refused when the
    /// tenant's quota or partners' room is used up. Changes nothing; registering is finished
    /// by [`Shard::finish_registration`].
    pub fn check_registration(
        &self,
        tenant: TenantSlot,
        id: &KeyId,
        curve: Curve,
    ) -> Result<KeyState, KeyRefusal> {
        let state = &self.tenants[tenant.0 as usize];
        let prepared = self.keys.get(id).is_ok_and(|key| key.curve() == curve);
        if state.registered.contains(id) && prepared {
            return Ok(KeyState::Registered);
        }
        if state.registered.len() >= state.key_quota {
            return Err(KeyRefusal::Quota {
                quota: state.key_quota,
            });
        }
        let room = self.keys.room().partners;
        if !self.keys.is_held_by(id, Holder::Partners)
            && self.keys.held_by(Holder::Partners) >= room
        {
            return Err(KeyRefusal::Full(RegistryFull::Partners { capacity: room }));
        }
        Ok(if prepared {
            KeyState::Prepared
        } else {
            KeyState::Unprepared
        })
    }

    /// Registers a key for `tenant`: `prepared` is the key when it was not prepared here
    /// ([`KeyState::Unprepared`]), `None` to keep the one prepared. Checks again what
    /// [`Shard::check_registration`] checked.
    pub fn finish_registration(
        &mut self,
        tenant: TenantSlot,
        id: KeyId,
        prepared: Option<AnyKey>,
    ) -> Result<KeyId, KeyRefusal> {
        let state = &self.tenants[tenant.0 as usize];
        if !state.registered.contains(&id) && state.registered.len() >= state.key_quota {
            return Err(KeyRefusal::Quota {
                quota: state.key_quota,
            });
        }
        match prepared {
            Some(key) => {
                self.keys.insert(key, Holder::Partners)?;
            }
            None => {
                if !self.keys.hold(&id, Holder::Partners)? {
                    return Err(KeyRefusal::NotPrepared);
                }
            }
        }
        let state = &mut self.tenants[tenant.0 as usize];
        state.registered.insert(id);
        state.allowed_keys.insert(id);
        Ok(id)
    }

    /// Keeps a key registered before this start prepared for the tenants homed here that
    /// registered it. Their quotas are not applied: what was accepted stays, though a tenant
    /// over a lowered quota registers nothing more.
    pub fn restore_registered(
        &mut self,
        key: AnyKey,
        registered_by: &[TenantSlot],
    ) -> Result<KeyId, RegistryFull> {
        let id = self.keys.insert(key, Holder::Partners)?;
        for slot in registered_by {
            let state = &mut self.tenants[slot.0 as usize];
            state.registered.insert(id);
            state.allowed_keys.insert(id);
        }
        Ok(id)
    }

    /// Keeps a key of the bundle in force prepared (grant it to tenants with
    /// [`Shard::grant_key`]).
    pub fn install_bundle_key(&mut self, key: AnyKey) -> Result<KeyId, RegistryFull> {
        self.keys.insert(key, Holder::Bundle)
    }

    /// Keeps a key already prepared here (registered by partners) for the bundle too; false
    /// when it is not prepared here.
    pub fn hold_for_bundle(&mut self, id: &KeyId) -> Result<bool, RegistryFull> {
        self.keys.hold(id, Holder::Bundle)
    }

    /// The bundle in force no longer carries the key: it is dropped unless partners
    /// registered it, and taken back from every tenant homed here that did not register it.
    pub fn release_bundle_key(&mut self, id: &KeyId) {
        self.keys.release(id, Holder::Bundle);
        for tenant in &mut self.tenants {
            if !tenant.registered.contains(id) {
                tenant.allowed_keys.remove(id);
            }
        }
    }

    /// Whether a key with this id is prepared here.
    pub fn is_prepared(&self, id: &KeyId) -> bool {
        self.keys.get(id).is_ok()
    }

    /// The room for the bundle's keys and for partners'.
    pub fn key_room(&self) -> KeyRoom {
        self.keys.room()
    }

    /// Allows a tenant to use a key (granted by configuration).
    pub fn grant_key(&mut self, tenant: TenantSlot, id: KeyId) {
        self.tenants[tenant.0 as usize].allowed_keys.insert(id);
    }

    /// The next batch to verify, if one is due: a full batch, or one the latency-budgeted
    /// rule closes (see [`tf_batcher::policy`]), of those the share lane's before the surplus
    /// lane's (see [`Lane`]; a surplus batch gives way to due share batches between its steps,
    /// [`Shard::next_share_batch`]); requests waiting in the fair scheduler join their batches
    /// first, in its order. When a batch fills at once (a backlog), one that has stood open
    /// for the longest time a batch may take goes before it ([`BatchFormer::take_held_back`];
    /// the full one is the next batch), so a quiet tenant's request does not wait for a flood
    /// to fill its key's batch.
    pub fn next_batch(&mut self, now: Micros) -> Option<Batch<BatchKey, Job<R>>> {
        self.refresh_lanes(now);
        if let Some(batch) = self.ready.pop_front() {
            return Some(batch);
        }
        if let Some(full) = self.former.take_held_back() {
            return Some(full);
        }
        self.gather(now, None).or_else(|| self.former.take_due(now))
    }

    /// A batch of the share lane, if one is due now: what goes before the rest of a surplus
    /// batch being verified, between its steps. A surplus batch that closes meanwhile is the
    /// next batch [`Shard::next_batch`] hands out.
    pub fn next_share_batch(&mut self, now: Micros) -> Option<Batch<BatchKey, Job<R>>> {
        self.refresh_lanes(now);
        if self.ready.front().is_some_and(|b| b.lane == Lane::Share) {
            return self.ready.pop_front();
        }
        match self.former.held_back_lane() {
            // Another item of its key and lane may not close before it: it goes first.
            Some(Lane::Share) => return self.former.take_held_back(),
            Some(Lane::Surplus) => {}
            // Only share-lane requests are handed over here, even while surplus batches wait
            // in `ready`: they would otherwise wait in their mailboxes behind those batches.
            None => {
                if let Some(closed) = self.gather(now, Some(Lane::Share)) {
                    if closed.lane == Lane::Share {
                        return Some(closed);
                    }
                    self.ready.push_back(closed);
                }
            }
        }
        self.former.take_due_share(now)
    }

    /// Decides the tenants' lanes again if it is time to. When a tenant changed lanes, what
    /// waits is handed out before anything that joins after, in the share lane: a tenant's
    /// requests of a key are handed out in the order admitted, across its moves (batches of a
    /// key in different lanes may go out in either order, so they must not hold requests of
    /// one tenant from both sides of a move).
    fn refresh_lanes(&mut self, now: Micros) {
        if !self.lanes.refresh(now) {
            return;
        }
        // Oldest first: the batches closed already, the full one held back behind them, then
        // the open ones.
        let held_back = self.former.take_held_back();
        self.ready.extend(held_back);
        for batch in &mut self.ready {
            batch.lane = Lane::Share;
        }
        let open = self.former.close_all(Lane::Share, now);
        self.ready.extend(open);
    }

    /// Hands the requests waiting in the fair scheduler to the former, in its order, until a
    /// batch closes: every tenant's, or `only` the tenants in that lane.
    fn gather(&mut self, now: Micros, only: Option<Lane>) -> Option<Batch<BatchKey, Job<R>>> {
        loop {
            let lanes = &self.lanes;
            let picked = match only {
                Some(lane) => self.drr.pick_next_where(|slot| lanes.lane(slot) == lane),
                None => self.drr.pick_next(),
            };
            let (slot, job) = picked?;
            let key = job.batch_key();
            let arrival = Arrival {
                at: job.admitted,
                units: job.cost(),
                handed_over: now,
                lane: self.lanes.lane(slot),
            };
            if let Some(closed) = self.former.add(key, job, arrival) {
                return Some(closed);
            }
        }
    }

    /// Whether more work is due now besides the batch just taken: requests still queued, a
    /// batch closed already (ready, or held back), or an open batch that stopped waiting (as of
    /// the last [`Shard::next_batch`]).
    pub fn another_batch_due(&self, now: Micros) -> bool {
        self.drr.queued() > 0
            || !self.ready.is_empty()
            || self.former.next_deadline().is_some_and(|d| d <= now)
    }

    /// When an open batch closes unless others join it (the runtime wakes the shard then); at
    /// once while a batch closed already waits to be handed out (held back behind a standing
    /// one, or ready after a lane change).
    pub fn next_deadline(&self) -> Option<Micros> {
        if !self.ready.is_empty() {
            return Some(Micros(0));
        }
        self.former.next_deadline()
    }

    /// Verifies a batch in one call, one verdict per job in order, and counts the verdicts.
    pub fn verify<G: RngCore + CryptoRng>(
        &mut self,
        batch: &Batch<BatchKey, Job<R>>,
        rng: &mut G,
    ) -> Vec<Verdict> {
        let verdicts = self.verification(batch).finish(rng);
        self.count_verdicts(batch, &verdicts);
        verdicts
    }

    /// Starts verifying a batch a step at a time; it borrows only the batch, so the shard keeps
    /// admitting while it runs. Count the verdicts with [`Shard::count_verdicts`].
    pub fn verification<'b>(&self, batch: &'b Batch<BatchKey, Job<R>>) -> Verification<'b, R> {
        let key = self.groth16_key(&batch.key);
        Verification::new(batch.key, &batch.items, key.as_ref(), &self.settings.limits)
    }

    /// Packs a batch with what verifying it needs (its prepared key, shared), so another core
    /// can verify it; its verdicts come back here to be decided ([`Shard::count_verdicts`],
    /// [`Shard::settle`]), so budgets and revisions stay with the tenant's home.
    pub fn lend(&self, batch: Batch<BatchKey, Job<R>>) -> Lent<R> {
        Lent::new(self.groth16_key(&batch.key), self.settings.limits, batch)
    }

    fn groth16_key(&self, key: &BatchKey) -> Option<Result<Arc<AnyKey>, Rejection>> {
        match key {
            BatchKey::Groth16(id) => Some(self.keys.get(id).cloned()),
            _ => None,
        }
    }

    /// Counts a verified batch's verdicts per tenant.
    pub fn count_verdicts(&mut self, batch: &Batch<BatchKey, Job<R>>, verdicts: &[Verdict]) {
        for (job, verdict) in batch.items.iter().zip(verdicts) {
            let counters = &mut self.tenants[job.tenant.0 as usize].counters;
            match verdict {
                Verdict::Valid => counters.valid += 1,
                Verdict::Invalid(_) => counters.invalid += 1,
                _ => counters.rejected += 1,
            }
        }
    }

    /// Settles a verified job's budget reservation: charges it or releases it, by its class's
    /// policy and its verdict.
    pub fn settle(&mut self, job: &Job<R>, verdict: &Verdict, unix_now: u64) -> Settlement {
        let valid = matches!(verdict, Verdict::Valid);
        self.tenants[job.tenant.0 as usize].budget.settle_under(
            &job.submit.purpose,
            job.submit.dataset_class,
            job.reservation.cost,
            job.reservation.policy,
            valid,
            unix_now,
        )
    }

    /// Takes back a charge the ledger could not store (its partner was told nothing was charged).
    pub fn refund(
        &mut self,
        slot: TenantSlot,
        purpose: &str,
        class: DatasetClass,
        amount: u64,
        unix_at: u64,
    ) {
        if let Some(tenant) = self.tenants.get_mut(slot.0 as usize) {
            tenant.budget.refund(purpose, class, amount, unix_at);
        }
    }

    /// Puts a promoted bundle's terms for a tenant in force: scheduling weight, admission
    /// quota and budget caps (see [`TenantBudget::reconfigure`] for `history`).
    pub fn reconfigure_tenant(
        &mut self,
        slot: TenantSlot,
        terms: &TenantTerms,
        history: &[PastCharge],
        now: Micros,
        unix_now: u64,
    ) {
        self.drr.set_weight(slot, terms.weight);
        self.lanes.set_weight(slot, terms.weight);
        let policies = self.settings.charge_policies;
        let tenant = &mut self.tenants[slot.0 as usize];
        tenant
            .bucket
            .reconfigure(terms.rate_per_sec, terms.burst, now);
        tenant.key_quota = terms.key_quota;
        tenant
            .budget
            .reconfigure(terms.caps.clone(), policies, history, unix_now);
    }

    /// From when charges must be read back for `caps` to replace a tenant's caps (`None`:
    /// it holds them all already).
    pub fn history_needed(&self, slot: TenantSlot, caps: &[CapSpec], unix_now: u64) -> Option<u64> {
        self.tenants[slot.0 as usize]
            .budget
            .history_needed(caps, unix_now)
    }

    /// Puts new costs and charge policies in force for requests admitted from now on (call
    /// before [`Shard::reconfigure_tenant`], which hands the policies to each budget).
    pub fn set_pricing(&mut self, costs: Costs, charge_policies: ChargePolicies) {
        self.settings.costs = costs;
        self.settings.charge_policies = charge_policies;
    }

    /// Takes a key granted by id away from a tenant, unless it registered the key itself.
    pub fn revoke_key(&mut self, tenant: TenantSlot, id: KeyId) {
        let tenant = &mut self.tenants[tenant.0 as usize];
        if !tenant.registered.contains(&id) {
            tenant.allowed_keys.remove(&id);
        }
    }

    /// Restores charges read back from the ledger at start (see
    /// [`tf_budgets::TenantBudget::restore`]).
    #[allow(clippy::too_many_arguments)]
    pub fn restore_charges(
        &mut self,
        tenant: TenantSlot,
        purpose: &str,
        class: DatasetClass,
        amount: u64,
        first_at: u64,
        last_at: u64,
        unix_now: u64,
    ) {
        self.tenants[tenant.0 as usize]
            .budget
            .restore(purpose, class, amount, first_at, last_at, unix_now);
    }

    /// A tenant's caps and where they stand.
    pub fn budget_status(&mut self, tenant: TenantSlot, unix_now: u64) -> Vec<CapStatus> {
        self.tenants[tenant.0 as usize].budget.status(unix_now)
    }

    /// Records how long a batch took to verify (decided at `now`), so batching learns what
    /// each key costs and how busy the shard is.
    pub fn record_service(
        &mut self,
        batch: &Batch<BatchKey, Job<R>>,
        elapsed: Micros,
        now: Micros,
    ) {
        self.lanes.verified(elapsed.0, now);
        let units = batch.items.iter().map(Job::cost).sum();
        self.former
            .observe(&batch.key, batch.items.len(), units, elapsed);
    }

    /// Returns a finished batch's storage for reuse.
    pub fn recycle(&mut self, items: Vec<Job<R>>) {
        self.former.recycle(items);
    }
}

fn millis(us: u64) -> u32 {
    u32::try_from(us.div_ceil(1000).max(1)).unwrap_or(u32::MAX)
}
