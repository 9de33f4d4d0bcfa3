//! A sealed golden set opens as it was built, and any change, another key or a request the
//! wire protocol refuses is refused.

use tf_receipts::ReceiptSigner;
use tf_wire::{Curve, DatasetClass, Statement, VerdictCode, WireLimits};

use super::*;

fn set() -> GoldenSet {
    let item = |label: &str, expect, n: u8| GoldenItem {
        label: label.to_owned(),
        expect,
        purpose: "canary".to_owned(),
        dataset_class: DatasetClass::P2,
        statement: Statement::BlsSingle {
            public_key: [n; 48],
            message: vec![n; 16],
            signature: [n; 96],
        },
    };
    GoldenSet {
        created_unix_s: 1_796_000_000,
        keys: vec![(Curve::Bn254, vec![7; 64]), (Curve::Bls12_381, vec![9; 96])],
        items: vec![
            item("bls-single", VerdictCode::Valid, 1),
            item("bls-single (altered)", VerdictCode::Invalid, 2),
            item("bls-single (not a point)", VerdictCode::Rejected, 3),
        ],
    }
}

#[test]
fn a_sealed_set_opens_as_built() {
    let mut signer = ReceiptSigner::from_secret(&[5; 32]);
    let sealed = set().seal(&mut signer).expect("sealed");
    let opened =
        GoldenSet::open(&sealed, &signer.public_key(), &WireLimits::DEFAULT).expect("opens");
    assert_eq!(opened, set());
}

#[test]
fn changes_other_keys_and_refused_requests_are_refused() {
    let mut signer = ReceiptSigner::from_secret(&[5; 32]);
    let sealed = set().seal(&mut signer).expect("sealed");
    let key = signer.public_key();

    // Another appliance's key.
    let other = ReceiptSigner::from_secret(&[6; 32]).public_key();
    assert!(matches!(
        GoldenSet::open(&sealed, &other, &WireLimits::DEFAULT),
        Err(GoldenError::Signature(_))
    ));
    // The payload changed after signing: an expected verdict flipped.
    let mut envelope = tf_receipts::Envelope::from_json(&sealed).expect("an envelope");
    let text = String::from_utf8(envelope.payload.clone()).expect("utf-8");
    envelope.payload = text
        .replacen("\"expect\":\"invalid\"", "\"expect\":\"valid\"", 1)
        .into_bytes();
    assert!(matches!(
        GoldenSet::open(&envelope.to_json(), &key, &WireLimits::DEFAULT),
        Err(GoldenError::Signature(_))
    ));
    // A request larger than the wire protocol admits.
    let tight = WireLimits {
        max_message_bytes: 8,
        ..WireLimits::DEFAULT
    };
    match GoldenSet::open(&sealed, &key, &tight) {
        Err(GoldenError::Item { what, .. }) => assert!(what.contains("bls-single"), "{what}"),
        other => panic!("refused, not {other:?}"),
    }
    // Two requests under one label, and a proof under a key the set does not carry.
    let mut twice = set();
    twice.items[1].label = twice.items[0].label.clone();
    let sealed_twice = twice.seal(&mut signer).expect("sealed");
    assert!(matches!(
        GoldenSet::open(&sealed_twice, &key, &WireLimits::DEFAULT),
        Err(GoldenError::Item { .. })
    ));
    let mut foreign = set();
    foreign.items[0].statement = Statement::Groth16 {
        curve: Curve::Bn254,
        key_id: [1; 32],
        proof: vec![0; 128],
        public_inputs: vec![[0; 32]],
    };
    let sealed_foreign = foreign.seal(&mut signer).expect("sealed");
    match GoldenSet::open(&sealed_foreign, &key, &WireLimits::DEFAULT) {
        Err(GoldenError::Item { problem, .. }) => assert!(problem.contains("key"), "{problem}"),
        other => panic!("refused, not {other:?}"),
    }
    // Not a golden set at all, and an empty one.
    let receipt_like = signer.sign_payload("application/vnd.in-toto+json", b"{}".to_vec());
    assert!(matches!(
        GoldenSet::open(&receipt_like.to_json(), &key, &WireLimits::DEFAULT),
        Err(GoldenError::Format(_))
    ));
    let empty = GoldenSet {
        items: Vec::new(),
        ..set()
    }
    .seal(&mut signer)
    .expect("sealed");
    assert!(matches!(
        GoldenSet::open(&empty, &key, &WireLimits::DEFAULT),
        Err(GoldenError::Format(_))
    ));
}
