use std::path::Path;
use std::sync::Arc;

use tf_admin_api::{DiffChange, ErrorCode, Revision, SwitchAction};
use tf_bundles::{AuthorKey, BuildInfo, Bundle, BundleFiles, Change, Problem};
use tf_config::{CapConfig, TenantConfig};
use tf_control::bundles::InForce;
use tf_ledger::{StoredReceipt, TimelineEvent};
use tf_seam::{ActivePolicy, PulseReading};
use tf_shard::PolicyStamp;

use super::*;

/// The documentation's example bundle, signed as `revision`.
fn example(revision: u64, note: &str, republishes: Option<u64>) -> Bundle {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/bundle");
    let files = BundleFiles::from_dir(&source).expect("the example bundle");
    tf_bundles::build(
        files,
        BuildInfo {
            revision,
            author: "policy team".into(),
            note: note.into(),
            tickets: vec!["https://tickets.example/42".into()],
            created_unix_s: 1_767_323_045,
            republishes,
        },
        &mut AuthorKey::from_secret(&[7; 32]),
        &tf_engine::Limits::DEFAULT,
    )
    .expect("the example builds")
}

#[test]
fn a_tenant_converts_field_for_field() {
    let config = TenantConfig {
        id: "acme".into(),
        weight: 3,
        rate_per_sec: 200,
        burst: 50,
        keys: vec!["0f".repeat(32)],
        caps: vec![
            CapConfig {
                purpose: Some("kyc".into()),
                class: "P1".into(),
                limit: 1_000,
                window: "day".into(),
            },
            CapConfig {
                purpose: None,
                class: "P2".into(),
                limit: 5,
                window: "rolling 60s".into(),
            },
        ],
        max_registered_keys: 4,
    };
    let tenant = tenant(&config);
    assert_eq!(tenant.id.0, config.id);
    assert_eq!(
        (tenant.weight, tenant.rate_per_sec, tenant.burst),
        (3, 200, 50)
    );
    assert_eq!(tenant.keys, config.keys);
    assert_eq!(tenant.max_registered_keys, 4);
    assert_eq!(tenant.caps.len(), 2);
    for (ours, theirs) in tenant.caps.iter().zip(&config.caps) {
        assert_eq!(ours.purpose, theirs.purpose);
        assert_eq!(ours.class, theirs.class);
        assert_eq!(ours.limit, theirs.limit);
        assert_eq!(ours.window, theirs.window);
    }
    // The reply is the configuration's own serialisation, key for key.
    assert_eq!(
        serde_json::to_value(&tenant).expect("serialises"),
        serde_json::to_value(&config).expect("serialises")
    );
}

#[test]
fn a_timeline_event_converts_with_its_time_in_words() {
    let event = TimelineEvent {
        seq: 4,
        at_us: 1_767_323_045_900_000,
        action: "rollback".into(),
        actor: "oncall".into(),
        reason: "revision 2 broke acme".into(),
        from_revision: 2,
        to_revision: 3,
        links: vec!["https://tickets.example/7".into()],
        bundle_hash: "ab".repeat(32),
        drift: None,
        canary: None,
    };
    let entry = timeline_entry(&event).expect("a known action");
    assert_eq!(entry.seq, 4);
    assert_eq!(entry.at, "2026-01-02T03:04:05Z");
    assert_eq!(entry.at_unix_us, event.at_us);
    assert_eq!(entry.action, SwitchAction::Rollback);
    assert_eq!(
        (entry.actor.as_str(), entry.reason.as_str()),
        ("oncall", "revision 2 broke acme")
    );
    assert_eq!(
        (entry.from_revision, entry.to_revision),
        (Revision(2), Revision(3))
    );
    assert_eq!(entry.bundle_hash.0, event.bundle_hash);
    assert_eq!(entry.links, event.links);

    let unknown = TimelineEvent {
        action: "reload".into(),
        ..event
    };
    let error = timeline_entry(&unknown).expect_err("an action the contract does not know");
    assert_eq!(error.error, ErrorCode::Internal);
    assert!(error.message.contains("reload"), "{}", error.message);
}

