//! The home-shard side of a shard: admits requests for the tenants homed here (rate, queue and
//! budget), registers their keys, reports their budgets, and turns verified batches into
//! decided requests with settled budget charges for the ledger.

use std::sync::Arc;
use std::time::Duration;

use tf_drift::Busy;
use tf_drift::block::{RecordOutcome, SettlementRecord};
use tf_engine::groth16::AnyKey;
use tf_engine::{KeyId, Verdict};
use tf_ledger::ChargeGroup;
use tf_seam::clock::Now;
use tf_seam::{ActivePolicy, Board, StagedTerms, TenantTable};
use tf_shard::{
    Batch, BatchKey, Job, KeyState, Lane, Lent, Micros, Refusal, Shard, ShardSettings, TenantSlot,
    Verification, engine_curve, receipt_for,
};
use tf_state::{KeyStore, StoredKey};
use tf_wire::{DatasetClass, ErrorCode, Statement};

use super::decisions::{Recorder, Submission};
use super::prepare::Preparing;
use super::registration::{self, Registrations, Waiting};
use super::replies;
use super::routes::{Decided, HistoryQuery, Reply, Route, ToHome, UnstoredCharge};
use super::support::Support;
use crate::policy::PolicyGate;

/// A shard's home-side state.
pub struct Home {
    shard: Shard<Route>,
    keystore: KeyStore,
    settings: ShardSettings,
    /// Told to partners over budget: how to ask for more.
    budget_contact: String,
    metrics: tf_metrics::ShardMetrics,
    /// The policy bundle in force, checked before quotas and budgets.
    gate: PolicyGate,
    board: Arc<Board>,
    index: usize,
    tenants: Arc<TenantTable>,
    /// A promotion's terms being prepared, applied when its policy is published.
    preparing: Option<Preparing>,
    /// The generation of the staged terms last begun.
    begun: u64,
    /// The keys the bundle in force's registry grants every tenant it lists.
    bundle_keys: Vec<KeyId>,
    /// Key registrations waiting for the verification path.
    registrations: Registrations,
    /// This shard's side of the decision log.
    recorder: Recorder,
    /// The appliance's own tenant (the golden canary's): kept out of the decision latency.
    own_tenant: Option<String>,
    /// Its slot in `tenants`, found when the table changes rather than per batch.
    own_slot: Option<TenantSlot>,
    /// Where partners' failed steps are reported.
    support: Support,
}

impl Home {
    /// Applies reloaded admission quotas.
    pub fn set_admission(&mut self, quotas: &[tf_seam::Quota], now: tf_shard::Micros) {
        for quota in quotas {
            self.shard
                .set_admission(quota.slot, quota.rate_per_sec, quota.burst, now);
        }
    }

    /// The home side of shard `index` over a scheduler core.
    pub fn new(
        index: usize,
        shard: Shard<Route>,
        tenants: Arc<TenantTable>,
        keystore: KeyStore,
        settings: ShardSettings,
        budget_contact: String,
        board: Arc<Board>,
    ) -> Self {
        let mut shard = shard;
        if board.fleet().is_some() {
            shard.lease_caps();
        }
        let gate = PolicyGate::new(&board);
        // The terms staged before this shard started are the ones it started with.
        let begun = board.stage_generation();
        board.shard_prepared(index, begun);
        let mut home = Home {
            metrics: tf_metrics::ShardMetrics::new(shard.tenant_count()),
            shard,
            keystore,
            settings,
            budget_contact,
            gate,
            board,
            index,
            tenants,
            preparing: None,
            begun,
            bundle_keys: Vec::new(),
            registrations: Registrations::default(),
            recorder: Recorder::new(index, None),
            own_tenant: None,
            own_slot: None,
            support: Support::default(),
        };
        // The registry of the bundle in force at start, prepared when it was opened.
        if let Some(bundle) = home.board.policy().bundle.clone() {
            let keys: Vec<(KeyId, AnyKey)> = bundle
                .content
                .keys
                .iter()
                .map(|k| (k.key.id(), k.key.clone()))
                .collect();
            let listed = home.tenants.clone();
            home.switch_keys(&keys, &listed, |_| &[]);
        }
        home
    }

    /// Keeps `tenant`'s requests (the appliance's own traffic) out of the decision latency.
    pub fn own_traffic(mut self, tenant: Option<String>) -> Self {
        self.own_tenant = tenant;
        self.find_own_slot();
        self
    }

