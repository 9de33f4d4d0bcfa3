//! Replay under the bundle that decided gives back what was decided; known changes are
//! found and each flip counted exactly; neutral rewrites flip nothing.

mod common;

use common::{Ask, DAY_START_US, Recorder, bundle, example, no_permit, valid};
use tf_drift::{Answer, Event, Judgement, Registrations, Report, Terms, replay};
use tf_wire::DatasetClass;

const ACME_KYC: Ask<'static> = Ask {
    tenant: "acme",
    purpose: "kyc",
    class: DatasetClass::P1,
    kind: "bls-single",
};
const GLOBEX: Ask<'static> = Ask {
    tenant: "globex",
    purpose: "payments",
    class: DatasetClass::P2,
    kind: "bls-single",
};
const ACME_AUDIT_P0: Ask<'static> = Ask {
    tenant: "acme",
    purpose: "audit",
    class: DatasetClass::P0,
    kind: "bls-single",
};

/// 100 seconds of traffic under the example bundle (revision 1): acme 100/s of P1 kyc
/// signatures, globex 20/s of P2, and acme 5/s of P0 audit signatures, which no policy
/// permits.
fn traffic() -> Vec<Event> {
    let mut recorder = Recorder::new();
    for tick in 0..100_000u64 {
        // One tick per millisecond from 01:00 UTC.
        let at = DAY_START_US + 3_600_000_000 + tick * 1000;
        if tick % 10 == 0 {
            recorder.push(ACME_KYC, at, 1, valid());
        }
        if tick % 50 == 3 {
            recorder.push(GLOBEX, at, 1, valid());
        }
        if tick % 200 == 7 {
            recorder.push(ACME_AUDIT_P0, at, 1, no_permit());
        }
    }
    recorder.events
}

fn judge(events: &[Event], candidate: &tf_bundles::Bundle) -> Report {
    common::judge(events, &bundle(1, &[]), candidate, 0.005)
}

fn count(report: &Report, from: Answer, to: Answer) -> u64 {
    report
        .groups
        .iter()
        .filter(|g| g.from == from && g.to == to)
        .map(|g| g.count)
        .sum()
}

#[test]
fn replay_under_the_deciding_bundle_gives_back_every_recorded_answer() {
    let events = traffic();
    let decisions: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Decided(d) => Some(d),
            Event::Settled(_) => None,
        })
        .collect();
    assert_eq!(decisions.len(), 10_000 + 2_000 + 500);
    let terms_bundle = bundle(1, &[]);
    let replayed = replay(
        &events,
        &Terms::promoted(&terms_bundle),
        &Registrations::default(),
    );
    assert_eq!(replayed.len(), decisions.len());
    for (decision, replayed) in decisions.iter().zip(&replayed) {
        assert_eq!(replayed.answer, decision.outcome.answer(), "{decision:?}");
    }
    let report = judge(&events, &terms_bundle);
    assert_eq!(report.flips, 0);
    assert_eq!(report.judgement, Judgement::Pass);
}

#[test]
fn a_dropped_tenant_is_denied_every_request_it_made() {
    let tenants = example("tenants.toml").replace("[[tenants]]\nid = \"globex\"\n", "");
    assert!(!tenants.contains("globex"), "globex dropped");
    let report = judge(&traffic(), &bundle(2, &[("tenants.toml", tenants)]));
    assert_eq!(report.flips, 2_000);
    assert_eq!(count(&report, Answer::Allowed, Answer::Denied), 2_000);
    let group = &report.groups[0];
    assert_eq!(
        (group.tenant.as_str(), group.decided_by.as_str()),
        ("globex", "tenant not listed")
    );
    assert_eq!(report.judgement, Judgement::Block);
}

#[test]
fn a_lower_cap_runs_a_tenant_out_mid_window_and_every_later_request_flips() {
    let budgets = example("budgets.toml").replace("limit = 100000", "limit = 2500");
    let report = judge(&traffic(), &bundle(2, &[("budgets.toml", budgets)]));
    // 10,000 acme P1 requests of one unit, each settled before the next: 2,500 fit.
    assert_eq!(report.flips, 7_500);
    assert_eq!(count(&report, Answer::Allowed, Answer::OverBudget), 7_500);
    let group = &report.groups[0];
    assert_eq!(group.decided_by, "cap P1 2500 per day");
    assert!(group.change.contains("earlier"), "{}", group.change);
    // The first flip is acme's 2,501st request; they are 10 ms apart from 01:00.
    assert_eq!(group.first_us, DAY_START_US + 3_600_000_000 + 25_000_000);
}

