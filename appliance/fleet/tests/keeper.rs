//! The lease keeper in virtual time against a real PostgreSQL server: a quiet node holds
//! little and a busy one more; nodes spending one cap through their keepers never pass it;
//! while the database is away a node spends only what its lease holds, then nothing; a lease
//! taken back stops being spent from and is settled.

#[path = "support/cluster.rs"]
mod cluster;

use cluster::Cluster;
use tf_fleet::{
    Demand, FleetError, Keeper, KeeperSettings, Lease, LeaseStore, Leases, PoolKey, PoolState,
};

const SECOND: u64 = 1_000_000;

const SETTINGS: KeeperSettings = KeeperSettings {
    lease_us: 10 * SECOND,
    tick_us: SECOND,
    min_units: 10,
    idle_units: 2,
    max_share: 0.25,
};

fn pool() -> PoolKey {
    PoolKey {
        tenant: "initech".into(),
        purpose: String::new(),
        class: "P1".into(),
        window: "day".into(),
        window_start_us: 1_764_892_800 * SECOND,
    }
}

fn demand(cap: u64, spent_here: u64) -> Demand {
    Demand {
        pool: pool(),
        cap,
        spent_here,
        refused_here: 0,
    }
}

/// A store whose database can be made unreachable.
struct Flaky<'a> {
    leases: Leases<'a>,
    down: bool,
}

impl Flaky<'_> {
    fn up(&self) -> Result<(), FleetError> {
        if self.down {
            return Err(FleetError::Settings("unreachable (test)".into()));
        }
        Ok(())
    }
}

impl LeaseStore for Flaky<'_> {
    fn take(
        &mut self,
        pool: &PoolKey,
        cap: u64,
        want: u64,
        ttl_us: u64,
        now_us: u64,
    ) -> Result<Option<Lease>, FleetError> {
        self.up()?;
        self.leases.take(pool, cap, want, ttl_us, now_us)
    }
    fn report(&mut self, token: u64, spent_total: u64) -> Result<(), FleetError> {
        self.up()?;
        self.leases.report(token, spent_total)
    }
    fn renew(
        &mut self,
        token: u64,
        more: u64,
        cap: u64,
        ttl_us: u64,
        now_us: u64,
    ) -> Result<Lease, FleetError> {
        self.up()?;
        self.leases.renew(token, more, cap, ttl_us, now_us)
    }
    fn close(&mut self, token: u64, spent_total: u64, now_us: u64) -> Result<u64, FleetError> {
        self.up()?;
        self.leases.close(token, spent_total, now_us)
    }
    fn settle(&mut self, token: u64, spent_total: u64, now_us: u64) -> Result<u64, FleetError> {
        self.up()?;
        self.leases.settle(token, spent_total, now_us)
    }
    fn adopt(
        &mut self,
        pool: &PoolKey,
        cap: u64,
        spent_here: u64,
        now_us: u64,
    ) -> Result<u64, FleetError> {
        self.up()?;
        self.leases.adopt(pool, cap, spent_here, now_us)
    }
    fn pool(&mut self, pool: &PoolKey) -> Result<Option<PoolState>, FleetError> {
        self.up()?;
        self.leases.pool(pool)
    }
}

#[test]
fn a_quiet_node_holds_little_and_a_busy_one_holds_what_its_rate_needs() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    let mut store = Leases::new(&mut client, "a");
    let mut keeper = Keeper::new(SETTINGS);
    let grant = &keeper.tick(&mut store, &[demand(100_000, 0)], SECOND)[0];
    assert_eq!(
        (grant.granted, grant.leased),
        (10, true),
        "the least a lease holds"
    );
    // 200 units a second: the lease grows to hold about the horizon's worth.
    let mut spent = 0;
    let mut grants = Vec::new();
    for tick in 2..12 {
        let granted = keeper.tick(&mut store, &[demand(100_000, spent)], tick * SECOND)[0].granted;
        grants.push(granted);
        spent = granted.min(spent + 200);
    }
    let last = *grants.last().expect("ticks");
    assert!(
        last >= spent + 400,
        "room for the next ticks: {grants:?} at {spent}"
    );
    assert!(
        last <= spent + 1_000,
        "not far more than the rate needs: {grants:?}"
    );
    assert!(
        spent >= 1_000,
        "it keeps up once it has measured the rate: {grants:?}"
    );
}

