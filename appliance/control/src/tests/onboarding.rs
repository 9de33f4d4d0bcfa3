//! Onboarding through the book: the revision adding an invite's tenant is recorded with the
//! invite used, opens again after a restart (rebuilt and compared with its source and the
//! invite), and an appliance-signed revision that adds anything else is not trusted. A
//! promotion without a partner's terms file is refused unless dropping it is allowed.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tf_engine::Limits;
use tf_ledger::{Invites, Ledger, NewInvite, SqliteLedger, TermsRequests};

use super::fake_shards::FakeShards;
use super::{author, example_archive, trusting};
use crate::onboarding::Onboard;
use crate::{Book, BundlesPlan, ControlError};

const NOW_US: u64 = 1_795_000_000_000_000;
const TEMPLATE: &str = r#"{"purposes":["kyc"],"classes":["P1"],"max_rate_per_sec":100,"max_burst":50,"max_registered_keys":8,"caps":[{"class":"P1","window":"day","max_limit":1000}]}"#;

fn open(path: &std::path::Path, appliance: u8, trusted: &tf_bundles::AuthorKey) -> Book {
    Book::open(BundlesPlan {
        ledger: Box::new(SqliteLedger::open(path).expect("ledger")),
        shards: FakeShards::new(2),
        trusted: trusting(trusted),
        appliance_key: author(appliance),
        limits: Limits::DEFAULT,
        switch_wait: Duration::from_secs(1),
        bundle_key_room: tf_bundles::MAX_FILES,
    })
    .expect("opens")
}

/// Stores an invite for `tenant` whose secret has `digest`, valid for an hour from `NOW_US`.
fn stored_invite(path: &std::path::Path, tenant: &str, digest: [u8; 32]) -> u64 {
    SqliteLedger::open(path)
        .expect("ledger")
        .add_invite(&NewInvite {
            digest,
            tenant,
            template: TEMPLATE,
            created_by: "sre",
            reason: "pilot",
            created_us: NOW_US,
            expires_us: NOW_US + 3_600_000_000,
        })
        .expect("stored")
}

/// Puts the example bundle in force as revision 1.
fn promote_example(book: &mut Book, key: &mut tf_bundles::AuthorKey) {
    let pending = book
        .begin_promote(
            example_archive(1, key),
            "author",
            Default::default(),
            &Default::default(),
            NOW_US,
        )
        .expect("valid");
    book.switch(pending, Duration::ZERO, NOW_US)
        .expect("in force");
}

/// `initech` onboarded with an invite whose secret is `secret` repeated: the book's revision 2.
fn onboard_initech(book: &mut Book, path: &std::path::Path, secret: u8) -> u64 {
    let digest: [u8; 32] = Sha256::digest([secret; 16]).into();
    let id = stored_invite(path, "initech", digest);
    let onboard = Onboard {
        invite: id,
        digest,
        tenant: "initech".into(),
    };
    let pending = book.begin_onboard(&onboard, NOW_US).expect("staged");
    book.switch(pending, Duration::ZERO, NOW_US)
        .expect("onboarded");
    id
}

fn refusal(error: ControlError) -> &'static str {
    match error {
        ControlError::Onboarding { reason, .. } => reason,
        other => panic!("refused for another reason: {other}"),
    }
}

