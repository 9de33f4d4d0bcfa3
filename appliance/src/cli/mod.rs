//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod admin_args;
mod fleet;
pub mod terms_ctl;
pub mod webhooks;
pub mod webhooks_ctl;

pub use admin_args::AdminArgs;
pub use fleet::FleetWhat;

/// Trust Fabric verification appliance.
#[derive(Debug, Parser)]
#[command(name = "appliance", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the appliance: QUIC on 127.0.0.1:4433, one shard per allowed CPU, state in
    /// ./appliance-state (created on first start). A config file overrides any default; flags
    /// override the file. SIGTERM or Ctrl-C drains and exits 0.
    Serve(ServeArgs),
    /// Verify a proof or signature offline, without a server.
    ///
    /// Exit code 0 = valid, 1 = invalid, 2 = rejected input (malformed, wrong curve, wrong input
    /// count, unreadable file), with one line on stderr saying why.
    Verify(VerifyArgs),
    /// Create the state directory (development CA, server and demo tenant certificates, receipt
    /// key) if it does not exist yet; an existing one is kept as it is.
    Init(StateArgs),
    /// Check a receipt (a DSSE JSON envelope) offline. Exit 0 = genuine, 1 = altered or not
    /// signed by this key, 2 = unreadable input.
    Receipt {
        /// What to do with the receipt.
        #[command(subcommand)]
        what: ReceiptWhat,
    },
    /// Tenants' client certificates.
    Tenants {
        /// What to do.
        #[command(subcommand)]
        what: TenantsWhat,
    },
    /// Evidence bundles: a tenant's receipts and budget statements over a period, with a
    /// signed manifest, for auditors.
    Evidence {
        /// What to do.
        #[command(subcommand)]
        what: EvidenceWhat,
    },
    /// Check this host before running the appliance on it: kernel and io_uring, locked
    /// memory, cores, UDP buffers, clock sync, state directory, QUIC port, CPU features. Prints
    /// PASS / WARN / FAIL with the fix for each; exit 0 when nothing failed, 1 on a FAIL, 78
    /// when the configuration does not load. `serve` runs the same checks and refuses to
    /// start on a FAIL.
    Preflight(PreflightArgs),
    /// The configuration file.
    Config {
        /// What to do.
        #[command(subcommand)]
        what: ConfigWhat,
    },
    /// Host tuning for a verification host.
    Tune(TuneArgs),
    /// The admin API from the command line: status, timeline, validate, promote, rollback,
    /// diff, receipts, webhooks; and new admin tokens. Text for people, `--json` for scripts.
    /// Exit 0 done, 1 failed (refused, not allowed, unreachable), 2 bad usage; `ctl drift`
    /// exits as `bundle drift` does (1 blocked, 2 no judgement).
    Ctl(CtlArgs),
    /// Policy bundles: build and sign, verify, compare.
    Bundle {
        /// What to do.
        #[command(subcommand)]
        what: BundleWhat,
    },
    /// The appliance's receipt key.
    Keys {
        /// What to do with the keys.
        #[command(subcommand)]
        what: KeysWhat,
    },
    /// The transparency log of receipts, read as any C2SP tlog-tiles client reads it: the
    /// signed checkpoint, inclusion and consistency proofs, and a monitor for auditors. Exit 0
    /// verified, 1 a proof or signature that does not verify (or a forked log), 2 unusable
    /// arguments or an unreachable log.
    Log(LogArgs),
    /// Compliance snapshots: list them and ask for one through the admin API, and verify a
    /// packet offline. Exit 0 done (or verified), 1 failed (refused, not allowed, unreachable,
    /// not made in time, or a packet that does not verify, each problem named with its file),
    /// 2 bad usage.
    Compliance(ComplianceArgs),
    /// Auditor webhooks: `receive` is a reference receiver that checks and records them.
    Webhooks(webhooks::WebhooksArgs),
    /// The decision log (every admission decision, for `appliance bundle drift`): what it
    /// holds, and signed samples of it for a drift guard that cannot reach the appliance.
    /// Exit 0 done, 2 bad usage or an unreadable log.
    Decisions {
        /// What to do.
        #[command(subcommand)]
        what: DecisionsWhat,
    },
    /// Fleet mode (several appliances sharing one PostgreSQL, `[fleet]`): what the fleet's
    /// database shows of its appliances and budget pools. Exit 0 shown, 1 the database
    /// unreachable or refusing (its error named), 2 bad usage: a configuration that does not
    /// load, has no `[fleet]`, or names a password or CA file that cannot be read.
    Fleet {
        /// What to do.
        #[command(subcommand)]
        what: FleetWhat,
    },
    /// What-if scenario packs (a change to the bundle in force, recorded or synthetic
    /// traffic, expectations) run against the decision log. Exit 0 every pack passed, 1 one
    /// failed, 2 bad usage or an unusable pack.
    Scenarios {
        /// What to do.
        #[command(subcommand)]
        what: ScenariosWhat,
    },
    /// The golden canary's known-answer set: build it signed with this appliance's receipt
    /// key, or show what a set holds. Exit 0 done, 2 bad usage or a set that does not open.
    Canary {
        /// What to do.
        #[command(subcommand)]
        what: CanaryWhat,
    },
    /// Back up the state directory while the appliance serves: every file (keys,
    /// certificates, the transparency log, compliance packets kept there), then each SQLite
    /// database as of one commit (the ledger, with receipts, charges and every bundle, last),
    /// with MANIFEST.json naming each file's size and SHA-256. Exit 0 done, 1 failed, 2 bad
    /// usage.
    Backup(BackupArgs),
    /// Restore a backup into a new state directory, after checking every file against its
    /// manifest; a directory holding anything is refused (a restore never overwrites state).
    /// Exit 0 done, 1 a backup that does not verify or a target not empty, 2 bad usage.
    Restore(RestoreArgs),
    /// Print a completion script for a shell: bash, zsh, fish, elvish or powershell. For
    /// example `appliance completions bash > /etc/bash_completion.d/appliance`, or for zsh
    /// into a folder on `$fpath` as `_appliance`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `appliance compliance`.