#[test]
fn a_switch_converts_field_for_field() {
    let promoted = tf_control::Switched {
        action: "promote",
        from_revision: 1,
        to_revision: 2,
        bundle_hash: "ef".repeat(32),
        republishes: None,
        prepared_ms: 3.25,
        all_shards_ms: Some(0.5),
        timeline_seq: 2,
    };
    let reply = switched(&promoted).expect("a known action");
    assert_eq!(reply.action, SwitchAction::Promote);
    assert_eq!(
        (reply.from_revision, reply.to_revision),
        (Revision(1), Revision(2))
    );
    assert_eq!(reply.bundle_hash.0, promoted.bundle_hash);
    assert_eq!(reply.republishes, None);
    assert_eq!((reply.prepared_ms, reply.all_shards_ms), (3.25, Some(0.5)));
    assert_eq!(reply.timeline_seq, 2);

    let rolled_back = tf_control::Switched {
        action: "rollback",
        republishes: Some(1),
        all_shards_ms: None,
        ..promoted
    };
    let reply = switched(&rolled_back).expect("a known action");
    assert_eq!(reply.action, SwitchAction::Rollback);
    assert_eq!(reply.republishes, Some(Revision(1)));
    assert_eq!(reply.all_shards_ms, None);
}

#[test]
fn a_stored_receipt_converts_with_its_envelope_and_payload() {
    // {"tenant":"demo","ledger_seq":9}
    let envelope_json = r#"{"payload":"eyJ0ZW5hbnQiOiJkZW1vIiwibGVkZ2VyX3NlcSI6OX0=","payloadType":"application/vnd.trust-fabric.receipt.v1+json","signatures":[{"keyid":"k1","sig":"c2ln"}]}"#;
    let stored = StoredReceipt {
        seq: 9,
        request_id: 41,
        purpose: "kyc".into(),
        dataset_class: "P1".into(),
        verdict: "valid".into(),
        charged: 1,
        decided_us: 1_767_323_045_000_900,
        envelope_json: envelope_json.into(),
    };
    let reply = receipt("demo", &stored);
    assert_eq!((reply.seq, reply.tenant.0.as_str()), (9, "demo"));
    assert_eq!(reply.request_id, 41);
    assert_eq!(
        (
            reply.purpose.as_str(),
            reply.dataset_class.as_str(),
            reply.verdict.as_str()
        ),
        ("kyc", "P1", "valid")
    );
    assert_eq!(
        (reply.charged, reply.decided.as_str()),
        (1, "2026-01-02T03:04:05Z")
    );
    assert_eq!(
        reply.receipt,
        Some(serde_json::json!({ "tenant": "demo", "ledger_seq": 9 }))
    );
    let envelope = reply.envelope.expect("the envelope parses");
    assert_eq!(
        serde_json::to_value(&envelope).expect("serialises"),
        serde_json::from_str::<serde_json::Value>(envelope_json).expect("JSON"),
        "the envelope as stored"
    );

    let unreadable = StoredReceipt {
        envelope_json: "not json".into(),
        ..stored
    };
    let reply = receipt("demo", &unreadable);
    assert_eq!((reply.receipt, reply.envelope), (None, None));
}

#[test]
fn status_shows_the_bundle_in_force_and_every_shard() {
    let bundle = Arc::new(example(3, "revision 3", Some(1)));
    let mut hash = [0u8; 32];
    hex::decode_to_slice(&bundle.hash, &mut hash).expect("a hex hash");
    let in_force = InForce {
        active: Arc::new(ActivePolicy {
            stamp: PolicyStamp { revision: 3, hash },
            bundle: Some(bundle.clone()),
            terms: None,
        }),
        rollback_to: Some(2),
        tenants: Vec::new(),
    };
    let pulses = [
        PulseReading {
            policy_revision: 3,
            connections: 2,
            answered: 40,
            ..PulseReading::default()
        },
        PulseReading {
            policy_revision: 2,
            connections: 0,
            answered: 1,
            ..PulseReading::default()
        },
    ];
    let reply = status(&in_force, &pulses);
    assert_eq!(reply.revision, Revision(3));
    assert_eq!(reply.bundle_hash.0, bundle.hash);
    assert_eq!(reply.rollback_to, Some(Revision(2)));
    let shards: Vec<(u16, u64, u64, u64)> = reply
        .shards
        .iter()
        .map(|s| (s.shard, s.policy_revision.0, s.connections, s.answered))
        .collect();
    assert_eq!(shards, [(0, 3, 2, 40), (1, 2, 0, 1)]);
    let active = reply.bundle.expect("a bundle in force");
    assert_eq!(active.author, "policy team");
    assert_eq!(active.note, "revision 3");
    assert_eq!(active.tickets, ["https://tickets.example/42"]);
    assert_eq!(active.created, "2026-01-02T03:04:05Z");
    assert_eq!(active.republishes, Some(Revision(1)));
    let tenants: Vec<&str> = bundle
        .content
        .tenants
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(
        active
            .tenants
            .iter()
            .map(|t| t.0.as_str())
            .collect::<Vec<_>>(),
        tenants
    );
    assert!(!active.policies.is_empty());
    assert_eq!(
        active.policies,
        bundle
            .policies
            .texts()
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    );

    // Revision 0: no bundle, zeros, nothing to roll back to.
    let configured = InForce {
        active: Arc::new(ActivePolicy::configured()),
        rollback_to: None,
        tenants: Vec::new(),
    };
    let reply = status(&configured, &[]);
    assert_eq!(reply.revision, Revision(0));
    assert_eq!(reply.bundle_hash.0, "0".repeat(64));
    assert_eq!((reply.bundle, reply.rollback_to), (None, None));
}

