//! Transparent huge pages off for the appliance's process. mimalloc asks for them on its
//! arenas (`MADV_HUGEPAGE`), so every thread's heap grew in whole 2 MiB pages: the appliance
//! was resident at about 2.5 times the memory it used, and each backlog it drained left a
//! 2 MiB step that stayed. With 4 KiB pages the cost per proof is unchanged (docs/bench-rig.md,
//! "Cost per proof", the pairs under "Transparent huge pages off").

#![allow(unsafe_code)] // prctl through libc; see its SAFETY note

/// The mimalloc option that, when set in the environment, decides instead of the appliance
/// (`MIMALLOC_ALLOW_THP=1` keeps huge pages, to measure them).
const ALLOCATOR_CHOICE: &str = "MIMALLOC_ALLOW_THP";

/// Turns transparent huge pages off for this process, from now on, unless
/// `MIMALLOC_ALLOW_THP` is set; a kernel without the setting leaves them as they are.
pub fn keep_to_small_pages() {
    if std::env::var_os(ALLOCATOR_CHOICE).is_some() {
        return;
    }
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes one flag of this
    // process's memory map; it is inherited by children, which is what is wanted.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_is_left_without_transparent_huge_pages() {
        if std::env::var_os(ALLOCATOR_CHOICE).is_some() {
            return;
        }
        keep_to_small_pages();
        let status = std::fs::read_to_string("/proc/self/status").expect("status readable");
        let line = status
            .lines()
            .find(|l| l.starts_with("THP_enabled:"))
            .expect("the kernel reports THP_enabled");
        assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    }
}
