//! What a promotion records of the drift guard, and when it refuses.

use tf_ledger::{DriftChecked, DriftOverride};

use crate::{ControlError, DriftSay, Judged};

fn judged(hash: &str, judgement: &str, overridden: Option<DriftOverride>) -> Judged {
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
        overridden,
    }
}

fn approval(by: &str) -> DriftOverride {
    DriftOverride {
        by: by.to_owned(),
        reason: "meant".to_owned(),
    }
}

#[test]
fn a_bundle_blocked_here_needs_an_override_and_the_newest_judgement_counts() {
    let blocked = DriftSay {
        judged: vec![judged("aa", "pass", None), judged("aa", "block", None)],
        approval: None,
    };
    match blocked.note_for("aa") {
        Err(ControlError::DriftBlocked { judgement, .. }) => assert_eq!(judgement, "block"),
        other => panic!("refused, not {other:?}"),
    }
    // Another bundle was never judged here: nothing to say, nothing refused.
    assert_eq!(blocked.note_for("bb").expect("not judged"), None);

    // The promoter's override, or the one given with the judgement, lets it through.
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
    let with_judgement = DriftSay {
        judged: vec![judged("aa", "too-few-decisions", Some(approval("lee")))],
        approval: None,
    };
    let note = with_judgement
        .note_for("aa")
        .expect("overridden")
        .expect("a note");
    assert_eq!(note.overridden, Some(approval("lee")));

    // A pass needs no override; an override without a judgement here is kept as given.
    let passed = DriftSay {
        judged: vec![judged("aa", "pass", None)],
        approval: Some(approval("dana")),
    };
    let note = passed.note_for("aa").expect("passes").expect("a note");
    assert_eq!(note.overridden, None);
    let elsewhere = passed.note_for("cc").expect("not judged").expect("a note");
    assert_eq!(
        (elsewhere.checked, elsewhere.overridden),
        (None, Some(approval("dana")))
    );
}
