//! `appliance verify` as a partner runs it: the real binary, real files, exit codes and output.

mod support;

use ark_serialize::CanonicalSerialize;
use support::*;
use tf_engine::Limits;
use tf_engine::groth16::snarkjs::{self, AnyProof, AnyVerifyingKey};

#[test]
fn groth16_snarkjs_valid_invalid_and_rejected_on_both_curves() {
    for curve in CURVES {
        let vk = fixture(curve, "verification_key.json");
        for i in 0..4 {
            let (code, json, _) = verify_groth16(
                &vk,
                &fixture(curve, &format!("proof_{i}.json")),
                &fixture(curve, &format!("public_{i}.json")),
            );
            assert_eq!(
                (code, json["verdict"].as_str()),
                (0, Some("valid")),
                "{curve} proof {i}: {json}"
            );
            assert!(json["reason"].is_null());
        }
        let (code, json, stderr) = verify_groth16(
            &vk,
            &fixture(curve, "proof_0.json"),
            &fixture(curve, "public_1.json"),
        );
        assert_eq!(
            (code, json["verdict"].as_str()),
            (1, Some("invalid")),
            "{curve}"
        );
        assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr}");
        assert!(stderr.starts_with("invalid: "), "{stderr}");

        let dir = tempfile::tempdir().expect("temp dir");
        let mut public = read_json(&fixture(curve, "public_0.json"));
        public.as_array_mut().expect("array").pop();
        let short = write(dir.path(), "short.json", public.to_string());
        let (code, json, stderr) = verify_groth16(&vk, &fixture(curve, "proof_0.json"), &short);
        assert_eq!(code, 2, "{json}");
        assert_eq!(json["verdict"], "rejected");
        assert!(
            stderr.contains("expects 4 public inputs, got 3"),
            "{stderr}"
        );
    }
}

#[test]
fn rejected_inputs_name_what_is_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let vk = fixture("bn128", "verification_key.json");
    let public = fixture("bn128", "public_0.json");
    let cases: Vec<(&str, std::path::PathBuf, std::path::PathBuf, &str)> = vec![
        (
            "broken json",
            write(dir.path(), "broken.json", "{\"pi_a\": ["),
            public.clone(),
            "not valid JSON",
        ),
        (
            "missing file",
            dir.path().join("absent.json"),
            public.clone(),
            "cannot open",
        ),
        (
            "curve mismatch",
            fixture("bls12381", "proof_0.json"),
            public.clone(),
            "for bn254 but the proof is for bls12-381",
        ),
        (
            "off curve",
            {
                let mut p = read_json(&fixture("bn128", "proof_0.json"));
                p["pi_a"][1] = "5".into();
                write(dir.path(), "off.json", p.to_string())
            },
            public.clone(),
            "pi_a: pi_a: the point is not on the curve",
        ),
        (
            "not in subgroup",
            {
                let mut p = read_json(&fixture("bn128", "proof_0.json"));
                p["pi_b"] = g2_outside_subgroup_json("bn128");
                write(dir.path(), "sub.json", p.to_string())
            },
            public.clone(),
            "not in the prime-order subgroup",
        ),
        (
            "input at the modulus",
            fixture("bn128", "proof_0.json"),
            {
                let mut p = read_json(&public);
                p[2] = scalar_modulus("bn128").into();
                write(dir.path(), "big.json", p.to_string())
            },
            "[2]: ",
        ),
        (
            "binary garbage proof",
            write(dir.path(), "garbage.bin", [0xffu8; 128]),
            public.clone(),
            "proof.a",
        ),
        (
            "wrong length binary",
            write(dir.path(), "short.bin", [0x01u8; 100]),
            public.clone(),
            "100 bytes is not a compressed proof",
        ),
    ];
    for (name, proof, public, expected) in cases {
        let (code, json, stderr) = verify_groth16(&vk, &proof, &public);
        assert_eq!(code, 2, "{name}: {json}");
        assert_eq!(json["verdict"], "rejected", "{name}");
        assert!(
            stderr.contains(expected),
            "{name}: {stderr:?} should contain {expected:?}"
        );
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
    }
}