#[test]
fn a_validated_bundle_and_a_diff_name_their_revisions_and_hashes() {
    let old = example(1, "first", None);
    let new = example(2, "second", None);
    let valid = validated(&new);
    assert!(valid.valid);
    assert_eq!(
        (valid.revision, valid.hash.0.as_str()),
        (Revision(2), new.hash.as_str())
    );
    assert_eq!(
        (valid.author.as_str(), valid.note.as_str()),
        ("policy team", "second")
    );

    let reply = diff(&old, &new);
    assert_eq!(
        (reply.old.revision, reply.old.hash.0.as_str()),
        (Revision(1), old.hash.as_str())
    );
    assert_eq!(
        (reply.new.revision, reply.new.hash.0.as_str()),
        (Revision(2), new.hash.as_str())
    );
    assert!(
        reply.changes.is_empty(),
        "the same content: {:?}",
        reply.changes
    );
}

#[test]
fn a_diff_line_converts_field_for_field() {
    let lines = [
        tf_bundles::DiffLine {
            section: "tenants",
            change: Change::Added,
            subject: "globex".into(),
            before: None,
            after: Some("weight 1".into()),
        },
        tf_bundles::DiffLine {
            section: "budgets",
            change: Change::Changed,
            subject: "cap of acme".into(),
            before: Some("300".into()),
            after: Some("303".into()),
        },
        tf_bundles::DiffLine {
            section: "policies",
            change: Change::Removed,
            subject: "bls-on-p1-and-p2".into(),
            before: Some("permit (principal, action, resource);".into()),
            after: None,
        },
    ];
    let expected = [DiffChange::Added, DiffChange::Changed, DiffChange::Removed];
    for (line, change) in lines.iter().zip(expected) {
        let ours = diff_line(line);
        assert_eq!(ours.section, line.section);
        assert_eq!(ours.change, change);
        assert_eq!(ours.subject, line.subject);
        assert_eq!((&ours.before, &ours.after), (&line.before, &line.after));
        // The reply is tf_bundles' own serialisation, key for key.
        assert_eq!(
            serde_json::to_value(&ours).expect("serialises"),
            serde_json::to_value(line).expect("serialises")
        );
    }
}

#[test]
fn a_problem_keeps_its_code_and_message() {
    let problem = Problem::NoManifest;
    let ours = super::problem(&problem);
    assert_eq!(ours.code, problem.code());
    assert_eq!(ours.message, problem.to_string());
}

/// A packet of `acme`'s receipts 3 to 7, anchored at 9 or not, or damaged.
fn packet(anchored: bool, damaged: bool) -> tf_compliance::PacketInfo {
    use tf_compliance::{AnchorRecord, LogSummary, SeqRange, Sha256Digest, TenantSummary};
    let summary = SnapshotSummary {
        snapshot: "snapshot-20260102T030405Z".into(),
        from_unix_us: 1_767_225_600_000_000,
        to_unix_us: 1_767_323_045_000_000,
        made_at_unix_us: 1_767_323_049_900_000,
        appliance_key_id: "k1".into(),
        receipts: 5,
        charged: 4,
        tenants: vec![TenantSummary {
            tenant: "acme".into(),
            receipts: 5,
            charged: 4,
            seqs: SeqRange { first: 3, last: 7 },
        }],
        log: LogSummary {
            tree_size: 9,
            receipts: Some(SeqRange { first: 3, last: 7 }),
            previous_tree_size: None,
        },
        previous_index_sha256: None,
    };
    tf_compliance::PacketInfo {
        name: "snapshot-20260102T030405Z".into(),
        path: "/state/compliance/snapshot-20260102T030405Z".into(),
        index_sha256: Sha256Digest([0xab; 32]),
        summary: if damaged {
            Err("index.dsse.json: not signed by this appliance's key".into())
        } else {
            Ok(summary)
        },
        bytes: 12_345,
        anchor: anchored.then(|| AnchorRecord {
            seq: 9,
            envelope: "{}".into(),
        }),
    }
}

