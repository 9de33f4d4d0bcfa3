//! `appliance log monitor` against logs built here with the log key: a log that grows passes;
//! a log that shows another tree of the same size, a larger tree that does not extend the one
//! seen, or a smaller one, is a fork, reported with both signed checkpoints.

use std::path::Path;
use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use tf_log::LogDir;
use tf_tlog::{Checkpoint, NoteSigner, Tree};

const ORIGIN: &str = "monitor.example/log";
/// Entries every history below shares.
const SHARED: u64 = 300;

/// A log in a directory, written the way the appliance's log worker writes it.
struct Log {
    dir: LogDir,
    tree: Tree,
    signer: NoteSigner,
}

impl Log {
    fn new(root: &Path, secret: &[u8; 32]) -> Log {
        let dir = LogDir::open(root).expect("log directory");
        let signer = NoteSigner::new(ORIGIN, secret).expect("valid origin");
        dir.save_vkey(&signer.vkey()).expect("vkey written");
        Log {
            dir,
            tree: Tree::empty(),
            signer,
        }
    }

    /// Appends `history`'s entries `range`, then writes the tiles and signs a checkpoint.
    fn append(&mut self, history: &str, range: std::ops::Range<u64>) -> &mut Self {
        for i in range {
            self.tree.append(&entry(history, i));
            // Partial tiles are rewritten wider as the tree grows, as the appliance does.
            if i % 100 == 0 {
                self.dir
                    .write_tiles(&self.tree.take_tiles())
                    .expect("tiles written");
            }
        }
        self.dir
            .write_tiles(&self.tree.take_tiles())
            .expect("tiles written");
        let checkpoint =
            Checkpoint::new(ORIGIN, self.tree.size(), self.tree.root()).expect("valid checkpoint");
        let signed = self
            .signer
            .sign_checkpoint(&checkpoint)
            .expect("signed checkpoint");
        self.dir
            .save_checkpoint(signed.note())
            .expect("checkpoint written");
        self
    }

    fn vkey(&self) -> String {
        self.signer.vkey()
    }

    fn note(&self) -> String {
        self.dir
            .checkpoint()
            .expect("readable")
            .expect("a checkpoint")
    }

    fn url(&self) -> &str {
        self.dir.root().to_str().expect("utf-8 path")
    }
}

/// Entry `i`; entries before [`SHARED`] are the same in every history.
fn entry(history: &str, i: u64) -> [u8; 32] {
    let history = if i < SHARED { "shared" } else { history };
    Sha256::digest(format!("{history} {i}")).into()
}

/// `appliance log --url URL monitor --state STATE --once [--vkey VKEY]`.
fn monitor(url: &str, state: &Path, vkey: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_appliance"));
    command
        .args(["log", "--url", url, "monitor", "--once", "--state"])
        .arg(state);
    if let Some(vkey) = vkey {
        command.args(["--vkey", vkey]);
    }
    command.output().expect("appliance runs")
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Exit 1 with the fork named and both signed checkpoints in full.
fn assert_forked(output: &Output, seen: &str, shown: &str, why: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", text(output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("FORKED"), "{}", text(output));
    assert!(stderr.contains(why), "{why}: {}", text(output));
    for note in [seen, shown] {
        assert!(
            stderr.contains(note.trim_end()),
            "the evidence holds the signed checkpoint\n{note}\n{}",
            text(output)
        );
    }
}

#[test]
fn the_monitor_passes_a_growing_log_and_catches_every_fork() {
    let temp = tempfile::tempdir().expect("temp dir");
    let root = temp.path();
    let secret = [42u8; 32];
    let mut a = Log::new(&root.join("a"), &secret);
    a.append("a", 0..520);
    let vkey = a.vkey();
    let seen = a.note();

    // Another history of the same size, under the same key and origin.
    let mut b = Log::new(&root.join("b"), &secret);
    b.append("b", 0..520);
    assert_ne!(a.tree.root(), b.tree.root());
    // A's history cut short: a genuine tree of the log, but it went back.
    let mut shorter = Log::new(&root.join("shorter"), &secret);
    shorter.append("a", 0..400);
    // Another history, larger than the one seen.
    let mut larger = Log::new(&root.join("larger"), &secret);
    larger.append("c", 0..700);

    for (name, log, why) in [
        ("same size", &b, "two different trees of 520 entries"),
        ("went back", &shorter, "went back from 520 to 400"),
        (
            "larger",
            &larger,
            "the tree of 700 entries does not extend the one of 520",
        ),
    ] {
        let state = root.join(format!("monitor-{name}"));
        let first = monitor(a.url(), &state, Some(&vkey));
        assert_eq!(first.status.code(), Some(0), "{name}: {}", text(&first));
        let forked = monitor(log.url(), &state, None);
        assert_forked(&forked, &seen, &log.note(), why);
    }

    // The same monitor state, after the fork it refused, follows A as it grows: once by the
    // same tree of 520, then by a tree of 800 that extends it.
    let state = root.join("monitor-same size");
    let again = monitor(a.url(), &state, None);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    a.append("a", 520..800);
    let grown = monitor(a.url(), &state, None);
    assert_eq!(grown.status.code(), Some(0), "{}", text(&grown));
    assert!(
        String::from_utf8_lossy(&grown.stdout).contains("at size 800 (+280)"),
        "{}",
        text(&grown)
    );
    // ...and the log it now remembers is the grown one: B is still a fork, of another size.
    let forked = monitor(b.url(), &state, None);
    assert_forked(&forked, &a.note(), &b.note(), "went back from 800 to 520");

    // A log signed with another key under the same origin does not verify at all.
    let mut stranger = Log::new(&root.join("stranger"), &[7u8; 32]);
    stranger.append("a", 0..900);
    let refused = monitor(stranger.url(), &state, None);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        !String::from_utf8_lossy(&refused.stderr).contains("FORKED"),
        "not evidence of a fork: {}",
        text(&refused)
    );
    // Nor does passing its key replace the one pinned.
    let repinned = monitor(stranger.url(), &state, Some(&stranger.vkey()));
    assert_eq!(repinned.status.code(), Some(2), "{}", text(&repinned));
}