#[test]
fn a_purpose_allowed_that_was_denied_flips_exactly_its_requests() {
    let policies = example("policies.cedar")
        + "\n@id(\"acme-p0-audit\")\npermit (\n  principal == TrustFabric::Tenant::\"acme\",\n  \
           action == TrustFabric::Action::\"submit\",\n  resource == TrustFabric::Scheme::\"bls\"\n)\n\
           when { context.purpose == \"audit\" };\n";
    let report = judge(&traffic(), &bundle(2, &[("policies.cedar", policies)]));
    assert_eq!(report.flips, 500);
    assert_eq!(count(&report, Answer::Denied, Answer::Allowed), 500);
    assert_eq!(report.groups[0].decided_by, "acme-p0-audit");
}

#[test]
fn a_lower_quota_turns_the_excess_over_rate() {
    // acme sends 100/s; at 50/s with a burst of 10, about half is over the rate.
    let tenants = example("tenants.toml")
        .replace("rate_per_sec = 500", "rate_per_sec = 50")
        .replace("burst = 250", "burst = 10");
    let report = judge(&traffic(), &bundle(2, &[("tenants.toml", tenants)]));
    let over = count(&report, Answer::Allowed, Answer::OverRate);
    // 10 from the burst, then one token per 20 ms: 5,000 of the 10,000 pass, give or take
    // the burst at the start.
    assert_eq!(report.flips, over);
    assert!((4_980..=5_000).contains(&over), "{over}");
}

#[test]
fn a_candidate_at_the_recorded_revision_still_judges_keys_itself() {
    // acme proved under a key it had registered; the record says the key was usable.
    let mut recorder = Recorder::new();
    let ask = Ask {
        tenant: "acme",
        purpose: "kyc",
        class: DatasetClass::P1,
        kind: "groth16-bn254",
    };
    recorder.push(ask, DAY_START_US + 3_600_000_000, 1, valid());
    let key = tf_engine::KeyId([9; 32]);
    for event in &mut recorder.events {
        if let Event::Decided(decision) = event {
            decision.key = Some(key);
            decision.key_known = true;
        }
    }
    let bundle_one = bundle(1, &[]);
    let answer = |terms: &Terms<'_>, registered: &Registrations| {
        replay(&recorder.events, terms, registered)[0].answer
    };
    let none = Registrations::default();
    // The bundle that decided: the record's word stands.
    assert_eq!(
        answer(&Terms::promoted(&bundle_one), &none),
        Answer::Allowed
    );
    // A candidate built at the same revision (a CI job's) is not the bundle that decided: the
    // key is neither in its registry nor registered, so it is unknown...
    assert_eq!(answer(&Terms::of(&bundle_one), &none), Answer::UnknownKey);
    // ...unless acme registered it, which holds whatever bundle is in force.
    let mut registered = Registrations::default();
    registered.add("acme", key);
    assert_eq!(
        answer(&Terms::of(&bundle_one), &registered),
        Answer::Allowed
    );
}

#[test]
fn a_restart_releases_what_was_reserved_for_requests_never_settled() {
    // demo's cap: 5 units of P0 budget-demo per rolling minute. Five requests are admitted
    // and the appliance stops before verifying them (no settlement); after the restart the
    // ledger holds no charge for them, so the next request fits.
    let ask = Ask {
        tenant: "demo",
        purpose: "budget-demo",
        class: DatasetClass::P0,
        kind: "bls-single",
    };
    let mut recorder = Recorder::new();
    let start = DAY_START_US + 3_600_000_000;
    for n in 0..6 {
        recorder.push(ask, start + n * 1000, 1, valid());
    }
    // Keep the first five decisions without their settlements, and the sixth as run 2's.
    let mut events: Vec<Event> = recorder
        .events
        .into_iter()
        .filter(|e| matches!(e, Event::Decided(_)))
        .collect();
    if let Some(Event::Decided(last)) = events.last_mut() {
        last.run = 2;
        last.seq = 1;
    }
    let answers = replay(
        &events,
        &Terms::promoted(&bundle(1, &[])),
        &Registrations::default(),
    );
    let last = answers.last().expect("six answers");
    assert_eq!(last.answer, Answer::Allowed, "{answers:?}");
    // Within one run the same five reservations do hold the cap.
    if let Some(Event::Decided(last)) = events.last_mut() {
        last.run = 1;
        last.seq = 100;
    }
    let answers = replay(
        &events,
        &Terms::promoted(&bundle(1, &[])),
        &Registrations::default(),
    );
    assert_eq!(answers.last().expect("six").answer, Answer::OverBudget);
}