#[test]
fn a_packet_converts_with_its_period_in_both_forms() {
    let entry = snapshot(&packet(true, false), Some(1));
    assert_eq!(entry.name.0, "snapshot-20260102T030405Z");
    assert_eq!(entry.status, SnapshotStatus::ReceiptsHeld);
    assert_eq!(entry.damaged, None);
    assert_eq!(entry.index_sha256.0, "ab".repeat(32));
    assert_eq!((entry.bytes, entry.anchor_seq), (12_345, Some(9)));
    assert_eq!(entry.path, "/state/compliance/snapshot-20260102T030405Z");
    let summary = entry.summary.expect("a summary");
    assert_eq!(
        (
            summary.from.as_str(),
            summary.to.as_str(),
            summary.made_at.as_str()
        ),
        (
            "2026-01-01T00:00:00Z",
            "2026-01-02T03:04:05Z",
            "2026-01-02T03:04:09Z"
        )
    );
    assert_eq!(summary.to_unix_us, 1_767_323_045_000_000);
    assert_eq!(
        (summary.receipts, summary.charged, summary.tree_size),
        (5, 4, 9)
    );
    assert_eq!((summary.first_seq, summary.last_seq), (Some(3), Some(7)));
    assert_eq!(summary.tenants.len(), 1);
    assert_eq!(summary.tenants[0].tenant.0, "acme");
}

#[test]
fn a_packets_status_follows_its_anchor_and_the_oldest_receipt_the_ledger_holds() {
    let status = |anchored, damaged, oldest| snapshot(&packet(anchored, damaged), oldest).status;
    // The ledger holds its newest receipt (7): held, even while pruning eats its oldest.
    assert_eq!(status(true, false, Some(3)), SnapshotStatus::ReceiptsHeld);
    assert_eq!(status(true, false, Some(7)), SnapshotStatus::ReceiptsHeld);
    // Past its newest receipt, or nothing left in the ledger: the packet is the only copy.
    assert_eq!(status(true, false, Some(8)), SnapshotStatus::ReceiptsPruned);
    assert_eq!(status(true, false, None), SnapshotStatus::ReceiptsPruned);
    // Not anchored comes first, damaged before everything.
    assert_eq!(status(false, false, Some(8)), SnapshotStatus::NotAnchored);
    let damaged = snapshot(&packet(true, true), Some(1));
    assert_eq!(damaged.status, SnapshotStatus::Damaged);
    assert!(
        damaged
            .damaged
            .as_deref()
            .is_some_and(|why| why.contains("not signed")),
        "{damaged:?}"
    );
    assert_eq!(damaged.summary, None);
    // A packet without receipts has nothing pruned.
    let mut empty = packet(true, false);
    if let Ok(summary) = &mut empty.summary {
        summary.log.receipts = None;
    }
    assert_eq!(snapshot(&empty, None).status, SnapshotStatus::ReceiptsHeld);
}

#[test]
fn the_worker_converts_with_null_where_nothing_is_asked_or_wrong() {
    let status = ComplianceStatus {
        packets: vec![packet(true, false), packet(false, false)],
        asked_to_us: Some(1_767_323_050_000_000),
        next_scheduled_us: Some(1_767_398_400_000_000),
        waiting: None,
        last_error: Some("anchoring: the ledger thread did not answer".into()),
        pruning_stopped: Some("receipt 4 is in no packet".into()),
        oldest_retained: Some((8, 1_767_323_046_000_000)),
    };
    let reply = snapshots(&status, Path::new("/state/compliance"));
    let worker = &reply.worker;
    assert_eq!(worker.dir, "/state/compliance");
    assert_eq!(worker.asked_to.as_deref(), Some("2026-01-02T03:04:10Z"));
    assert_eq!(
        worker.next_scheduled.as_deref(),
        Some("2026-01-03T00:00:00Z")
    );
    assert_eq!(worker.waiting, None);
    assert_eq!(
        worker.last_error.as_deref(),
        Some("anchoring: the ledger thread did not answer")
    );
    assert_eq!(
        worker.pruning_stopped.as_deref(),
        Some("receipt 4 is in no packet")
    );
    assert_eq!(worker.oldest_retained_seq, Some(8));
    let statuses: Vec<SnapshotStatus> = reply.snapshots.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [SnapshotStatus::ReceiptsPruned, SnapshotStatus::NotAnchored]
    );
}
