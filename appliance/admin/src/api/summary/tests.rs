use tf_admin_api::{BucketBound, Outcomes};
use tf_budgets::CapStatus;
use tf_config::CapConfig;
use tf_metrics::{BudgetGauge, MetricsHub, OUTCOMES, ShardMetrics, ShardSnapshot};
use tf_seam::PulseReading;
use tf_shard::TenantSlot;

use super::{budgets, overview};

#[test]
fn the_metrics_count_the_outcomes_the_reply_names_in_its_order() {
    assert_eq!(OUTCOMES, Outcomes::NAMES);
}

fn cap(tenant: u32, purpose: Option<&str>, class: &str, window: &str) -> BudgetGauge {
    let config = CapConfig {
        purpose: purpose.map(str::to_owned),
        class: class.into(),
        limit: 100,
        window: window.into(),
    };
    BudgetGauge {
        tenant: TenantSlot(tenant),
        status: CapStatus {
            cap: config.spec().expect("a valid cap"),
            used: 30,
            reserved: 2,
            remaining: 68,
            // 2026-01-03T00:00:00Z
            resets_at_us: (window == "day").then_some(1_767_398_400_000_000),
            granted: 100,
            refused_by_grant: 0,
        },
    }
}

fn snapshot(outcomes: &[(usize, usize, usize, u64)], latencies: &[f64]) -> ShardSnapshot {
    let mut metrics = ShardMetrics::new(2);
    for &(slot, kind, outcome, count) in outcomes {
        metrics.outcomes[slot][kind][outcome] = count;
    }
    for latency in latencies {
        metrics.decision_latency[0].record(*latency);
    }
    ShardSnapshot {
        metrics,
        queue_depth: 3,
        connections: 2,
        cpu_seconds: 0.5,
        budgets: Vec::new(),
        policy_revision: 0,
    }
}

#[test]
fn the_overview_sums_every_shard_kind_and_outcome_per_tenant() {
    let hub = MetricsHub::new(vec!["demo".into(), "acme".into()], 3);
    // Shard 0: demo valid on two kinds, acme over budget; shard 1: demo invalid; shard 2 has
    // not published yet.
    hub.publish_shard(
        0,
        snapshot(&[(0, 0, 0, 4), (0, 3, 0, 1), (1, 0, 6, 2)], &[0.0007]),
    );
    hub.publish_shard(1, snapshot(&[(0, 1, 1, 5)], &[0.002, 20.0]));
    let pulses = [
        PulseReading {
            answered: 10,
            ..PulseReading::default()
        },
        PulseReading {
            answered: 7,
            ..PulseReading::default()
        },
    ];
    let reply = overview(&hub, &pulses, 1_767_323_045_123);

    let totals: Vec<(&str, [u64; 8])> = reply
        .tenants
        .iter()
        .map(|t| (t.tenant.0.as_str(), t.outcomes.counts()))
        .collect();
    assert_eq!(
        totals,
        [
            ("demo", [5, 5, 0, 0, 0, 0, 0, 0]),
            ("acme", [0, 0, 0, 0, 0, 0, 2, 0]),
        ]
    );
    let latency = &reply.decision_latency_seconds;
    assert_eq!(latency.count, 3);
    assert_eq!(latency.buckets.len(), tf_metrics::LATENCY_SECONDS.len() + 1);
    assert_eq!(latency.buckets[0].le, BucketBound::Finite(0.0005));
    assert_eq!(latency.buckets[0].count, 0);
    assert_eq!(latency.buckets[1].count, 1, "0.7 ms is at most 1 ms");
    assert_eq!(latency.buckets[2].count, 2, "2 ms is at most 2.5 ms");
    let last = latency.buckets.last().expect("a last bucket");
    assert_eq!((last.le, last.count), (BucketBound::Infinite, 3));
    assert_eq!((reply.queued, reply.connections), (6, 4));
    assert_eq!((reply.at_unix_ms, reply.answered), (1_767_323_045_123, 17));
}

#[test]
fn an_appliance_that_has_not_published_yet_shows_every_tenant_at_zero() {
    let hub = MetricsHub::new(vec!["demo".into()], 2);
    let reply = overview(&hub, &[], 5);
    assert_eq!(reply.tenants.len(), 1);
    assert_eq!(reply.tenants[0].outcomes, Outcomes::default());
    assert_eq!(reply.decision_latency_seconds.count, 0);
    assert!(
        reply
            .decision_latency_seconds
            .buckets
            .iter()
            .all(|b| b.count == 0)
    );
}

#[test]
fn budgets_list_every_cap_by_tenant_with_its_terms_and_use() {
    let hub = MetricsHub::new(vec!["demo".into(), "acme".into()], 2);
    let mut first = snapshot(&[], &[]);
    first.budgets = vec![
        cap(0, Some("budget-demo"), "P0", "rolling 60s"),
        cap(0, None, "P2", "day"),
    ];
    let mut second = snapshot(&[], &[]);
    second.budgets = vec![cap(1, None, "P1", "day"), cap(7, None, "P1", "hour")];
    hub.publish_shard(0, first);
    hub.publish_shard(1, second);

    let reply = budgets(&hub);
    let listed: Vec<(&str, Option<&str>, &str, &str)> = reply
        .caps
        .iter()
        .map(|c| {
            (
                c.tenant.0.as_str(),
                c.purpose.as_deref(),
                c.class.as_str(),
                c.window.as_str(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("?", None, "P1", "hour"),
            ("acme", None, "P1", "day"),
            ("demo", Some("budget-demo"), "P0", "rolling 60s"),
            ("demo", None, "P2", "day"),
        ],
        "by tenant (an unknown slot as ?), each tenant's caps in its shard's order"
    );
    let acme = &reply.caps[1];
    assert_eq!(
        (acme.limit, acme.used, acme.reserved, acme.remaining),
        (100, 30, 2, 68)
    );
    assert_eq!(acme.resets_at.as_deref(), Some("2026-01-03T00:00:00Z"));
    assert_eq!(reply.caps[2].resets_at, None);
}
