//! The Ethereum BLS12-381 conformance vectors (`../shared/testdata/eth-bls12-381-tests`), every
//! file of every handler, and a check that no vector file went unread.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tf_engine::bls::{self, BatchItem, PublicKey, Signature};
use tf_engine::{Field, Rejection, Verdict};

fn vectors_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/eth-bls12-381-tests")
}

fn bytes(value: &Value) -> Vec<u8> {
    let text = value.as_str().expect("vector values are hex strings");
    hex::decode(text.trim_start_matches("0x")).expect("vector hex")
}

fn list(value: &Value) -> Vec<Vec<u8>> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(bytes)
        .collect()
}

fn key(b: &[u8]) -> Option<PublicKey> {
    PublicKey::decode(b, Field::new("pubkey")).ok()
}

fn sig(b: &[u8]) -> Option<Signature> {
    Signature::decode(b, Field::new("signature")).ok()
}

fn keys(values: &[Vec<u8>]) -> Option<Vec<PublicKey>> {
    values.iter().map(|b| key(b)).collect()
}

/// Runs one case; returns whether the engine's answer matched the vector's output.
fn run_case(handler: &str, input: &Value, output: &Value) -> bool {
    match handler {
        "verify" => {
            let got = match (
                key(&bytes(&input["pubkey"])),
                sig(&bytes(&input["signature"])),
            ) {
                (Some(pk), Some(s)) => {
                    bls::verify(&pk, &bytes(&input["message"]), &s) == Verdict::Valid
                }
                _ => false,
            };
            Some(got) == output.as_bool()
        }
        "fast_aggregate_verify" => {
            let got = match (
                keys(&list(&input["pubkeys"])),
                sig(&bytes(&input["signature"])),
            ) {
                (Some(pks), Some(s)) => {
                    bls::fast_aggregate_verify(&pks, &bytes(&input["message"]), &s)
                        == Verdict::Valid
                }
                _ => false,
            };
            Some(got) == output.as_bool()
        }
        "aggregate_verify" => {
            let messages = list(&input["messages"]);
            let messages: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
            let got = match (
                keys(&list(&input["pubkeys"])),
                sig(&bytes(&input["signature"])),
            ) {
                (Some(pks), Some(s)) => {
                    bls::aggregate_verify(&pks, &messages, &s) == Verdict::Valid
                }
                _ => false,
            };
            Some(got) == output.as_bool()
        }
        "aggregate" => {
            let sigs: Option<Vec<Signature>> = list(input).iter().map(|b| sig(b)).collect();
            let got = sigs
                .and_then(|s| bls::aggregate_signatures(&s))
                .map(|s| s.to_bytes().to_vec());
            match output {
                Value::Null => got.is_none(),
                expected => got == Some(bytes(expected)),
            }
        }
        "batch_verify" => {
            let pks = keys(&list(&input["pubkeys"]));
            let sigs: Option<Vec<Signature>> =
                list(&input["signatures"]).iter().map(|b| sig(b)).collect();
            let messages = list(&input["messages"]);
            let got = match (pks, sigs) {
                (Some(pks), Some(sigs)) if pks.len() == sigs.len() && !pks.is_empty() => {
                    let items: Vec<BatchItem> = pks
                        .iter()
                        .zip(&sigs)
                        .zip(&messages)
                        .map(|((p, s), m)| BatchItem {
                            public_key: *p,
                            message: m,
                            signature: *s,
                        })
                        .collect();
                    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
                    bls::verify_batch(&items, &mut rng)
                        .iter()
                        .all(|v| *v == Verdict::Valid)
                }
                _ => false,
            };
            Some(got) == output.as_bool()
        }
        "sign" => {
            let got = bls::sign(&bytes(&input["privkey"]), &bytes(&input["message"]))
                .ok()
                .map(|(s, _)| s.to_bytes().to_vec());
            match output {
                Value::Null => got.is_none(),
                expected => got == Some(bytes(expected)),
            }
        }
        "deserialization_G1" => {
            // Deserialisation accepts the point at infinity; key validation (which refuses it)
            // is a separate step, so an `Infinity` rejection still means "decoded".
            let got = match PublicKey::decode(&bytes(&input["pubkey"]), Field::new("pubkey")) {
                Ok(_) | Err(Rejection::Infinity { .. }) => true,
                Err(_) => false,
            };
            Some(got) == output.as_bool()
        }
        "deserialization_G2" => {
            Some(sig(&bytes(&input["signature"])).is_some()) == output.as_bool()
        }
        "hash_to_G2" => {
            let message = input["msg"].as_str().expect("msg is text");
            let (x, y) = hash_to_g2(message.as_bytes());
            output["x"].as_str() == Some(x.as_str()) && output["y"].as_str() == Some(y.as_str())
        }
        other => panic!("no runner for handler {other}"),
    }
}

use rand_core::SeedableRng;

/// Hashes with the IETF test suite's DST through blst, returning "0x<c0>,0x<c1>" for x and y.
#[allow(unsafe_code)] // blst exposes hash-to-curve only through its C API
fn hash_to_g2(message: &[u8]) -> (String, String) {
    const DST: &[u8] = b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";
    let mut point = blst::blst_p2::default();
    let mut affine = blst::blst_p2_affine::default();
    let mut out = [0u8; 192];
    // SAFETY: every pointer refers to a live, correctly sized local or slice for the call.
    unsafe {
        blst::blst_hash_to_g2(
            &mut point,
            message.as_ptr(),
            message.len(),
            DST.as_ptr(),
            DST.len(),
            std::ptr::null(),
            0,
        );
        blst::blst_p2_to_affine(&mut affine, &point);
        blst::blst_p2_affine_serialize(out.as_mut_ptr(), &affine);
    }
    // Serialised G2 is x.c1 || x.c0 || y.c1 || y.c0, big-endian.
    let h = |range: std::ops::Range<usize>| hex::encode(&out[range]);
    (
        format!("0x{},0x{}", h(48..96), h(0..48)),
        format!("0x{},0x{}", h(144..192), h(96..144)),
    )
}

#[test]
fn every_ethereum_vector_passes_and_every_file_is_read() {
    let root = vectors_root();
    let mut on_disk = BTreeSet::new();
    let mut read = BTreeSet::new();
    let mut failures = Vec::new();
    for handler_dir in fs::read_dir(&root).expect("vectors beside the project: ../shared/testdata")
    {
        let handler_dir = handler_dir.expect("dir entry").path();
        if !handler_dir.is_dir() {
            continue;
        }
        let handler = handler_dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8")
            .to_owned();
        for file in fs::read_dir(&handler_dir).expect("handler dir") {
            let file = file.expect("dir entry").path();
            if file.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            on_disk.insert(file.clone());
            let case: Value =
                serde_json::from_str(&fs::read_to_string(&file).expect("read")).expect("json");
            if !run_case(&handler, &case["input"], &case["output"]) {
                failures.push(
                    file.strip_prefix(&root)
                        .expect("under root")
                        .display()
                        .to_string(),
                );
            }
            read.insert(file);
        }
    }
    assert!(
        on_disk.len() >= 98,
        "expected the full vector set, found {}",
        on_disk.len()
    );
    let unread: Vec<_> = on_disk.difference(&read).collect();
    assert!(unread.is_empty(), "vectors not read: {unread:?}");
    assert!(
        failures.is_empty(),
        "{} vectors failed: {failures:#?}",
        failures.len()
    );
}
