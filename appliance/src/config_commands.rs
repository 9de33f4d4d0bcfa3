//! `appliance config default|check` and `appliance tune --emit`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use tf_config::Config;

use crate::cli::TuneArgs;

/// The sysctl snippet shipped with the unit files; `tune` writes the same file.
const SYSCTL: &str = include_str!("../../systemd/sysctl.d/60-trust-fabric.conf");

/// `appliance config default`.
pub fn default() -> ExitCode {
    crate::output::line(tf_config::default_file().trim_end());
    ExitCode::SUCCESS
}

/// `appliance config check FILE`.
pub fn check(file: &Path) -> ExitCode {
    match Config::load(file) {
        Ok(config) => {
            crate::output::line(format!(
                "{}: valid ({} tenant(s), QUIC on {}, {} shard(s))",
                file.display(),
                config.tenants.len(),
                config.server.listen,
                match config.server.shards {
                    0 => "one per usable CPU".to_owned(),
                    n => n.to_string(),
                }
            ));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            crate::exit::config_unusable()
        }
    }
}

/// `appliance tune --emit DIR`.
pub fn tune(args: TuneArgs) -> ExitCode {
    let config = match Config::load_or_default(args.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("appliance tune: {error}");
            return crate::exit::config_unusable();
        }
    };
    let cpus = tf_dataplane::cpus::allowed().unwrap_or_else(|| vec![0]);
    let files = [
        ("sysctl.d/60-trust-fabric.conf", SYSCTL.to_owned()),
        (
            "appliance.service.d/10-tuning.conf",
            drop_in(&config, &cpus),
        ),
        ("firmware-notes.txt", firmware_notes(&HostReadings::read())),
    ];
    for (name, text) in &files {
        let path = args.emit.join(name);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(error) = written {
            eprintln!("appliance tune: writing {}: {error}", path.display());
            return ExitCode::from(1);
        }
        crate::output::line(format!("wrote {}", path.display()));
    }
    crate::output::line(format!(
        "install: cp {dir}/sysctl.d/* /etc/sysctl.d/ && sysctl --system; \
         cp -r {dir}/appliance.service.d /etc/systemd/system/ && systemctl daemon-reload; \
         read {dir}/firmware-notes.txt",
        dir = args.emit.display()
    ));
    ExitCode::SUCCESS
}

/// The systemd drop-in: CPUs for the shards and the locked memory they need.
fn drop_in(config: &Config, cpus: &[usize]) -> String {
    // Leave CPU 0 to the kernel, interrupts and the rest of the host when there are enough.
    let shard_cpus: Vec<usize> = if cpus.len() > 2 {
        cpus.iter().copied().filter(|c| *c != cpus[0]).collect()
    } else {
        cpus.to_vec()
    };
    let shards = match config.server.shards {
        0 => shard_cpus.len(),
        n => n,
    };
    let wanted = crate::preflight::Wanted {
        shards,
        ..crate::preflight::wanted(config)
    };
    let needed = crate::preflight::memlock_needed(&wanted, shard_cpus.len());
    // A margin over the registered buffers: older kernels also charge the rings themselves.
    let limit_mib = (needed + (needed / 2)).div_ceil(1 << 20).max(8);
    let list: Vec<String> = shard_cpus.iter().map(usize::to_string).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Tuning for the Trust Fabric appliance on this host (`appliance tune --emit`).\n\
         # Install as /etc/systemd/system/appliance.service.d/10-tuning.conf, then\n\
         # `systemctl daemon-reload && systemctl restart appliance`.\n\
         [Service]\n\
         # One shard per CPU listed (server.shards = 0 follows this mask).{}\n\
         CPUAffinity={}\n\
         # Each shard and the ledger thread register {} KiB of io_uring memory with 3 rings,\n\
         # charged in whole 2 MiB pages: {:.1} MiB for {shards} shard(s), plus half again for\n\
         # kernels that charge the rings themselves too.\n\
         LimitMEMLOCK={limit_mib}M\n\
         # Allocator (mimalloc) options are environment variables read at process start;\n\
         # uncomment to try, and compare with `bench-rig` (see docs/runbook.md):\n\
         # Environment=MIMALLOC_ALLOW_LARGE_OS_PAGES=1\n\
         # Environment=MIMALLOC_PURGE_DELAY=250",
        if shard_cpus.len() < cpus.len() {
            format!(
                " CPU {} is left to the kernel,\n# interrupts and the rest of the host.",
                cpus[0]
            )
        } else {
            String::new()
        },
        list.join(" "),
        config.server.io_memory_kib,
        needed as f64 / (1 << 20) as f64,
    );
    out
}

