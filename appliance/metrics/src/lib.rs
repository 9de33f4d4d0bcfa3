//! Metrics for Prometheus: shards and the ledger thread count in their own threads with plain
//! integers and publish a snapshot every half second; a scrape sums the latest snapshots and
//! writes the text exposition. Nothing on the request path touches a shared atomic or lock.
//!
//! The admin server reads the same snapshots ([`MetricsHub::snapshots`]) and tenant names
//! ([`MetricsHub::tenants`]) to sum them for people (its overview and budgets replies); this
//! crate knows nothing of those replies.

mod exposition;
mod fleet;
mod histogram;
mod process;
mod shard;

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

pub use exposition::Page;
pub use fleet::{FleetSnapshot, SHIPPING_LAG_SECONDS};
pub use histogram::{COMMIT_SECONDS, Histogram, LATENCY_SECONDS};
pub use process::thread_cpu_seconds;
pub use shard::{BudgetGauge, KINDS, OUTCOMES, ShardMetrics, ShardSnapshot};

/// What the ledger thread publishes.
#[derive(Clone, Debug)]
pub struct LedgerSnapshot {
    /// Time per commit (one transaction and its fsync).
    pub commit_seconds: Histogram,
    /// Receipts stored since start.
    pub receipts: u64,
    /// The next sequence number.
    pub next_seq: u64,
}

/// The latest snapshots, shared by the shards, the ledger and the admin server.
#[derive(Debug)]
pub struct MetricsHub {
    /// Tenant ids by slot; grows when a promotion adds tenants.
    tenants: Mutex<Arc<Vec<String>>>,
    shards: Vec<Mutex<Option<Arc<ShardSnapshot>>>>,
    ledger: Mutex<Option<Arc<LedgerSnapshot>>>,
    /// Fleet mode only.
    fleet: Mutex<Option<Arc<FleetSnapshot>>>,
    started: SystemTime,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl MetricsHub {
    /// A hub for `shards` shards serving `tenants` (ids by slot).
    pub fn new(tenants: Vec<String>, shards: usize) -> Self {
        MetricsHub {
            tenants: Mutex::new(Arc::new(tenants)),
            shards: (0..shards).map(|_| Mutex::new(None)).collect(),
            ledger: Mutex::new(None),
            fleet: Mutex::new(None),
            started: SystemTime::now(),
        }
    }

    /// Tenant ids by slot.
    pub fn tenants(&self) -> Arc<Vec<String>> {
        lock(&self.tenants).clone()
    }

    /// The latest snapshot of every shard that has published one, by shard index.
    pub fn snapshots(&self) -> Vec<Arc<ShardSnapshot>> {
        self.shards
            .iter()
            .filter_map(|slot| lock(slot).clone())
            .collect()
    }

    /// Learns the ids of tenants a promotion added (slots never change, so a longer list
    /// replaces a shorter one).
    pub fn know_tenants(&self, ids: Vec<String>) {
        let mut tenants = lock(&self.tenants);
        if ids.len() > tenants.len() {
            *tenants = Arc::new(ids);
        }
    }

    /// Shard `index` publishes.
    pub fn publish_shard(&self, index: usize, snapshot: ShardSnapshot) {
        *lock(&self.shards[index]) = Some(Arc::new(snapshot));
    }

    /// The ledger thread publishes.
    pub fn publish_ledger(&self, snapshot: LedgerSnapshot) {
        *lock(&self.ledger) = Some(Arc::new(snapshot));
    }

    /// The fleet worker publishes (fleet mode).
    pub fn publish_fleet(&self, snapshot: FleetSnapshot) {
        *lock(&self.fleet) = Some(Arc::new(snapshot));
    }

    /// The Prometheus text exposition of everything published, and how many times the main
    /// thread had to wake a sleeping executor (tf-dataplane nudge.rs).
    pub fn render(&self, executor_nudges: u64) -> String {
        let shards: Vec<(usize, Arc<ShardSnapshot>)> = self
            .shards
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| lock(slot).clone().map(|s| (i, s)))
            .collect();
        let mut page = Page::default();
        self.render_requests(&mut page, &shards);
        self.render_per_tenant(
            &mut page,
            &shards,
            "trust_fabric_surplus_requests_total",
            "Requests verified in the surplus lane, by tenant: sent beyond the tenant's share \
             of a busy shard, so batched apart from the other tenants' and verified after \
             theirs.",
            |m| &m.surplus,
        );
        render_shards(&mut page, &shards);
        self.render_budgets(&mut page, &shards);
        if let Some(ledger) = lock(&self.ledger).clone() {
            render_ledger(&mut page, &ledger);
        }
        if let Some(fleet) = lock(&self.fleet).clone() {
            fleet::render(&mut page, &fleet);
            self.render_share_refusals(&mut page, &shards);
        }
        self.render_process(&mut page);
        page.family(
            "trust_fabric_executor_nudges_total",
            "counter",
            "Times an executor slept past its own timers and the main thread woke it.",
        );
        page.sample(
            "trust_fabric_executor_nudges_total",
            &[],
            executor_nudges as f64,
        );
        page.finish()
    }

