//! A real `appliance serve` child process on a free loopback port, with a fresh state
//! directory, and partner identities for its tenants; and waiting, with a deadline, for
//! something it does to be seen.

#![allow(dead_code)] // each test binary uses a different subset

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tf_partner::{Identity, PartnerConfig};

/// One admin token per role: (token, the name the timeline records, role).
pub const ROLE_TOKENS: [(&str, &str, &str); 4] = [
    ("sre-token", "oncall", "sre"),
    ("author-token", "policy-team", "policy-author"),
    ("auditor-token", "audit", "auditor"),
    ("viewer-token", "dashboard", "viewer"),
];

/// Cedar policies without the one annotated `@id("<id>")`.
pub fn without_policy(policies: &str, id: &str) -> String {
    let start = policies
        .find(&format!("@id(\"{id}\")"))
        .expect("policy present");
    let end = policies[start + 5..]
        .find("@id(")
        .map_or(policies.len(), |i| start + 5 + i);
    format!("{}{}", &policies[..start], &policies[end..])
}

/// Configuration text: `base`, then an `[[admin.tokens]]` entry per (token, name, role).
pub fn with_admin_tokens(base: &str, tokens: &[(&str, &str, &str)]) -> String {
    use sha2::Digest;
    let mut text = base.to_owned();
    for (token, name, role) in tokens {
        text.push_str(&format!(
            "\n[[admin.tokens]]\nname = \"{name}\"\nroles = [\"{role}\"]\nsha256 = \"{}\"\n",
            hex::encode(sha2::Sha256::digest(token.as_bytes()))
        ));
    }
    text
}

/// A running appliance.
pub struct Server {
    child: Child,
    /// What `serve` runs under (empty: nothing): [`Server::start_on_small_disk`]'s mount
    /// namespace, or [`Server::start_again_under`]'s command.
    wrapper: Vec<String>,
    /// On a file system of its own, which ends with the process: it cannot restart.
    small_disk: bool,
    args: Vec<String>,
    env: Vec<(String, String)>,
    pub dir: tempfile::TempDir,
    pub state: PathBuf,
    pub address: SocketAddr,
}

impl Server {
    /// Starts the appliance with extra config text and extra tenants issued certificates
    /// (the config must list them under [[tenants]]). The canary is off unless the text has a
    /// `[canary]` table.
    pub fn start(config: &str, issue: &[&str], extra_args: &[&str]) -> Server {
        Self::start_with_env(config, issue, extra_args, &[])
    }

    /// [`Server::start`] with extra environment variables for `serve`.
    pub fn start_with_env(
        config: &str,
        issue: &[&str],
        extra_args: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        Self::start_on(config, issue, extra_args, env, None)
    }

    /// [`Server::start`] with the state directory on a file system of its own of `mib` MiB
    /// (a tmpfs in a mount namespace of the appliance's own, holding a copy of the initialised
    /// state): a disk the test can fill. `state` is then the directory as the appliance sees
    /// it (through `/proc/PID/root`), valid while it runs; it cannot be restarted.
    pub fn start_on_small_disk(config: &str, issue: &[&str], mib: u64) -> Server {
        Self::start_on(config, issue, &[], &[], Some(mib))
    }

