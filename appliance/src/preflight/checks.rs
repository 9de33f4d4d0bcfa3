//! The preflight checks as pure functions of what was read from the host, so each PASS, WARN
//! and FAIL can be tested against a simulated host.

use std::path::PathBuf;

/// What a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Fine.
    Pass,
    /// Runs, but slower or less safely than it should.
    Warn,
    /// `serve` refuses to start.
    Fail,
}

impl Status {
    /// As printed.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One line of the preflight table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// The verdict.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do about a WARN or FAIL (empty for PASS).
    pub fix: String,
}

/// The state directory as found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateDirFacts {
    /// It exists.
    Exists {
        /// Its path.
        path: PathBuf,
        /// Its owner.
        owner_uid: u32,
        /// Whether a file could be created in it.
        writable: bool,
        /// Free bytes on its filesystem, if known.
        free_bytes: Option<u64>,
    },
    /// It does not exist yet; `serve` creates it.
    Missing {
        /// Its path.
        path: PathBuf,
        /// Whether the nearest existing parent lets us create it.
        creatable: bool,
        /// Free bytes where it would be created, if known.
        free_bytes: Option<u64>,
    },
}

/// Everything the checks look at, read from the host (or simulated in tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFacts {
    /// `/proc/sys/kernel/osrelease`.
    pub kernel_release: String,
    /// `kernel.io_uring_disabled` (kernels before 6.6 do not have it).
    pub io_uring_disabled: Option<u32>,
    /// The `Seccomp:` mode of this process (2 = a filter is installed).
    pub seccomp_mode: Option<u32>,
    /// Starting an io_uring executor like a shard's: the error if it failed.
    pub io_uring_probe: Result<(), String>,
    /// RLIMIT_MEMLOCK soft limit, bytes (`None` = unlimited).
    pub memlock_limit: Option<u64>,
    /// CPUs in the affinity mask.
    pub allowed_cpus: usize,
    /// `net.core.rmem_max` and `net.core.wmem_max`.
    pub udp_buffer_max: (Option<u64>, Option<u64>),
    /// Whether the kernel says the clock is synchronised (`None` = cannot tell).
    pub clock_synchronized: Option<bool>,
    /// Our effective user id.
    pub uid: u32,
    /// The state directory.
    pub state_dir: StateDirFacts,
    /// What in the state directory others could read or change (empty when it does not
    /// exist yet), or why that could not be read.
    pub state_exposures: Result<Vec<tf_state::Exposure>, String>,
    /// Binding the QUIC address exclusively: the error if it failed.
    pub listen_probe: Result<(), String>,
    /// Binding the admin server's TCP address (`None` when it is disabled).
    pub admin_probe: Option<Result<(), String>>,
    /// The CPU features the field arithmetic uses (`adx`, `bmi2`) and whether present.
    pub cpu_features: Vec<(&'static str, bool)>,
}

/// What the configuration asks of the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// Shards configured (0 = one per allowed CPU).
    pub shards: usize,
    /// io_uring memory per executor, bytes.
    pub io_memory_bytes: u64,
    /// The QUIC listen address, as written.
    pub listen: String,
    /// The admin server's address, as written.
    pub admin_listen: String,
}

/// Oldest kernel glommio runs on.
const MIN_KERNEL: (u32, u32) = (5, 8);
/// What each shard's socket asks for.
const UDP_BUFFER_WANTED: u64 = tf_dataplane::UDP_BUFFER_BYTES as u64;
/// Below this much free space the ledger may fail to commit: refuse to start.
const MIN_FREE: u64 = 64 << 20;
/// Below this, warn.
const LOW_FREE: u64 = 1 << 30;

/// glommio refuses to start an executor below this RLIMIT_MEMLOCK.
const GLOMMIO_MIN_MEMLOCK: u64 = 512 * 1024;
/// glommio registers each executor's io_uring memory with its three rings (main, latency,
/// poll); each registration is charged to RLIMIT_MEMLOCK.
const RINGS_PER_EXECUTOR: u64 = 3;
/// A registration is charged in whole 2 MiB pages: measured pinned memory was 6 MiB per
/// executor for 64 KiB of io_uring memory and 12 MiB for 2 MiB (9 MiB on average for 1 MiB,
/// when the buffer straddles a page boundary).
const CHARGE_UNIT: u64 = 2 << 20;

