//! Helpers shared by the end-to-end tests: fixture paths, running the real `appliance` binary,
//! and building malformed inputs.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ark_ec::AffineRepr;
use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_ff::UniformRand;
use rand_core::SeedableRng;
use serde_json::Value;

pub const CURVES: [&str; 2] = ["bn128", "bls12381"];

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn fixture(curve: &str, name: &str) -> PathBuf {
    root().join("tests/fixtures/groth16").join(curve).join(name)
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture readable")).expect("json")
}

pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file writable");
    path
}

pub fn appliance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_appliance"))
        .args(args)
        .output()
        .expect("appliance runs")
}

/// Runs `appliance verify --json groth16` and returns (exit code, parsed JSON, stderr).
pub fn verify_groth16(vk: &Path, proof: &Path, public: &Path) -> (i32, Value, String) {
    let out = appliance(&[
        "verify",
        "--json",
        "groth16",
        "--vk",
        vk.to_str().expect("utf-8 path"),
        "--proof",
        proof.to_str().expect("utf-8 path"),
        "--public",
        public.to_str().expect("utf-8 path"),
    ]);
    let code = out.status.code().expect("exited, not killed by a signal");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (
        code,
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The scalar field modulus of the curve, in decimal.
pub fn scalar_modulus(curve: &str) -> &'static str {
    match curve {
        "bn128" => "21888242871839275222246405745257275088548364400416034343698204186575808495617",
        _ => "52435875175126190479447740508185965837690552500527637822603658699938581184513",
    }
}

/// A G2 point on the curve but outside the prime-order subgroup, as snarkjs JSON coordinates.
pub fn g2_outside_subgroup_json(curve: &str) -> Value {
    match curve {
        "bn128" => g2_json::<ark_bn254::g2::Config>(),
        _ => g2_json::<ark_bls12_381::g2::Config>(),
    }
}

fn g2_json<C: SWCurveConfig>() -> Value
where
    C::BaseField: ark_ff::Field,
{
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
    let point = loop {
        let x = C::BaseField::rand(&mut rng);
        if let Some(p) = Affine::<C>::get_point_from_x_unchecked(x, false)
            && !p.is_in_correct_subgroup_assuming_on_curve()
            && !p.is_zero()
        {
            break p;
        }
    };
    let (x, y) = point.xy().expect("not the identity");
    let coords = |f: C::BaseField| -> Value {
        use ark_ff::{BigInteger, Field, PrimeField};
        Value::Array(
            f.to_base_prime_field_elements()
                .map(|e| {
                    let digits = e.into_bigint().to_bytes_be();
                    Value::String(decimal(&digits))
                })
                .collect(),
        )
    };
    serde_json::json!([coords(x), coords(y), ["1", "0"]])
}

/// Big-endian bytes to a decimal string.
fn decimal(be: &[u8]) -> String {
    let mut digits = vec![0u8]; // little-endian base-10 digits
    for byte in be {
        let mut carry = u32::from(*byte);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}
