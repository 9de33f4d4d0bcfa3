//! Reading the host for the preflight checks: procfs, resource limits, the kernel's clock
//! state, the state directory's filesystem, and two live probes (an io_uring executor like a
//! shard's, an exclusive bind of the QUIC address).
#![allow(unsafe_code)] // getrlimit and adjtimex through libc; see each SAFETY note

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::checks::{HostFacts, StateDirFacts, Wanted};

/// Reads everything the checks need.
pub fn gather(
    wanted: &Wanted,
    listen: std::net::SocketAddr,
    admin: Option<std::net::SocketAddr>,
    state_dir: &Path,
) -> HostFacts {
    HostFacts {
        kernel_release: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_default(),
        io_uring_disabled: read_number("/proc/sys/kernel/io_uring_disabled").map(|v| v as u32),
        seccomp_mode: std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Seccomp:"))
                    .and_then(|v| v.trim().parse().ok())
            }),
        io_uring_probe: probe_io_uring(wanted.io_memory_bytes),
        memlock_limit: memlock_limit(),
        allowed_cpus: tf_dataplane::cpus::allowed().map_or(0, |c| c.len()),
        udp_buffer_max: (
            read_number("/proc/sys/net/core/rmem_max"),
            read_number("/proc/sys/net/core/wmem_max"),
        ),
        clock_synchronized: clock_synchronized(),
        uid: effective_uid(),
        state_dir: state_dir_facts(state_dir),
        state_exposures: tf_state::exposures(state_dir).map_err(|e| e.to_string()),
        listen_probe: probe_listen(listen),
        admin_probe: admin.map(|address| {
            std::net::TcpListener::bind(address)
                .map(drop)
                .map_err(|e| e.to_string())
        }),
        cpu_features: cpu_features(),
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

fn read_number(path: &str) -> Option<u64> {
    read_trimmed(path)?.parse().ok()
}

/// Starts and stops a glommio executor with the shards' io_uring memory: exactly what `serve`
/// will do, so it fails for every reason `serve` would (kernel, seccomp, sysctl, memlock).
fn probe_io_uring(io_memory_bytes: u64) -> Result<(), String> {
    let executor = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .name("preflight")
        .io_memory(io_memory_bytes as usize)
        .spawn(|| async {})
        .map_err(|e| e.to_string())?;
    executor.join().map_err(|e| e.to_string())
}

fn memlock_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    let result = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) };
    if result != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some(limit.rlim_cur)
}

fn clock_synchronized() -> Option<bool> {
    // SAFETY: an all-zero timex is a valid argument; with modes 0 adjtimex only reads.
    let mut timex: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: adjtimex writes the kernel's clock state into the struct we own.
    let state = unsafe { libc::adjtimex(&mut timex) };
    if state < 0 {
        return None;
    }
    Some(state != libc::TIME_ERROR && timex.status & libc::STA_UNSYNC == 0)
}

fn effective_uid() -> u32 {
    // /proc/self belongs to the process's effective user.
    std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

fn state_dir_facts(path: &Path) -> StateDirFacts {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let probe = path.join(".preflight-write-test");
            let writable = std::fs::write(&probe, b"").is_ok();
            let _ = std::fs::remove_file(&probe);
            StateDirFacts::Exists {
                path: path.to_owned(),
                owner_uid: meta.uid(),
                writable: meta.is_dir() && writable,
                free_bytes: tf_ledger::free_bytes(path),
            }
        }
        Err(_) => {
            let parent = path
                .ancestors()
                .skip(1)
                .find(|p| p.exists() && !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let probe = parent.join(".preflight-write-test");
            let creatable = std::fs::write(&probe, b"").is_ok();
            let _ = std::fs::remove_file(&probe);
            StateDirFacts::Missing {
                path: path.to_owned(),
                creatable,
                free_bytes: tf_ledger::free_bytes(parent),
            }
        }
    }
}

/// An exclusive bind, released at once (port 0 always passes).
fn probe_listen(listen: std::net::SocketAddr) -> Result<(), String> {
    std::net::UdpSocket::bind(listen)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn cpu_features() -> Vec<(&'static str, bool)> {
    #[cfg(target_arch = "x86_64")]
    {
        vec![
            ("adx", std::arch::is_x86_feature_detected!("adx")),
            ("bmi2", std::arch::is_x86_feature_detected!("bmi2")),
        ]
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        Vec::new()
    }
}
