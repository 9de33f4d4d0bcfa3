//! Known-answer statements: BLS signatures (single, fast-aggregate, aggregate) and Groth16
//! proofs on both curves, valid, invalid and malformed, each with the verdict the appliance
//! must give. `partner demo` submits them, and the appliance's golden canary sends them
//! through the real path and checks every verdict.

use tf_engine::bls;

use crate::fixtures::{BLS12_381_PROOFS, BN254_PROOFS};
use crate::{Statement, VerdictCode, formats};

/// One known answer: what it is, the statement, and the verdict it must get.
#[derive(Clone, Debug)]
pub struct KnownAnswer {
    /// What it is, for people.
    pub label: &'static str,
    /// The verdict the appliance must give.
    pub expect: VerdictCode,
    /// What to verify.
    pub statement: Statement,
}

/// The known answers, with the demo circuit's Groth16 keys registered under `bn254` and
/// `bls12_381`. Deterministic: the same statements every time.
pub fn known_answers(
    bn254: tf_engine::KeyId,
    bls12_381: tf_engine::KeyId,
) -> Result<Vec<KnownAnswer>, String> {
    let sign = |seed: u8, message: &[u8]| {
        bls::sign(&[seed; 32], message).map_err(|e| format!("signing: {e}"))
    };
    let (sig_a, key_a) = sign(1, b"transfer 10 to alice")?;
    let (sig_b, key_b) = sign(2, b"transfer 20 to bob")?;
    let (sig_c, key_c) = sign(3, b"block 1234 is final")?;
    let (sig_d, key_d) = sign(4, b"block 1234 is final")?;
    let (sig_e, key_e) = sign(5, b"block 1234 is final")?;
    let fast = bls::aggregate_signatures(&[sig_c, sig_d, sig_e]).ok_or("empty aggregate")?;
    let aggregate = bls::aggregate_signatures(&[sig_a, sig_b]).ok_or("empty")?;
    let mut items = vec![
        KnownAnswer {
            label: "bls-single",
            expect: VerdictCode::Valid,
            statement: Statement::BlsSingle {
                public_key: key_a.to_bytes(),
                message: b"transfer 10 to alice".to_vec(),
                signature: sig_a.to_bytes(),
            },
        },
        KnownAnswer {
            label: "bls-single (message altered)",
            expect: VerdictCode::Invalid,
            statement: Statement::BlsSingle {
                public_key: key_b.to_bytes(),
                message: b"transfer 2000 to bob".to_vec(),
                signature: sig_b.to_bytes(),
            },
        },
        KnownAnswer {
            label: "bls-fast-aggregate (3 signers)",
            expect: VerdictCode::Valid,
            statement: Statement::BlsFastAggregate {
                public_keys: vec![key_c.to_bytes(), key_d.to_bytes(), key_e.to_bytes()],
                message: b"block 1234 is final".to_vec(),
                signature: fast.to_bytes(),
            },
        },
        KnownAnswer {
            label: "bls-aggregate (2 messages)",
            expect: VerdictCode::Valid,
            statement: Statement::BlsAggregate {
                public_keys: vec![key_a.to_bytes(), key_b.to_bytes()],
                messages: vec![
                    b"transfer 10 to alice".to_vec(),
                    b"transfer 20 to bob".to_vec(),
                ],
                signature: aggregate.to_bytes(),
            },
        },
        KnownAnswer {
            label: "bls-single (signature not a point)",
            expect: VerdictCode::Rejected,
            statement: Statement::BlsSingle {
                public_key: key_a.to_bytes(),
                message: b"transfer 10 to alice".to_vec(),
                signature: [0xbb; 96],
            },
        },
    ];
    for (label, (proof, public)) in ["groth16-bn254 (proof 1)", "groth16-bn254 (proof 2)"]
        .into_iter()
        .zip(&BN254_PROOFS[..2])
    {
        items.push(KnownAnswer {
            label,
            expect: VerdictCode::Valid,
            statement: formats::groth16_json(bn254.0, proof, public)?,
        });
    }
    items.push(KnownAnswer {
        label: "groth16-bn254 (wrong public input)",
        expect: VerdictCode::Invalid,
        statement: formats::groth16_json(bn254.0, BN254_PROOFS[0].0, BN254_PROOFS[1].1)?,
    });
    items.push(KnownAnswer {
        label: "groth16-bls12-381 (wrong public input)",
        expect: VerdictCode::Invalid,
        statement: formats::groth16_json(
            bls12_381.0,
            BLS12_381_PROOFS[0].0,
            BLS12_381_PROOFS[1].1,
        )?,
    });
    items.push(KnownAnswer {
        label: "groth16-bls12-381",
        expect: VerdictCode::Valid,
        statement: formats::groth16_json(
            bls12_381.0,
            BLS12_381_PROOFS[0].0,
            BLS12_381_PROOFS[0].1,
        )?,
    });
    Ok(items)
}
