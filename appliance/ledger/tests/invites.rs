//! Partner invites in the ledger: stored as digests, used once (of two racing, one wins),
//! refused with the reason when unknown, used, revoked, expired or for another tenant, and
//! every change on the control events the timeline shows.

use std::sync::{Arc, Barrier};

use tf_ledger::{
    InviteRefusal, InviteState, Invites, Ledger, NewInvite, SqliteLedger, invite_allows,
};

const HOUR_US: u64 = 3_600_000_000;

fn invite(digest: u8, tenant: &str) -> NewInvite<'_> {
    NewInvite {
        digest: [digest; 32],
        tenant,
        template: r#"{"purposes":["kyc"]}"#,
        created_by: "onboarding-team",
        reason: "pilot with initech",
        created_us: 1_000,
        expires_us: 1_000 + HOUR_US,
    }
}

#[test]
fn an_invite_is_used_once_for_an_allowed_tenant_before_it_expires() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("open");
    let exact = ledger.add_invite(&invite(1, "initech")).expect("added");
    let prefix = ledger.add_invite(&invite(2, "partner-*")).expect("added");
    let listed = ledger.invites().expect("listed");
    assert_eq!(
        listed.iter().map(|i| i.id).collect::<Vec<_>>(),
        [prefix, exact]
    );
    assert!(listed.iter().all(|i| i.state == InviteState::Open));
    assert_eq!(listed[1].digest, [1; 32]);

    let at = 2_000;
    let redeem = |ledger: &mut SqliteLedger, id, digest: u8, tenant: &str, at_us| {
        ledger
            .redeem_invite(id, &[digest; 32], tenant, at_us)
            .expect("the ledger answers")
    };
    // Another secret, or no such invite, is the same answer: unknown.
    assert_eq!(
        redeem(&mut ledger, exact, 9, "initech", at),
        Err(InviteRefusal::Unknown)
    );
    assert_eq!(
        redeem(&mut ledger, 99, 1, "initech", at),
        Err(InviteRefusal::Unknown)
    );
    assert_eq!(
        redeem(&mut ledger, exact, 1, "hooli", at),
        Err(InviteRefusal::WrongTenant {
            allowed: "initech".into(),
            asked: "hooli".into()
        })
    );
    assert_eq!(
        redeem(&mut ledger, exact, 1, "initech", 1_000 + HOUR_US),
        Err(InviteRefusal::Expired)
    );
    let used = redeem(&mut ledger, exact, 1, "initech", at).expect("redeemed");
    assert_eq!(used.state, InviteState::Used);
    assert_eq!(used.closed_by.as_deref(), Some("initech"));
    assert_eq!(
        redeem(&mut ledger, exact, 1, "initech", at),
        Err(InviteRefusal::Used)
    );
    // A prefix invite makes any one tenant under it, once.
    assert_eq!(
        redeem(&mut ledger, prefix, 2, "partner-", at),
        Err(InviteRefusal::WrongTenant {
            allowed: "partner-*".into(),
            asked: "partner-".into()
        })
    );
    assert!(redeem(&mut ledger, prefix, 2, "partner-acme", at).is_ok());

    // Revoked: not usable; a used invite cannot be revoked.
    let third = ledger.add_invite(&invite(3, "globex")).expect("added");
    let revoked = ledger
        .revoke_invite(third, "oncall", "sent to the wrong address", at)
        .expect("the ledger answers")
        .expect("revoked");
    assert_eq!(revoked.state, InviteState::Revoked);
    assert_eq!(
        redeem(&mut ledger, third, 3, "globex", at),
        Err(InviteRefusal::Revoked)
    );
    assert_eq!(
        ledger
            .revoke_invite(exact, "oncall", "late", at)
            .expect("the ledger answers"),
        Err(InviteRefusal::Used)
    );

    // Every change is a control event, in order.
    let kinds: Vec<String> = ledger
        .control_events_after(0, 100)
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "invite.created",
            "invite.created",
            "invite.used",
            "invite.used",
            "invite.created",
            "invite.revoked"
        ]
    );

    // Closed invites stay closed, and none is deleted, whatever writes the file.
    drop(ledger);
    let raw = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).expect("open");
    let err = raw
        .execute(
            "UPDATE invites SET state = 'open' WHERE id = ?1",
            [exact as i64],
        )
        .expect_err("stays used");
    assert!(err.to_string().contains("stays so"), "{err}");
    let err = raw.execute("DELETE FROM invites", []).expect_err("kept");
    assert!(err.to_string().contains("invites are kept"), "{err}");
}