    fn find_own_slot(&mut self) {
        self.own_slot = (self.own_tenant.as_deref()).and_then(|id| self.tenants.slot(id));
    }

    /// Reports partners' failed steps to `support`.
    pub fn supporting(mut self, support: Support) -> Self {
        self.support = support;
        self
    }

    /// Records this shard's decisions with `recorder`.
    pub fn recording(mut self, recorder: Recorder) -> Self {
        self.recorder = recorder;
        self
    }

    /// Picks up a newly promoted policy and its terms (also done before every admission).
    pub fn refresh_policy(&mut self, now: Now) -> tf_shard::PolicyStamp {
        if let Some(active) = self.gate.refresh(&self.board) {
            self.switch_terms(&active, now);
        }
        self.gate.stamp()
    }

    /// The tenants admitted here (grown by promotions that add some).
    pub fn tenants(&self) -> &Arc<TenantTable> {
        &self.tenants
    }

    /// The generation of the staged terms this shard last began preparing.
    pub fn prepare_begun(&self) -> u64 {
        self.begun
    }

    /// Begins preparing staged terms; returns the questions for the ledger, to be sent in
    /// order after every decided request sent so far.
    pub fn begin_prepare(&mut self, staged: Arc<StagedTerms>, now: Now) -> Vec<HistoryQuery> {
        self.begun = staged.generation;
        self.add_tenants(&staged.table, now);
        let (preparing, queries) = Preparing::begin(staged, &self.shard, self.index, now.unix_us);
        if preparing.ready() {
            self.board
                .shard_prepared(self.index, preparing.generation());
        }
        self.preparing = Some(preparing);
        queries
    }

    /// The staged terms were withdrawn (their switch failed): drops what was prepared. Slots
    /// of added tenants stay, as the control plane's table keeps them.
    pub fn withdraw_prepare(&mut self, generation: u64) {
        self.begun = generation;
        self.preparing = None;
    }

    /// The ledger answered a history question.
    pub fn history_arrived(
        &mut self,
        query: &HistoryQuery,
        charges: Result<Vec<tf_ledger::ChargeGroup>, String>,
    ) {
        let Some(preparing) = self.preparing.as_mut() else {
            return;
        };
        preparing.history_arrived(query, charges);
        if preparing.ready() {
            self.board
                .shard_prepared(self.index, preparing.generation());
        }
    }

    /// Makes room for the tenants a staged bundle adds (every shard numbers them alike), and
    /// prepares the keys those homed here registered when an earlier bundle listed them.
    fn add_tenants(&mut self, table: &TenantTable, now: Now) {
        let first = self.shard.tenant_count();
        if table.len() <= first {
            return;
        }
        for spec in &table.specs()[first..] {
            self.shard.add_tenant(spec, now.mono, now.unix_us);
        }
        self.metrics.grow(table.len());
        // Keys an added tenant registered (under an earlier bundle) or is granted by id.
        let homed: Vec<String> = (first..table.len())
            .map(|slot| TenantSlot(slot as u32))
            .filter(|slot| table.home(*slot) == self.index)
            .map(|slot| table.id(slot).to_owned())
            .collect();
        if homed.is_empty() {
            return;
        }
        let stored = match self.keystore.registered_by(&homed) {
            Ok(loaded) => {
                for unreadable in &loaded.unreadable {
                    tracing::warn!("a registered verifying key was skipped: {unreadable}");
                }
                loaded.keys
            }
            Err(error) => {
                tracing::error!(%error, "loading registered keys for added tenants failed");
                return;
            }
        };
        install_keys(
            &mut self.shard,
            table,
            self.index,
            &stored,
            &self.settings.limits,
        );
    }

    /// Puts a newly published policy's terms in force: weights, quotas, caps, costs, charge
    /// policies, the over-budget contact and the key registry.
    fn switch_terms(&mut self, active: &ActivePolicy, now: Now) {
        let Some(terms) = &active.terms else { return };
        let preparing = match self.preparing.take() {
            Some(p) if p.generation() == terms.generation => p,
            _ => {
                self.add_tenants(&terms.table, now);
                Preparing::begin(terms.clone(), &self.shard, self.index, now.unix_us).0
            }
        };
        preparing.apply(&mut self.shard, self.index, now.mono, now.unix_us);
        self.tenants = terms.table.clone();
        self.find_own_slot();
        self.budget_contact = terms.contact.clone();
        self.switch_keys(&terms.keys, &terms.table, |slot| {
            terms.tenants[slot.0 as usize]
                .as_ref()
                .map_or(&[], |t| t.keys.as_slice())
        });
    }

