//! The demo circuit's keys and proofs, built in for demos and load generation (the same
//! fixtures the test suite checks snarkjs agreement with): `a * b = c` with `c` public.

macro_rules! fixture {
    ($curve:literal, $file:literal) => {
        include_str!(concat!(
            "../../../tests/fixtures/groth16/",
            $curve,
            "/",
            $file
        ))
    };
}

/// The BN254 verifying key (snarkjs JSON).
pub const BN254_KEY: &str = fixture!("bn128", "verification_key.json");
/// BN254 proofs and their public inputs.
pub const BN254_PROOFS: [(&str, &str); 4] = [
    (
        fixture!("bn128", "proof_0.json"),
        fixture!("bn128", "public_0.json"),
    ),
    (
        fixture!("bn128", "proof_1.json"),
        fixture!("bn128", "public_1.json"),
    ),
    (
        fixture!("bn128", "proof_2.json"),
        fixture!("bn128", "public_2.json"),
    ),
    (
        fixture!("bn128", "proof_3.json"),
        fixture!("bn128", "public_3.json"),
    ),
];
/// The BLS12-381 verifying key (snarkjs JSON).
pub const BLS12_381_KEY: &str = fixture!("bls12381", "verification_key.json");
/// BLS12-381 proofs and their public inputs.
pub const BLS12_381_PROOFS: [(&str, &str); 4] = [
    (
        fixture!("bls12381", "proof_0.json"),
        fixture!("bls12381", "public_0.json"),
    ),
    (
        fixture!("bls12381", "proof_1.json"),
        fixture!("bls12381", "public_1.json"),
    ),
    (
        fixture!("bls12381", "proof_2.json"),
        fixture!("bls12381", "public_2.json"),
    ),
    (
        fixture!("bls12381", "proof_3.json"),
        fixture!("bls12381", "public_3.json"),
    ),
];
