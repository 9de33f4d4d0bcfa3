//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary folder and a server on a
//! free loopback port, run as the `postgres` user when the tests run as root (PostgreSQL
//! refuses root), stopped and deleted when dropped. Debian's `postgresql` package provides the
//! binaries (`tests/run` installs it when missing).

#![allow(dead_code)] // each test binary uses a different subset

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running cluster with an empty database `fleet` its user `fleet` may use.
pub struct Cluster {
    child: Child,
    port: u16,
    password: Option<String>,
    tls: bool,
    dir: tempfile::TempDir,
}

/// How a cluster is set up.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// The user's password, required of every connection (SCRAM); `None`: trusted.
    pub password: Option<&'static str>,
    /// Serve TLS with a certificate for `localhost` from a CA of its own (`ca.pem`).
    pub tls: bool,
}

impl Cluster {
    /// Starts one, trusting every local connection; panics, saying why, when it cannot.
    pub fn start() -> Cluster {
        Cluster::start_with(Options::default())
    }

    /// Starts one as `options` say.
    pub fn start_with(options: Options) -> Cluster {
        let bin = bin_dir();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let owner = owner();
        chown(dir.path(), owner);
        let data = dir.path().join("data");
        let mut initdb = as_owner(Command::new(bin.join("initdb")), owner);
        initdb
            .args(["-U", "fleet", "-E", "UTF8", "--no-sync", "-D"])
            .arg(&data);
        match options.password {
            None => initdb.args(["-A", "trust"]),
            Some(password) => {
                let file = dir.path().join("password");
                std::fs::write(&file, password).expect("the password file");
                chown(&file, owner);
                initdb.args(["-A", "scram-sha-256", "--pwfile"]).arg(file)
            }
        };
        let init = initdb.stdout(Stdio::null()).output().expect("initdb runs");
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        if options.tls {
            tls_files(dir.path(), owner);
        }
        let port = free_port();
        let cluster = Cluster {
            child: server(dir.path(), port, options.tls),
            port,
            password: options.password.map(str::to_owned),
            tls: options.tls,
            dir,
        };
        let mut admin = cluster.wait_for("postgres");
        admin
            .batch_execute("CREATE DATABASE fleet")
            .expect("the fleet database");
        cluster
    }

    /// Stops the server (a fast shutdown), keeping its data.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SIGINT: PostgreSQL's fast shutdown.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .stderr(Stdio::null())
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

    /// Starts the stopped server again on the same port and data; returns once it answers.
    pub fn start_again(&mut self) {
        self.child = server(self.dir.path(), self.port, self.tls);
        drop(self.wait_for("fleet"));
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The CA certificate (PEM) that issued its server certificate, with `tls`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A connection to database `fleet` (without TLS).
    pub fn client(&self) -> postgres::Client {
        self.connect("fleet").expect("connects")
    }

    /// A connection to database `fleet`, its schema migrated.
    pub fn migrated(&self) -> postgres::Client {
        let mut client = self.client();
        tf_fleet::migrate(&mut client).expect("migrates");
        client
    }

    fn connect(&self, database: &str) -> Result<postgres::Client, postgres::Error> {
        let url = format!("postgres://fleet@127.0.0.1:{}/{database}", self.port);
        let mut config: postgres::Config = url.parse().expect("a URL");
        if let Some(password) = &self.password {
            config.password(password);
        }
        config.connect(postgres::NoTls)
    }

    fn wait_for(&self, database: &str) -> postgres::Client {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.connect(database) {
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
        // The folder goes with the TempDir.
        self.stop();
    }
}

/// The server over `dir`'s data on `port` (with `tls`, the certificate `tls_files` wrote).
fn server(dir: &Path, port: u16, tls: bool) -> Child {
    let owner = owner();
    let mut postgres = as_owner(Command::new(bin_dir().join("postgres")), owner);
    postgres
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=50",
        ]);
    if tls {
        postgres
            .args(["-c", "ssl=on", "-c"])
            .arg(format!(
                "ssl_cert_file={}",
                dir.join("server.crt").display()
            ))
            .arg("-c")
            .arg(format!("ssl_key_file={}", dir.join("server.key").display()));
    }
    postgres
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("postgres starts")
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

/// A CA (`ca.pem`) and a server certificate for `localhost` it issued, with its key, in `dir`
/// for the server to read (its key readable by its owner alone, as PostgreSQL requires).
fn tls_files(dir: &Path, owner: Option<(u32, u32)>) -> (PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("a key");
    let mut ca_params = CertificateParams::new(Vec::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("the CA");
    let server_key = KeyPair::generate().expect("a key");
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&server_key, &ca, &ca_key)
        .expect("the server's certificate");
    let (certificate, key) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("ca.pem");
    std::fs::write(&certificate, server.pem()).expect("server.crt");
    std::fs::write(&key, server_key.serialize_pem()).expect("server.key");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    for file in [&certificate, &key] {
        chown(file, owner);
    }
    (certificate, key)
}

fn chown(path: &Path, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
    }
}
