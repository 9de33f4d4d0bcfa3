use super::vectors::{VECTORS, headers, spec_secret, svix_signing_key};
use super::*;

#[test]
fn signed_content_is_id_timestamp_body() {
    assert_eq!(
        signed_content("msg_1", 1674087231, b"{}"),
        b"msg_1.1674087231.{}"
    );
    assert_eq!(signed_content("msg_1", 0, b""), b"msg_1.0.");
    assert_eq!(
        signed_content("m", u64::MAX, b"x"),
        b"m.18446744073709551615.x"
    );
}

#[test]
fn v1a_round_trip_with_a_fresh_key() {
    let signing = SigningKey::from_bytes(&[42u8; 32]);
    let public = WebhookPublicKey::from(signing.verifying_key());
    let body = br#"{"type":"receipt.issued"}"#;
    let signature = sign_v1a(&signing, "msg_receipts_1_2_3", 1_700_000_000, body);
    let h = headers("msg_receipts_1_2_3", "1700000000", &signature);
    let keys = [VerifierKey::from(public)];
    assert_eq!(
        verify(&h, body, &keys, 1_700_000_000, DEFAULT_TOLERANCE_S),
        Ok(())
    );
    assert_eq!(
        verify(&h, b"{}", &keys, 1_700_000_000, DEFAULT_TOLERANCE_S),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn rotation_header_verifies_when_any_signature_matches() {
    let v = &VECTORS[0];
    let old = WebhookSecret::from_bytes(&[9u8; 32]).expect("32 bytes is a valid length");
    let body = v.body.as_bytes();
    let old_sig = sign_v1(&old, v.id, v.timestamp_s, body);
    let new_sig = sign_v1(&spec_secret(), v.id, v.timestamp_s, body);
    let header = signature_header(&[old_sig.clone(), new_sig.clone()]);
    assert_eq!(header, format!("{old_sig} {new_sig}"));
    let ts = v.timestamp_s.to_string();
    // A receiver that only knows the new secret, and one that only knows the old.
    for key in [spec_secret(), old] {
        let got = verify(
            &headers(v.id, &ts, &header),
            body,
            &[key.into()],
            v.timestamp_s,
            300,
        );
        assert_eq!(got, Ok(()));
    }
    // Unknown schemes and malformed entries are skipped, not fatal.
    let noisy = format!("v2,abc v1 v1,short v1a,{} {new_sig}", &new_sig[3..]);
    let got = verify(
        &headers(v.id, &ts, &noisy),
        body,
        &[spec_secret().into()],
        v.timestamp_s,
        0,
    );
    assert_eq!(got, Ok(()));
}

#[test]
fn verify_refuses_tampering() {
    let v = &VECTORS[0];
    let ts = v.timestamp_s.to_string();
    let keys = [VerifierKey::from(spec_secret())];
    let check = |id: &str, ts: &str, sig: &str, body: &str| {
        verify(
            &headers(id, ts, sig),
            body.as_bytes(),
            &keys,
            v.timestamp_s,
            DEFAULT_TOLERANCE_S,
        )
    };
    let refused = Err(VerifyError::NoMatchingSignature);
    assert_eq!(check(v.id, &ts, v.expected, v.body), Ok(()));
    assert_eq!(
        check(v.id, &ts, v.expected, r#"{"test": 2432232315}"#),
        refused
    );
    assert_eq!(
        check("msg_p5jXN8AQM9LWM0D4loKWxJel", &ts, v.expected, v.body),
        refused
    );
    let other_ts = (v.timestamp_s + 1).to_string();
    assert_eq!(check(v.id, &other_ts, v.expected, v.body), refused);
    // The python tests' "invalid signature": last character changed.
    let flipped = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
    assert_eq!(check(v.id, &ts, flipped, v.body), refused);
    // Truncations of the right signature.
    assert_eq!(check(v.id, &ts, "v1,", v.body), refused);
    assert_eq!(check(v.id, &ts, &v.expected[..20], v.body), refused);
    // A `v1a` signature does not satisfy a secret, nor a `v1` one a public key.
    let public = WebhookPublicKey::from(svix_signing_key().verifying_key());
    let got = verify(
        &headers(v.id, &ts, VECTORS[2].expected),
        v.body.as_bytes(),
        &keys,
        v.timestamp_s,
        0,
    );
    assert_eq!(got, refused);
    let got = verify(
        &headers(v.id, &ts, v.expected),
        v.body.as_bytes(),
        &[public.into()],
        v.timestamp_s,
        0,
    );
    assert_eq!(got, refused);
    assert_eq!(
        check("msg.1", &ts, v.expected, v.body),
        Err(VerifyError::InvalidId)
    );
}

#[test]
fn verify_enforces_the_tolerance_both_ways() {
    let v = &VECTORS[0];
    let ts = v.timestamp_s.to_string();
    let keys = [VerifierKey::from(spec_secret())];
    let at = |now_s| {
        verify(
            &headers(v.id, &ts, v.expected),
            v.body.as_bytes(),
            &keys,
            now_s,
            300,
        )
    };
    assert_eq!(at(v.timestamp_s + 300), Ok(()));
    assert_eq!(at(v.timestamp_s - 300), Ok(()));
    assert_eq!(
        at(v.timestamp_s + 301),
        Err(VerifyError::TooOld {
            age_s: 301,
            tolerance_s: 300
        })
    );
    assert_eq!(
        at(v.timestamp_s - 301),
        Err(VerifyError::TooNew {
            ahead_s: 301,
            tolerance_s: 300
        })
    );
    assert_eq!(
        at(0),
        Err(VerifyError::TooNew {
            ahead_s: v.timestamp_s,
            tolerance_s: 300
        })
    );
}

#[test]
fn verify_names_the_missing_or_malformed_header() {
    let v = &VECTORS[0];
    let ts = v.timestamp_s.to_string();
    let keys = [VerifierKey::from(spec_secret())];
    let full = headers(v.id, &ts, v.expected);
    let check = |h: WebhookHeaders<'_>| verify(&h, v.body.as_bytes(), &keys, v.timestamp_s, 300);
    assert_eq!(
        check(WebhookHeaders { id: None, ..full }),
        Err(VerifyError::MissingHeader(HEADER_ID))
    );
    assert_eq!(
        check(WebhookHeaders {
            id: Some(""),
            ..full
        }),
        Err(VerifyError::MissingHeader(HEADER_ID))
    );
    assert_eq!(
        check(WebhookHeaders {
            timestamp: None,
            ..full
        }),
        Err(VerifyError::MissingHeader(HEADER_TIMESTAMP))
    );
    assert_eq!(
        check(WebhookHeaders {
            signature: None,
            ..full
        }),
        Err(VerifyError::MissingHeader(HEADER_SIGNATURE))
    );
    for bad in [
        "hello",
        "-1614265330",
        "1614265330.0",
        " 1614265330",
        "+1614265330",
        "99999999999999999999",
    ] {
        assert_eq!(
            check(WebhookHeaders {
                timestamp: Some(bad),
                ..full
            }),
            Err(VerifyError::InvalidTimestamp),
            "{bad:?}"
        );
    }
    assert_eq!(
        verify(&full, v.body.as_bytes(), &[], v.timestamp_s, 300),
        Err(VerifyError::NoMatchingSignature)
    );
}

#[test]
fn verify_looks_at_a_bounded_number_of_signatures() {
    let v = &VECTORS[0];
    let ts = v.timestamp_s.to_string();
    let keys = [VerifierKey::from(spec_secret())];
    let mut header = vec!["v2,x"; MAX_SIGNATURES - 1].join(" ");
    header.push(' ');
    header.push_str(v.expected);
    assert_eq!(
        verify(
            &headers(v.id, &ts, &header),
            v.body.as_bytes(),
            &keys,
            v.timestamp_s,
            0
        ),
        Ok(())
    );
    let header = format!("v2,x {header}");
    assert_eq!(
        verify(
            &headers(v.id, &ts, &header),
            v.body.as_bytes(),
            &keys,
            v.timestamp_s,
            0
        ),
        Err(VerifyError::NoMatchingSignature)
    );
}
