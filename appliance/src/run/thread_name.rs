//! Control-plane threads named for what they run, so `top -H`, `ps -L` and the bench rig's
//! per-thread figures tell the transparency log, compliance and webhook workers apart (actix
//! names every arbiter's thread alike).

#![allow(unsafe_code)] // prctl through libc; see its SAFETY note

use std::ffi::CString;

/// A new arbiter whose thread is called `name` (at most 15 bytes are kept).
pub fn named_arbiter(name: &'static str) -> actix::Arbiter {
    let arbiter = actix::Arbiter::new();
    arbiter.spawn_fn(move || name_this_thread(name));
    arbiter
}

/// Renames the calling thread; a name the kernel refuses leaves the old one.
fn name_this_thread(name: &str) {
    let Ok(name) = CString::new(name.bytes().take(15).collect::<Vec<u8>>()) else {
        return;
    };
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes, which `name`
    // is, and only renames the calling thread.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, name.as_ptr());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arbiter_thread_carries_the_name() {
        let _system = actix::System::new();
        let arbiter = named_arbiter("tf-test-worker");
        let (tx, rx) = std::sync::mpsc::channel();
        arbiter.spawn_fn(move || {
            let comm = std::fs::read_to_string("/proc/thread-self/comm");
            tx.send(comm.expect("comm readable")).expect("sent");
        });
        let comm = rx.recv().expect("answered");
        assert_eq!(comm.trim(), "tf-test-worker");
        arbiter.stop();
    }
}
