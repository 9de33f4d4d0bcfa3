//! `partner evidence`: `preview` has the appliance make the evidence bundle an auditor would get
//! over your sandbox submissions, checks it with the appliance's key and writes it; `verify`
//! checks such a folder again, offline.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use tf_partner::sdk::{Client, EvidenceSummary, verify_evidence_dir};
use tf_partner::{PartnerError, Retry};

use super::offline::Keys;
use super::{ConnectionArgs, Output, exit};

/// `partner evidence`.
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Have the appliance make the evidence bundle over the receipts of your sandbox
    /// submissions (`partner submit ... --purpose sandbox --receipt FILE`): the receipts, their
    /// transparency-log proofs, your budget statements and a manifest signed by the appliance,
    /// as an auditor gets them. It is checked with the appliance's key before it is written.
    /// Exit 0 written, 1 not intact, 2 a bad file or folder, 3 refused or not reachable.
    Preview(PreviewArgs),
    /// Check an evidence bundle folder offline against the appliance's key, naming every file
    /// altered, removed or added. Exit 0 intact, 1 not intact, 2 unusable input.
    Verify(VerifyArgs),
}

/// `partner evidence preview`.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// A receipt file of a sandbox submission; repeat for each (at most 16).
    #[arg(long = "receipt", value_name = "FILE", required = true)]
    pub receipts: Vec<PathBuf>,
    /// The folder to write the bundle into (new or empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `partner evidence verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle's folder.
    pub dir: PathBuf,
    /// The appliance's public key (64 hex digits); default: the appliance's own answer with
    /// --connect, else the one in partner.toml.
    #[arg(long, value_name = "HEX")]
    pub public_key: Option<String>,
}

pub async fn preview(
    args: PreviewArgs,
    config: &tf_partner::PartnerConfig,
    retry: Retry,
    out: Output,
) -> ExitCode {
    let seqs: Result<Vec<u64>, PartnerError> = args
        .receipts
        .iter()
        .map(|p| super::steps::receipt_seq(p))
        .collect();
    let seqs = match seqs {
        Ok(seqs) => seqs,
        Err(error) => return out.error("local", &error.to_string(), None, exit::REJECTED),
    };
    let preview = async {
        let client = Client::connect(config, retry).await?;
        let preview = client.evidence_preview(&seqs).await;
        client.close().await;
        preview
    }
    .await;
    let preview = match preview {
        Ok(preview) => preview,
        Err(error) => return out.fail(&error),
    };
    if let Err(error) = preview.write_to(&args.out) {
        return out.error("local", &error.to_string(), None, exit::REJECTED);
    }
    show(&preview.summary, out);
    out.say(format!(
        "written to {}; check it again offline: partner evidence verify {}",
        args.out.display(),
        args.out.display()
    ));
    ExitCode::SUCCESS
}

pub async fn verify(args: &VerifyArgs, connection: &ConnectionArgs, out: Output) -> ExitCode {
    let key = match Keys::new(connection)
        .receipt(args.public_key.as_deref())
        .await
    {
        Ok(key) => key,
        Err(failure) => return failure.exit(out),
    };
    if !args.dir.is_dir() {
        let message = format!("{}: not a folder", args.dir.display());
        return out.error("unusable", &message, None, exit::REJECTED);
    }
    match verify_evidence_dir(&args.dir, &hex::encode(key.to_bytes())) {
        Ok(summary) => {
            show(&summary, out);
            ExitCode::SUCCESS
        }
        Err(error) => out.fail(&error),
    }
}

/// Prints what a checked bundle holds: JSON, or lines for people.
fn show(summary: &EvidenceSummary, out: Output) {
    if out.is_json() {
        out.result(&serde_json::to_value(summary).expect("a summary serialises"));
        return;
    }
    out.say(format!(
        "evidence intact{}: {} receipt(s) of tenant {} ({:?}), {} budget unit(s) charged, \
         signed by appliance key {}",
        if summary.preview { " (a preview)" } else { "" },
        summary.receipts.len(),
        summary.tenant,
        summary.receipts,
        summary.charged,
        summary.appliance_key_id
    ));
    match summary.log_tree_size {
        Some(size) if summary.not_yet_logged.is_empty() => out.say(format!(
            "every receipt is in the transparency log under its checkpoint of {size} entries"
        )),
        Some(size) => out.say(format!(
            "in the transparency log under its checkpoint of {size} entries, but for {:?}, \
             not logged yet: ask again in a few seconds for their proofs",
            summary.not_yet_logged
        )),
        None => out.say("the appliance keeps no transparency log: no inclusion proofs"),
    }
}
