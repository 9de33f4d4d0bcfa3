//! What the shard's integration tests share: settings, the clock they start at, and tenants.
// Each test binary uses only some of these.
#![allow(dead_code)]

use tf_budgets::Window;
use tf_engine::Limits;
use tf_engine::groth16::KeyRoom;
use tf_shard::{
    CapSpec, ChargePolicies, Costs, Job, Micros, ShardSettings, TenantSlot, TenantSpec,
};
use tf_wire::{DatasetClass, Statement, Submit};

pub fn settings() -> ShardSettings {
    ShardSettings {
        mailbox_capacity: 8,
        quantum: 4,
        batch_max: 4,
        latency_budget: Micros(50_000),
        key_room: KeyRoom {
            bundle: 4,
            partners: 16,
        },
        limits: Limits::DEFAULT,
        costs: Costs::default(),
        charge_policies: ChargePolicies::default(),
    }
}

/// 2026-11-24 00:00 UTC, the wall clock budgets see in these tests.
pub const T0: u64 = 1_795_478_400_000_000;

pub fn tenant(id: &str, weight: u32, rate_per_sec: u64, burst: u64) -> TenantSpec {
    TenantSpec {
        id: id.into(),
        weight,
        rate_per_sec,
        burst,
        keys: Vec::new(),
        caps: Vec::new(),
        key_quota: 4,
    }
}

/// Tenant "a" with one cap of `limit` units a day on P2 data.
pub fn capped(limit: u64) -> TenantSpec {
    TenantSpec {
        caps: vec![CapSpec {
            purpose: None,
            class: DatasetClass::P2,
            limit,
            window: Window::Day,
        }],
        ..tenant("a", 1, 1000, 100)
    }
}

/// A request of `tenant` for purpose "test" on P2 data, received at 0.
pub fn p2_job(tenant: u32, request_id: u64, statement: Statement) -> Job<u64> {
    Job {
        tenant: TenantSlot(tenant),
        submit: Submit {
            request_id,
            purpose: "test".into(),
            dataset_class: DatasetClass::P2,
            statement,
        },
        received_unix_us: 0,
        policy: Default::default(),
        reservation: Default::default(),
        admitted: Micros(0),
        decision_seq: 0,
        route: request_id,
    }
}