/// A tenant asked for 200 units a second from its first second: what it was refused for
/// lack of a lease counts as demand, so it is refused for a tick or two, where a keeper that
/// saw only what was spent would take many ticks to catch up with it.
#[test]
fn demand_refused_for_lack_of_a_lease_sizes_the_next_one() {
    let cluster = Cluster::start();
    let (mut a, mut b) = (cluster.migrated(), cluster.client());
    let mut stores = [Leases::new(&mut a, "a"), Leases::new(&mut b, "b")];
    let mut keepers = [Keeper::new(SETTINGS), Keeper::new(SETTINGS)];
    // (spent, refused) for the keeper told of refusals, and the one that is not.
    let mut asked = [(0u64, 0u64); 2];
    for tick in 1..=6 {
        for (n, keeper) in keepers.iter_mut().enumerate() {
            let (spent, refused) = asked[n];
            let told = if n == 0 { refused } else { 0 };
            let at = Demand {
                refused_here: told,
                ..demand(100_000, spent)
            };
            let granted = keeper.tick(&mut stores[n], &[at], tick * SECOND)[0].granted;
            let taken = (granted - spent).min(200);
            asked[n] = (spent + taken, refused + 200 - taken);
        }
    }
    let [
        (counted_spent, counted_refused),
        (blind_spent, blind_refused),
    ] = asked;
    assert_eq!(counted_spent + counted_refused, 1_200);
    assert!(
        counted_refused <= 400,
        "refused for a tick or two, not more: {asked:?}"
    );
    assert!(
        blind_refused > 2 * counted_refused,
        "a keeper blind to refusals ramps slower: {asked:?}"
    );
    assert!(counted_spent > blind_spent, "{asked:?}");
}

#[test]
fn nodes_spending_one_cap_through_their_keepers_never_pass_it() {
    const CAP: u64 = 3_000;
    let cluster = Cluster::start();
    drop(cluster.migrated());
    let mut clients: Vec<postgres::Client> = (0..3).map(|_| cluster.client()).collect();
    let mut stores: Vec<Leases<'_>> = clients
        .iter_mut()
        .enumerate()
        .map(|(n, client)| Leases::new(client, &format!("node-{n}")))
        .collect();
    let mut keepers: Vec<Keeper> = (0..3).map(|_| Keeper::new(SETTINGS)).collect();
    let mut spent = [0u64; 3];
    for tick in 1..200u64 {
        for n in 0..3 {
            let granted =
                keepers[n].tick(&mut stores[n], &[demand(CAP, spent[n])], tick * SECOND)[0].granted;
            assert!(spent[n] <= granted, "spent within the grant");
            // Each node's partners ask for more than it may give; admission gives the grant.
            spent[n] = granted.min(spent[n] + 40 + 25 * n as u64);
        }
    }
    // Every unit was leased to one node or another and spent there; none twice.
    let total: u64 = spent.iter().sum();
    assert_eq!(total, CAP, "{spent:?}");
    assert!(spent.iter().all(|s| *s > 0), "all spent some: {spent:?}");
    let state = stores[0].pool(&pool()).expect("reads").expect("a pool");
    assert_eq!(
        state.spent + state.leased + state.in_doubt,
        CAP,
        "{state:?}"
    );
    assert_eq!(state.spent, CAP, "every unit reported spent: {state:?}");
}

#[test]
fn without_the_database_a_node_spends_what_its_lease_holds_then_nothing() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    let mut store = Flaky {
        leases: Leases::new(&mut client, "a"),
        down: false,
    };
    let mut keeper = Keeper::new(SETTINGS);
    let first = keeper.tick(&mut store, &[demand(100_000, 0)], SECOND)[0].granted;
    assert_eq!(first, 10);
    store.down = true;
    // Still within the lease: the grant stands (spending goes on from it).
    let during = keeper.tick(&mut store, &[demand(100_000, 4)], 2 * SECOND)[0].clone();
    assert_eq!(during.granted, 10);
    // Close to its expiry: no more than what was spent.
    let late = keeper.tick(&mut store, &[demand(100_000, 6)], 10 * SECOND)[0].clone();
    assert_eq!(late.granted, 6, "fails closed");
    // Back: a new lease (the old one is renewed, or taken back and settled).
    store.down = false;
    let back = keeper.tick(&mut store, &[demand(100_000, 6)], 11 * SECOND)[0].clone();
    assert!(back.granted > 6 && back.leased, "{back:?}");
}

#[test]
fn a_lease_taken_back_is_no_longer_spent_from_and_is_settled() {
    let cluster = Cluster::start();
    let mut a_client = cluster.migrated();
    let mut b_client = cluster.client();
    let mut a = Leases::new(&mut a_client, "a");
    let mut b = Leases::new(&mut b_client, "b");
    let mut keeper = Keeper::new(SETTINGS);
    assert_eq!(
        keeper.tick(&mut a, &[demand(1_000, 0)], SECOND)[0].granted,
        10
    );
    // a's keeper is stalled past the lease's expiry and grace; b's sweep takes it back.
    let reclaimed = b.reclaim_expired(5 * SECOND, 17 * SECOND).expect("sweeps");
    assert_eq!(reclaimed.len(), 1);
    // Admission may have spent more of it since the tick measured 7: the node keeps what the
    // lease held, no more, and the fleet counts it all spent.
    let after = keeper.tick(&mut a, &[demand(1_000, 7)], 17 * SECOND)[0].clone();
    assert_eq!((after.granted, after.leased), (10, false), "{after:?}");
    // Next tick: settled in full, and a new lease on top of it.
    let next = keeper.tick(&mut a, &[demand(1_000, 9)], 18 * SECOND)[0].clone();
    assert!(next.leased && next.granted > 10, "{next:?}");
    let state = b.pool(&pool()).expect("reads").expect("a pool");
    assert_eq!(state.in_doubt, 0, "{state:?}");
    assert_eq!(
        state.spent + state.leased,
        next.granted,
        "the fleet counts what the node may spend: {state:?}"
    );
}