#[derive(Debug, Args)]
pub struct ComplianceArgs {
    /// Where the admin API is and the token to use (listing needs the auditor or sre role,
    /// asking the sre role); for `verify`, the state directory holds the receipt key and log
    /// key.
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Print the admin API's reply as JSON instead of text (`list`, `snapshot`).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub what: ComplianceWhat,
}

/// `appliance compliance` commands.
#[derive(Debug, Subcommand)]
pub enum ComplianceWhat {
    /// Every snapshot the appliance keeps: period, receipts, charges, size and status
    /// (damaged, not-anchored, receipts-held, or receipts-pruned: the packet is their only
    /// copy), and what the snapshot worker is doing.
    List,
    /// Ask for a snapshot sealing everything decided up to now, and wait until it is made.
    Snapshot {
        /// Return once asked, without waiting for the packet.
        #[arg(long)]
        no_wait: bool,
        /// How long to wait for the packet, seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        timeout: u64,
    },
    /// Check a packet (a snapshot's folder, as the archive unpacks) offline: the index's
    /// signature, every file's digest, every receipt genuine, of its tenant, in the period and
    /// in the log under the packet's signed checkpoint, the budget statements adding up, and
    /// the consistency proof.
    Verify {
        /// The packet's folder (`snapshot-...`).
        dir: PathBuf,
        /// The packet before it: also check that DIR follows it (its consistency proof starts
        /// from the previous checkpoint and its index names the previous index).
        #[arg(long, value_name = "DIR")]
        previous: Option<PathBuf>,
        /// The appliance's public key (64 hex digits, from `appliance keys show`); default:
        /// the state directory's.
        #[arg(long = "public-key", visible_alias = "key", value_name = "HEX")]
        public_key: Option<String>,
        /// The log's verifier key (`<origin>+<key id>+<key>`, in partner.toml); default: the
        /// state directory's log/vkey if there is one, else the key the packet names (which
        /// then proves only that the packet is self-consistent).
        #[arg(long, value_name = "VKEY")]
        log_key: Option<String>,
    },
}

/// `appliance log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Where the log is: the admin server (http://HOST:PORT or https://HOST:PORT, its
    /// /checkpoint and /tile/ paths) or a mirrored log directory.
    #[arg(
        long,
        global = true,
        value_name = "URL|DIR",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// For https: the CA (PEM) the admin server's certificate must chain to (default: the
    /// state directory's ca.pem).
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The log's verifier key (`<origin>+<key id>+<key>`, printed by `appliance log
    /// checkpoint` and in partner.toml). Default: the state directory's log/vkey.
    #[arg(long, global = true, value_name = "VKEY")]
    pub vkey: Option<String>,
    /// The state directory, for its CA and log key.
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub what: LogWhat,
}