    fn start_on(
        config: &str,
        issue: &[&str],
        extra_args: &[&str],
        env: &[(&str, &str)],
        disk_mib: Option<u64>,
    ) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = dir.path().join("state");
        let run = |args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_appliance"))
                .args(args)
                .output()
                .expect("appliance runs");
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let state_arg = state.to_str().expect("utf-8 temp path");
        run(&["init", "--state-dir", state_arg]);
        for tenant in issue {
            run(&["tenants", "issue", tenant, "--state-dir", state_arg]);
        }
        let config_path = dir.path().join("appliance.toml");
        // The golden canary's traffic would count in what other tests measure: it runs only
        // where a test configures it.
        let config = if config.contains("[canary]") {
            config.to_owned()
        } else {
            format!("{config}\n[canary]\nenabled = false\n")
        };
        std::fs::write(&config_path, config).expect("config written");
        let log = std::fs::File::create(dir.path().join("serve.log")).expect("log file");
        let mut args = vec![
            "serve".to_owned(),
            "--config".to_owned(),
            config_path.display().to_string(),
            "--state-dir".to_owned(),
            state_arg.to_owned(),
            "--listen".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--admin-listen".to_owned(),
            "127.0.0.1:0".to_owned(),
        ];
        args.extend(extra_args.iter().map(|a| (*a).to_owned()));
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let wrapper = match disk_mib {
            Some(mib) => small_disk(&state, mib),
            None => Vec::new(),
        };
        let child = spawn(&wrapper, &args, &env, log);
        let state = match disk_mib {
            Some(_) => Path::new("/proc")
                .join(child.id().to_string())
                .join("root")
                .join(state.strip_prefix("/").expect("absolute temp path")),
            None => state,
        };
        let mut server = Server {
            child,
            wrapper,
            small_disk: disk_mib.is_some(),
            args,
            env,
            dir,
            state,
            address: "127.0.0.1:1".parse().expect("literal"),
        };
        server.address = server.wait_listening();
        server
    }

    /// Stops the appliance with SIGTERM and starts it again on the same state directory.
    pub fn restart(&mut self) {
        let status = self.terminate();
        assert!(status.success(), "{}", self.log());
        self.start_again();
    }

    /// Kills the appliance with SIGKILL (no drain, no cleanup) and starts it again on the same
    /// state directory.
    pub fn kill_and_restart(&mut self) {
        self.kill();
        self.start_again();
    }

    /// Kills the appliance with SIGKILL (no drain, no cleanup); [`Server::start_again`] brings
    /// it back on the same state directory.
    pub fn kill(&mut self) {
        kill_and_reap(&mut self.child);
    }

    /// Runs `appliance serve` once more with these extra arguments, as started, and waits for
    /// it to exit (for a start that must be refused); its exit status and what it logged.
    pub fn serve_once(&self, extra: &[&str]) -> (ExitStatus, String) {
        let log = self.dir.path().join("serve-once.log");
        let file = std::fs::File::create(&log).expect("log file");
        let mut args = self.args.clone();
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let mut child = spawn(&self.wrapper, &args, &self.env, file);
        let read = || std::fs::read_to_string(&log).unwrap_or_default();
        let status = wait_child_exit(&mut child, read);
        (status, read())
    }

    /// Starts the appliance again on the same state directory with extra arguments once it
    /// has stopped.
    pub fn start_again_with(&mut self, extra: &[&str]) {
        let mut args = self.args.clone();
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let file = self.state.join("partner.toml");
        let _ = std::fs::remove_file(&file);
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.path().join("serve.log"))
            .expect("log file");
        assert!(
            !self.small_disk,
            "an appliance on a small disk cannot restart"
        );
        self.child = spawn(&self.wrapper, &args, &self.env, log);
        self.address = self.wait_listening();
    }

    /// Starts the appliance again on the same state directory once it has stopped (after
    /// [`Server::terminate`], with the state changed in between).
    pub fn start_again(&mut self) {
        self.start_again_with(&[]);
    }

    /// [`Server::start_again`] under a command that runs `serve` (for example `faketime`);
    /// empty: directly.
    pub fn start_again_under(&mut self, wrapper: &[&str]) {
        self.wrapper = wrapper.iter().map(|a| (*a).to_owned()).collect();
        self.start_again();
    }

    fn wait_listening(&mut self) -> SocketAddr {
        let deadline = Instant::now() + Duration::from_secs(60);
        let file = self.state.join("partner.toml");
        loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                let value: toml::Value = toml::from_str(&text).expect("partner.toml parses");
                return value["address"]
                    .as_str()
                    .expect("address")
                    .parse()
                    .expect("socket address");
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("appliance serve exited early ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "appliance serve did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Where the admin server listens (from its start-up log line).
    pub fn admin_address(&self) -> SocketAddr {
        let log = self.log();
        let line = log
            .lines()
            .rev()
            .find(|l| l.contains("admin server listening"))
            .unwrap_or_else(|| panic!("no admin address in the log:\n{log}"));
        let address = line.split("address=").nth(1).expect("address field");
        address
            .split_whitespace()
            .next()
            .expect("address value")
            .parse()
            .expect("socket address")
    }

    /// The connection settings of a tenant whose certificate is in the state directory.
    pub fn partner(&self, tenant: &str) -> PartnerConfig {
        let tenant_dir = self.state.join("tenants").join(tenant);
        PartnerConfig {
            address: self.address.into(),
            server_name: "localhost".into(),
            identity: Identity::from_files(
                &self.state.join("ca.pem"),
                &tenant_dir.join("client.pem"),
                &tenant_dir.join("client.key"),
            )
            .expect("identity"),
            receipt_public_key: None,
            request_timeout: Duration::from_secs(20),
        }
    }

    /// The demo tenant's settings exactly as the partner CLI finds them.
    pub fn demo_from_state_dir(&self) -> PartnerConfig {
        PartnerConfig::from_state_dir(&self.state).expect("partner.toml")
    }

    /// The appliance's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`TERM`, `HUP`, ...) to the appliance.
    pub fn signal(&self, name: &str) {
        send_signal(self.child.id(), name);
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit()
    }

    /// Waits (up to 30 s) for the process to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let log = self.dir.path().join("serve.log");
        wait_child_exit(&mut self.child, || {
            std::fs::read_to_string(&log).unwrap_or_default()
        })
    }

    /// What the appliance logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    /// Builds and signs the bundle in `source` as `revision` with the state directory's
    /// development author key (or `key`); returns the archive's path.
    pub fn build_bundle(
        &self,
        source: &Path,
        revision: u64,
        note: &str,
        key: Option<&Path>,
    ) -> PathBuf {
        let out = self.dir.path().join(format!("bundle-{revision}.tar.gz"));
        let mut build = Command::new(env!("CARGO_BIN_EXE_appliance"));
        build
            .args(["bundle", "build"])
            .arg(source)
            .args(["--revision", &revision.to_string()])
            .args(["--author", "policy team", "--note", note, "--out"])
            .arg(&out)
            .arg("--state-dir")
            .arg(&self.state);
        if let Some(key) = key {
            build.arg("--key").arg(key);
        }
        let run = build.output().expect("appliance runs");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        out
    }

    /// `appliance ctl ARGS` against this server's admin API with `token` (written to a file,
    /// as operators pass it): its exit code, stdout and stderr.
    pub fn ctl(&self, token: &str, args: &[&str]) -> (i32, String, String) {
        let admin = format!("http://{}", self.admin_address());
        let file = self.dir.path().join(format!("{token}.token"));
        std::fs::write(&file, format!("{token}\n")).expect("token file");
        let file = file.display().to_string();
        let mut all = vec!["ctl", "--admin", &admin, "--token-file", &file];
        all.extend_from_slice(args);
        run_appliance(&all)
    }

    pub fn state_path(&self, file: &str) -> PathBuf {
        self.state.join(file)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Moves the initialised `state` aside and returns the command that mounts a tmpfs of `mib`
/// MiB on it in a new mount namespace, copies the state in, and runs the appliance there.
fn small_disk(state: &Path, mib: u64) -> Vec<String> {
    let initialised = state.with_file_name("state-initialised");
    std::fs::rename(state, &initialised).expect("state moved aside");
    std::fs::create_dir(state).expect("mount point");
    let root = Command::new("id").arg("-u").output().expect("id runs");
    let mut wrapper = vec!["unshare".to_owned(), "--mount".to_owned()];
    if String::from_utf8_lossy(&root.stdout).trim() != "0" {
        // Without root, a user namespace of its own gives the right to mount.
        wrapper.push("--map-root-user".to_owned());
    }
    let script = format!(
        "mount -t tmpfs -o size={mib}m,mode=0700 tmpfs \"$1\" && cp -a \"$2\"/. \"$1\"/ && shift 2 && exec \"$@\""
    );
    wrapper.extend(
        ["--propagation", "private", "--", "sh", "-c", &script, "sh"]
            .iter()
            .map(|a| (*a).to_owned()),
    );
    wrapper.push(state.display().to_string());
    wrapper.push(initialised.display().to_string());
    wrapper
}

fn spawn(
    wrapper: &[String],
    args: &[String],
    env: &[(String, String)],
    log: std::fs::File,
) -> Child {
    let appliance = env!("CARGO_BIN_EXE_appliance");
    let mut command = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut command = Command::new(program);
            command.args(rest).arg(appliance);
            command
        }
        None => Command::new(appliance),
    };
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("appliance serve starts")
}

