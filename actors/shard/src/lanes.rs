//! Which lane each tenant's requests travel in (see [`tf_batcher::Lane`]). On a busy shard, a
//! tenant sending well beyond its weighted share of the shard's work is batched apart and
//! verified after the others: they keep the latency of a calm shard, and the flood takes the
//! capacity left (its admission rate and mailbox still bound it). On a shard with time to
//! spare nothing is split, so batches keep all the company they can get. When a tenant changes
//! lanes, what waits is handed out first (see `Shard::refresh_lanes`), so every tenant's
//! requests of a key are still handed out in the order admitted.

use tf_batcher::Lane;
use tf_batcher::rate::ArrivalRate;
use tf_fairness::{Micros, TenantSlot};

/// How often the lanes are decided again, microseconds.
const REFRESH_US: u64 = 100_000;
/// Lanes split only while the shard's verification (its own and what it lends) takes at least
/// this share of a core: below it, batches closed by the latency budget are verified in time
/// whoever fills them.
pub const BUSY_SHARE: f64 = 0.5;
/// A tenant enters the surplus lane when its work per unit of weight is above this multiple of
/// the shard's (over the tenants sending), by more than [`NOISE_MARGIN`] times the noise of its
/// measure; it leaves below [`LEAVE`] times. In between it stays, so noise in the measured
/// rates does not move it back and forth.
pub const ENTER: f64 = 1.25;
/// See [`ENTER`].
pub const LEAVE: f64 = 1.1;
/// Standard deviations of a tenant's measured rate it must be beyond [`ENTER`] by: tenants
/// sending alike at a few dozen requests a second differ by a quarter in a quarter second.
pub const NOISE_MARGIN: f64 = 3.0;
/// A tenant sending fewer requests a second than this takes no part in the shares.
const ACTIVE_PER_SEC: f64 = 1.0;

/// What a tenant sends, per unit of its weight: work (scheduling units a second) and one
/// standard deviation of that measure.
#[derive(Clone, Copy, Debug)]
pub struct Sending {
    /// Scheduling units a second, per unit of weight.
    pub rate: f64,
    /// One standard deviation of `rate`.
    pub noise: f64,
}

/// Whether a tenant belongs in the surplus lane: `fair` is the shard's work a second per unit of
/// weight over the tenants sending, `busy` the share of a core the shard's verification takes.
pub fn beyond_share(sending: Sending, fair: f64, busy: f64, in_surplus: bool) -> bool {
    if busy < BUSY_SHARE || fair <= 0.0 {
        return false;
    }
    if in_surplus {
        sending.rate > LEAVE * fair
    } else {
        sending.rate > ENTER * fair + NOISE_MARGIN * sending.noise
    }
}

#[derive(Debug)]
struct TenantLane {
    /// Requests admitted, per microsecond.
    requests: ArrivalRate,
    /// Their scheduling units (what they cost to verify, as the fair scheduler prices them).
    units: ArrivalRate,
    weight: u32,
    lane: Lane,
}

impl TenantLane {
    /// What it sends as of `now`, per unit of weight.
    fn sending(&self, now: Micros) -> Sending {
        let weight = f64::from(self.weight);
        let requests = self.requests.rate_at(now);
        let units = self.units.rate_at(now);
        // Units vary little per request: the noise is the request count's, scaled.
        let per_request = if requests > 0.0 {
            units / requests
        } else {
            0.0
        };
        Sending {
            rate: units * 1e6 / weight,
            noise: per_request * self.requests.noise_at(now) * 1e6 / weight,
        }
    }

    fn active(&self, now: Micros) -> bool {
        self.requests.rate_at(now) * 1e6 >= ACTIVE_PER_SEC
    }
}

/// The shard's tenants' lanes and what decides them.
#[derive(Debug)]
pub(crate) struct Lanes {
    tenants: Vec<TenantLane>,
    /// Microseconds of verification per microsecond: the share of a core the shard's batches
    /// take, wherever they are verified.
    busy: ArrivalRate,
    decided_at: Option<Micros>,
}

impl Lanes {
    pub(crate) fn new() -> Self {
        Lanes {
            tenants: Vec::new(),
            busy: ArrivalRate::new(),
            decided_at: None,
        }
    }

    /// A tenant in the next slot, in the share lane.
    pub(crate) fn add_tenant(&mut self, weight: u32) {
        self.tenants.push(TenantLane {
            requests: ArrivalRate::new(),
            units: ArrivalRate::new(),
            weight: weight.max(1),
            lane: Lane::Share,
        });
    }

    pub(crate) fn set_weight(&mut self, slot: TenantSlot, weight: u32) {
        self.tenants[slot.0 as usize].weight = weight.max(1);
    }

    /// A request of `slot` costing `units` was admitted at `now`.
    pub(crate) fn admitted(&mut self, slot: TenantSlot, units: u64, now: Micros) {
        let tenant = &mut self.tenants[slot.0 as usize];
        tenant.requests.arrival(now);
        tenant.units.add(now, units as f64);
    }

    /// One of the shard's batches took `busy_us` to verify, as of `now`.
    pub(crate) fn verified(&mut self, busy_us: u64, now: Micros) {
        self.busy.add(now, busy_us as f64);
    }

