//! CPU time, memory and file descriptors from procfs, for the process and for one thread (a
//! shard).

/// Linux reports /proc times in USER_HZ, which is 100 on every architecture it exports to
/// user space.
const USER_HZ: f64 = 100.0;

/// User + system CPU seconds from a `/proc/.../stat` line.
fn cpu_seconds(stat: &str) -> Option<f64> {
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// CPU seconds of the calling thread.
pub fn thread_cpu_seconds() -> Option<f64> {
    cpu_seconds(&std::fs::read_to_string("/proc/thread-self/stat").ok()?)
}

/// CPU seconds of the whole process.
pub fn process_cpu_seconds() -> Option<f64> {
    cpu_seconds(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// Resident memory of the process, bytes.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// File descriptors the process holds open (the count includes the one reading the folder,
/// as other Prometheus clients' counts do).
pub fn open_fds() -> Option<u64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as u64)
}

/// The process's soft limit on open file descriptors; `None` when unlimited or unreadable.
pub fn max_fds() -> Option<u64> {
    max_fds_in(&std::fs::read_to_string("/proc/self/limits").ok()?)
}

/// The soft limit on the "Max open files" line of a `/proc/.../limits` text.
fn max_fds_in(limits: &str) -> Option<u64> {
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        let line = "1234 (shard 0) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 \
                    100 0 0";
        assert_eq!(cpu_seconds(line), Some(3.0));
        assert!(process_cpu_seconds().is_some());
        assert!(thread_cpu_seconds().is_some());
        assert!(resident_bytes().is_some_and(|b| b > 0));
    }

    #[test]
    fn file_descriptors_are_counted_under_their_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(max_fds_in(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(max_fds_in(unlimited), None);
        // Standard input, output and error at least (other tests run beside this one, so an
        // exact count would race them).
        let open = open_fds().expect("counted");
        assert!(open >= 3, "{open}");
        assert!(max_fds().is_some_and(|max| max >= open));
    }
}