/// About the locked memory every executor (the shards and the ledger thread) needs to register
/// its io_uring memory with each of its rings.
pub fn memlock_needed(wanted: &Wanted, allowed_cpus: usize) -> u64 {
    let shards = match wanted.shards {
        0 => allowed_cpus.max(1),
        n => n,
    } as u64;
    (shards + 1) * RINGS_PER_EXECUTOR * wanted.io_memory_bytes.div_ceil(CHARGE_UNIT) * CHARGE_UNIT
}

/// Runs every check.
pub fn run(facts: &HostFacts, wanted: &Wanted) -> Vec<Check> {
    vec![
        kernel(facts),
        io_uring(facts),
        memlock(facts, wanted),
        cores(facts, wanted),
        udp_buffers(facts),
        clock(facts),
        state_dir(facts),
        super::state_access::state_access(facts),
        listen(facts, wanted),
        admin_port(facts, wanted),
        cpu_features(facts),
    ]
}

/// A check's row; the fix is kept only for a WARN or FAIL.
pub(super) fn check(name: &'static str, status: Status, detail: String, fix: &str) -> Check {
    Check {
        name,
        status,
        detail,
        fix: if status == Status::Pass {
            String::new()
        } else {
            fix.to_owned()
        },
    }
}

fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn kernel(facts: &HostFacts) -> Check {
    let release = facts.kernel_release.trim();
    match parse_release(release) {
        Some(version) if version >= MIN_KERNEL => {
            check("kernel", Status::Pass, format!("Linux {release}"), "")
        }
        Some(_) => check(
            "kernel",
            Status::Fail,
            format!("Linux {release} is older than 5.8, which io_uring as used here needs"),
            "upgrade the kernel to 5.8 or later (Debian 12 ships 6.1)",
        ),
        None => check(
            "kernel",
            Status::Warn,
            format!("cannot read the kernel version from {release:?}"),
            "check `uname -r`: 5.8 or later is needed",
        ),
    }
}