#[test]
fn of_two_partners_racing_with_one_invite_exactly_one_gets_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.sqlite");
    let id = SqliteLedger::open(&path)
        .expect("open")
        .add_invite(&invite(7, "partner-*"))
        .expect("added");
    for round in 0..20 {
        let gate = Arc::new(Barrier::new(2));
        let racers: Vec<_> = ["partner-a", "partner-b"]
            .into_iter()
            .map(|tenant| {
                let (path, gate) = (path.clone(), gate.clone());
                std::thread::spawn(move || {
                    let mut ledger = SqliteLedger::open(&path).expect("open");
                    gate.wait();
                    ledger
                        .redeem_invite(id, &[7; 32], tenant, 2_000)
                        .expect("the ledger answers")
                })
            })
            .collect();
        let results: Vec<_> = racers
            .into_iter()
            .map(|r| r.join().expect("joined"))
            .collect();
        let won = results.iter().filter(|r| r.is_ok()).count();
        if round == 0 {
            assert_eq!(won, 1, "{results:?}");
            assert!(results.contains(&Err(InviteRefusal::Used)));
        } else {
            assert_eq!(won, 0, "{results:?}");
        }
    }
}

#[test]
fn a_prefix_allows_longer_names_under_it_and_an_id_only_itself() {
    assert!(invite_allows("initech", "initech"));
    assert!(!invite_allows("initech", "initech-2"));
    assert!(invite_allows("pilot-*", "pilot-acme"));
    assert!(!invite_allows("pilot-*", "pilot-"));
    assert!(!invite_allows("pilot-*", "acme"));
}

#[test]
fn an_onboarding_switch_is_recorded_with_its_invite_used_or_not_at_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = SqliteLedger::open(&dir.path().join("ledger.sqlite")).expect("open");
    let id = ledger.add_invite(&invite(4, "initech")).expect("added");
    let switch = tf_ledger::TimelineEvent {
        seq: 0,
        at_us: 2_000,
        action: "onboard".into(),
        actor: format!("invite {id}"),
        reason: "tenant initech onboarded".into(),
        from_revision: 1,
        to_revision: 2,
        links: vec![],
        bundle_hash: "ab".repeat(32),
        drift: None,
        canary: None,
    };
    let redeem = |digest, tenant, at_us| tf_ledger::Redeem {
        id,
        digest,
        tenant,
        at_us,
    };
    // Refused (a wrong secret, past the expiry): no switch recorded, the invite still open.
    for refused in [
        redeem(&[5; 32], "initech", 2_000),
        redeem(&[4; 32], "initech", 1_000 + HOUR_US),
    ] {
        assert!(
            ledger
                .redeem_invite_switching(&refused, &switch, b"archive")
                .expect("answers")
                .is_err()
        );
    }
    assert!(ledger.timeline().expect("timeline").is_empty());
    assert_eq!(
        ledger.invite(id).expect("read").expect("stored").state,
        InviteState::Open
    );
    // Redeemed: both at once.
    let (row, seq) = ledger
        .redeem_invite_switching(&redeem(&[4; 32], "initech", 2_000), &switch, b"archive")
        .expect("answers")
        .expect("redeemed");
    assert_eq!(row.state, InviteState::Used);
    let timeline = ledger.timeline().expect("timeline");
    assert_eq!(timeline.len(), 1);
    assert_eq!((timeline[0].seq, timeline[0].to_revision), (seq, 2));
    assert_eq!(
        ledger.archive(2).expect("read").as_deref(),
        Some(&b"archive"[..])
    );
    // Once only.
    assert_eq!(
        ledger
            .redeem_invite_switching(&redeem(&[4; 32], "initech", 3_000), &switch, b"archive")
            .expect("answers"),
        Err(InviteRefusal::Used)
    );
    assert_eq!(ledger.timeline().expect("timeline").len(), 1);
}
