//! The Trust Fabric verification appliance.

mod backup;
mod bundle_commands;
mod canary_commands;
mod cli;
mod compliance_commands;
mod config_commands;
mod ctl;
mod drift_commands;
mod evidence;
mod exit;
mod fleet_commands;
mod golden_file;
mod huge_pages;
mod log_commands;
mod logging;
mod offline_verify;
mod output;
mod preflight;
mod receipt_commands;
mod run;
mod scenario_commands;
mod state_commands;
mod times;
mod webhook_commands;

use std::process::ExitCode;

use clap::Parser;

// mimalloc: the design's allocator; its effect on cost per 1k proofs is measured, not assumed
// (bench-rig/scripts/allocator-cost.sh builds with the system allocator to compare).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    huge_pages::keep_to_small_pages();
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Serve(args) => run::run(args),
        cli::Command::Verify(args) => offline_verify::run(args),
        cli::Command::Init(args) => state_commands::init(args),
        cli::Command::Receipt {
            what:
                cli::ReceiptWhat::Verify {
                    file,
                    public_key,
                    checkpoint,
                    proof,
                    log_key,
                    state,
                },
        } => {
            let inclusion =
                checkpoint
                    .zip(proof)
                    .map(|(checkpoint, proof)| receipt_commands::Inclusion {
                        checkpoint,
                        proof,
                        log_key,
                    });
            receipt_commands::verify(&file, public_key.as_deref(), inclusion, state)
        }
        cli::Command::Tenants {
            what: cli::TenantsWhat::Issue { id, state },
        } => state_commands::issue_tenant(&id, state),
        cli::Command::Evidence {
            what:
                cli::EvidenceWhat::Export {
                    tenant,
                    from,
                    to,
                    out,
                    state,
                },
        } => evidence::export(&tenant, from.as_deref(), to.as_deref(), &out, state),
        cli::Command::Evidence {
            what:
                cli::EvidenceWhat::Verify {
                    dir,
                    public_key,
                    state,
                },
        } => evidence::verify(&dir, public_key.as_deref(), state),
        cli::Command::Preflight(args) => preflight::command(args),
        cli::Command::Config {
            what: cli::ConfigWhat::Default,
        } => config_commands::default(),
        cli::Command::Config {
            what: cli::ConfigWhat::Check { file },
        } => config_commands::check(&file),
        cli::Command::Tune(args) => config_commands::tune(args),
        cli::Command::Bundle { what } => bundle_commands::run(what),
        cli::Command::Ctl(args) => ctl::run(args),
        cli::Command::Keys {
            what: cli::KeysWhat::Show { state, json },
        } => state_commands::keys_show(state, json),
        cli::Command::Log(args) => log_commands::run(args),
        cli::Command::Compliance(args) => compliance_commands::run(args),
        cli::Command::Webhooks(args) => webhook_commands::run(args),
        cli::Command::Decisions { what } => drift_commands::decisions(what),
        cli::Command::Fleet { what } => fleet_commands::run(what),
        cli::Command::Scenarios { what } => scenario_commands::run(what),
        cli::Command::Canary { what } => canary_commands::run(what),
        cli::Command::Backup(args) => backup::backup(args),
        cli::Command::Restore(args) => backup::restore(args),
        cli::Command::Completions { shell } => {
            let mut command = <cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "appliance", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
    }
}
