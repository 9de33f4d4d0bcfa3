//! `partner`: talk to a Trust Fabric appliance as a tenant.

mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    commands::run(commands::Cli::parse())
}