/// `appliance log` commands.
#[derive(Debug, Subcommand)]
pub enum LogWhat {
    /// Fetch the latest checkpoint, check its signature, and print it.
    Checkpoint,
    /// Prove that the receipt with ledger sequence number SEQ is in the log: fetch the
    /// checkpoint and the tiles, compute the inclusion proof, check it, and print it as JSON
    /// (or write it with --out, for `receipt verify --proof`).
    Prove {
        /// The receipt's ledger sequence number (its index in the log).
        seq: u64,
        /// Write the proof here, and the checkpoint beside it (FILE.checkpoint).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Prove that the log at size NEW extends the log at size OLD (a consistency proof),
    /// check it, and print it as JSON.
    Consistency {
        /// The older tree size.
        old: u64,
        /// The newer tree size (at most the latest checkpoint's).
        new: u64,
    },
    /// Follow the log's checkpoints: check each one's signature and its consistency with the
    /// last one verified (kept in --state), forever or once. Exits 1 with the two
    /// conflicting checkpoints if the log ever forks or goes back.
    Monitor {
        /// Where the monitor keeps the last verified checkpoint and the pinned log key.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// Seconds between checks.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        interval: u64,
        /// Check once and exit.
        #[arg(long)]
        once: bool,
    },
}

/// `appliance serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A TOML configuration file (see `docs/`); embedded defaults otherwise.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The state directory (default: the config's, else $STATE_DIRECTORY, else
    /// ./appliance-state).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// QUIC listen address, overriding the config (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Shards, overriding the config (0 = one per allowed CPU).
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// Admin server (metrics) listen address, overriding the config (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub admin_listen: Option<std::net::SocketAddr>,
    /// Log level (error, warn, info, debug or trace), overriding the config's logging.level.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<tracing::Level>,
    /// Load the configuration, run the preflight checks, print the result and exit without
    /// serving (0 = would start, 1 = would refuse, 78 = the configuration does not load).
    #[arg(long)]
    pub check_config: bool,
    /// Start an empty ledger in a state directory that served before and lost its
    /// `ledger.sqlite` (budgets start from zero, receipts from 1). Without it such a start is
    /// refused: restore the ledger from a backup instead whenever one exists.
    #[arg(long)]
    pub new_ledger: bool,
}

/// `appliance preflight`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The configuration the appliance will run with (embedded defaults otherwise).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The state directory (default: the config's, else $STATE_DIRECTORY, else
    /// ./appliance-state).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Print JSON: one object per check.
    #[arg(long)]
    pub json: bool,
}

/// `appliance config`.
#[derive(Debug, Subcommand)]
pub enum ConfigWhat {
    /// Print the default configuration: every key with its default value and what it means.
    Default,
    /// Check a configuration file: exit 0 if valid, 78 (EX_CONFIG, as `serve` exits on it) with
    /// the file, key and what is allowed.
    Check {
        /// The file.
        file: PathBuf,
    },
}

/// `appliance tune`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Write the tuning profile into this folder: a sysctl.d file, a systemd drop-in and notes
    /// on firmware settings, each line explained.
    #[arg(long, value_name = "DIR")]
    pub emit: PathBuf,
    /// The configuration the appliance will run with (sizes the locked-memory limit).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Where the state directory is.
#[derive(Debug, Args)]
pub struct StateArgs {
    /// The state directory (default: $STATE_DIRECTORY, else ./appliance-state).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// `appliance backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The state directory to back up.
    #[command(flatten)]
    pub state: StateArgs,
    /// Where to write the backup: a new or empty directory (made owner-only).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `appliance restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup: a directory `appliance backup` wrote.
    pub backup: PathBuf,
    /// Where to restore it: a new or empty state directory.
    #[command(flatten)]
    pub state: StateArgs,
    /// Only check the backup against its manifest; write nothing.
    #[arg(long)]
    pub check: bool,
}

/// `appliance receipt`.
#[derive(Debug, Subcommand)]
pub enum ReceiptWhat {
    /// Verify a receipt's signature and print what it says.
    Verify {
        /// The receipt file (DSSE JSON envelope).
        file: PathBuf,
        /// The appliance's public key (64 hex digits, from `appliance keys show`); without it,
        /// the key in the state directory is used.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
        /// Also check that the receipt is in the transparency log: a signed checkpoint (from
        /// `appliance log prove --out` or `partner receipt prove`), with --proof.
        #[arg(long, value_name = "FILE", requires = "proof")]
        checkpoint: Option<PathBuf>,
        /// The inclusion proof for the receipt under --checkpoint.
        #[arg(long, value_name = "FILE", requires = "checkpoint")]
        proof: Option<PathBuf>,
        /// The log's verifier key for --checkpoint (default: the state directory's log/vkey).
        #[arg(long, value_name = "VKEY")]
        log_key: Option<String>,
        /// Where the state directory is (when no public key is given).
        #[command(flatten)]
        state: StateArgs,
    },
}