fn io_uring(facts: &HostFacts) -> Check {
    let knob = match facts.io_uring_disabled {
        Some(v) => format!("kernel.io_uring_disabled={v}"),
        None => "no io_uring_disabled knob".to_owned(),
    };
    let seccomp = match facts.seccomp_mode {
        Some(2) => ", a seccomp filter is active",
        _ => "",
    };
    match &facts.io_uring_probe {
        Ok(()) => check(
            "io_uring",
            Status::Pass,
            format!("an io_uring executor starts ({knob}{seccomp})"),
            "",
        ),
        Err(error) => {
            let fix = match (facts.io_uring_disabled, facts.seccomp_mode) {
                (Some(v), _) if v > 0 => {
                    "set kernel.io_uring_disabled=0 (sysctl; 1 allows only the io_uring_group \
                     group)"
                }
                (_, Some(2)) => {
                    "a seccomp filter blocks io_uring: allow @aio (io_uring_setup, \
                     io_uring_enter, io_uring_register), e.g. SystemCallFilter=@system-service; \
                     for containers, a seccomp profile that allows them"
                }
                _ => "check the error above; io_uring needs kernel 5.8+ and enough RLIMIT_MEMLOCK",
            };
            check(
                "io_uring",
                Status::Fail,
                format!("an io_uring executor does not start: {error} ({knob}{seccomp})"),
                fix,
            )
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn memlock(facts: &HostFacts, wanted: &Wanted) -> Check {
    let needed = memlock_needed(wanted, facts.allowed_cpus);
    let round_up_mib = needed.div_ceil(1 << 20).max(1);
    let fix = format!(
        "LimitMEMLOCK={round_up_mib}M in the unit (`appliance tune --emit DIR` writes it), \
         `ulimit -l {}` in a shell (a lower server.io_memory_kib does not help below \
         2048: it is charged in whole 2 MiB pages)",
        round_up_mib * 1024
    );
    match facts.memlock_limit {
        None => check(
            "locked memory",
            Status::Pass,
            format!(
                "RLIMIT_MEMLOCK unlimited; io_uring buffers need {}",
                mib(needed)
            ),
            "",
        ),
        Some(limit) if limit >= needed => check(
            "locked memory",
            Status::Pass,
            format!(
                "RLIMIT_MEMLOCK {} >= {} for io_uring buffers",
                mib(limit),
                mib(needed)
            ),
            "",
        ),
        Some(limit) if limit < GLOMMIO_MIN_MEMLOCK => check(
            "locked memory",
            Status::Fail,
            format!(
                "RLIMIT_MEMLOCK {} is below the 0.5 MiB an io_uring executor needs to start",
                mib(limit)
            ),
            &fix,
        ),
        Some(limit) => check(
            "locked memory",
            Status::Warn,
            format!(
                "RLIMIT_MEMLOCK {} < {} to register every executor's io_uring buffers \
                 ((shards + 1) x 3 rings x server.io_memory_kib in whole 2 MiB pages): some \
                 run without registered buffers, which the data plane's sockets do not use \
                 (root is not limited)",
                mib(limit),
                mib(needed)
            ),
            &fix,
        ),
    }
}

fn cores(facts: &HostFacts, wanted: &Wanted) -> Check {
    let cpus = facts.allowed_cpus;
    let shards = if wanted.shards == 0 {
        cpus
    } else {
        wanted.shards
    };
    if cpus == 0 {
        return check(
            "cores",
            Status::Warn,
            "cannot read the affinity mask; one shard on CPU 0".to_owned(),
            "check /proc/self/status (Cpus_allowed_list)",
        );
    }
    if shards > cpus {
        return check(
            "cores",
            Status::Warn,
            format!("{shards} shards on {cpus} usable CPU(s): shards share cores"),
            "set server.shards = 0 (one per usable CPU) or widen CPUAffinity=",
        );
    }
    if cpus == 1 {
        return check(
            "cores",
            Status::Warn,
            "1 usable CPU: the network and verification share it".to_owned(),
            "give the appliance at least 2 CPUs (CPUAffinity=, taskset, container limits)",
        );
    }
    check(
        "cores",
        Status::Pass,
        format!("{shards} shard(s) on {cpus} usable CPU(s)"),
        "",
    )
}

fn udp_buffers(facts: &HostFacts) -> Check {
    let (rmem, wmem) = facts.udp_buffer_max;
    let show = |v: Option<u64>| v.map(mib).unwrap_or_else(|| "unknown".to_owned());
    let detail = format!(
        "net.core.rmem_max {}, wmem_max {} (each shard asks for {})",
        show(rmem),
        show(wmem),
        mib(UDP_BUFFER_WANTED)
    );
    let enough = |v: Option<u64>| v.is_some_and(|v| v >= UDP_BUFFER_WANTED);
    if enough(rmem) && enough(wmem) {
        check("UDP buffers", Status::Pass, detail, "")
    } else {
        check(
            "UDP buffers",
            Status::Warn,
            detail,
            "bursts of datagrams will be dropped: install systemd/sysctl.d/60-trust-fabric.conf \
             in /etc/sysctl.d and run `sysctl --system`",
        )
    }
}

fn clock(facts: &HostFacts) -> Check {
    let fix = "receipts' times and budget windows come from the clock: enable time sync \
               (`timedatectl set-ntp true`, systemd-timesyncd or chrony)";
    match facts.clock_synchronized {
        Some(true) => check(
            "clock sync",
            Status::Pass,
            "the kernel reports the clock synchronised".to_owned(),
            "",
        ),
        Some(false) => check(
            "clock sync",
            Status::Warn,
            "the kernel reports the clock NOT synchronised".to_owned(),
            fix,
        ),
        None => check(
            "clock sync",
            Status::Warn,
            "cannot tell whether the clock is synchronised".to_owned(),
            fix,
        ),
    }
}

fn free_space(free: Option<u64>, path: &std::path::Path) -> Option<Check> {
    let free = free?;
    let fix = "free space on that filesystem or move server.state_dir (the ledger grows with \
               every receipt)";
    if free < MIN_FREE {
        Some(check(
            "state directory",
            Status::Fail,
            format!("{}: only {} free", path.display(), mib(free)),
            fix,
        ))
    } else if free < LOW_FREE {
        Some(check(
            "state directory",
            Status::Warn,
            format!("{}: {} free", path.display(), mib(free)),
            fix,
        ))
    } else {
        None
    }
}

fn state_dir(facts: &HostFacts) -> Check {
    match &facts.state_dir {
        StateDirFacts::Exists {
            path,
            owner_uid,
            writable,
            free_bytes,
        } => {
            if *owner_uid != facts.uid {
                return check(
                    "state directory",
                    Status::Fail,
                    format!(
                        "{} is owned by uid {owner_uid}, the appliance runs as uid {}",
                        path.display(),
                        facts.uid
                    ),
                    &format!(
                        "chown -R the directory to the appliance's user (e.g. `chown -R \
                         trust-fabric: {}`)",
                        path.display()
                    ),
                );
            }
            if !writable {
                return check(
                    "state directory",
                    Status::Fail,
                    format!("{} is not writable", path.display()),
                    "make it writable by its owner (chmod u+rwx)",
                );
            }
            free_space(*free_bytes, path).unwrap_or_else(|| {
                check(
                    "state directory",
                    Status::Pass,
                    format!(
                        "{} (owned by us, writable{})",
                        path.display(),
                        free_bytes
                            .map(|f| format!(", {} free", mib(f)))
                            .unwrap_or_default()
                    ),
                    "",
                )
            })
        }
        StateDirFacts::Missing {
            path,
            creatable,
            free_bytes,
        } => {
            if !creatable {
                return check(
                    "state directory",
                    Status::Fail,
                    format!("{} does not exist and cannot be created", path.display()),
                    "create it owned by the appliance's user, or set server.state_dir / \
                     --state-dir to a writable place",
                );
            }
            free_space(*free_bytes, path).unwrap_or_else(|| {
                check(
                    "state directory",
                    Status::Pass,
                    format!("{} will be created on first start", path.display()),
                    "",
                )
            })
        }
    }
}

fn listen(facts: &HostFacts, wanted: &Wanted) -> Check {
    match &facts.listen_probe {
        Ok(()) => check(
            "QUIC port",
            Status::Pass,
            format!("UDP {} is free", wanted.listen),
            "",
        ),
        Err(error) => check(
            "QUIC port",
            Status::Fail,
            format!("UDP {} cannot be bound: {error}", wanted.listen),
            "stop whatever holds it (`ss -ulpn`; is another appliance already running?) or \
             set server.listen to another address",
        ),
    }
}

fn admin_port(facts: &HostFacts, wanted: &Wanted) -> Check {
    match &facts.admin_probe {
        None => check(
            "admin port",
            Status::Pass,
            "the admin server is disabled (admin.enabled = false)".to_owned(),
            "",
        ),
        Some(Ok(())) => check(
            "admin port",
            Status::Pass,
            format!("TCP {} is free", wanted.admin_listen),
            "",
        ),
        Some(Err(error)) => check(
            "admin port",
            Status::Fail,
            format!("TCP {} cannot be bound: {error}", wanted.admin_listen),
            "stop whatever holds it (`ss -tlpn`) or set admin.listen to another address",
        ),
    }
}

fn cpu_features(facts: &HostFacts) -> Check {
    let missing: Vec<&str> = facts
        .cpu_features
        .iter()
        .filter(|(_, present)| !present)
        .map(|(name, _)| *name)
        .collect();
    if missing.is_empty() {
        let names: Vec<&str> = facts.cpu_features.iter().map(|(n, _)| *n).collect();
        check(
            "CPU features",
            Status::Pass,
            format!("{} present (fast field arithmetic)", names.join(", ")),
            "",
        )
    } else {
        check(
            "CPU features",
            Status::Warn,
            format!(
                "{} missing: the BLS12-381 and BN254 arithmetic falls back to slower code",
                missing.join(", ")
            ),
            "expect lower throughput; on a VM, pass the host CPU model through (e.g. \
             `-cpu host`); on bare metal use a CPU with ADX and BMI2 (Intel Broadwell, AMD Zen \
             or later)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> HostFacts {
        HostFacts {
            kernel_release: "6.1.0-27-amd64".into(),
            io_uring_disabled: Some(0),
            seccomp_mode: Some(0),
            io_uring_probe: Ok(()),
            memlock_limit: Some(64 << 20),
            allowed_cpus: 4,
            udp_buffer_max: (Some(7 << 20), Some(7 << 20)),
            clock_synchronized: Some(true),
            uid: 999,
            state_dir: StateDirFacts::Exists {
                path: "/var/lib/trust-fabric".into(),
                owner_uid: 999,
                writable: true,
                free_bytes: Some(50 << 30),
            },
            state_exposures: Ok(Vec::new()),
            listen_probe: Ok(()),
            admin_probe: Some(Ok(())),
            cpu_features: vec![("adx", true), ("bmi2", true)],
        }
    }

    fn wanted() -> Wanted {
        Wanted {
            shards: 0,
            io_memory_bytes: 1 << 20,
            listen: "127.0.0.1:4433".into(),
            admin_listen: "127.0.0.1:8080".into(),
        }
    }

    fn status_of(facts: &HostFacts, name: &str) -> Check {
        run(facts, &wanted())
            .into_iter()
            .find(|c| c.name == name)
            .expect("check present")
    }

    #[test]
    fn a_healthy_host_passes_everything() {
        for check in run(&healthy(), &wanted()) {
            assert_eq!(check.status, Status::Pass, "{check:?}");
            assert!(check.fix.is_empty());
        }
    }

    #[test]
    fn kernel_pass_warn_fail() {
        let mut facts = healthy();
        facts.kernel_release = "5.4.0-150-generic".into();
        let check = status_of(&facts, "kernel");
        assert_eq!(check.status, Status::Fail);
        assert!(check.fix.contains("5.8"));
        facts.kernel_release = "weird".into();
        assert_eq!(status_of(&facts, "kernel").status, Status::Warn);
        facts.kernel_release = "5.8.0".into();
        assert_eq!(status_of(&facts, "kernel").status, Status::Pass);
    }

    #[test]
    fn io_uring_failures_name_their_cause() {
        let mut facts = healthy();
        facts.io_uring_probe = Err("Operation not permitted".into());
        facts.io_uring_disabled = Some(2);
        let check = status_of(&facts, "io_uring");
        assert_eq!(check.status, Status::Fail);
        assert!(check.detail.contains("io_uring_disabled=2"), "{check:?}");
        assert!(check.fix.contains("kernel.io_uring_disabled=0"));
        facts.io_uring_disabled = Some(0);
        facts.seccomp_mode = Some(2);
        let check = status_of(&facts, "io_uring");
        assert!(check.fix.contains("seccomp"), "{check:?}");
    }

    #[test]
    fn memlock_is_compared_with_what_the_executors_register() {
        let mut facts = healthy();
        // 4 shards + the ledger, 3 rings each, 1 MiB charged as 2 MiB: 30 MiB.
        assert_eq!(memlock_needed(&wanted(), 4), 30 << 20);
        facts.memlock_limit = Some(30 << 20);
        assert_eq!(status_of(&facts, "locked memory").status, Status::Pass);
        facts.memlock_limit = Some(8 << 20);
        facts.allowed_cpus = 8;
        let check = status_of(&facts, "locked memory");
        assert_eq!(check.status, Status::Warn);
        // 8 shards + the ledger: 54 MiB.
        assert!(check.fix.contains("LimitMEMLOCK=54M"), "{check:?}");
        facts.memlock_limit = Some(256 << 10);
        assert_eq!(status_of(&facts, "locked memory").status, Status::Fail);
        facts.memlock_limit = None;
        assert_eq!(status_of(&facts, "locked memory").status, Status::Pass);
    }

    #[test]
    fn cores_warn_when_shards_share_or_there_is_one() {
        let mut facts = healthy();
        facts.allowed_cpus = 1;
        assert_eq!(status_of(&facts, "cores").status, Status::Warn);
        let mut wanted = wanted();
        wanted.shards = 8;
        facts.allowed_cpus = 4;
        let check = run(&facts, &wanted)
            .into_iter()
            .find(|c| c.name == "cores")
            .expect("present");
        assert_eq!(check.status, Status::Warn);
        assert!(check.detail.contains("8 shards on 4"));
    }

    #[test]
    fn small_udp_buffers_warn_with_the_sysctl_fix() {
        let mut facts = healthy();
        facts.udp_buffer_max = (Some(212_992), Some(7 << 20));
        let check = status_of(&facts, "UDP buffers");
        assert_eq!(check.status, Status::Warn);
        assert!(check.fix.contains("60-trust-fabric.conf"));
    }

    #[test]
    fn an_unsynchronised_clock_warns() {
        let mut facts = healthy();
        facts.clock_synchronized = Some(false);
        assert_eq!(status_of(&facts, "clock sync").status, Status::Warn);
        facts.clock_synchronized = None;
        assert_eq!(status_of(&facts, "clock sync").status, Status::Warn);
    }

    #[test]
    fn state_dir_ownership_writability_and_space() {
        let mut facts = healthy();
        facts.state_dir = StateDirFacts::Exists {
            path: "/var/lib/trust-fabric".into(),
            owner_uid: 0,
            writable: true,
            free_bytes: Some(50 << 30),
        };
        let check = status_of(&facts, "state directory");
        assert_eq!(check.status, Status::Fail);
        assert!(check.fix.contains("chown -R trust-fabric:"), "{check:?}");
        facts.state_dir = StateDirFacts::Exists {
            path: "/s".into(),
            owner_uid: 999,
            writable: true,
            free_bytes: Some(512 << 20),
        };
        assert_eq!(status_of(&facts, "state directory").status, Status::Warn);
        facts.state_dir = StateDirFacts::Exists {
            path: "/s".into(),
            owner_uid: 999,
            writable: true,
            free_bytes: Some(10 << 20),
        };
        assert_eq!(status_of(&facts, "state directory").status, Status::Fail);
        facts.state_dir = StateDirFacts::Missing {
            path: "/s".into(),
            creatable: false,
            free_bytes: None,
        };
        assert_eq!(status_of(&facts, "state directory").status, Status::Fail);
        facts.state_dir = StateDirFacts::Missing {
            path: "/s".into(),
            creatable: true,
            free_bytes: Some(50 << 30),
        };
        assert_eq!(status_of(&facts, "state directory").status, Status::Pass);
    }

    #[test]
    fn a_taken_port_fails() {
        let mut facts = healthy();
        facts.listen_probe = Err("Address already in use".into());
        let check = status_of(&facts, "QUIC port");
        assert_eq!(check.status, Status::Fail);
        assert!(check.detail.contains("127.0.0.1:4433"));
    }

    #[test]
    fn a_taken_admin_port_fails_and_a_disabled_one_passes() {
        let mut facts = healthy();
        facts.admin_probe = Some(Err("Address already in use".into()));
        let check = status_of(&facts, "admin port");
        assert_eq!(check.status, Status::Fail);
        assert!(check.fix.contains("admin.listen"));
        facts.admin_probe = None;
        assert_eq!(status_of(&facts, "admin port").status, Status::Pass);
    }

    #[test]
    fn missing_cpu_features_warn() {
        let mut facts = healthy();
        facts.cpu_features = vec![("adx", false), ("bmi2", true)];
        let check = status_of(&facts, "CPU features");
        assert_eq!(check.status, Status::Warn);
        assert!(check.detail.starts_with("adx missing"));
    }
}