#[test]
fn an_invites_tenant_comes_into_force_once_and_its_revision_is_trusted_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut key = author(5);
    let mut book = open(&path, 205, &key);
    let secret = [7u8; 16];
    let digest: [u8; 32] = Sha256::digest(secret).into();
    let id = stored_invite(&path, "pilot-*", digest);
    let onboard = |tenant: &str| Onboard {
        invite: id,
        digest,
        tenant: tenant.into(),
    };
    // No bundle in force yet: nothing to add the tenant to.
    let refused = book.begin_onboard(&onboard("pilot-initech"), NOW_US);
    assert_eq!(refusal(refused.expect_err("no bundle")), "no-bundle");
    promote_example(&mut book, &mut key);

    // A name the bundle lists already, or outside the prefix, is refused.
    assert_eq!(
        refusal(
            book.begin_onboard(&onboard("acme"), NOW_US)
                .expect_err("exists")
        ),
        "wrong-tenant"
    );
    let wrong_secret = Onboard {
        digest: [0; 32],
        ..onboard("pilot-initech")
    };
    assert_eq!(
        refusal(
            book.begin_onboard(&wrong_secret, NOW_US)
                .expect_err("secret")
        ),
        "unknown"
    );

    let pending = book
        .begin_onboard(&onboard("pilot-initech"), NOW_US)
        .expect("staged");
    let switched = book
        .switch(pending, Duration::ZERO, NOW_US)
        .expect("recorded");
    assert_eq!((switched.action, switched.to_revision), ("onboard", 2));
    let active = book.active();
    let bundle = active.bundle.as_ref().expect("a bundle");
    assert!(
        bundle
            .content
            .tenants
            .iter()
            .any(|t| t.id == "pilot-initech")
    );
    let timeline = book.timeline().expect("timeline");
    let last = timeline.last().expect("an entry");
    assert_eq!(last.actor, format!("invite {id}"));
    assert!(last.reason.contains("pilot-initech"), "{}", last.reason);

    // Used: a second partner with the same invite gets nothing.
    assert_eq!(
        refusal(
            book.begin_onboard(&onboard("pilot-hooli"), NOW_US)
                .expect_err("used")
        ),
        "used"
    );

    // After a restart the revision opens again: rebuilt from revision 1 and the used invite.
    drop(book);
    let reopened = open(&path, 205, &key);
    assert_eq!(reopened.active().stamp.revision, 2);
}

#[test]
fn an_appliance_signed_revision_that_adds_more_than_the_invite_is_not_trusted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut key = author(6);
    let mut book = open(&path, 206, &key);
    promote_example(&mut book, &mut key);
    let id = onboard_initech(&mut book, &path, 1);
    drop(book);

    // Someone with the appliance's key signs revision 3: the onboarding's files with a
    // permit-all added, claiming the same invite.
    let mut ledger = SqliteLedger::open(&path).expect("ledger");
    let stored = ledger.archive(2).expect("read").expect("stored");
    let mut files = tf_bundles::BundleFiles::from_tar_gz(&stored).expect("opens");
    let mut policies = files
        .get(tf_bundles::POLICIES_FILE)
        .expect("policies")
        .to_vec();
    policies.extend_from_slice(b"\npermit (principal, action, resource);\n");
    files.insert(tf_bundles::POLICIES_FILE, policies);
    let info = tf_bundles::BuildInfo {
        revision: 3,
        author: format!("invite {id}"),
        note: "more than asked".into(),
        tickets: vec![],
        created_unix_s: NOW_US / 1_000_000,
        republishes: None,
    };
    let change = tf_bundles::PartnerChange {
        invite: id,
        tenant: "initech".into(),
        source: 1,
        request: None,
    };
    let forged =
        tf_bundles::build_partner_change(files, info, change, &mut author(206), &Limits::DEFAULT)
            .expect("builds");
    let event = tf_ledger::TimelineEvent {
        seq: 0,
        at_us: NOW_US,
        action: "onboard".into(),
        actor: "someone".into(),
        reason: "forged".into(),
        from_revision: 2,
        to_revision: 3,
        links: vec![],
        bundle_hash: forged.hash.clone(),
        drift: None,
        canary: None,
    };
    ledger
        .record_switch(&event, &forged.files.to_tar_gz())
        .expect("written behind the appliance's back");
    drop(ledger);
    let Err(error) = Book::open(BundlesPlan {
        ledger: Box::new(SqliteLedger::open(&path).expect("ledger")),
        shards: FakeShards::new(2),
        trusted: trusting(&key),
        appliance_key: author(206),
        limits: Limits::DEFAULT,
        switch_wait: Duration::from_secs(1),
        bundle_key_room: tf_bundles::MAX_FILES,
    }) else {
        panic!("the forged revision was trusted");
    };
    assert!(
        matches!(error, ControlError::NotOnboarded { revision: 3, .. }),
        "{error}"
    );
}