#[test]
fn groth16_arkworks_binary_files_verify_like_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    for curve in CURVES {
        let limits = Limits::DEFAULT;
        let vk = snarkjs::parse_verifying_key(
            &std::fs::read_to_string(fixture(curve, "verification_key.json")).expect("read"),
            &limits,
        )
        .expect("vk");
        let proof = snarkjs::parse_proof(
            &std::fs::read_to_string(fixture(curve, "proof_3.json")).expect("read"),
        )
        .expect("proof");
        let mut vk_bytes = Vec::new();
        let mut proof_bytes = Vec::new();
        let mut public_bytes = Vec::new();
        let public_text = std::fs::read_to_string(fixture(curve, "public_3.json")).expect("read");
        match (vk, proof) {
            (AnyVerifyingKey::Bn254(vk), AnyProof::Bn254(proof)) => {
                vk.serialize_compressed(&mut vk_bytes).expect("vec");
                proof.serialize_compressed(&mut proof_bytes).expect("vec");
                snarkjs::parse_public_inputs::<ark_bn254::Bn254>(&public_text, &limits)
                    .expect("inputs")
                    .serialize_compressed(&mut public_bytes)
                    .expect("vec");
            }
            (AnyVerifyingKey::Bls12_381(vk), AnyProof::Bls12_381(proof)) => {
                vk.serialize_compressed(&mut vk_bytes).expect("vec");
                proof.serialize_compressed(&mut proof_bytes).expect("vec");
                snarkjs::parse_public_inputs::<ark_bls12_381::Bls12_381>(&public_text, &limits)
                    .expect("inputs")
                    .serialize_compressed(&mut public_bytes)
                    .expect("vec");
            }
            other => panic!("unexpected {other:?}"),
        }
        let vk_path = write(dir.path(), &format!("{curve}.vk.bin"), &vk_bytes);
        let proof_path = write(dir.path(), &format!("{curve}.proof.bin"), &proof_bytes);
        let public_path = write(dir.path(), &format!("{curve}.public.bin"), &public_bytes);
        let (code, json, _) = verify_groth16(&vk_path, &proof_path, &public_path);
        assert_eq!(code, 0, "{curve}: {json}");
        // Same key id whichever format the key came in.
        let (_, from_json, _) = verify_groth16(
            &fixture(curve, "verification_key.json"),
            &proof_path,
            &fixture(curve, "public_3.json"),
        );
        assert_eq!(json["key_id"], from_json["key_id"]);
        assert_eq!(json["statement_digest"], from_json["statement_digest"]);
        // Mixed: binary proof against another statement's JSON inputs is invalid.
        let (code, _, _) = verify_groth16(&vk_path, &proof_path, &fixture(curve, "public_0.json"));
        assert_eq!(code, 1, "{curve}");
    }
}

#[test]
fn bls_single_aggregate_and_rejected() {
    let vectors = root().join("../shared/testdata/eth-bls12-381-tests");
    let case = read_json(&vectors.join("verify/verify_valid_case_195246ee3bd3b6ec.json"));
    let input = &case["input"];
    let args = |message: &str| {
        appliance(&[
            "verify",
            "--json",
            "bls",
            "--pubkey",
            input["pubkey"].as_str().expect("hex"),
            "--message",
            message,
            "--signature",
            input["signature"].as_str().expect("hex"),
        ])
    };
    let out = args(input["message"].as_str().expect("hex"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = args("0x00");
    assert_eq!(out.status.code(), Some(1));
    let out = args("0xzz");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--message #1: not hex"));

    let fast = read_json(
        &vectors.join("fast_aggregate_verify/fast_aggregate_verify_valid_3d7576f3c0e3570a.json"),
    );
    let input = &fast["input"];
    let mut argv = vec!["verify".to_owned(), "bls".to_owned()];
    for key in input["pubkeys"].as_array().expect("keys") {
        argv.extend(["--pubkey".to_owned(), key.as_str().expect("hex").to_owned()]);
    }
    argv.extend([
        "--message".to_owned(),
        input["message"].as_str().expect("hex").to_owned(),
    ]);
    argv.extend([
        "--signature".to_owned(),
        input["signature"].as_str().expect("hex").to_owned(),
    ]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = appliance(&argv);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut infinity_key = String::from("0xc0");
    infinity_key.push_str(&"00".repeat(47));
    let out = appliance(&[
        "verify",
        "bls",
        "--pubkey",
        &infinity_key,
        "--message",
        "0x01",
        "--signature",
        input["signature"].as_str().expect("hex"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("public_keys[0]: the point at infinity"));
}

#[test]
fn config_file_limits_apply_and_bad_config_is_rejected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tight = write(
        dir.path(),
        "tight.toml",
        "[verify]\nmax_public_inputs = 2\n",
    );
    let bad = write(dir.path(), "bad.toml", "[verify]\nmax_inputs = 2\n");
    let curve = "bn128";
    let run = |config: &std::path::Path| {
        appliance(&[
            "verify",
            "--config",
            config.to_str().expect("utf-8"),
            "groth16",
            "--vk",
            fixture(curve, "verification_key.json")
                .to_str()
                .expect("utf-8"),
            "--proof",
            fixture(curve, "proof_0.json").to_str().expect("utf-8"),
            "--public",
            fixture(curve, "public_0.json").to_str().expect("utf-8"),
        ])
    };
    let out = run(&tight);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at most 2 inputs"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_inputs"));
}