#[test]
fn a_restarted_node_has_what_it_spent_counted_and_spends_on_from_there() {
    let cluster = Cluster::start();
    let mut a_client = cluster.migrated();
    let mut b_client = cluster.client();
    let mut b = Leases::new(&mut b_client, "b");
    {
        let mut a = Leases::new(&mut a_client, "a");
        let mut keeper = Keeper::new(SETTINGS);
        assert_eq!(
            keeper.tick(&mut a, &[demand(1_000, 0)], SECOND)[0].granted,
            10
        );
        keeper.tick(&mut a, &[demand(1_000, 4)], 2 * SECOND);
        // a crashes having spent 9 (4 reported); its lease is taken back meanwhile.
    }
    assert_eq!(
        b.reclaim_expired(SECOND, 14 * SECOND)
            .expect("sweeps")
            .len(),
        1
    );
    let mut a = Leases::new(&mut a_client, "a");
    let mut keeper = Keeper::new(SETTINGS);
    // Back, its ledger shows 9: the fleet counts them, and it leases on top.
    let back = keeper.tick(&mut a, &[demand(1_000, 9)], 15 * SECOND)[0].clone();
    assert!(back.leased && back.granted > 9, "{back:?}");
    let state = b.pool(&pool()).expect("reads").expect("a pool");
    assert_eq!((state.spent, state.in_doubt), (9, 0), "{state:?}");
    assert_eq!(state.spent + state.leased, back.granted, "{state:?}");
}

#[test]
fn spending_no_lease_covers_is_counted_when_the_keeper_meets_the_pool() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    let mut a = Leases::new(&mut client, "a");
    // A cap a promotion added counts 25 units charged before it existed.
    let mut keeper = Keeper::new(SETTINGS);
    let grant = keeper.tick(&mut a, &[demand(30, 25)], SECOND)[0].clone();
    let state = a.pool(&pool()).expect("reads").expect("a pool");
    assert_eq!(state.spent, 25, "{state:?}");
    assert_eq!(
        grant.granted, 30,
        "the cap's last 5 units leased: {grant:?}"
    );
    assert_eq!(state.spent + state.leased, 30, "{state:?}");
}

#[test]
fn an_idle_node_returns_most_of_its_lease_once_every_shard_stopped_spending_from_it() {
    let cluster = Cluster::start();
    let mut client = cluster.migrated();
    let mut a = Leases::new(&mut client, "a");
    let mut keeper = Keeper::new(SETTINGS);
    let tick = |keeper: &mut Keeper, a: &mut Leases<'_>, at: u64, spent: u64, applied: u64| {
        keeper.generations(at, applied);
        keeper.tick(a, &[demand(100, spent)], at * SECOND)[0].granted
    };
    assert_eq!(tick(&mut keeper, &mut a, 1, 0, 0), 10);
    // Spends 3 at once, then nothing for a lease period (10 s, to 12 s).
    for at in 2..=11 {
        assert!(tick(&mut keeper, &mut a, at, 3, at - 1) >= 10);
    }
    // Idle: the grant is frozen at what was spent, with this tick's grants (generation 12).
    assert_eq!(tick(&mut keeper, &mut a, 12, 3, 11), 3, "frozen");
    // A shard had admitted one more under an older grant before it applied the frozen one.
    assert_eq!(
        tick(&mut keeper, &mut a, 13, 4, 11),
        4,
        "still frozen: not every shard applied it"
    );
    // Every shard applied it: returned with the 4 spent, none missed (and, spent from again,
    // a lease for a busy pool).
    tick(&mut keeper, &mut a, 14, 4, 12);
    let state = a.pool(&pool()).expect("reads").expect("a pool");
    assert_eq!((state.spent, state.leased), (4, 10), "{state:?}");
    // Idle again for a lease period: it keeps only what a request or two needs.
    for at in 15..=22 {
        tick(&mut keeper, &mut a, at, 4, at - 1);
    }
    assert_eq!(tick(&mut keeper, &mut a, 23, 4, 22), 4, "frozen");
    let granted = tick(&mut keeper, &mut a, 24, 4, 23);
    assert_eq!(
        granted,
        4 + SETTINGS.idle_units,
        "an idle node keeps little"
    );
    let state = a.pool(&pool()).expect("reads").expect("a pool");
    assert_eq!(
        (state.spent, state.leased),
        (4, SETTINGS.idle_units),
        "{state:?}"
    );
    // Spending again: the lease grows back to what the rate needs.
    let mut spent = 4;
    let mut granted = granted;
    for at in 25..=29 {
        spent = granted.min(spent + 20);
        granted = tick(&mut keeper, &mut a, at, spent, at - 1);
    }
    assert!(granted >= spent + 10, "{granted} for {spent} spent");
}