#[test]
fn terms_within_the_template_apply_at_once_and_above_it_wait_for_a_grant_trusted_after_a_restart() {
    use crate::terms::{Begun, GrantTerms, RequestTerms};
    use tf_bundles::partners::PartnerCap;

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut key = author(7);
    let mut book = open(&path, 207, &key);
    promote_example(&mut book, &mut key);
    onboard_initech(&mut book, &path, 2);
    let ask = |rate: u32, limit: u64| RequestTerms {
        tenant: "initech".into(),
        rate_per_sec: rate,
        burst: 50,
        max_registered_keys: 8,
        caps: vec![PartnerCap {
            class: "P1".into(),
            window: "day".into(),
            limit,
        }],
    };
    let partner_rate = |book: &Book| {
        let active = book.active();
        let bundle = active.bundle.as_ref().expect("a bundle");
        bundle.content.partners[0].rate_per_sec
    };

    // Within the template: staged at once, in force after the switch.
    let Ok(Begun::Staged { pending, .. }) = book.begin_terms(&ask(50, 500), NOW_US) else {
        panic!("within the template, staged at once");
    };
    let switched = book
        .switch(*pending, Duration::ZERO, NOW_US)
        .expect("recorded");
    assert_eq!((switched.action, switched.to_revision), ("terms", 3));
    assert_eq!(partner_rate(&book), 50);

    // Above it: waiting, saying what is above; nothing switched.
    let Ok(Begun::Waiting { request, above }) = book.begin_terms(&ask(500, 500), NOW_US) else {
        panic!("above the template, waiting");
    };
    assert_eq!(above, ["rate 500 above the template's 100"]);
    assert_eq!(book.active().stamp.revision, 3);

    // Leaving a cap out would lift the limit: above the template too.
    let uncapped = RequestTerms {
        caps: Vec::new(),
        ..ask(50, 500)
    };
    let Ok(Begun::Waiting { above, .. }) = book.begin_terms(&uncapped, NOW_US) else {
        panic!("a cap left out waits for an operator");
    };
    assert_eq!(
        above,
        ["cap P1 day left out: the template limits it to 1000"]
    );

    // Granted by an operator: in force, and the request says by whom and in which revision.
    let grant = GrantTerms {
        id: request,
        by: "oncall".into(),
        reason: "pilot volume".into(),
    };
    let pending = book.begin_grant(&grant, NOW_US).expect("staged");
    book.switch(pending, Duration::ZERO, NOW_US)
        .expect("granted");
    assert_eq!(partner_rate(&book), 500);
    let row = SqliteLedger::open(&path)
        .expect("ledger")
        .terms_request(request)
        .expect("read")
        .expect("stored");
    assert_eq!(
        (row.state, row.revision, row.decided_by.as_deref()),
        (tf_ledger::TermsState::Granted, Some(4), Some("oncall"))
    );
    let again = book.begin_grant(&grant, NOW_US).expect_err("decided");
    assert!(
        matches!(
            again,
            ControlError::Terms {
                reason: "decided",
                ..
            }
        ),
        "{again}"
    );

    // Only partners ask: a tenant of the operator's own bundle is refused.
    let acme = RequestTerms {
        tenant: "acme".into(),
        ..ask(50, 500)
    };
    assert!(matches!(
        book.begin_terms(&acme, NOW_US),
        Err(ControlError::Terms {
            reason: "not-a-partner",
            ..
        })
    ));

    // After a restart the granted revision is trusted: rebuilt from revision 3 and the request.
    drop(book);
    let reopened = open(&path, 207, &key);
    assert_eq!(reopened.active().stamp.revision, 4);
    assert_eq!(partner_rate(&reopened), 500);
}

