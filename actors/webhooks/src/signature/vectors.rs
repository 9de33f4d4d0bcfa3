//! The published known-answer vectors, and a test that reads every one.

use super::*;

/// A published known-answer vector.
pub(super) struct Vector {
    /// Where it was published.
    pub(super) source: &'static str,
    /// `whsec_…` for `v1`; for `v1a`, base64 of the 64-byte seed || public key (Svix's `whsk_`
    /// body).
    pub(super) key: &'static str,
    pub(super) id: &'static str,
    pub(super) timestamp_s: u64,
    pub(super) body: &'static str,
    pub(super) expected: &'static str,
}

pub(super) const VECTORS: &[Vector] = &[
    Vector {
        source: "standard-webhooks libraries/python/tests/test_webhooks.py test_sign_function \
                 (same in libraries/javascript/src/webhook.test.ts)",
        key: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp_s: 1614265330,
        body: r#"{"test": 2432232314}"#,
        expected: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    },
    Vector {
        source: "standard-webhooks libraries/rust/src/lib.rs test_sign",
        key: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        timestamp_s: 1649367553,
        body: r#"{"email":"test@example.com","username":"test_user"}"#,
        expected: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
    },
    Vector {
        source: "svix-webhooks server/svix-server/src/worker.rs test_asymmetric_key_signing \
                 (the `v1a` value in the spec's example headers)",
        key: "6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==",
        id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp_s: 1614265330,
        body: r#"{"test": 2432232314}"#,
        expected: "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
    },
];

pub(super) fn spec_secret() -> WebhookSecret {
    WebhookSecret::parse(VECTORS[0].key).expect("vector secret parses")
}

pub(super) fn svix_signing_key() -> SigningKey {
    let pair = STANDARD
        .decode(VECTORS[2].key)
        .expect("vector key is base64");
    let seed: [u8; 32] = pair[..32].try_into().expect("seed || public key");
    let key = SigningKey::from_bytes(&seed);
    assert_eq!(
        key.verifying_key().as_bytes(),
        &pair[32..],
        "the pair is consistent"
    );
    key
}

pub(super) fn headers<'a>(
    id: &'a str,
    timestamp: &'a str,
    signature: &'a str,
) -> WebhookHeaders<'a> {
    WebhookHeaders {
        id: Some(id),
        timestamp: Some(timestamp),
        signature: Some(signature),
    }
}

#[test]
fn every_published_vector_signs_and_verifies() {
    let mut read = 0;
    for v in VECTORS {
        let (signature, key): (String, VerifierKey) = if v.key.starts_with("whsec_") {
            let secret = WebhookSecret::parse(v.key).expect("vector secret parses");
            (
                sign_v1(&secret, v.id, v.timestamp_s, v.body.as_bytes()),
                secret.into(),
            )
        } else {
            let signing = svix_signing_key();
            let public = WebhookPublicKey::from(signing.verifying_key());
            (
                sign_v1a(&signing, v.id, v.timestamp_s, v.body.as_bytes()),
                public.into(),
            )
        };
        assert_eq!(signature, v.expected, "{}", v.source);
        let ts = v.timestamp_s.to_string();
        let got = verify(
            &headers(v.id, &ts, v.expected),
            v.body.as_bytes(),
            &[key],
            v.timestamp_s,
            0,
        );
        assert_eq!(got, Ok(()), "{}", v.source);
        read += 1;
    }
    assert_eq!(read, 3, "a vector was skipped");
}