/// Firmware and CPU settings as this host has them now, where readable.
#[derive(Debug, Default)]
struct HostReadings {
    governor: Option<String>,
    smt_active: Option<String>,
    max_cstate: Option<String>,
    no_turbo: Option<String>,
}

impl HostReadings {
    fn read() -> Self {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .ok()
                .map(|s| s.trim().to_owned())
        };
        HostReadings {
            governor: read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            smt_active: read("/sys/devices/system/cpu/smt/active"),
            max_cstate: read("/sys/module/intel_idle/parameters/max_cstate"),
            no_turbo: read("/sys/devices/system/cpu/intel_pstate/no_turbo"),
        }
    }
}

fn firmware_notes(now: &HostReadings) -> String {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "not readable here".to_owned());
    format!(
        "Firmware and CPU settings for a Trust Fabric verification host\n\
         ==============================================================\n\
         Verification is CPU-bound pairing arithmetic on pinned cores; latency comes from\n\
         queueing behind it. Each setting below trades power for steadier, faster cores.\n\
         \n\
         CPU frequency governor: performance (now: {})\n\
         \x20 Why: ondemand/powersave ramp the clock after load arrives; a burst then runs\n\
         \x20 slow for the first milliseconds, which shows directly in p99.\n\
         \x20 Set: BIOS power profile \"Maximum Performance\" (or OS-controlled), then\n\
         \x20 `cpupower frequency-set -g performance` (Debian package linux-cpupower).\n\
         \n\
         SMT / Hyper-Threading: off, or give the appliance one thread per core (now active: {})\n\
         \x20 Why: two shards on sibling threads share one core's multipliers; pairing code\n\
         \x20 gains little from SMT and a sibling's load makes verification time jitter.\n\
         \x20 Set: BIOS \"Logical Processor\" disabled, or `echo off > /sys/devices/system/cpu/smt/control`,\n\
         \x20 or list one sibling per core in CPUAffinity=.\n\
         \n\
         Deep C-states: limit to C1 (now intel_idle max_cstate: {})\n\
         \x20 Why: waking a core from C6 takes tens to hundreds of microseconds, paid on every\n\
         \x20 idle-to-busy edge of a shard.\n\
         \x20 Set: BIOS \"C-States\" disabled / \"C1E\" disabled, or kernel command line\n\
         \x20 `intel_idle.max_cstate=1 processor.max_cstate=1`.\n\
         \n\
         Turbo: on, with adequate cooling (now intel_pstate no_turbo: {})\n\
         \x20 Why: higher clock is faster verification; measure with `bench-rig floor` both ways\n\
         \x20 if the host throttles under sustained load.\n\
         \n\
         CPU features: ADX and BMI2 must be visible to the OS (`appliance preflight` checks)\n\
         \x20 Why: the field arithmetic uses MULX/ADCX/ADOX; without them it falls back to\n\
         \x20 slower code. On a VM, pass the host CPU model through.\n",
        show(&now.governor),
        show(&now.smt_active),
        show(&now.max_cstate),
        show(&now.no_turbo),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drop_in_sizes_memlock_for_the_shards_and_leaves_cpu0_on_big_hosts() {
        let mut config = Config::default();
        config.server.io_memory_kib = 1024;
        let text = drop_in(&config, &[0, 1, 2, 3]);
        assert!(text.contains("CPUAffinity=1 2 3\n"), "{text}");
        // (3 shards + ledger) x 3 rings x 2 MiB (1 MiB in whole pages) = 24 MiB, plus half.
        assert!(text.contains("LimitMEMLOCK=36M"), "{text}");
        config.server.io_memory_kib = 4096;
        let text = drop_in(&config, &[0, 1]);
        assert!(text.contains("CPUAffinity=0 1\n"), "{text}");
        // (2 shards + ledger) x 3 rings x 4 MiB = 36 MiB, plus half = 54 MiB.
        assert!(text.contains("LimitMEMLOCK=54M"), "{text}");
        for line in text.lines() {
            assert!(
                line.is_empty()
                    || line.starts_with('#')
                    || line.starts_with('[')
                    || line.contains('='),
                "{line}"
            );
        }
    }

    #[test]
    fn firmware_notes_show_what_the_host_has_now() {
        let text = firmware_notes(&HostReadings {
            governor: Some("powersave".into()),
            ..HostReadings::default()
        });
        assert!(text.contains("performance (now: powersave)"));
        assert!(text.contains("max_cstate: not readable here"));
    }
}
