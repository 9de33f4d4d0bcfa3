//! `partner demo`: a first conversation with the appliance. Registers the demo Groth16 keys,
//! then submits valid and invalid BLS signatures and Groth16 proofs at once, and prints each
//! verdict with its receipt.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use tf_engine::bls;
use tf_partner::{
    DatasetClass, Partner, PartnerConfig, PartnerError, Statement, Submission, VerdictCode,
    VerdictReply, formats,
};

use super::fixtures::{BLS12_381_KEY, BLS12_381_PROOFS, BN254_KEY, BN254_PROOFS};
use super::{exit, fail};

/// `partner demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to save the receipts, one DSSE JSON file per request.
    #[arg(long, value_name = "DIR", default_value = "partner-receipts")]
    pub out: PathBuf,
}

/// One demo item: what it is and what verdict to expect.
struct Item {
    label: &'static str,
    expect: VerdictCode,
    statement: Statement,
}

pub async fn run(args: DemoArgs, config: &PartnerConfig) -> ExitCode {
    match demo(&args, config).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(exit::INVALID),
        Err(error) => fail(&error),
    }
}

async fn demo(args: &DemoArgs, config: &PartnerConfig) -> Result<bool, PartnerError> {
    let partner = Arc::new(Partner::connect(config).await?);
    println!("connected to {} as the demo tenant", config.address);
    let bn254 = register(&partner, BN254_KEY).await?;
    let bls12_381 = register(&partner, BLS12_381_KEY).await?;
    println!("registered Groth16 keys: bn254 {bn254}, bls12-381 {bls12_381}");

    let items = items(bn254, bls12_381).map_err(|problem| PartnerError::Local {
        path: "demo fixtures".into(),
        problem,
    })?;
    let mut tasks = tokio::task::JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let partner = partner.clone();
        tasks.spawn(async move {
            let submission = Submission {
                purpose: "demo".into(),
                dataset_class: DatasetClass::P2,
                statement: item.statement.clone(),
            };
            let reply = partner.submit_with_id(index as u64 + 1, submission).await;
            (index, item, reply)
        });
    }
    let mut results: Vec<(usize, Item, Result<VerdictReply, PartnerError>)> =
        tasks.join_all().await;
    results.sort_by_key(|(index, _, _)| *index);

    std::fs::create_dir_all(&args.out).map_err(|e| PartnerError::Local {
        path: args.out.display().to_string(),
        problem: e.to_string(),
    })?;
    let mut as_expected = true;
    let mut first_receipt = None;
    println!();
    println!("{:>3}  {:<34} {:<9} reason", "id", "statement", "verdict");
    for (index, item, reply) in results {
        let id = index + 1;
        match reply {
            Ok(reply) => {
                let verdict = label(reply.verdict);
                as_expected &= reply.verdict == item.expect;
                println!("{id:>3}  {:<34} {verdict:<9} {}", item.label, reply.reason);
                let envelope = tf_partner::receipt_envelope(&reply);
                let path = args.out.join(format!("{id}.json"));
                std::fs::write(&path, envelope.to_json()).map_err(|e| PartnerError::Local {
                    path: path.display().to_string(),
                    problem: e.to_string(),
                })?;
                first_receipt.get_or_insert((path, envelope));
            }
            Err(error) => {
                as_expected = false;
                println!("{id:>3}  {:<34} {:<9} {error}", item.label, "error");
            }
        }
    }
    if let Some((path, envelope)) = first_receipt {
        println!();
        println!("receipt of request 1 ({}):", path.display());
        println!("{}", envelope.to_json());
        println!("payload: {}", String::from_utf8_lossy(&envelope.payload));
        println!();
        println!(
            "check any receipt offline: partner receipt verify {}",
            path.display()
        );
    }
    if let Ok(partner) = Arc::try_unwrap(partner) {
        partner.close().await;
    }
    if !as_expected {
        println!("some verdicts were not what the demo expected");
    }
    Ok(as_expected)
}

pub async fn register(partner: &Partner, json: &str) -> Result<tf_engine::KeyId, PartnerError> {
    let (curve, bytes) =
        formats::verifying_key_json(json).map_err(|problem| PartnerError::Local {
            path: "demo verifying key".into(),
            problem,
        })?;
    partner.register_key(curve, bytes).await
}

fn items(bn254: tf_engine::KeyId, bls12_381: tf_engine::KeyId) -> Result<Vec<Item>, String> {
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
        Item {
            label: "bls-single",
            expect: VerdictCode::Valid,
            statement: Statement::BlsSingle {
                public_key: key_a.to_bytes(),
                message: b"transfer 10 to alice".to_vec(),
                signature: sig_a.to_bytes(),
            },
        },
        Item {
            label: "bls-single (message altered)",
            expect: VerdictCode::Invalid,
            statement: Statement::BlsSingle {
                public_key: key_b.to_bytes(),
                message: b"transfer 2000 to bob".to_vec(),
                signature: sig_b.to_bytes(),
            },
        },
        Item {
            label: "bls-fast-aggregate (3 signers)",
            expect: VerdictCode::Valid,
            statement: Statement::BlsFastAggregate {
                public_keys: vec![key_c.to_bytes(), key_d.to_bytes(), key_e.to_bytes()],
                message: b"block 1234 is final".to_vec(),
                signature: fast.to_bytes(),
            },
        },
        Item {
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
        Item {
            label: "bls-single (signature not a point)",
            expect: VerdictCode::Rejected,
            statement: Statement::BlsSingle {
                public_key: key_a.to_bytes(),
                message: b"transfer 10 to alice".to_vec(),
                signature: [0xbb; 96],
            },
        },
    ];
    for (proof, public) in &BN254_PROOFS[..2] {
        items.push(Item {
            label: "groth16-bn254",
            expect: VerdictCode::Valid,
            statement: formats::groth16_json(bn254.0, proof, public)?,
        });
    }
    items.push(Item {
        label: "groth16-bn254 (wrong public input)",
        expect: VerdictCode::Invalid,
        statement: formats::groth16_json(bn254.0, BN254_PROOFS[0].0, BN254_PROOFS[1].1)?,
    });
    items.push(Item {
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

fn label(verdict: VerdictCode) -> &'static str {
    match verdict {
        VerdictCode::Valid => "valid",
        VerdictCode::Invalid => "invalid",
        _ => "rejected",
    }
}