    fn render_share_refusals(&self, page: &mut Page, shards: &[(usize, Arc<ShardSnapshot>)]) {
        self.render_per_tenant(
            page,
            shards,
            "trust_fabric_fleet_share_refusals_total",
            "Requests refused over budget because this appliance's share of a cap, leased \
             from the fleet, ran out while the cap itself had room (also counted as \
             over_budget in trust_fabric_requests_total), by tenant.",
            |m| &m.fleet_share_refusals,
        );
    }

    /// A counter family with one sample per tenant, summed over the shards.
    fn render_per_tenant(
        &self,
        page: &mut Page,
        shards: &[(usize, Arc<ShardSnapshot>)],
        name: &str,
        help: &str,
        pick: fn(&ShardMetrics) -> &Vec<u64>,
    ) {
        page.family(name, "counter", help);
        for (slot, tenant) in self.tenants().iter().enumerate() {
            let total: u64 = shards
                .iter()
                .filter_map(|(_, s)| pick(&s.metrics).get(slot))
                .sum();
            page.sample(name, &[("tenant", tenant)], total as f64);
        }
    }

    fn render_requests(&self, page: &mut Page, shards: &[(usize, Arc<ShardSnapshot>)]) {
        page.family(
            "trust_fabric_requests_total",
            "counter",
            "Requests decided or refused on their tenant's home shard, by tenant, statement \
             kind and outcome (valid, invalid, rejected, over_rate, mailbox_full, unknown_key, \
             over_budget, denied_by_policy).",
        );
        for (slot, tenant) in self.tenants().iter().enumerate() {
            for (k, kind) in KINDS.iter().enumerate() {
                for (o, outcome) in OUTCOMES.iter().enumerate() {
                    let total: u64 = shards
                        .iter()
                        .filter_map(|(_, s)| s.metrics.outcomes.get(slot))
                        .map(|row| row[k][o])
                        .sum();
                    page.sample(
                        "trust_fabric_requests_total",
                        &[("tenant", tenant), ("kind", kind), ("outcome", outcome)],
                        total as f64,
                    );
                }
            }
        }
        for (name, help, pick) in [
            (
                "trust_fabric_decision_latency_seconds",
                "From a request's last byte received to its verdict, by statement kind.",
                (|m: &ShardMetrics| &m.decision_latency) as fn(&ShardMetrics) -> &Vec<Histogram>,
            ),
            (
                "trust_fabric_batch_size",
                "Requests per verified batch, by statement kind.",
                |m: &ShardMetrics| &m.batch_size,
            ),
        ] {
            page.family(name, "histogram", help);
            for (k, kind) in KINDS.iter().enumerate() {
                let mut sum: Option<Histogram> = None;
                for (_, snapshot) in shards {
                    let histogram = &pick(&snapshot.metrics)[k];
                    match &mut sum {
                        Some(total) => total.merge(histogram),
                        None => sum = Some(histogram.clone()),
                    }
                }
                if let Some(total) = sum {
                    page.histogram(name, &[("kind", kind)], &total);
                }
            }
        }
    }

    fn render_budgets(&self, page: &mut Page, shards: &[(usize, Arc<ShardSnapshot>)]) {
        for (name, help, value) in [
            (
                "trust_fabric_budget_used",
                "Budget units charged in the cap's current window.",
                (|b: &BudgetGauge| b.status.used) as fn(&BudgetGauge) -> u64,
            ),
            (
                "trust_fabric_budget_reserved",
                "Budget units held by requests being verified.",
                |b: &BudgetGauge| b.status.reserved,
            ),
            (
                "trust_fabric_budget_limit",
                "Budget units the cap allows per window.",
                |b: &BudgetGauge| b.status.cap.limit,
            ),
            (
                "trust_fabric_budget_granted",
                "Budget units this appliance may spend of the cap in its current window: the \
                 limit, or in fleet mode its share leased from the fleet.",
                |b: &BudgetGauge| b.status.granted,
            ),
        ] {
            page.family(name, "gauge", help);
            let tenants = self.tenants();
            for (_, snapshot) in shards {
                for gauge in &snapshot.budgets {
                    let tenant = tenants
                        .get(gauge.tenant.0 as usize)
                        .map_or("?", String::as_str);
                    let class = format!("{:?}", gauge.status.cap.class);
                    let window = gauge.status.cap.window.to_string();
                    let purpose = gauge.status.cap.purpose.as_deref().unwrap_or("*");
                    page.sample(
                        name,
                        &[
                            ("tenant", tenant),
                            ("purpose", purpose),
                            ("class", &class),
                            ("window", &window),
                        ],
                        value(gauge) as f64,
                    );
                }
            }
        }
    }