/// Runs the appliance binary once, without an admin address or token from the environment:
/// its exit code, stdout and stderr.
pub fn run_appliance(args: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_appliance"));
    command
        .env_remove("TF_ADMIN_URL")
        .env_remove("TF_ADMIN_TOKEN")
        .args(args);
    captured(&mut command)
}

/// Runs the partner CLI once in `dir`: its exit code, stdout and stderr.
pub fn run_partner_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    captured(Command::new(partner_binary()).current_dir(dir).args(args))
}

/// Runs `command` to its end: its exit code, stdout and stderr.
fn captured(command: &mut Command) -> (i32, String, String) {
    let out = command.output().expect("the command runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sends a signal (`TERM`, `HUP`, ...) to process `pid`.
pub fn send_signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits (up to 30 s) for `child` to exit; past that, panics with what it logged.
pub fn wait_child_exit(child: &mut Child, log: impl Fn() -> String) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "no exit after SIGTERM: {}",
            log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How often [`wait_for`] and [`wait_for_async`] look again.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Polls `done` until it holds; past `deadline`, panics naming `what` with `diagnostics` (the
/// server's log, as a rule). For a test with no tasks of its own running meanwhile: it blocks
/// its thread between looks.
pub fn wait_for(
    what: &str,
    deadline: Duration,
    mut done: impl FnMut() -> bool,
    diagnostics: impl Fn() -> String,
) {
    let until = Instant::now() + deadline;
    while !done() {
        assert!(
            Instant::now() < until,
            "waited {deadline:?} for {what}:\n{}",
            diagnostics()
        );
        std::thread::sleep(POLL_EVERY);
    }
}

/// [`wait_for`] in an async test, whose own tasks (load, partners' connections) keep running
/// between looks: polls `look` until it finds a value and returns it.
pub async fn wait_for_async<T, F>(
    what: &str,
    deadline: Duration,
    mut look: impl FnMut() -> F,
    diagnostics: impl Fn() -> String,
) -> T
where
    F: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(found) = look().await {
            return found;
        }
        assert!(
            Instant::now() < until,
            "waited {deadline:?} for {what}:\n{}",
            diagnostics()
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// SIGKILL (no drain, no cleanup), then reaps the process.
pub fn kill_and_reap(child: &mut Child) {
    child.kill().expect("SIGKILL delivered");
    child.wait().expect("reaped");
}

/// A loopback port free now (its listener is dropped at once, so another process can bind it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A fixture file's text.
pub fn fixture_text(curve: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/groth16")
        .join(curve)
        .join(name);
    std::fs::read_to_string(path).expect("fixture readable")
}

/// A plain HTTP/1.1 request over a fresh connection; returns the status code and the body.
pub fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let (status, _, body) = http_with_head(address, method, path, headers, body);
    (status, body)
}

/// [`http`], also returning the response's head (status line and headers).
pub fn http_with_head(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    http_from(None, address, method, path, headers, body)
}

/// [`http_with_head`] from loopback address `source` (any 127.0.0.0/8 address is this
/// machine), so that what the server counts per address starts afresh.
pub fn http_from(
    source: Option<std::net::Ipv4Addr>,
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut stream = match source {
        None => TcpStream::connect(address).expect("admin server accepts"),
        Some(source) => {
            let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                .expect("socket");
            let local = SocketAddr::from((source, 0));
            socket.bind(&local.into()).expect("bound to the source");
            socket
                .connect(&address.into())
                .expect("admin server accepts");
            socket.into()
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("request sent");
    stream.write_all(body).expect("body sent");
    let response = read_response(&mut stream).expect("response");
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").expect("headers end");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    (status, head.to_owned(), body.to_owned())
}

/// Reads an HTTP response until its body is complete by Content-Length (some servers keep the
/// connection open despite `Connection: close`), or until the server closes the connection.
pub fn read_response(stream: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut response = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if length.is_some_and(|length| response.len() >= end + 4 + length) {
                return Ok(response);
            }
        }
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            return Ok(response);
        }
        response.extend_from_slice(&chunk[..read]);
    }
}

/// Logs in to the console over HTTP with an admin token: the session cookie's `name=value`,
/// or the status and head (lowercase) when refused.
pub fn console_login(admin: SocketAddr, token: &str) -> Result<String, (u16, String)> {
    let (status, head, _) = http_with_head(
        admin,
        "POST",
        "/console/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("token={token}").as_bytes(),
    );
    if status != 303 {
        return Err((status, head.to_ascii_lowercase()));
    }
    Ok(head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("a session cookie: {head}"))
        .to_owned())
}

/// [`console_login`] that must succeed.
pub fn console_cookie(admin: SocketAddr, token: &str) -> String {
    console_login(admin, token).unwrap_or_else(|(status, head)| panic!("login: {status} {head}"))
}

/// A GET without headers.
pub fn get(address: SocketAddr, path: &str) -> (u16, String) {
    http(address, "GET", path, &[], b"")
}

/// The partner CLI, built beside the appliance (`tests/run` builds every binary first).
pub fn partner_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_appliance")).with_file_name("partner");
    assert!(
        path.exists(),
        "{} is missing: run the suite with tests/run, which builds the partner binary",
        path.display()
    );
    path
}

/// A valid BLS signature over `n` (keyed by `seed`), submitted for `purpose` and `class`: load
/// whose every request verifies and is charged.
pub fn signed(
    seed: u8,
    n: u64,
    purpose: &str,
    class: tf_partner::DatasetClass,
) -> tf_partner::Submission {
    let message = n.to_le_bytes().to_vec();
    let (signature, public_key) = tf_engine::bls::sign(&[seed; 32], &message).expect("signs");
    tf_partner::Submission {
        purpose: purpose.into(),
        dataset_class: class,
        statement: tf_partner::Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message,
            signature: signature.to_bytes(),
        },
    }
}

/// Panics unless the appliance was built with its `fault-injection` feature (tests/run
/// builds it so), which a test of a fault needs.
pub fn fault_build() {
    #[cfg(not(feature = "fault-injection"))]
    panic!(
        "this test needs the appliance built with --features fault-injection (tests/run builds \
         it so)"
    );
}
