//! Scenario packs: the shipped examples parse, bad packs are refused with the field named,
//! edits make the what-if bundle they say, a pack naming a tenant the bundle lacks does not
//! apply, and runs judge their expectations.

use std::path::Path;

use tf_bundles::{AuthorKey, BuildInfo, Bundle, BundleFiles};
use tf_drift::Registrations;
use tf_scenarios::{Pack, Traffic, apply, missing_tenants, run};

/// 2026-12-01T12:00:00Z.
const NOON: u64 = 1_796_126_400_000_000;

fn examples() -> Vec<(String, Pack)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/scenarios");
    let mut packs: Vec<(String, Pack)> = std::fs::read_dir(&dir)
        .expect("the examples folder")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable");
            let name = path.display().to_string();
            let pack = Pack::parse(&text, &name).unwrap_or_else(|e| panic!("{e}"));
            (name, pack)
        })
        .collect();
    packs.sort_by(|a, b| a.0.cmp(&b.0));
    packs
}

/// The documented example bundle, as the bundle in force.
fn active() -> Bundle {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/bundle");
    let files = BundleFiles::from_dir(&dir).expect("the example bundle");
    let info = BuildInfo {
        revision: 4,
        author: "policy team".into(),
        note: "in force".into(),
        tickets: vec![],
        created_unix_s: 1_796_000_000,
        republishes: None,
    };
    tf_bundles::build(
        files,
        info,
        &mut AuthorKey::from_secret(&[7; 32]),
        &tf_engine::Limits::DEFAULT,
    )
    .expect("builds")
}

fn pack(name: &str) -> Pack {
    examples()
        .into_iter()
        .map(|(_, p)| p)
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no example pack {name}"))
}

/// Runs a pack over synthetic traffic to the end: its change applied to `active`, no
/// recorded traffic to read.
fn synthetic_run(pack: &Pack, active: &Bundle) -> tf_scenarios::PackResult {
    let candidate = apply(active, &pack.change, 0).expect("applies");
    let mut no_log = |_: u64,
                      _: u64,
                      _: &mut dyn FnMut(tf_drift::Event) -> bool|
     -> Result<u64, String> { Err("no recorded traffic in this test".into()) };
    run(
        pack,
        active,
        &candidate,
        &Registrations::default(),
        NOON,
        &mut no_log,
        &mut || true,
    )
    .expect("runs")
}