    /// Puts a bundle's key registry in force: the previous registry's keys it drops are
    /// released first (taken back from every tenant that did not register them itself), so
    /// the new ones always have room; then its keys, and the keys it grants by id, are granted
    /// to every tenant homed here that it lists.
    fn switch_keys<'t>(
        &mut self,
        keys: &[(KeyId, AnyKey)],
        table: &TenantTable,
        granted: impl Fn(TenantSlot) -> &'t [KeyId],
    ) {
        let new_ids: Vec<KeyId> = keys.iter().map(|(id, _)| *id).collect();
        for id in &self.bundle_keys {
            if !new_ids.contains(id) {
                self.shard.release_bundle_key(id);
            }
        }
        for (id, key) in keys {
            let kept = match self.shard.hold_for_bundle(id) {
                Ok(true) => Ok(*id),
                Ok(false) => self.shard.install_bundle_key(key.clone()),
                Err(full) => Err(full),
            };
            if let Err(full) = kept {
                // Promotion refuses a bundle with more keys than the room (see tf-control).
                tracing::error!(key_id = %id, %full, "a bundle key was not prepared");
            }
        }
        for i in 0..table.len() {
            let slot = TenantSlot(i as u32);
            if table.home(slot) != self.index || !table.is_listed(slot) {
                continue;
            }
            for id in new_ids.iter().chain(granted(slot)) {
                self.shard.grant_key(slot, *id);
            }
        }
        self.bundle_keys = new_ids;
    }

    /// The tenants homed on this shard: every one, since a promotion may give caps to one
    /// started without.
    fn homed(&self) -> Vec<TenantSlot> {
        (0..self.tenants.specs().len())
            .map(|slot| TenantSlot(slot as u32))
            .filter(|slot| self.tenants.home(*slot) == self.index)
            .collect()
    }

    /// Fleet mode: what the tenants homed here spent from their calendar caps in each cap's
    /// current window, requests being verified included (rolling caps are not leased).
    pub fn cap_demands(&mut self, now: Now) -> Vec<tf_seam::CapDemand> {
        let mut demands = Vec::new();
        for slot in self.homed() {
            for status in self.shard.budget_status(slot, now.unix_us) {
                // The cap's own window: it never moves back when the clock does.
                let Some(span) = status
                    .resets_at_us
                    .and_then(|end| status.cap.window.span(end.saturating_sub(1)))
                else {
                    continue;
                };
                demands.push(tf_seam::CapDemand {
                    tenant: self.tenants.id(slot).to_owned(),
                    cap: status.cap,
                    window_start_us: span.start,
                    spent_here: status.used + status.reserved,
                    refused_here: status.refused_by_grant,
                });
            }
        }
        demands
    }

    /// Fleet mode: puts the fleet's grants for the tenants homed here in force.
    pub fn apply_grants(&mut self, grants: &[tf_seam::CapGrant]) {
        for grant in grants {
            if let Some(slot) = self.tenants.slot(&grant.tenant)
                && self.tenants.home(slot) == self.index
            {
                self.shard.grant(slot, &grant.cap, grant.grant);
            }
        }
    }

    /// What this shard publishes for scrapes: its counters, queue, and the budget use of the
    /// capped tenants homed on it.
    pub fn snapshot(&mut self, connections: u64, now: Now) -> tf_metrics::ShardSnapshot {
        let mut budgets = Vec::new();
        for slot in self.homed() {
            for status in self.shard.budget_status(slot, now.unix_us) {
                budgets.push(tf_metrics::BudgetGauge {
                    tenant: slot,
                    status,
                });
            }
        }
        (
            self.metrics.decisions_recorded,
            self.metrics.decisions_not_recorded,
        ) = self.recorder.totals();
        tf_metrics::ShardSnapshot {
            metrics: self.metrics.clone(),
            queue_depth: self.shard.pending(),
            connections,
            cpu_seconds: tf_metrics::thread_cpu_seconds().unwrap_or(0.0),
            budgets,
            policy_revision: self.gate.stamp().revision,
        }
    }

    /// Takes a request for a tenant homed here. Returns the answer when there is one at once
    /// (a refusal, a budget report, a key already registered); `None` when the request was
    /// queued (a submission, or a registration waiting for the verifier).
    pub fn receive(&mut self, message: ToHome, now: Now) -> Option<Reply> {
        match message {
            ToHome::Submit(job) => self.submit(job, now),
            ToHome::Budgets {
                tenant,
                request_id,
                route,
            } => {
                let frame = match self.unlisted(tenant, "asking for its budgets", now) {
                    Some(refused) => replies::error(request_id, refused),
                    None => {
                        let caps = self.shard.budget_status(tenant, now.unix_us);
                        let id = self.shard.tenant_id(tenant);
                        replies::budget_status(request_id, id, &caps)
                    }
                };
                Some(Reply { route, frame })
            }
            ToHome::RegisterKey {
                tenant,
                request_id,
                curve,
                key,
                route,
            } => self.register(tenant, request_id, curve, key, route, now),
        }
    }

    /// The refusal of every request of a tenant the policy in force no longer lists.
    fn unlisted(&mut self, tenant: TenantSlot, doing: &str, now: Now) -> Option<ErrorCode> {
        self.refresh_policy(now);
        let id = self.shard.tenant_id(tenant);
        self.gate
            .lists(id, doing)
            .err()
            .map(ErrorCode::DeniedByPolicy)
    }

    /// Admission: the policy in force, then key, mailbox, budget and quota (in the shard).
    /// Every refusal is recorded in the decision log here; an admitted request once decided.
    fn submit(&mut self, mut job: Job<Route>, now: Now) -> Option<Reply> {
        if let Some(unavailable) = self.storage_unavailable() {
            // Not verified and not charged: no receipt could be stored for it. Not an
            // admission decision either (no bundle would decide it otherwise): not recorded.
            return Some(Reply {
                route: job.route,
                frame: replies::error(job.submit.request_id, unavailable),
            });
        }
        self.refresh_policy(now);
        job.decision_seq = self.recorder.next_seq();
        let tenant = self.shard.tenant_id(job.tenant);
        match self.gate.admit(job.tenant, tenant, &job.submit) {
            Ok(stamp) => job.policy = stamp,
            Err(denial) => {
                self.metrics.denied(&job);
                self.support.denied(tenant, &job.submit.purpose, &denial);
                let unlisted = self.gate.lists(tenant, "").is_err();
                let outcome = RecordOutcome::Denied {
                    policies: &denial.policies,
                    unlisted,
                };
                self.record_submission(&job, now, outcome);
                let frame =
                    replies::error(job.submit.request_id, ErrorCode::DeniedByPolicy(denial));
                return Some(Reply {
                    route: job.route,
                    frame,
                });
            }
        }
        // Recorded as admitted before the shard's checks take the request over; a refusal
        // changes the record.
        self.record_submission(&job, now, RecordOutcome::Admitted);
        match self.shard.admit(job, now.mono, now.unix_us) {
            Ok(()) => None,
            Err((refusal, job)) => {
                self.metrics.refused(&job, &refusal);
                let tenant = self.shard.tenant_id(job.tenant);
                self.support.refused(tenant, &job.submit.purpose, &refusal);
                self.recorder.refuse_last(match &refusal {
                    Refusal::OverRate { .. } => RecordOutcome::OverRate,
                    Refusal::MailboxFull { .. } => RecordOutcome::Busy(Busy::Mailbox),
                    Refusal::UnknownKey(_) => RecordOutcome::UnknownKey,
                    Refusal::OverBudget(_) => RecordOutcome::OverBudget,
                    // Refusals added later are recorded as load until replay knows them.
                    _ => RecordOutcome::Busy(Busy::Mailbox),
                });
                let frame = replies::refusal(
                    job.submit.request_id,
                    &refusal,
                    tenant,
                    &self.budget_contact,
                );
                Some(Reply {
                    route: job.route,
                    frame,
                })
            }
        }
    }

    /// The answer to new work while the ledger cannot commit (a storage fault in force).
    fn storage_unavailable(&self) -> Option<ErrorCode> {
        let health = self.board.storage();
        if !health.faulted() {
            return None;
        }
        Some(ErrorCode::Unavailable {
            retry_after_ms: tf_seam::STORAGE_RETRY_MS,
            detail: health
                .report()
                .map_or("the ledger cannot commit", |r| r.fault)
                .to_owned(),
        })
    }

    /// Gives back charges the ledger could not store (their requests were answered
    /// `Unavailable`): the partner was told nothing was charged, and nothing was.
    pub fn refund(&mut self, unstored: &[UnstoredCharge]) {
        for charge in unstored {
            let Some(slot) = self.tenants.slot(&charge.tenant) else {
                continue;
            };
            self.shard.refund(
                slot,
                &charge.purpose,
                charge.class,
                charge.amount,
                charge.at_unix_us,
            );
        }
    }

    /// Records a submission decided at admission now.
    fn record_submission(&mut self, job: &Job<Route>, now: Now, outcome: RecordOutcome<'_>) {
        let key_known = match &job.submit.statement {
            Statement::Groth16 { key_id, .. } => self.shard.can_use_key(job.tenant, KeyId(*key_id)),
            _ => true,
        };
        let submission = Submission {
            job,
            tenant: self.shard.tenant_id(job.tenant),
            seq: job.decision_seq,
            at_us: now.unix_us,
            mono_us: now.mono.0,
            cost: self.shard.budget_cost(&job.submit.statement),
            revision: self.gate.stamp().revision,
            key_known,
        };
        self.recorder
            .record(&submission.record(outcome), now.mono.0);
    }

    /// Records a submission turned away busy on its way to another shard (it never reached
    /// admission there).
    pub fn record_ingress_busy(&mut self, job: &Job<Route>, now: Now) {
        let submission = Submission {
            job,
            tenant: self.shard.tenant_id(job.tenant),
            seq: self.recorder.next_seq(),
            at_us: now.unix_us,
            mono_us: now.mono.0,
            cost: self.shard.budget_cost(&job.submit.statement),
            revision: self.gate.stamp().revision,
            key_known: true,
        };
        let outcome = RecordOutcome::Busy(Busy::Ingress);
        self.recorder
            .record(&submission.record(outcome), now.mono.0);
    }

    /// Hands the decision log's last block to the writer and lets go of it (the shard stops).
    pub fn close_decisions(&mut self) {
        self.recorder.close();
    }

    /// Seals the decision log's open block if it is due (at each pulse).
    pub fn seal_decisions_if_due(&mut self, now: Now) {
        self.recorder.seal_if_due(now.mono.0);
    }

    /// Registers a key: tenant status, then the admission quota, then the tenant's key quota
    /// and partners' room, all before any curve work; a key the tenant registered already is
    /// answered at once, any other waits for the verifier ([`Home::register_next`]).
    fn register(
        &mut self,
        tenant: TenantSlot,
        request_id: u64,
        curve: tf_wire::Curve,
        bytes: Vec<u8>,
        route: Route,
        now: Now,
    ) -> Option<Reply> {
        let answer = |frame| Some(Reply { route, frame });
        if let Some(refused) = self.unlisted(tenant, "registering a verifying key", now) {
            return answer(replies::error(request_id, refused));
        }
        // A registration is paid for out of the tenant's admission quota, like a submission.
        if let Err(retry_after_ms) = self.shard.take_quota(tenant, now.mono) {
            return answer(replies::error(
                request_id,
                ErrorCode::Busy { retry_after_ms },
            ));
        }
        let curve = engine_curve(curve);
        // Only canonical bytes decode, so the id is known before any curve work.
        let id = KeyId::of_canonical_bytes(&bytes);
        match self.shard.check_registration(tenant, &id, curve) {
            Err(refusal) => {
                self.support
                    .key_refused(self.shard.tenant_id(tenant), &refusal);
                answer(replies::error(
                    request_id,
                    ErrorCode::KeyRefused {
                        detail: refusal.to_string(),
                    },
                ))
            }
            Ok(KeyState::Registered) => answer(replies::key_registered(request_id, id)),
            Ok(_) => {
                let waiting = Waiting {
                    tenant,
                    request_id,
                    id,
                    curve,
                    bytes,
                    route,
                };
                match self.registrations.push(waiting) {
                    Ok(()) => None,
                    Err(waiting) => Some(Reply {
                        route: waiting.route,
                        frame: replies::error(
                            request_id,
                            ErrorCode::Busy {
                                retry_after_ms: registration::RETRY_MS,
                            },
                        ),
                    }),
                }
            }
        }
    }

    /// Whether a key registration waits for the verifier.
    pub fn registration_waiting(&self) -> bool {
        !self.registrations.is_empty()
    }

    /// On the verification path: prepares the oldest waiting key if it is not prepared here
    /// (decoding with subgroup checks, and a pairing), records the registration durably, then
    /// grants it. Everything is checked again, as registrations finished since it was queued.
    pub fn register_next(&mut self) -> Option<Reply> {
        let Waiting {
            tenant,
            request_id,
            id,
            curve,
            bytes,
            route,
        } = self.registrations.pop()?;
        let refused = |detail: String| replies::error(request_id, ErrorCode::KeyRefused { detail });
        let frame = match self.shard.check_registration(tenant, &id, curve) {
            Err(refusal) => {
                self.support
                    .key_refused(self.shard.tenant_id(tenant), &refusal);
                refused(refusal.to_string())
            }
            Ok(KeyState::Registered) => replies::key_registered(request_id, id),
            Ok(state) => {
                let prepared = match state {
                    KeyState::Unprepared => {
                        match AnyKey::decode(curve, &self.settings.limits, &bytes) {
                            Ok(prepared) => Some(prepared),
                            Err(rejection) => {
                                let detail = format!("verifying key: {rejection}");
                                self.support.bad_key(self.shard.tenant_id(tenant), &detail);
                                let frame = refused(detail);
                                return Some(Reply { route, frame });
                            }
                        }
                    }
                    _ => None,
                };
                let tenant_id = self.shard.tenant_id(tenant).to_owned();
                let stored = StoredKey { id, curve, bytes };
                // Recorded before it is granted: a key in use is always one that survives a
                // restart.
                if let Err(error) = self.keystore.save(&tenant_id, &stored) {
                    tracing::error!(tenant = tenant_id, %error, "saving a registered key failed");
                    replies::error(request_id, ErrorCode::Internal)
                } else {
                    match self.shard.finish_registration(tenant, id, prepared) {
                        Ok(id) => {
                            tracing::info!(tenant = tenant_id, key_id = %id, "verifying key registered");
                            replies::key_registered(request_id, id)
                        }
                        Err(refusal) => {
                            self.support.key_refused(&tenant_id, &refusal);
                            refused(refusal.to_string())
                        }
                    }
                }
            }
        };
        Some(Reply { route, frame })
    }

    /// Takes the next due batch off the scheduler, if one is due.
    pub fn next_batch(&mut self, now: Micros) -> Option<Batch<BatchKey, Job<Route>>> {
        self.shard.next_batch(now)
    }

    /// A batch of the share lane due now, to verify before the rest of a surplus batch.
    pub fn next_share_batch(&mut self, now: Micros) -> Option<Batch<BatchKey, Job<Route>>> {
        self.shard.next_share_batch(now)
    }

    /// Whether more of this shard's work is due now besides the batch in hand.
    pub fn another_batch_due(&self, now: Micros) -> bool {
        self.shard.another_batch_due(now)
    }

    /// Packs a batch for another core to verify (see lending.rs); its verdicts come back to
    /// [`Home::decide`].
    pub fn lend(&self, batch: Batch<BatchKey, Job<Route>>) -> Lent<Route> {
        self.shard.lend(batch)
    }

    /// Another core took a batch lent from here.
    pub fn count_lent(&mut self) {
        self.metrics.batches_lent += 1;
    }

    /// This core verified a batch for another shard.
    pub fn count_borrowed(&mut self) {
        self.metrics.batches_borrowed += 1;
    }

    /// Starts verifying a batch a step at a time (it borrows only the batch).
    pub fn verification<'b>(
        &self,
        batch: &'b Batch<BatchKey, Job<Route>>,
    ) -> Verification<'b, Route> {
        self.shard.verification(batch)
    }

    /// Settles each verified request's budget reservation (decided at `now`) and appends one decided request
    /// (receipt not yet numbered or signed) per job to `decided`. `busy` is the time spent
    /// verifying, which the scheduler learns the cost of a batch from.
    pub fn decide(
        &mut self,
        now: Now,
        shard_index: usize,
        batch: Batch<BatchKey, Job<Route>>,
        verdicts: Vec<Verdict>,
        busy: Duration,
        decided: &mut Vec<Decided>,
    ) {
        self.shard.count_verdicts(&batch, &verdicts);
        self.shard
            .record_service(&batch, Micros(busy.as_micros() as u64), now.mono);
        let decided_at = now.unix_us;
        self.metrics
            .decided(&batch.items, &verdicts, decided_at, self.own_slot);
        if batch.lane == Lane::Surplus {
            self.metrics.surplus(&batch.items);
        }
        let shard = shard_index as u16;
        for (job, verdict) in batch.items.iter().zip(verdicts) {
            let settlement = self.shard.settle(job, &verdict, decided_at);
            if let Some(preparing) = self.preparing.as_mut() {
                preparing.note_charge(
                    job.tenant,
                    &job.submit.purpose,
                    job.submit.dataset_class,
                    settlement.charged,
                    decided_at,
                );
            }
            let tenant = self.shard.tenant_id(job.tenant);
            self.support.decided(tenant, &job.submit.purpose, &verdict);
            let receipt = receipt_for(job, tenant, &verdict, settlement, shard, decided_at);
            let settled = SettlementRecord {
                seq: self.recorder.next_seq(),
                admitted_seq: job.decision_seq,
                at_us: decided_at,
                verdict: receipt.verdict,
                charged: settlement.charged,
            };
            self.recorder.settle(&settled, now.mono.0);
            decided.push(Decided {
                route: job.route,
                statement_digest: job.statement_digest(),
                verdict,
                receipt,
            });
        }
        self.shard.recycle(batch.items);
    }

    /// When an open batch's window ends.
    pub fn next_deadline(&self) -> Option<Micros> {
        self.shard.next_deadline()
    }
}

