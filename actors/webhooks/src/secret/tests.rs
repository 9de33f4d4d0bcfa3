use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;

/// The secret of the reference libraries' `v1` vector (24 bytes).
const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn secret_round_trips_and_hides_its_bytes() {
    let secret = WebhookSecret::parse(SPEC_SECRET).expect("the spec's secret parses");
    assert_eq!(secret.as_bytes().len(), 24);
    assert_eq!(secret.to_string(), SPEC_SECRET);
    let debug = format!("{secret:?}");
    assert_eq!(debug, "WebhookSecret(24 bytes, redacted)");
    assert!(!debug.contains("MfKQ"));
}

#[test]
fn secret_accepts_missing_padding_and_prints_it_back() {
    // 25 bytes: standard base64 needs `==`.
    let padded = format!("{SECRET_PREFIX}{}", STANDARD.encode([7u8; 25]));
    assert!(padded.ends_with("=="));
    let unpadded = padded.trim_end_matches('=');
    let secret = WebhookSecret::parse(unpadded).expect("unpadded base64 is accepted");
    assert_eq!(secret.as_bytes(), &[7u8; 25]);
    assert_eq!(secret.to_string(), padded);
}

#[test]
fn secret_errors_say_what_is_wrong() {
    let wrong_prefix = WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert!(matches!(wrong_prefix, Err(SecretParseError::MissingPrefix)));
    assert!(matches!(
        WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La-aSw"),
        Err(SecretParseError::NotBase64)
    ));
    let short = format!("{SECRET_PREFIX}{}", STANDARD.encode([1u8; 23]));
    assert_eq!(
        WebhookSecret::parse(&short).err(),
        Some(SecretParseError::BadLength { found: 23 })
    );
    let long = format!("{SECRET_PREFIX}{}", STANDARD.encode([1u8; 65]));
    assert_eq!(
        WebhookSecret::parse(&long).err(),
        Some(SecretParseError::BadLength { found: 65 })
    );
    let far_too_long = format!("{SECRET_PREFIX}{}", STANDARD.encode([1u8; 300]));
    assert!(matches!(
        WebhookSecret::parse(&far_too_long),
        Err(SecretParseError::BadLength { found }) if found >= 300
    ));
    let max = format!("{SECRET_PREFIX}{}", STANDARD.encode([1u8; 64]));
    assert!(WebhookSecret::parse(&max).is_ok());
    assert!(WebhookSecret::parse("whsec_").is_err());
    let message = SecretParseError::BadLength { found: 23 }.to_string();
    assert!(message.contains("24 to 64"), "{message}");
}

#[test]
fn generated_secrets_are_fresh_and_parse_back() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let a = WebhookSecret::generate(&mut rng);
    let b = WebhookSecret::generate(&mut rng);
    assert_eq!(a.as_bytes().len(), GENERATED_SECRET_LEN);
    assert_ne!(a.as_bytes(), b.as_bytes());
    let back = WebhookSecret::parse(&a.to_string()).expect("our own form parses");
    assert_eq!(back.as_bytes(), a.as_bytes());
}

#[test]
fn public_key_matches_svix_key_pair() {
    // Svix's README pair: `whsk_` holds seed || public key, `whpk_` the public key.
    let whsk =
        "6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==";
    let whpk = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=";
    let pair = STANDARD.decode(whsk).expect("vector is base64");
    let seed: [u8; 32] = pair[..32].try_into().expect("64-byte pair");
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let ours = WebhookPublicKey::from(signing.verifying_key());
    assert_eq!(ours.to_string(), whpk);
    assert_eq!(WebhookPublicKey::parse(whpk), Ok(ours));
    assert_eq!(&pair[32..], ours.verifying_key().as_bytes());
}

#[test]
fn public_key_errors_say_what_is_wrong() {
    assert_eq!(
        WebhookPublicKey::parse("whsec_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="),
        Err(PublicKeyParseError::MissingPrefix)
    );
    let short = format!("{PUBLIC_KEY_PREFIX}{}", STANDARD.encode([1u8; 31]));
    assert_eq!(
        WebhookPublicKey::parse(&short),
        Err(PublicKeyParseError::BadLength { found: 31 })
    );
    // The identity point encodes as 1 followed by zeros: small order.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = format!("{PUBLIC_KEY_PREFIX}{}", STANDARD.encode(identity));
    assert_eq!(
        WebhookPublicKey::parse(&weak),
        Err(PublicKeyParseError::WeakKey)
    );
    assert_eq!(
        WebhookPublicKey::parse("whpk_!!!!"),
        Err(PublicKeyParseError::NotBase64)
    );
}
