//! `bench-rig`: the open-loop soak rig for the Trust Fabric appliance. See docs/bench-rig.md.

// In unit tests a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod capacity;
mod cli;
mod driver;
mod fairness;
mod floor;
mod link;
mod mix;
mod monitor;
mod probe;
mod profile;
mod recorder;
mod report;
mod schedule;
mod slo;
mod spec;
mod state_dir;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use cli::{Cli, Command, CommonArgs, FloorArgs, LoadArgs};
use spec::{Profile, RunSpec};

/// Exit codes.
mod exit {
    /// Every measured target held.
    pub const PASS: u8 = 0;
    /// A target was missed; `compare --fail-over`: a figure got worse by more than allowed.
    pub const FAIL: u8 = 1;
    /// Bad options (an option of another profile too), a wrong state directory, a report
    /// that cannot be read, or the appliance could not be reached or refused the probe.
    pub const ERROR: u8 = 2;
    /// Stopped with Ctrl-C (the partial report was written).
    pub const INTERRUPTED: u8 = 130;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Steady(args) => load(Profile::Steady, args, &cli.common),
        Command::Ramp(args) => load(Profile::Ramp, args, &cli.common),
        Command::Burst(args) => load(Profile::Burst, args, &cli.common),
        Command::NoisyNeighbour(args) => load(Profile::NoisyNeighbour, args, &cli.common),
        Command::Capacity(args) => load(Profile::Capacity, args, &cli.common),
        Command::Run { file, overrides } => LoadArgs::from_file(&file)
            .map_err(|e| e.to_string())
            .and_then(|from_file| {
                let args = from_file.overridden_by(overrides);
                let profile = args.profile.unwrap_or(Profile::Steady);
                load(profile, args, &cli.common)
            }),
        Command::Floor(args) => cli
            .common
            .refuse_for("floor")
            .map_err(|e| e.to_string())
            .and_then(|()| floor_command(&args)),
        Command::Compare { a, b, fail_over } => cli
            .common
            .refuse_for("compare")
            .map_err(|e| e.to_string())
            .and_then(|()| compare(&a, &b, fail_over)),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("bench-rig: {message}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn compare(a: &Path, b: &Path, fail_over: Option<f64>) -> Result<u8, String> {
    let a = report::read(a)?;
    let b = report::read(b)?;
    let comparison = report::compare(&a, &b);
    for warning in &comparison.warnings {
        eprintln!("bench-rig compare: warning: {warning}");
    }
    print!("{}", comparison.table);
    let Some(limit) = fail_over else {
        return Ok(exit::PASS);
    };
    let worse = comparison.worse_than(limit);
    if worse.is_empty() {
        println!("no figure got worse by more than {limit} %");
        return Ok(exit::PASS);
    }
    println!("worse by more than {limit} % (--fail-over):");
    for line in &worse {
        println!("  {line}");
    }
    Ok(exit::FAIL)
}

fn floor_command(args: &FloorArgs) -> Result<u8, String> {
    let mix = mix::parse(args.mix.as_deref().unwrap_or(mix::DEFAULT))
        .map_err(|e| format!("--mix: {e}"))?;
    let keys = floor::Keys::load()?;
    let pool = mix::Pool::new(&mix, keys.ids())?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let floor = floor::measure(&pool, &keys, args.batch, cores)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&floor).map_err(|e| e.to_string())?
        );
    } else {
        floor::print(&floor);
    }
    Ok(exit::PASS)
}

fn load(profile: Profile, args: LoadArgs, common: &CommonArgs) -> Result<u8, String> {
    let state_dir = common.state_dir();
    let issued = cli::issued_tenants(state_dir);
    // Options are judged first, so a mistake in them is named whatever the state directory
    // holds; but with no tenant named and none found there, the directory is the likelier
    // mistake.
    let spec = args.to_spec(profile, &issued).map_err(|e| {
        if issued.is_empty()
            && e.what == "--tenants"
            && let Err(wrong_dir) = state_dir::check(state_dir, &[])
        {
            return wrong_dir.to_string();
        }
        e.to_string()
    })?;
    let names: Vec<String> = spec.tenants.iter().map(|t| t.name.clone()).collect();
    state_dir::check(state_dir, &names).map_err(|e| e.to_string())?;
    let mut base =
        tf_partner::PartnerConfig::from_state_dir(state_dir).map_err(|e| e.to_string())?;
    base.request_timeout = Duration::from_secs(common.timeout().max(1));

    // The appliance's process, for CPU and memory: as given, or found by name when it runs on
    // this host.
    let process = match common.appliance_pid {
        Some(pid) => Some(monitor::Process::new(pid)?),
        None if base.address.is_loopback() => monitor::Process::find_appliance(),
        None => None,
    };
    let cores = process.as_ref().map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        monitor::Process::cores,
    );

    let keys = floor::Keys::load()?;
    let pool = Arc::new(mix::Pool::new(&spec.mix, keys.ids())?);
    eprintln!("bench-rig: measuring the verification floor of the mix on this machine");
    let floor = floor::measure(&pool, &keys, FLOOR_BATCH, cores)?;
    floor::print(&floor);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    let out = common.out.clone().unwrap_or_else(|| default_out(profile));
    runtime.block_on(async {
        let tenants = spec.effective_tenants();
        let rig = driver::Rig::connect(&base, state_dir, &spec, pool.clone())
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        driver::probe(&rig, &tenants)
            .await
            .map_err(|e| format!("the appliance refused a probe request before the run: {e}"))?;
        let stop = driver::Stop::on_ctrl_c();
        let (report, measured) = match profile {
            Profile::Capacity => {
                capacity::search(&rig, &spec, &floor, process.as_ref(), &stop).await
            }
            _ => {
                let plan = spec.plan();
                let demands: Vec<f64> = tenants.iter().map(|t| t.demand).collect();
                announce(&spec, &plan);
                let measured = rig
                    .run(profile.name(), &plan, &demands, process.as_ref(), &stop)
                    .await;
                (report::build(&spec, &plan, &floor, &measured), measured)
            }
        };
        rig.close().await;
        report::write(&out, &report, &measured)
            .map_err(|e| format!("writing the report to {}: {e}", out.display()))?;
        report::print_summary(&report);
        println!(
            "report: {0}/report.json, {0}/report.html (plots in {0}/plots/), latency log \
             {0}/latency.hlog",
            out.display()
        );
        Ok(if report.interrupted {
            exit::INTERRUPTED
        } else if report.verdict == "PASS" {
            exit::PASS
        } else {
            exit::FAIL
        })
    })
}

/// Items per batch for the batched floor.
const FLOOR_BATCH: usize = 64;

fn announce(spec: &RunSpec, plan: &[spec::PlannedStage]) {
    let stages: Vec<String> = plan
        .iter()
        .map(|p| {
            format!(
                "{} {:.0} req/s for {}",
                p.label,
                p.stage.rate,
                cli::human(p.stage.duration)
            )
        })
        .collect();
    eprintln!(
        "bench-rig {}: {} tenant(s), {} connection(s) each; {}",
        spec.profile.name(),
        spec.tenants.len(),
        spec.connections,
        stages.join(", then ")
    );
}

fn default_out(profile: Profile) -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    PathBuf::from("bench-rig-reports").join(format!("{}-{now}", profile.name()))
}
