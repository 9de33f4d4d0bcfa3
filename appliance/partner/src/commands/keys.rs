//! `partner keys`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use tf_partner::{Client, PartnerConfig, Retry, formats};

use super::Output;

/// `partner keys`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Upload a Groth16 verifying key and print its key id (submit proofs under that id).
    Register {
        /// snarkjs verification_key.json, or arkworks canonical compressed bytes.
        file: PathBuf,
        /// The curve, for binary keys (bn254 or bls12-381).
        #[arg(long, value_parser = formats::parse_curve)]
        curve: Option<tf_partner::Curve>,
    },
}

pub async fn run(
    command: KeysCommand,
    config: &PartnerConfig,
    retry: Retry,
    out: Output,
) -> ExitCode {
    let KeysCommand::Register { file, curve } = command;
    let result = async {
        let (curve, bytes) = formats::verifying_key_file(&file, curve)?;
        let client = Client::connect(config, retry).await?;
        let id = client.register_key(curve, bytes).await;
        client.close().await;
        Ok::<_, tf_partner::PartnerError>((curve, id?))
    }
    .await;
    match result {
        Ok((curve, id)) => {
            if out.is_json() {
                out.result(&serde_json::json!({
                    "key_id": id.to_string(),
                    "curve": formats::curve_name(curve),
                }));
            } else {
                println!("{id}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => out.fail(&error),
    }
}
