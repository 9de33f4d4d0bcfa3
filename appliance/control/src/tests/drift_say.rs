//! What a promotion records of the drift guard, and when it refuses.

use tf_ledger::{DriftChecked, DriftOverride};

use crate::{ControlError, DriftSay, Judged};

fn judged(hash: &str, judgement: &str) -> Judged {
    Judged {
        bundle_hash: hash.to_owned(),
        checked: DriftChecked {
            judgement: judgement.to_owned(),
            upper_bound: 0.012,
            tolerance: 0.005,
            decisions: 10_000,
            from_us: 1,
            to_us: 2,
            against_revision: 3,
        },
    }
}

fn approval(by: &str) -> DriftOverride {
    DriftOverride {
        by: by.to_owned(),
        reason: "meant".to_owned(),
    }
}

#[test]
fn a_bundle_blocked_here_needs_the_promoters_override() {
    let blocked = DriftSay {
        judged: vec![judged("aa", "block"), judged("bb", "pass")],
        approval: None,
    };
    match blocked.note_for("aa") {
        Err(ControlError::DriftBlocked { judgement, .. }) => assert_eq!(judgement, "block"),
        other => panic!("refused, not {other:?}"),
    }
    // A bundle never judged here: nothing to say, nothing refused.
    assert_eq!(blocked.note_for("cc").expect("not judged"), None);
    // One that passed: its judgement is recorded, no override needed.
    let note = blocked.note_for("bb").expect("passes").expect("a note");
    assert_eq!(note.checked.expect("judged").judgement, "pass");
    assert_eq!(note.overridden, None);

    // The promoter's override lets the blocked one through, and both are recorded.
    let promoter = DriftSay {
        approval: Some(approval("dana")),
        ..blocked.clone()
    };
    let note = promoter
        .note_for("aa")
        .expect("overridden")
        .expect("a note");
    assert_eq!(note.overridden, Some(approval("dana")));
    assert_eq!(note.checked.expect("judged here").judgement, "block");
    let too_few = DriftSay {
        judged: vec![judged("aa", "too-few-decisions")],
        approval: None,
    };
    assert!(too_few.note_for("aa").is_err());
    // An override with no judgement here is kept as given; with a pass it is not needed.
    let elsewhere = promoter
        .note_for("cc")
        .expect("not judged")
        .expect("a note");
    assert_eq!(
        (elsewhere.checked, elsewhere.overridden),
        (None, Some(approval("dana")))
    );
    let passed = promoter.note_for("bb").expect("passes").expect("a note");
    assert_eq!(passed.overridden, None);
}
