//! `appliance verify groth16` against `snarkjs groth16 verify` (the tool partners produce proofs
//! with) on the same files, both curves: valid, invalid and malformed. The appliance must say
//! `valid` exactly when snarkjs says OK, must never crash where snarkjs does, and each tool's
//! answer per case is pinned so a change in either shows up here.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

/// What snarkjs answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Snarkjs {
    /// "OK!"
    Ok,
    /// "Invalid proof": it ran the pairing check and it failed.
    InvalidProof,
    /// It refused the input before the pairing check ("... are not valid").
    Refused,
    /// It threw (a stack trace).
    Crashed,
}

fn snarkjs_bin() -> PathBuf {
    let bin = root().join("tests/tools/node_modules/.bin/snarkjs");
    assert!(
        bin.exists(),
        "snarkjs is not installed at {}: run `npm ci --prefix tests/tools` (the README's test command does)",
        bin.display()
    );
    bin
}

fn snarkjs(vk: &Path, proof: &Path, public: &Path) -> Snarkjs {
    let out = Command::new(snarkjs_bin())
        .args(["groth16", "verify"])
        .args([vk, public, proof])
        .output()
        .expect("snarkjs runs (node installed)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if text.contains("OK!") {
        Snarkjs::Ok
    } else if text.contains("Invalid proof") {
        Snarkjs::InvalidProof
    } else if text.contains("are not valid") {
        Snarkjs::Refused
    } else {
        Snarkjs::Crashed
    }
}

struct Case {
    name: String,
    vk: PathBuf,
    proof: PathBuf,
    public: PathBuf,
    snarkjs: Snarkjs,
    ours: &'static str,
}

fn cases(curve: &'static str, dir: &Path) -> Vec<Case> {
    let vk = fixture(curve, "verification_key.json");
    let other = if curve == "bn128" {
        "bls12381"
    } else {
        "bn128"
    };
    let proof0 = fixture(curve, "proof_0.json");
    let public0 = fixture(curve, "public_0.json");
    let file = |name: &str, value: serde_json::Value| {
        write(dir, &format!("{curve}_{name}.json"), value.to_string())
    };
    let case = |name: &str, proof: PathBuf, public: PathBuf, snarkjs, ours| Case {
        name: format!("{curve} {name}"),
        vk: vk.clone(),
        proof,
        public,
        snarkjs,
        ours,
    };

    let mut all: Vec<Case> = (0..4)
        .map(|i| {
            case(
                &format!("valid {i}"),
                fixture(curve, &format!("proof_{i}.json")),
                fixture(curve, &format!("public_{i}.json")),
                Snarkjs::Ok,
                "valid",
            )
        })
        .collect();
    all.push(case(
        "other statement's inputs",
        proof0.clone(),
        fixture(curve, "public_1.json"),
        Snarkjs::InvalidProof,
        "invalid",
    ));
    let mut bumped = read_json(&public0);
    bumped[0] = (bumped[0]
        .as_str()
        .expect("decimal")
        .parse::<u128>()
        .expect("small")
        + 1)
    .to_string()
    .into();
    all.push(case(
        "input + 1",
        proof0.clone(),
        file("bumped", bumped),
        Snarkjs::InvalidProof,
        "invalid",
    ));
    let mut off = read_json(&proof0);
    off["pi_a"][1] = "5".into();
    all.push(case(
        "pi_a off the curve",
        file("off", off),
        public0.clone(),
        Snarkjs::Refused,
        "rejected",
    ));
    let mut outside = read_json(&proof0);
    outside["pi_b"] = g2_outside_subgroup_json(curve);
    all.push(case(
        "pi_b outside the subgroup",
        file("outside", outside),
        public0.clone(),
        // snarkjs checks that points are on the curve but not that pi_b is in the subgroup; it
        // runs the pairing check, which fails. The appliance refuses the point before any pairing.
        Snarkjs::InvalidProof,
        "rejected",
    ));
    let mut big = read_json(&public0);
    big[1] = scalar_modulus(curve).into();
    all.push(case(
        "input equal to the modulus",
        proof0.clone(),
        file("big", big),
        Snarkjs::Refused,
        "rejected",
    ));
    // Inputs are never reduced: x + r is refused, not read as x.
    let mut aliased = read_json(&public0);
    let x: u128 = aliased[0]
        .as_str()
        .expect("decimal")
        .parse()
        .expect("small");
    aliased[0] = add_decimal(scalar_modulus(curve), x).into();
    all.push(case(
        "input + modulus (aliased)",
        proof0.clone(),
        file("aliased", aliased),
        Snarkjs::Refused,
        "rejected",
    ));
    let mut short = read_json(&public0);
    short.as_array_mut().expect("array").pop();
    // snarkjs runs the pairing check with a missing input; the appliance refuses the count.
    all.push(case(
        "one input missing",
        proof0.clone(),
        file("short", short),
        Snarkjs::InvalidProof,
        "rejected",
    ));
    all.push(case(
        "broken JSON",
        write(dir, &format!("{curve}_broken.json"), "{\"pi_a\": ["),
        public0.clone(),
        Snarkjs::Crashed,
        "rejected",
    ));
    all.push(case(
        "proof for the other curve",
        fixture(other, "proof_0.json"),
        fixture(other, "public_0.json"),
        Snarkjs::Refused,
        "rejected",
    ));
    all
}

/// Adds a small number to a decimal string.
fn add_decimal(big: &str, small: u128) -> String {
    let mut digits: Vec<u8> = big.bytes().rev().map(|b| b - b'0').collect();
    let mut carry = small;
    for d in digits.iter_mut() {
        let v = u128::from(*d) + carry;
        *d = (v % 10) as u8;
        carry = v / 10;
    }
    while carry > 0 {
        digits.push((carry % 10) as u8);
        carry /= 10;
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

#[test]
fn appliance_agrees_with_snarkjs_on_both_curves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut table = Vec::new();
    let mut wrong = Vec::new();
    for curve in CURVES {
        for case in cases(curve, dir.path()) {
            let theirs = snarkjs(&case.vk, &case.proof, &case.public);
            let (code, json, _) = verify_groth16(&case.vk, &case.proof, &case.public);
            let ours = json["verdict"].as_str().unwrap_or("?").to_owned();
            table.push(format!(
                "{:<40} snarkjs {:<13} appliance {ours} (exit {code})",
                case.name,
                format!("{theirs:?}")
            ));
            let agree_on_valid = (theirs == Snarkjs::Ok) == (ours == "valid");
            if theirs != case.snarkjs || ours != case.ours || !agree_on_valid {
                wrong.push(format!(
                    "{}: expected snarkjs {:?} / appliance {}",
                    case.name, case.snarkjs, case.ours
                ));
            }
        }
    }
    println!("{}", table.join("\n"));
    assert!(
        wrong.is_empty(),
        "{}\n\n{}",
        wrong.join("\n"),
        table.join("\n")
    );
}