#[test]
fn a_promotion_without_a_partners_terms_file_is_refused_naming_it_unless_allowed() {
    use tf_bundles::{Problem, Refusal};

    use crate::Allowances;

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite");
    let mut key = author(8);
    let mut book = open(&path, 208, &key);
    promote_example(&mut book, &mut key);
    onboard_initech(&mut book, &path, 3);
    let partners = |book: &Book| -> Vec<String> {
        let active = book.active();
        let bundle = active.bundle.as_ref().expect("a bundle");
        bundle
            .content
            .partners
            .iter()
            .map(|p| p.tenant.clone())
            .collect()
    };
    assert_eq!(partners(&book), ["initech"]);

    // The author's own folder, without the partner's file: refused, validated or promoted,
    // naming the partner and what to do.
    let without = example_archive(3, &mut key);
    let dropped = |error: ControlError| match error {
        ControlError::Refused(Refusal(problems)) => problems,
        other => panic!("refused for another reason: {other}"),
    };
    let problems = dropped(
        book.validate(&without, Allowances::default(), NOW_US)
            .expect_err("drops a partner"),
    );
    assert_eq!(
        problems,
        [Problem::PartnersDropped {
            tenants: vec!["initech".into()]
        }]
    );
    assert_eq!(problems[0].code(), "partners-dropped");
    let message = problems[0].to_string();
    assert!(
        message.contains("partner initech")
            && message.contains("ctl terms files")
            && message.contains("--allow-partners-dropped"),
        "{message}"
    );
    let refused = book
        .begin_promote(
            without.clone(),
            "author",
            Allowances::default(),
            &Default::default(),
            NOW_US,
        )
        .expect_err("drops a partner");
    assert!(
        matches!(dropped(refused).as_slice(), [Problem::PartnersDropped { tenants }] if tenants == &["initech"])
    );
    assert_eq!(book.active().stamp.revision, 2, "nothing switched");

    // The same folder with the partner's file as the bundle in force has it: promoted, and
    // the partner kept.
    let file = tf_bundles::partners::terms_file("initech");
    let mut files = tf_bundles::BundleFiles::from_dir(&super::repo().join("docs/examples/bundle"))
        .expect("example bundle");
    let kept = book
        .active()
        .bundle
        .as_ref()
        .expect("a bundle")
        .files
        .get(&file)
        .expect("the partner's file")
        .to_vec();
    files.insert(&file, kept);
    let pending = book
        .begin_promote(
            super::signed_archive(files, 3, &mut key),
            "author",
            Allowances::default(),
            &Default::default(),
            NOW_US,
        )
        .expect("keeps the partner");
    book.switch(pending, Duration::ZERO, NOW_US)
        .expect("in force");
    assert_eq!(partners(&book), ["initech"]);

    // Dropping it on purpose: allowed, validated and promoted.
    let allow = Allowances {
        partners_dropped: true,
        ..Allowances::default()
    };
    let without = example_archive(4, &mut key);
    book.validate(&without, allow, NOW_US)
        .expect("allowed to drop the partner");
    let pending = book
        .begin_promote(without, "author", allow, &Default::default(), NOW_US)
        .expect("allowed to drop the partner");
    book.switch(pending, Duration::ZERO, NOW_US)
        .expect("in force");
    assert_eq!(partners(&book), Vec::<String>::new());

    // Rollbacks too: back to the partner is a rollback like any other; away from it again is
    // refused naming it, unless allowed.
    let pending = book
        .begin_rollback("sre", "back", Some(3), false, NOW_US)
        .expect("a rollback");
    book.switch(pending, Duration::ZERO, NOW_US)
        .expect("rolled back");
    assert_eq!(partners(&book), ["initech"]);
    let refused = book
        .begin_rollback("sre", "away", Some(4), false, NOW_US)
        .expect_err("it drops the partner");
    assert!(refused.to_string().contains("initech"), "{refused}");
    assert_eq!(partners(&book), ["initech"], "nothing switched");
    let pending = book
        .begin_rollback("sre", "away", Some(4), true, NOW_US)
        .expect("allowed to drop the partner");
    book.switch(pending, Duration::ZERO, NOW_US)
        .expect("rolled back");
    assert_eq!(partners(&book), Vec::<String>::new());
}
