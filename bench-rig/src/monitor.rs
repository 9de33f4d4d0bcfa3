//! The appliance's CPU time and memory from the kernel's process accounting (`/proc/PID`), so
//! cost is measured, not estimated: user + system time of every thread, resident memory
//! sampled during the run, and the kernel's high-water mark.

use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// A process to watch.
#[derive(Debug, Clone)]
pub struct Process {
    pub pid: u32,
    proc_dir: PathBuf,
    ticks_per_second: f64,
}

/// Readings at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    pub at: Instant,
    pub cpu_seconds: f64,
    pub rss_kib: u64,
}

/// What the appliance used over the measured part of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Usage {
    pub pid: u32,
    pub cpu_seconds: f64,
    pub wall_seconds: f64,
    /// CPUs in the appliance's affinity mask.
    pub cores: usize,
    /// cpu_seconds / (wall_seconds x cores).
    pub utilisation: f64,
    pub rss_start_mib: f64,
    pub rss_end_mib: f64,
    pub rss_max_mib: f64,
    /// The kernel's peak resident set size of the process since it started (VmHWM).
    pub peak_rss_mib: f64,
}

impl Process {
    pub fn new(pid: u32) -> Result<Process, String> {
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        if !proc_dir.join("stat").exists() {
            return Err(format!(
                "no process {pid} (give --appliance-pid the pid of a running appliance)"
            ));
        }
        Ok(Process {
            pid,
            proc_dir,
            ticks_per_second: clock_ticks(),
        })
    }

    /// The one process named `appliance` that runs `serve`, if there is exactly one.
    pub fn find_appliance() -> Option<Process> {
        let mut found = std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                comm.trim() == "appliance" && cmdline.split(|b| *b == 0).any(|a| a == b"serve")
            });
        let pid = found.next()?;
        match found.next() {
            Some(_) => None,
            None => Process::new(pid).ok(),
        }
    }

    pub fn read(&self) -> Reading {
        Reading {
            at: Instant::now(),
            cpu_seconds: self.cpu_ticks() as f64 / self.ticks_per_second,
            rss_kib: self.status_kib("VmRSS:"),
        }
    }

    /// CPUs the process may run on.
    pub fn cores(&self) -> usize {
        let list = std::fs::read_to_string(self.proc_dir.join("status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                l.strip_prefix("Cpus_allowed_list:")
                    .map(str::trim)
                    .map(String::from)
            })
            .unwrap_or_default();
        count_cpu_list(&list).unwrap_or(1).max(1)
    }

    /// The usage between two readings.
    pub fn usage(&self, start: Reading, end: Reading, rss_max_kib: u64) -> Usage {
        let wall_seconds = end.at.duration_since(start.at).as_secs_f64();
        let cpu_seconds = (end.cpu_seconds - start.cpu_seconds).max(0.0);
        let cores = self.cores();
        let mib = |kib: u64| kib as f64 / 1024.0;
        Usage {
            pid: self.pid,
            cpu_seconds,
            wall_seconds,
            cores,
            utilisation: cpu_seconds / (wall_seconds * cores as f64).max(1e-9),
            rss_start_mib: mib(start.rss_kib),
            rss_end_mib: mib(end.rss_kib),
            rss_max_mib: mib(rss_max_kib.max(start.rss_kib).max(end.rss_kib)),
            peak_rss_mib: mib(self.status_kib("VmHWM:")),
        }
    }

    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(self.proc_dir.join("stat")).unwrap_or_default();
        stat_cpu_ticks(&stat)
    }

    fn status_kib(&self, key: &str) -> u64 {
        std::fs::read_to_string(self.proc_dir.join("status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

/// utime + stime (fields 14 and 15) of a /proc/PID/stat line; the command name in field 2
/// may hold spaces and parentheses, so fields are counted after its closing parenthesis.
fn stat_cpu_ticks(stat: &str) -> u64 {
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

/// Counts the CPUs in a list like `0-3,6,8-9`.
fn count_cpu_list(list: &str) -> Option<usize> {
    let mut count = 0;
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
                count += b.checked_sub(a)? + 1;
            }
            None => {
                part.parse::<usize>().ok()?;
                count += 1;
            }
        }
    }
    Some(count)
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// This process's own CPU seconds so far (the rig shares the host with the appliance).
pub fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    stat_cpu_ticks(&stat) as f64 / clock_ticks()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let stat = "4242 (app (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 125 0 0 20 0 3 0";
        assert_eq!(stat_cpu_ticks(stat), 375);
    }

    #[test]
    fn cpu_lists_count_ranges_and_singles() {
        assert_eq!(count_cpu_list("0-3,6,8-9"), Some(7));
        assert_eq!(count_cpu_list("1"), Some(1));
        assert_eq!(count_cpu_list("3-1"), None);
    }

    #[test]
    fn this_process_can_be_watched() {
        let me = Process::new(std::process::id()).unwrap();
        let reading = me.read();
        assert!(reading.rss_kib > 0);
        assert!(me.cores() >= 1);
        assert!(Process::new(u32::MAX).is_err());
    }
}