    fn render_process(&self, page: &mut Page) {
        page.family(
            "trust_fabric_build_info",
            "gauge",
            "The running version (always 1).",
        );
        page.sample(
            "trust_fabric_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        if let Some(cpu) = process::process_cpu_seconds() {
            page.family(
                "process_cpu_seconds_total",
                "counter",
                "User and system CPU time of the whole process, seconds.",
            );
            page.sample("process_cpu_seconds_total", &[], cpu);
        }
        if let Some(rss) = process::resident_bytes() {
            page.family(
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory, bytes.",
            );
            page.sample("process_resident_memory_bytes", &[], rss as f64);
        }
        if let Some(open) = process::open_fds() {
            page.family("process_open_fds", "gauge", "Open file descriptors.");
            page.sample("process_open_fds", &[], open as f64);
        }
        // Unlimited is left out rather than shown as a number an alert would divide by.
        if let Some(max) = process::max_fds() {
            page.family(
                "process_max_fds",
                "gauge",
                "Most file descriptors the process may open (its soft limit).",
            );
            page.sample("process_max_fds", &[], max as f64);
        }
        let started = self
            .started
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        page.family(
            "process_start_time_seconds",
            "gauge",
            "When the appliance started, Unix seconds.",
        );
        page.sample("process_start_time_seconds", &[], started);
    }
}

fn render_shards(page: &mut Page, shards: &[(usize, Arc<ShardSnapshot>)]) {
    for (name, kind, help, value) in [
        (
            "trust_fabric_queue_depth",
            "gauge",
            "Requests admitted on the shard and not yet verified.",
            (|s: &ShardSnapshot| s.queue_depth as f64) as fn(&ShardSnapshot) -> f64,
        ),
        (
            "trust_fabric_connections",
            "gauge",
            "Open QUIC connections on the shard.",
            |s: &ShardSnapshot| s.connections as f64,
        ),
        (
            "trust_fabric_shard_cpu_seconds_total",
            "counter",
            "CPU time of the shard's thread, seconds.",
            |s: &ShardSnapshot| s.cpu_seconds,
        ),
        (
            "trust_fabric_batches_lent_total",
            "counter",
            "Batches of requests homed on the shard that an idle core verified (their budgets, \
             receipts and policy stayed with the shard).",
            |s: &ShardSnapshot| s.metrics.batches_lent as f64,
        ),
        (
            "trust_fabric_decisions_recorded_total",
            "counter",
            "Admission decisions and settlements the shard handed to the decision log.",
            |s: &ShardSnapshot| s.metrics.decisions_recorded as f64,
        ),
        (
            "trust_fabric_decisions_not_recorded_total",
            "counter",
            "Admission decisions and settlements lost because the decision log's writer had no \
             room (drift reports name the gap).",
            |s: &ShardSnapshot| s.metrics.decisions_not_recorded as f64,
        ),
        (
            "trust_fabric_batches_borrowed_total",
            "counter",
            "Batches the shard's core verified for another shard while it had nothing of its own.",
            |s: &ShardSnapshot| s.metrics.batches_borrowed as f64,
        ),
        (
            "trust_fabric_policy_bundle_revision",
            "gauge",
            "The policy bundle revision the shard admits under (0: none promoted yet).",
            |s: &ShardSnapshot| s.policy_revision as f64,
        ),
    ] {
        page.family(name, kind, help);
        for (index, snapshot) in shards {
            page.sample(name, &[("shard", &index.to_string())], value(snapshot));
        }
    }
}

fn render_ledger(page: &mut Page, ledger: &LedgerSnapshot) {
    page.family(
        "trust_fabric_ledger_commit_seconds",
        "histogram",
        "Time to store one group of receipts: one SQLite transaction and its fsync.",
    );
    page.histogram(
        "trust_fabric_ledger_commit_seconds",
        &[],
        &ledger.commit_seconds,
    );
    page.family(
        "trust_fabric_ledger_receipts_total",
        "counter",
        "Receipts stored since the appliance started.",
    );
    page.sample(
        "trust_fabric_ledger_receipts_total",
        &[],
        ledger.receipts as f64,
    );
    page.family(
        "trust_fabric_ledger_next_sequence",
        "gauge",
        "The sequence number the next receipt gets.",
    );
    page.sample(
        "trust_fabric_ledger_next_sequence",
        &[],
        ledger.next_seq as f64,
    );
}