#[test]
fn five_example_packs_parse_and_their_edits_make_valid_bundles() {
    let packs = examples();
    assert_eq!(
        packs.len(),
        5,
        "{:?}",
        packs.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    let active = active();
    for (name, pack) in &packs {
        let what_if =
            apply(&active, &pack.change, 1_796_100_000).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(what_if.revision(), 5, "{name}");
    }
}

#[test]
fn edits_change_what_they_name_and_nothing_else() {
    let active = active();
    let halved = apply(&active, &pack("acme-cap-halved").change, 0).expect("applies");
    let cap = |b: &Bundle, tenant: &str| {
        b.content.tenants.iter().find(|t| t.id == tenant).map(|t| {
            t.caps
                .iter()
                .map(|c| (c.class.clone(), c.limit))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(cap(&halved, "acme"), Some(vec![("P1".to_owned(), 50_000)]));
    assert_eq!(cap(&halved, "demo"), cap(&active, "demo"));
    let dropped = apply(&active, &pack("drop-globex").change, 0).expect("applies");
    assert!(dropped.content.tenants.iter().all(|t| t.id != "globex"));
    assert_eq!(
        dropped.content.tenants.len(),
        active.content.tenants.len() - 1
    );
    let lowered = apply(&active, &pack("acme-quota-lowered").change, 0).expect("applies");
    let acme = lowered
        .content
        .tenants
        .iter()
        .find(|t| t.id == "acme")
        .expect("acme");
    assert_eq!((acme.rate_per_sec, acme.burst, acme.weight), (250, 125, 2));
    let permitted = apply(&active, &pack("acme-p0-audits").change, 0).expect("applies");
    assert!(permitted.content.policies.contains("acme-p0-audits"));
    // An edit of a tenant the bundle does not have is refused, naming it.
    let mut unknown = pack("drop-globex");
    unknown.change.tenants[0].id = "initech".into();
    let error = apply(&active, &unknown.change, 0).expect_err("no such tenant");
    assert!(error.contains("initech"), "{error}");
}

#[test]
fn a_pack_naming_a_tenant_the_bundle_lacks_does_not_apply_and_names_it() {
    let active = active();
    for (name, pack) in examples() {
        assert!(missing_tenants(&pack, &[&active]).is_empty(), "{name}");
    }
    // A deployment without globex: the pack that drops it and the surge that sends as it do
    // not apply, and say which tenant is missing; the packs about acme still do.
    let without = apply(&active, &pack("drop-globex").change, 0).expect("applies");
    assert_eq!(
        missing_tenants(&pack("drop-globex"), &[&without]),
        ["globex"]
    );
    assert_eq!(
        missing_tenants(&pack("surge-three-times"), &[&without]),
        ["globex"]
    );
    assert!(missing_tenants(&pack("acme-cap-halved"), &[&without]).is_empty());
    // A tenant named only in the Cedar a pack adds counts too.
    let mut audits = pack("acme-p0-audits");
    let cedar = audits
        .change
        .add_policies
        .take()
        .expect("the pack adds a permit");
    audits.change.add_policies = Some(cedar.replace("\"acme\"", "\"initech\""));
    assert_eq!(missing_tenants(&audits, &[&active]), ["initech"]);
    // A pack's candidate bundle may bring the tenant it names.
    assert!(missing_tenants(&pack("surge-three-times"), &[&without, &active]).is_empty());
    // Every place a pack names a tenant counts: a tenant edit, a cap edit, synthetic traffic
    // and expectations; each missing tenant named once, sorted.
    let mut edited = pack("drop-globex");
    edited.change.tenants[0].id = "initech".into();
    edited.expect.no_new_denials.push("hooli".into());
    assert_eq!(missing_tenants(&edited, &[&active]), ["hooli", "initech"]);
    let mut capped = pack("acme-cap-halved");
    capped.change.caps[0].tenant = "initech".into();
    capped.expect.no_new_over_budget.push("initech".into());
    assert_eq!(missing_tenants(&capped, &[&active]), ["initech"]);
    let mut surge = pack("surge-three-times");
    if let Traffic::Synthetic { tenants, .. } = &mut surge.traffic {
        tenants.push("initech".into());
    }
    assert_eq!(missing_tenants(&surge, &[&active]), ["initech"]);
}

#[test]
fn bad_packs_are_refused_with_the_field_named() {
    for (text, names) in [
        (
            "name = \"Bad Name\"\n[traffic]\nsource = \"recorded\"\n",
            "name",
        ),
        (
            "name = \"x\"\n[traffic]\nsource = \"recorded\"\nwindow = \"soon\"\n",
            "traffic.window",
        ),
        (
            "name = \"x\"\n[traffic]\nsource = \"synthetic\"\nrate_per_sec = 100000\nduration = \"1d\"\ntenants = [\"a\"]\n",
            "10 million",
        ),
        (
            "name = \"x\"\n[traffic]\nsource = \"synthetic\"\nrate_per_sec = 10\nduration = \"1m\"\ntenants = [\"a\"]\nmix = { \"rsa\" = 1 }\n",
            "traffic.mix",
        ),
        (
            "name = \"x\"\n[[change.caps]]\ntenant = \"a\"\nclass = \"P1\"\n[traffic]\nsource = \"recorded\"\n",
            "limit or scale",
        ),
        (
            "name = \"x\"\nsurprise = 1\n[traffic]\nsource = \"recorded\"\n",
            "surprise",
        ),
    ] {
        let error = Pack::parse(text, "bad.toml").expect_err(text);
        assert!(
            error.to_string().contains(names),
            "{error} should name {names}"
        );
    }
}

#[test]
fn a_synthetic_peak_over_a_lowered_quota_flips_the_excess_and_the_surge_pack_holds() {
    let active = active();
    let none = Registrations::default();
    let mut no_log = |_: u64,
                      _: u64,
                      _: &mut dyn FnMut(tf_drift::Event) -> bool|
     -> Result<u64, String> { Err("no recorded traffic in this test".into()) };
    let result = synthetic_run(&pack("acme-quota-lowered"), &active);
    let report = &result.report;
    assert!(
        report.sample.decisions > 1_000_000,
        "{}",
        report.sample.decisions
    );
    // acme at 300/s +-30 % against 500/s before and 250/s after: only the new quota refuses.
    let acme = report
        .tenants
        .iter()
        .find(|t| t.tenant == "acme")
        .expect("acme");
    assert_eq!(acme.baseline.get(&tf_drift::Answer::OverRate), None);
    let over = acme.candidate_count(tf_drift::Answer::OverRate);
    assert!(
        over > 0 && over == report.flips,
        "{over} over the rate, {} flips: {:?}",
        report.flips,
        report.changes
    );
    assert_eq!(
        result.passed,
        report.upper_bound <= 0.05,
        "{:?}",
        result.expectations
    );

    let surge = pack("surge-three-times");
    let same = apply(&active, &surge.change, 0).expect("no edits");
    let result = synthetic_run(&surge, &active);
    // A budget that says stop ends the run with the reason, not a partial result.
    let mut asked = 0;
    let stopped = run(
        &surge,
        &active,
        &same,
        &none,
        NOON,
        &mut no_log,
        &mut || {
            asked += 1;
            asked < 3
        },
    )
    .expect_err("stopped");
    assert!(
        stopped.contains("CPU budget") && stopped.contains("196608"),
        "{stopped}"
    );
    assert_eq!(result.report.flips, 0, "the same bundle on both sides");
    assert!(result.passed, "{:#?}", result.expectations);
    assert_eq!(result.expectations.len(), 4);
}

#[test]
fn a_budget_that_runs_out_too_early_into_the_period_fails_and_says_when() {
    // acme at 50 requests/s of P1 for an hour against its daily cap halved to 50,000 units:
    // refused over budget from about 1,000 s in (the bundle in force: 2,000 s).
    let active = active();
    let text = |before: &str| {
        format!(
            "name = \"acme-budget-lasts\"\n[[change.caps]]\ntenant = \"acme\"\nclass = \"P1\"\n\
             scale = 0.5\n[traffic]\nsource = \"synthetic\"\nrate_per_sec = 50\nduration = \"1h\"\n\
             tenants = [\"acme\"]\nclass = \"P1\"\n[expect]\nno_over_budget_before = \"{before}\"\n"
        )
    };
    let judged = |before: &str| {
        let pack = Pack::parse(&text(before), "lasts.toml").expect("parses");
        let result = synthetic_run(&pack, &active);
        let acme = (result.report.tenants.iter())
            .find(|t| t.tenant == "acme")
            .expect("acme");
        let start = result.report.sample.from_us;
        let into_s =
            |first: Option<u64>| (first.expect("refused at some point") - start) / 1_000_000;
        assert!(
            (995..=1_005).contains(&into_s(acme.candidate_first_over_budget_us)),
            "{acme:?}"
        );
        assert!(
            (1_995..=2_005).contains(&into_s(acme.baseline_first_over_budget_us)),
            "{acme:?}"
        );
        assert_eq!(result.expectations.len(), 1);
        result.expectations[0].clone()
    };
    let early = judged("20m");
    assert!(!early.held, "{early:?}");
    assert_eq!(early.what, "no tenant over budget in the first 20m");
    assert!(
        early
            .detail
            .starts_with("acme first refused over budget 16m 4"),
        "{}",
        early.detail
    );
    let late_enough = judged("15m");
    assert!(late_enough.held, "{late_enough:?}");

    let error = Pack::parse(&text("soon"), "bad.toml").expect_err("not a span");
    assert!(
        error.to_string().contains("expect.no_over_budget_before"),
        "{error}"
    );
}
