//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary folder and a server on a
//! free loopback port, run as the `postgres` user when the tests run as root (PostgreSQL
//! refuses root), stopped and deleted when dropped. Debian's `postgresql` package provides the
//! binaries (`tests/run` installs it when missing).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running cluster with an empty database `fleet` its user `fleet` may use.
pub struct Cluster {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts one; panics, saying why, when it cannot.
    pub fn start() -> Cluster {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let owner = owner();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown");
        }
        let data = dir.path().join("data");
        let init = as_owner(Command::new(bin.join("initdb")), owner)
            .args([
                "-A",
                "trust",
                "-U",
                "fleet",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .stdout(Stdio::null())
            .output()
            .expect("initdb runs");
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = free_port();
        let child = as_owner(Command::new(bin.join("postgres")), owner)
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(dir.path())
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=50",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        let cluster = Cluster {
            child,
            port,
            _dir: dir,
        };
        let mut admin = cluster.wait_for("postgres");
        admin
            .batch_execute("CREATE DATABASE fleet")
            .expect("the fleet database");
        cluster
    }

    /// The URL of database `fleet`, as `[fleet] postgres` takes it.
    pub fn url(&self) -> String {
        format!("postgres://fleet@127.0.0.1:{}/fleet", self.port)
    }

    /// A connection to database `fleet`.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls).expect("connects")
    }

    /// A connection to database `fleet`, its schema migrated.
    pub fn migrated(&self) -> postgres::Client {
        let mut client = self.client();
        tf_fleet::migrate(&mut client).expect("migrates");
        client
    }

    fn wait_for(&self, database: &str) -> postgres::Client {
        let url = format!("postgres://fleet@127.0.0.1:{}/{database}", self.port);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match postgres::Client::connect(&url, postgres::NoTls) {
                Ok(client) => return client,
                Err(error) if Instant::now() > deadline => {
                    panic!("PostgreSQL did not accept connections within 30 s: {error}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGINT: PostgreSQL's fast shutdown; the folder goes with the TempDir.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The newest installed PostgreSQL's binaries.
fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "no PostgreSQL in /usr/lib/postgresql: install Debian's postgresql package \
             (tests/run does)"
        )
    })
}

/// The `postgres` user's ids when running as root, else `None` (run as ourselves).
fn owner() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?;
    if uid != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    let line = passwd
        .lines()
        .find(|line| line.starts_with("postgres:"))
        .expect("a postgres user (Debian's postgresql package makes it)");
    let fields: Vec<&str> = line.split(':').collect();
    Some((
        fields[2].parse().expect("uid"),
        fields[3].parse().expect("gid"),
    ))
}

fn as_owner(mut command: Command, owner: Option<(u32, u32)>) -> Command {
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid).env("HOME", "/tmp");
    }
    command.current_dir(Path::new("/"));
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}