/// `appliance tenants`.
#[derive(Debug, Subcommand)]
pub enum TenantsWhat {
    /// Issue a client certificate for a tenant with the development CA (written to
    /// tenants/<ID>/client.pem and client.key in the state directory). The tenant must also
    /// be listed in the config's [[tenants]] to connect.
    Issue {
        /// The tenant id: 1 to 64 characters of a-z, 0-9, - and _.
        id: String,
        /// Where the state directory is.
        #[command(flatten)]
        state: StateArgs,
    },
}

/// `appliance keys`.
#[derive(Debug, Subcommand)]
pub enum KeysWhat {
    /// Print the public key that verifies this appliance's receipts, and its key id.
    Show {
        /// Where the state directory is.
        #[command(flatten)]
        state: StateArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `appliance verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Print `{"verdict": ..., "reason": ...}` on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// A configuration file whose `[verify]` limits apply (defaults otherwise).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to verify.
    #[command(subcommand)]
    pub what: VerifyWhat,
}

/// What `verify` checks.
#[derive(Debug, Subcommand)]
pub enum VerifyWhat {
    /// A Groth16 proof: snarkjs JSON files (verification_key.json, proof.json, public.json) or
    /// arkworks canonical compressed binary files, detected per file.
    Groth16(Groth16Args),
    /// A BLS signature (Ethereum ciphersuite, compressed keys and signatures in hex). One key and
    /// one message: verify. Several keys and one message: fast aggregate verify. Several keys and
    /// as many messages: aggregate verify.
    Bls(BlsArgs),
}

/// `appliance verify groth16`.
#[derive(Debug, Args)]
pub struct Groth16Args {
    /// Verifying key: snarkjs verification_key.json or arkworks compressed bytes.
    #[arg(long, value_name = "FILE")]
    pub vk: PathBuf,
    /// Proof: snarkjs proof.json or arkworks compressed bytes.
    #[arg(long, value_name = "FILE")]
    pub proof: PathBuf,
    /// Public inputs: snarkjs public.json or arkworks canonical Vec of scalars.
    #[arg(long, value_name = "FILE")]
    pub public: PathBuf,
    /// How to read the files; `auto` looks at each file's first byte (JSON or binary).
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// The curve, for binary files where it cannot be told from the proof's length.
    #[arg(long, value_name = "CURVE")]
    pub curve: Option<String>,
}

/// Input file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Detect per file.
    Auto,
    /// snarkjs JSON.
    Snarkjs,
    /// arkworks canonical compressed bytes.
    Arkworks,
}

/// `appliance verify bls`.
#[derive(Debug, Args)]
pub struct BlsArgs {
    /// Compressed public key, 48 bytes hex; repeat for an aggregate.
    #[arg(long = "pubkey", value_name = "HEX", required = true)]
    pub pubkeys: Vec<String>,
    /// Message hex; repeat (once per key) for an aggregate over distinct messages.
    #[arg(long = "message", value_name = "HEX", required = true)]
    pub messages: Vec<String>,
    /// Compressed signature, 96 bytes hex.
    #[arg(long, value_name = "HEX")]
    pub signature: String,
}

/// `appliance evidence` subcommands.
#[derive(Debug, Subcommand)]
pub enum EvidenceWhat {
    /// Write a tenant's receipts decided in [--from, --to) (the last 24 hours by default), its
    /// budget statements per purpose and class, and a manifest with every file's SHA-256
    /// signed by the appliance key. Reads the ledger read-only, so it works while the
    /// appliance runs. Exit 0 written, 1 failed, 2 bad usage (a time that does not parse, a
    /// tenant the ledger has never seen, a folder that is not empty).
    Export {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Start of the period (inclusive): a span before now (`7d`, `24h`), `today`,
        /// `yesterday`, RFC 3339 with `Z` or an offset, a zoned time
        /// (`2026-11-24T10:00[Europe/Paris]`), a date (UTC), or Unix seconds.
        /// Default: 24 hours before the end.
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// End of the period (exclusive), in the same forms. Default: now.
        #[arg(long, value_name = "TIME")]
        to: Option<String>,
        /// A new (or empty) folder to write the bundle into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Check a bundle offline: the manifest's signature, every file's SHA-256, no file
    /// missing or added, every receipt genuine and in the period, the statements adding up.
    /// Exit 0 = intact, 1 = altered (each problem named), 2 = unusable input.
    Verify {
        /// The bundle's folder.
        dir: PathBuf,
        /// The appliance's public key (64 hex digits, from `appliance keys show`); default:
        /// the state directory's.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
        #[command(flatten)]
        state: StateArgs,
    },
}

/// `appliance bundle`.
#[derive(Debug, Subcommand)]
pub enum BundleWhat {
    /// Make an author key: writes the secret (owner-only) and prints the public key to list
    /// in `[bundles] trusted_authors`.
    Keygen {
        /// Where to write the secret key (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Sign a bundle directory (tenants.toml, budgets.toml, policies.cedar, keys/) into a
    /// gzipped tar, after checking everything promotion checks except the active revision.
    /// Exit 0 built, 1 refused (every problem listed), 2 unusable arguments.
    Build(BundleBuildArgs),
    /// Check a bundle (file or directory): signature by a trusted author, every file's hash,
    /// tenants, budgets, Cedar policies against the schema, keys. Exit 0 valid, 1 refused, 2
    /// unusable arguments.
    Verify {
        /// The bundle.
        file: PathBuf,
        /// A trusted author public key (64 hex digits, or a file holding them); repeat for
        /// several. Default: the configuration's `[bundles] trusted_authors`, else the state
        /// directory's development author key.
        #[arg(long, value_name = "KEY")]
        trust: Vec<String>,
        /// The appliance configuration to take trusted authors from.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Where the state directory is.
        #[command(flatten)]
        state: StateArgs,
    },
    /// What changes from OLD to NEW: tenants, budgets, policies, keys. Signatures are not
    /// checked (file hashes are).
    Diff {
        /// The older bundle.
        old: PathBuf,
        /// The newer bundle.
        new: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the Cedar schema (entities, actions, context) bundle policies are checked against.
    Schema,
    /// Replay recorded decisions under CANDIDATE and the bundle in force (or --against REV),
    /// and report every decision whose answer would change: allowed to denied, denied to
    /// allowed, over budget earlier or later, quota changes, grouped by tenant, purpose, class
    /// and the rule that decided, with an upper confidence bound on the drift rate. Exit 0
    /// within --tolerance, 1 over it (the change must not merge as it is), 2 bad input or too
    /// few decisions to judge.
    Drift(DriftArgs),
}

/// `appliance decisions` commands.
#[derive(Debug, Subcommand)]
pub enum DecisionsWhat {
    /// How many decisions the log holds, over which period, in how many bytes.
    Show {
        /// The appliance configuration (for the state directory).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Where the state directory is.
        #[command(flatten)]
        state: StateArgs,
    },
    /// Write a signed sample of the log (a gzipped tar): the window's decisions and those
    /// before it that budgets need, the bundle in force, the keys tenants registered, and a
    /// manifest signed with the receipt key. `appliance bundle drift --sample` reads it.
    Export {
        /// How far back: a whole number and m, h or d.
        #[arg(long, default_value = "7d", value_name = "SPAN")]
        window: String,
        /// The file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The appliance configuration (for the state directory).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Where the state directory is.
        #[command(flatten)]
        state: StateArgs,
    },
}

/// `appliance canary` commands.
#[derive(Debug, Subcommand)]
pub enum CanaryWhat {
    /// The golden set: known-answer requests and their expected verdicts.
    Golden {
        /// What to do.
        #[command(subcommand)]
        what: GoldenWhat,
    },
}

/// `appliance canary golden` commands.
#[derive(Debug, Subcommand)]
pub enum GoldenWhat {
    /// Build the golden set from the built-in fixtures (BLS single, aggregate and
    /// fast-aggregate, Groth16 on both curves; valid, invalid and malformed), signed with the
    /// state directory's receipt key.
    Build {
        /// Where to write it (never overwritten).
        #[arg(long, value_name = "FILE", default_value = "golden.dsse.json")]
        out: PathBuf,
        /// The purpose its requests are sent under.
        #[arg(long, default_value = "canary")]
        purpose: String,
        /// The appliance configuration (for the state directory).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Where the state directory is.
        #[command(flatten)]
        state: StateArgs,
    },
    /// Check a golden set's signature with the state directory's receipt key and list its
    /// requests.
    Show {
        /// The golden set.
        file: PathBuf,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
        /// The appliance configuration (for the state directory).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Where the state directory is.
        #[command(flatten)]
        state: StateArgs,
    },
}

/// `appliance scenarios` commands.
#[derive(Debug, Subcommand)]
pub enum ScenariosWhat {
    /// Run packs now (docs/examples/scenarios holds five): each pack's change against the
    /// bundle in force, over its traffic, with its expectations judged.
    Run {
        /// The pack files.
        #[arg(required = true)]
        packs: Vec<PathBuf>,
        /// How to print the results (markdown prints as text).
        #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
        format: DriftFormat,
        /// The appliance configuration (for the state directory).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Where the state directory is.
        #[command(flatten)]
        state: StateArgs,
    },
    /// The scheduler's results: each pack's latest run, passed or failed, with its drift
    /// against the night before and the median of the seven before (kept 90 days).
    Results {
        /// Print every run kept, as JSON.
        #[arg(long)]
        json: bool,
        /// The appliance configuration (for the state directory).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Where the state directory is.
        #[command(flatten)]
        state: StateArgs,
    },
}

/// `appliance bundle drift`.
#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// The candidate bundle (a gzipped tar or a directory; its signature is not checked).
    pub candidate: PathBuf,
    /// How far back to replay: a whole number and m, h or d.
    #[arg(long, default_value = "7d", value_name = "SPAN")]
    pub window: String,
    /// The stored revision to compare against (default: the revision in force).
    #[arg(long, value_name = "REV", conflicts_with = "sample")]
    pub against: Option<u64>,
    /// Judge against a sample from `appliance decisions export` instead of the state
    /// directory's log: its window and the bundle in force when it was taken.
    #[arg(long, value_name = "FILE")]
    pub sample: Option<PathBuf>,
    /// The appliance's public key (64 hex digits, from `appliance keys show`) the sample must
    /// be signed by; without it, the sample is checked against the key it names itself.
    #[arg(long = "public-key", value_name = "HEX", requires = "sample")]
    pub public_key: Option<String>,
    /// The largest upper bound on the drift rate that passes, percent of decisions.
    #[arg(long, default_value = "0.5", value_name = "PERCENT")]
    pub tolerance: String,
    #[command(flatten)]
    pub approval: OverrideArgs,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
    pub format: DriftFormat,
    /// The appliance configuration (for the state directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the state directory is.
    #[command(flatten)]
    pub state: StateArgs,
}

/// `appliance ctl canary` commands.
#[derive(Debug, Subcommand)]
pub enum CanaryCtl {
    /// The latest run with each comparator's judgement, the recent runs' verdicts and the
    /// windows judged.
    Status,
    /// Run the canary now and print the result; exit 1 when the canary fails.
    Run,
    /// Silence comparators (and golden set items) for a while: what a silence covers shows
    /// as silenced and raises no alarm until it expires.
    Silence {
        /// A comparator to silence: verdict, receipt, latency or error-rate; repeat for
        /// several.
        #[arg(long = "comparator", value_name = "NAME", required = true)]
        comparators: Vec<String>,
        /// For verdict and receipt only: a golden set item (its label) to silence; repeat for
        /// several (default: every item).
        #[arg(long = "item", value_name = "LABEL")]
        items: Vec<String>,
        /// How long: a whole number and s, m, h or d, at most 7d.
        #[arg(long = "for", value_name = "SPAN")]
        duration: String,
        /// Why (kept in the canary's timeline with your token's name).
        #[arg(long)]
        reason: String,
    },
    /// The silences that apply and those that ended within a day, and the canary's timeline.
    Silences,
    /// Lift a silence before it expires.
    Lift {
        /// The silence's number.
        id: u64,
    },
    /// Accept the appliance as it is now as the canary's new normal (after a deliberate
    /// change of host or load): its baseline starts again from the current window.
    Rebaseline {
        /// Why (kept in the canary's timeline with your token's name).
        #[arg(long)]
        reason: String,
    },
}

/// An approver letting through a change the drift guard does not pass.
#[derive(Debug, Args)]
pub struct OverrideArgs {
    /// Let the change go ahead although the guard does not pass it, in this approver's name
    /// (kept in the report, and in the timeline when the bundle is promoted); needs --reason.
    #[arg(long = "override-by", value_name = "NAME", requires = "reason")]
    pub override_by: Option<String>,
    /// Why the approver lets it go ahead; needs --override-by.
    #[arg(long, value_name = "TEXT", requires = "override_by")]
    pub reason: Option<String>,
}

impl OverrideArgs {
    /// The override asked for, checked; `None` when none was.
    pub fn approval(&self) -> Result<Option<tf_drift::Override>, String> {
        match (&self.override_by, &self.reason) {
            (Some(by), Some(reason)) => tf_drift::Override::new(by, reason)
                .map(Some)
                .map_err(|e| format!("--override-by/--reason: {e}")),
            _ => Ok(None),
        }
    }
}

/// How `appliance bundle drift` prints its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DriftFormat {
    /// A summary for a terminal.
    Text,
    /// A comment for a pull request.
    Markdown,
    /// The whole report, for tools.
    Json,
}

/// `appliance bundle build`.
#[derive(Debug, Args)]
pub struct BundleBuildArgs {
    /// The bundle directory.
    pub dir: PathBuf,
    /// The author's secret key file (`appliance bundle keygen`); default: the state
    /// directory's development author key.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The revision: above the active one, at most 9007199254740991 (2^53 - 1).
    #[arg(long)]
    pub revision: u64,
    /// Who makes the change.
    #[arg(long)]
    pub author: String,
    /// Why.
    #[arg(long)]
    pub note: String,
    /// A link to the ticket or review; repeat for several.
    #[arg(long, value_name = "URL")]
    pub ticket: Vec<String>,
    /// Where to write the archive (default: bundle-<revision>.tar.gz).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Where the state directory is (for the development author key).
    #[command(flatten)]
    pub state: StateArgs,
}

/// `appliance ctl`.
#[derive(Debug, Args)]
pub struct CtlArgs {
    /// Where the admin API is and the token to use.
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Print the admin API's reply as JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub what: CtlWhat,
}

/// `appliance ctl` commands.
#[derive(Debug, Subcommand)]
pub enum CtlWhat {
    /// The bundle in force, the rollback target and each shard's revision.
    Status,
    /// Every promotion and rollback: when, who, why, from, to, links.
    Timeline,
    /// The nightly scenario packs: each one's latest run, its drift bound against last night
    /// and the week's median, and what failed.
    Scenarios,
    /// The golden canary: its latest verdicts, or a run now.
    Canary {
        /// What to do.
        #[command(subcommand)]
        what: CanaryCtl,
    },
    /// Check a bundle as a promotion would, without promoting it.
    Validate {
        /// The bundle (a gzipped tar from `appliance bundle build`).
        file: PathBuf,
        /// Accept caps below what tenants already spent in the current window.
        #[arg(long)]
        allow_cap_below_spent: bool,
        /// Accept a bundle without the terms files of partners in the bundle in force (their
        /// tenants are dropped).
        #[arg(long)]
        allow_partners_dropped: bool,
    },
    /// Put a bundle in force on every shard.
    Promote {
        /// The bundle (a gzipped tar from `appliance bundle build`).
        file: PathBuf,
        /// Accept caps below what tenants already spent in the current window.
        #[arg(long)]
        allow_cap_below_spent: bool,
        /// Drop the partners of the bundle in force whose terms files this bundle lacks, on
        /// purpose: their tenants lose service.
        #[arg(long)]
        allow_partners_dropped: bool,
        /// An approver letting the bundle through although the drift guard did not pass it.
        #[command(flatten)]
        approval: OverrideArgs,
    },
    /// Replay the appliance's recent recorded decisions under a bundle and the one in force:
    /// what would flip, for whom. Exit 0 within the tolerance (or overridden), 1 over it
    /// (blocked), 2 no judgement: bad input, too few decisions to judge, or the appliance
    /// unreachable, busy with another judgement or refusing the call.
    Drift {
        /// The candidate bundle (a gzipped tar from `appliance bundle build`).
        file: PathBuf,
        /// How far back to replay: a whole number and m, h or d.
        #[arg(long, default_value = "7d", value_name = "SPAN")]
        window: String,
        /// The stored revision to compare against (default: the revision in force).
        #[arg(long, value_name = "REV")]
        against: Option<u64>,
        /// The largest upper bound on the drift rate that passes, percent of decisions.
        #[arg(long, default_value_t = 0.5, value_name = "PERCENT")]
        tolerance: f64,
        /// An approver letting the bundle through although it does not pass.
        #[command(flatten)]
        approval: OverrideArgs,
        /// How to print the report (--json prints the whole reply).
        #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
        format: DriftFormat,
    },
    /// Republish an earlier revision's content as a new revision.
    Rollback {
        /// Why (kept in the timeline).
        #[arg(long)]
        reason: String,
        /// The revision to go back to (default: the one before the bundle in force).
        #[arg(long)]
        to: Option<u64>,
        /// Go back even past partners' onboarding: those partners are dropped (refused
        /// otherwise, naming them).
        #[arg(long)]
        allow_partners_dropped: bool,
    },
    /// What changes from one stored revision to another.
    Diff {
        /// The newer revision.
        revision: u64,
        /// The older one (default: the revision in force).
        #[arg(long)]
        against: Option<u64>,
    },
    /// A receipt by ledger sequence number.
    Receipt {
        /// The sequence number.
        seq: u64,
    },
    /// Find stored receipts, newest first, by tenant, decision time, request id and verdict;
    /// a page at a time (the last line says how to ask for the next).
    Receipts {
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
        /// Decided at or after: a span before now (`7d`, `24h`), `today`, `yesterday`, RFC
        /// 3339 with `Z` or an offset, a zoned time, a date (UTC), or Unix
        /// seconds.
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// Decided before, in the same forms.
        #[arg(long, value_name = "TIME")]
        to: Option<String>,
        /// Only those answering this partner request id.
        #[arg(long, value_name = "ID")]
        request_id: Option<u64>,
        /// Only this verdict: valid, invalid or rejected.
        #[arg(long, value_name = "VERDICT")]
        verdict: Option<String>,
        /// Receipts per page, 1 to 500.
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: u32,
        /// The next page: the sequence number the previous page named.
        #[arg(long, value_name = "SEQ")]
        before: Option<u64>,
    },
    /// Auditor webhook endpoints: list, add, pause, resume, rotate, change, remove,
    /// deliveries, replay.
    Webhooks {
        /// What to do.
        #[command(subcommand)]
        what: webhooks_ctl::WebhooksCtl,
    },
    /// Partner invites: list, create, revoke.
    Invites {
        /// What to do.
        #[command(subcommand)]
        what: InvitesCtl,
    },
    /// Partners' terms requests (list, grant, decline) and their terms files.
    Terms {
        /// What to do.
        #[command(subcommand)]
        what: terms_ctl::TermsCtl,
    },
    /// Admin tokens.
    Token {
        /// What to do.
        #[command(subcommand)]
        what: TokenWhat,
    },
}

/// `appliance ctl invites` commands.
#[derive(Debug, Subcommand)]
pub enum InvitesCtl {
    /// Every invite, newest first: tenant, status, expiry, who made it and why.
    List,
    /// Make a single-use invite for a partner; prints its text once, to hand to the partner.
    Create {
        /// The tenant the partner becomes, or a prefix ending in * (the partner picks the
        /// rest).
        #[arg(long)]
        tenant: String,
        /// A purpose its requests may carry; repeat for several.
        #[arg(long = "purpose", value_name = "PURPOSE", required = true)]
        purposes: Vec<String>,
        /// A dataset class its requests may carry (P0, P1, P2); repeat for several.
        #[arg(long = "class", value_name = "CLASS", required = true)]
        classes: Vec<String>,
        /// The highest admission rate it may take without approval, requests per second.
        #[arg(long, value_name = "N", default_value_t = 100)]
        max_rate: u32,
        /// The highest burst it may take without approval.
        #[arg(long, value_name = "N", default_value_t = 50)]
        max_burst: u32,
        /// The most verifying keys it may register.
        #[arg(long, value_name = "N", default_value_t = 8)]
        max_keys: u32,
        /// A budget cap it may ask for without approval, CLASS:WINDOW:LIMIT (P1:day:100000);
        /// repeat for several.
        #[arg(long = "cap", value_name = "CLASS:WINDOW:LIMIT")]
        caps: Vec<String>,
        /// How long it can be used: a whole number and m, h or d, at most 30d.
        #[arg(long, value_name = "SPAN", default_value = "7d")]
        expires_in: String,
        /// Why (kept with the invite and on the timeline, with your token's name).
        #[arg(long)]
        reason: String,
    },
    /// Revoke an open invite.
    Revoke {
        /// The invite's number.
        id: u64,
        /// Why (kept with the invite and on the timeline).
        #[arg(long)]
        reason: String,
    },
}

/// `appliance ctl token` commands.
#[derive(Debug, Subcommand)]
pub enum TokenWhat {
    /// Make an admin token: prints it once, and the `[[admin.tokens]]` entry (its SHA-256) to
    /// add to the configuration. Makes no call.
    New {
        /// Who holds it (the timeline records this name).
        #[arg(long)]
        name: String,
        /// Its roles: sre, policy-author, auditor, viewer; repeat for several.
        #[arg(long = "role", value_name = "ROLE", required = true)]
        roles: Vec<String>,
    },
}