    /// The lane `slot`'s requests join now.
    pub(crate) fn lane(&self, slot: TenantSlot) -> Lane {
        self.tenants[slot.0 as usize].lane
    }

    /// Decides every tenant's lane again, if it is time to. True when a tenant changed lanes:
    /// what waits must then be handed out before what joins after, or a tenant's requests of a
    /// key could pass each other.
    pub(crate) fn refresh(&mut self, now: Micros) -> bool {
        if self
            .decided_at
            .is_some_and(|at| now.0.saturating_sub(at.0) < REFRESH_US)
        {
            return false;
        }
        self.decided_at = Some(now);
        let busy = self.busy.rate_at(now);
        let (total, weights) = self.tenants.iter().filter(|t| t.active(now)).fold(
            (0.0, 0.0),
            |(total, weights), t| {
                let weight = f64::from(t.weight);
                (total + t.sending(now).rate * weight, weights + weight)
            },
        );
        let fair = if weights > 0.0 { total / weights } else { 0.0 };
        let mut changed = false;
        for tenant in &mut self.tenants {
            let in_surplus = tenant.lane == Lane::Surplus;
            let lane = if beyond_share(tenant.sending(now), fair, busy, in_surplus) {
                Lane::Surplus
            } else {
                Lane::Share
            };
            changed |= lane != tenant.lane;
            tenant.lane = lane;
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sending(rate: f64) -> Sending {
        // A request a unit, measured over a quarter second.
        Sending {
            rate,
            noise: (rate / 0.5).sqrt(),
        }
    }

    #[test]
    fn only_a_busy_shard_splits_and_only_well_beyond_the_share() {
        // 1,000 and 286 requests a second, weight 1 each: 643 is the share.
        let fair = 643.0;
        assert!(beyond_share(sending(1_000.0), fair, 0.9, false));
        assert!(!beyond_share(sending(286.0), fair, 0.9, false));
        // The same rates on a shard with time to spare: nothing splits.
        assert!(!beyond_share(sending(1_000.0), fair, 0.3, false));
        // Between the bars, a tenant stays where it is.
        assert!(!beyond_share(sending(1.2 * fair), fair, 0.9, false));
        assert!(beyond_share(sending(1.2 * fair), fair, 0.9, true));
        assert!(!beyond_share(sending(1.05 * fair), fair, 0.9, true));
    }

    #[test]
    fn a_few_requests_a_second_need_a_wider_margin() {
        // Tenants at 20 requests a second measure 30 % apart by chance: 1.5 times the share
        // is not enough to tell, 3 times is.
        let fair = 20.0;
        assert!(!beyond_share(sending(30.0), fair, 0.9, false));
        assert!(beyond_share(sending(60.0), fair, 0.9, false));
        // At a thousand a second, 1.5 times is.
        assert!(beyond_share(sending(1_500.0), 1_000.0, 0.9, false));
    }

    fn flood(lanes: &mut Lanes, from_us: u64, until_us: u64) {
        // Tenant 0 at 1,000 requests a second, tenant 1 at 250; verification busy 90 %.
        let mut t = from_us;
        while t < until_us {
            lanes.admitted(TenantSlot(0), 1, Micros(t));
            if (t / 1_000).is_multiple_of(4) {
                lanes.admitted(TenantSlot(1), 1, Micros(t));
            }
            lanes.verified(900, Micros(t));
            t += 1_000;
        }
    }

    #[test]
    fn a_flooding_tenant_moves_to_the_surplus_lane_and_back() {
        let mut lanes = Lanes::new();
        lanes.add_tenant(1);
        lanes.add_tenant(1);
        flood(&mut lanes, 1_000, 2_000_000);
        assert!(lanes.refresh(Micros(2_000_000)), "tenant 0 moved");
        assert_eq!(lanes.lane(TenantSlot(0)), Lane::Surplus);
        assert_eq!(lanes.lane(TenantSlot(1)), Lane::Share);
        // Decided again only every 100 ms.
        lanes.set_weight(TenantSlot(0), 4);
        assert!(!lanes.refresh(Micros(2_050_000)));
        assert_eq!(lanes.lane(TenantSlot(0)), Lane::Surplus);
        // A weight of 4 makes the same rate its share: it leaves, and says so.
        flood(&mut lanes, 2_000_000, 2_100_000);
        assert!(lanes.refresh(Micros(2_100_000)));
        assert_eq!(lanes.lane(TenantSlot(0)), Lane::Share);
        lanes.set_weight(TenantSlot(0), 1);
        flood(&mut lanes, 2_100_000, 2_200_000);
        assert!(lanes.refresh(Micros(2_200_000)));
        assert!(!lanes.refresh(Micros(2_300_000)), "nobody moved");
        assert_eq!(lanes.lane(TenantSlot(0)), Lane::Surplus);
        // The flood stops: the shard is no longer busy, and nothing is split.
        assert!(lanes.refresh(Micros(3_000_000)));
        assert_eq!(lanes.lane(TenantSlot(0)), Lane::Share);
    }
}