/// Restores the budget counters of the tenants homed on this shard from the charges the
/// ledger held at start. Returns how many charge groups were applied.
pub fn restore_budgets(
    shard: &mut Shard<Route>,
    tenants: &TenantTable,
    index: usize,
    restored: &[(TenantSlot, Vec<ChargeGroup>)],
    unix_now: u64,
) -> usize {
    let mut applied = 0;
    for (slot, groups) in restored {
        if tenants.home(*slot) != index {
            continue;
        }
        for group in groups {
            let Some(class) = DatasetClass::from_name(&group.dataset_class) else {
                continue;
            };
            shard.restore_charges(
                *slot,
                &group.purpose,
                class,
                group.charged,
                group.from_us,
                group.to_us,
                unix_now,
            );
            applied += 1;
        }
    }
    applied
}

/// Prepares the stored keys that tenants homed on this shard registered or were granted by id.
/// Returns how many keys were prepared.
pub fn install_keys(
    shard: &mut Shard<Route>,
    tenants: &TenantTable,
    index: usize,
    stored: &[(StoredKey, Vec<String>)],
    limits: &tf_engine::Limits,
) -> usize {
    let homed: Vec<TenantSlot> = (0..tenants.len())
        .map(|i| TenantSlot(i as u32))
        .filter(|slot| tenants.home(*slot) == index)
        .collect();
    let mut prepared = 0;
    for (key, registered_by) in stored {
        let registered: Vec<TenantSlot> = homed
            .iter()
            .copied()
            .filter(|slot| registered_by.iter().any(|t| t == tenants.id(*slot)))
            .collect();
        let granted: Vec<TenantSlot> = homed
            .iter()
            .copied()
            .filter(|slot| tenants.specs()[slot.0 as usize].keys.contains(&key.id))
            .collect();
        if registered.is_empty() && granted.is_empty() {
            continue;
        }
        let any = match AnyKey::decode(key.curve, limits, &key.bytes) {
            Ok(any) => any,
            Err(rejection) => {
                tracing::warn!(key_id = %key.id, %rejection, "a stored verifying key does not decode; skipped");
                continue;
            }
        };
        // A key granted by id is kept in partners' room too: partners registered it.
        let id = match shard.restore_registered(any, &registered) {
            Ok(id) => id,
            Err(full) => {
                tracing::warn!(%full, "registered verifying keys beyond the room were not loaded");
                break;
            }
        };
        for slot in granted {
            shard.grant_key(slot, id);
        }
        prepared += 1;
    }
    prepared
}
