//! `[server]`, `[scheduling]` and `[[tenants]]`: what the data plane runs with.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tf_engine::KeyId;

use crate::budgets::CapConfig;
use crate::{ConfigError, in_range};

/// `[server]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// QUIC (UDP) listen address. Default `127.0.0.1:4433`.
    pub listen: SocketAddr,
    /// Shards (one pinned executor per CPU). 0 = one per CPU the process may run on (its
    /// affinity mask). Default 0; at most 1024.
    pub shards: usize,
    /// Memory each shard (and the ledger thread) registers with its three io_uring rings, KiB;
    /// (shards + 1) x 3 x this, in whole 2 MiB pages, is locked memory (RLIMIT_MEMLOCK); where
    /// the limit is lower some executors run without registered buffers, which the data plane's
    /// sockets do not use. Default 512; 64 to 65536.
    pub io_memory_kib: usize,
    /// The state directory. Default: `$STATE_DIRECTORY`, else `./appliance-state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    /// Most concurrent QUIC connections per shard. Default 1024; 1 to 65536.
    pub max_connections: usize,
    /// Most concurrent request streams per connection. Default 64; 1 to 4096.
    pub max_streams_per_connection: usize,
    /// Close connections idle this long, milliseconds. Default 30000; 1000 to 600000.
    pub idle_timeout_ms: usize,
    /// Most QUIC handshakes in progress per shard (connections whose client has not yet shown
    /// a tenant certificate); beyond it new connections are refused. Once a quarter of this is
    /// in progress, a client must first prove its address with a QUIC Retry. Default 256;
    /// 4 to 65536.
    pub max_handshakes: usize,
    /// A handshake not finished (tenant identified) within this long is closed, milliseconds.
    /// Default 5000; 500 to 60000.
    pub handshake_timeout_ms: usize,
    /// Most connections one tenant may hold on one shard. Default 64; 1 to 65536.
    pub max_connections_per_tenant: usize,
    /// A request must arrive whole within this long of its stream opening, milliseconds;
    /// its stream is refused after. Default 10000; 100 to 600000.
    pub request_timeout_ms: usize,
    /// Bytes of requests still arriving that one connection may hold, KiB; a request beyond it
    /// is answered busy. Default 4096; 64 to 1048576.
    pub partial_request_kib_per_connection: usize,
    /// Bytes of requests still arriving that one tenant may hold on one shard, over all its
    /// connections, KiB. Default 16384; 64 to 4194304.
    pub partial_request_kib_per_tenant: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 4433)),
            shards: 0,
            io_memory_kib: 512,
            state_dir: None,
            max_connections: 1024,
            max_streams_per_connection: 256,
            idle_timeout_ms: 30_000,
            max_handshakes: 256,
            handshake_timeout_ms: 5_000,
            max_connections_per_tenant: 64,
            request_timeout_ms: 10_000,
            partial_request_kib_per_connection: 4096,
            partial_request_kib_per_tenant: 16384,
        }
    }
}

impl ServerConfig {
    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        in_range(
            path,
            "server.shards",
            self.shards,
            0,
            1024,
            "0 (one per CPU) to 1024",
        )?;
        in_range(
            path,
            "server.io_memory_kib",
            self.io_memory_kib,
            64,
            65536,
            "64 to 65536",
        )?;
        in_range(
            path,
            "server.max_connections",
            self.max_connections,
            1,
            65536,
            "1 to 65536",
        )?;
        in_range(
            path,
            "server.max_streams_per_connection",
            self.max_streams_per_connection,
            1,
            4096,
            "1 to 4096",
        )?;
        in_range(
            path,
            "server.idle_timeout_ms",
            self.idle_timeout_ms,
            1000,
            600_000,
            "1000 to 600000",
        )?;
        in_range(
            path,
            "server.max_handshakes",
            self.max_handshakes,
            4,
            65536,
            "4 to 65536",
        )?;
        in_range(
            path,
            "server.handshake_timeout_ms",
            self.handshake_timeout_ms,
            500,
            60_000,
            "500 to 60000",
        )?;
        in_range(
            path,
            "server.max_connections_per_tenant",
            self.max_connections_per_tenant,
            1,
            65536,
            "1 to 65536",
        )?;
        in_range(
            path,
            "server.request_timeout_ms",
            self.request_timeout_ms,
            100,
            600_000,
            "100 to 600000",
        )?;
        in_range(
            path,
            "server.partial_request_kib_per_connection",
            self.partial_request_kib_per_connection,
            64,
            1_048_576,
            "64 to 1048576",
        )?;
        in_range(
            path,
            "server.partial_request_kib_per_tenant",
            self.partial_request_kib_per_tenant,
            64,
            4_194_304,
            "64 to 4194304",
        )
    }
}

/// `[scheduling]`: per-shard queues, fairness and batching.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulingConfig {
    /// Requests a tenant may have queued on its home shard; beyond it, "busy". Default 256;
    /// 1 to 65536.
    pub mailbox_capacity: usize,
    /// Deficit round robin quantum for weight 1, in cost units (a single BLS verification is
    /// 1; a large aggregate hundreds, and waits that many quanta, its deficit carried from
    /// round to round). Default 4; 1 to 1000.
    pub quantum: usize,
    /// Largest batch. Its requests are answered when the whole batch is verified (a step at a
    /// time, the core serving its network in between); past 64 batching saves little more.
    /// Default 64; 1 to 1024.
    pub batch_max: usize,
    /// How long after admission a request should have its verdict, milliseconds: a batch waits
    /// for more requests only while the next is expected soon enough for the batch to finish
    /// within 65 % of it, and only while one more lowers the cost per request (an
    /// idle shard never waits; 0: never wait). The p99 target. Default 50; 0 to 1000.
    pub latency_budget_ms: usize,
    /// Whether a shard lends batches of its tenants' requests to an idle core to verify
    /// (admission, budgets and receipts stay on the tenant's home shard): `"when-busy"` (when
    /// another batch is due too), `"always"` (every batch an idle core can take; for
    /// tests and measurements) or `"never"`. Default `"when-busy"`.
    pub lending: String,
}

/// The allowed values of `[scheduling] lending`.
pub const LENDING: [&str; 3] = ["when-busy", "always", "never"];

/// `[scheduling] lending`, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lending {
    /// Lend a batch when more of the shard's work is waiting and another core is idle.
    WhenBusy,
    /// Lend every batch another core is idle for.
    Always,
    /// Verify every batch on its home shard.
    Never,
}

impl Default for SchedulingConfig {
    fn default() -> Self {
        SchedulingConfig {
            mailbox_capacity: 256,
            quantum: 4,
            batch_max: 64,
            latency_budget_ms: 50,
            lending: "when-busy".into(),
        }
    }
}

impl SchedulingConfig {
    /// `lending`, parsed (validation refused anything else).
    pub fn lending(&self) -> Lending {
        match self.lending.as_str() {
            "always" => Lending::Always,
            "never" => Lending::Never,
            _ => Lending::WhenBusy,
        }
    }

    pub(crate) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        if !LENDING.contains(&self.lending.as_str()) {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: "scheduling.lending",
                value: format!("{:?}", self.lending),
                allowed: "\"when-busy\", \"always\" or \"never\"",
            });
        }
        in_range(
            path,
            "scheduling.mailbox_capacity",
            self.mailbox_capacity,
            1,
            65536,
            "1 to 65536",
        )?;
        in_range(
            path,
            "scheduling.quantum",
            self.quantum,
            1,
            1000,
            "1 to 1000",
        )?;
        in_range(
            path,
            "scheduling.batch_max",
            self.batch_max,
            1,
            1024,
            "1 to 1024",
        )?;
        in_range(
            path,
            "scheduling.latency_budget_ms",
            self.latency_budget_ms,
            0,
            1000,
            "0 to 1000",
        )
    }
}

/// One `[[tenants]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant id, as in its client certificate (`urn:trust-fabric:tenant:<id>`): 1 to 64
    /// characters of a-z, 0-9, `-` and `_`.
    pub id: String,
    /// Share of a shard's verification work under contention. Default 1; 1 to 1000.
    #[serde(default = "one")]
    pub weight: usize,
    /// Sustained admission rate, requests per second. Default 1000; 1 to 1000000.
    #[serde(default = "thousand")]
    pub rate_per_sec: usize,
    /// Burst above the rate the admission bucket absorbs, requests. Default 500; 1 to 1000000.
    #[serde(default = "five_hundred")]
    pub burst: usize,
    /// Verifying key ids (64 hex digits) the tenant may use besides the keys it registers
    /// itself. Default none.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Privacy budget caps (`[[tenants.caps]]`); every cap that applies to a request must
    /// hold. Default none (unlimited), except the demo tenant's small demonstration cap.
    #[serde(default)]
    pub caps: Vec<CapConfig>,
    /// Most verifying keys the tenant may register itself (keys granted by id or carried by
    /// a policy bundle do not count). Default 16; 0 to 1024 (0: it registers none).
    #[serde(default = "sixteen")]
    pub max_registered_keys: usize,
}

/// The largest key quota a tenant may be given (`max_registered_keys`): as many keys as a
/// shard keeps room for partners' registrations.
pub const MAX_REGISTERED_KEYS: usize = 1024;

fn one() -> usize {
    1
}
fn sixteen() -> usize {
    16
}
fn thousand() -> usize {
    1000
}
fn five_hundred() -> usize {
    500
}

impl TenantConfig {
    /// The demo tenant created with the development PKI.
    pub fn demo() -> Self {
        TenantConfig {
            id: "demo".into(),
            weight: 1,
            rate_per_sec: 1000,
            burst: 500,
            keys: Vec::new(),
            caps: vec![CapConfig::demo()],
            max_registered_keys: sixteen(),
        }
    }

    /// The parsed key ids (valid after validation).
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys
            .iter()
            .filter_map(|k| KeyId::from_hex(k))
            .collect()
    }
}

/// Whether a tenant id is usable: 1 to 64 characters of a-z, 0-9, `-` and `_` (it appears in
/// certificate names, file names and metrics labels).
pub fn is_valid_tenant_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Checks a list of tenants (ids, weights, quotas, keys, caps); `path` names the file in
/// messages. Policy bundles check their tenants with it too.
pub fn validate_tenants(tenants: &[TenantConfig], path: &Path) -> Result<(), ConfigError> {
    let invalid = |key: &'static str, value: String, allowed: &'static str| ConfigError::Invalid {
        path: path.to_owned(),
        key,
        value,
        allowed,
    };
    let mut seen = HashSet::new();
    for tenant in tenants {
        if !is_valid_tenant_id(&tenant.id) {
            return Err(invalid(
                "tenants.id",
                format!("{:?}", tenant.id),
                "1 to 64 characters of a-z, 0-9, - and _",
            ));
        }
        if !seen.insert(tenant.id.as_str()) {
            return Err(invalid(
                "tenants.id",
                format!("{:?}", tenant.id),
                "each tenant id once",
            ));
        }
        in_range(path, "tenants.weight", tenant.weight, 1, 1000, "1 to 1000")?;
        crate::budgets::validate_caps(&tenant.caps, path)?;
        in_range(
            path,
            "tenants.rate_per_sec",
            tenant.rate_per_sec,
            1,
            1_000_000,
            "1 to 1000000",
        )?;
        in_range(
            path,
            "tenants.burst",
            tenant.burst,
            1,
            1_000_000,
            "1 to 1000000",
        )?;
        in_range(
            path,
            "tenants.max_registered_keys",
            tenant.max_registered_keys,
            0,
            MAX_REGISTERED_KEYS,
            "0 to 1024",
        )?;
        if let Some(bad) = tenant.keys.iter().find(|k| KeyId::from_hex(k).is_none()) {
            return Err(invalid(
                "tenants.keys",
                format!("{bad:?}"),
                "verifying key ids: 64 hex digits",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Config;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("appliance.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn an_empty_file_serves_the_demo_and_canary_tenants_on_localhost() {
        let config = parse("").expect("valid");
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:4433");
        assert_eq!(config.server.shards, 0);
        let ids: Vec<&str> = config.tenants.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["demo", "canary"]);
        assert!(config.tenants[1].caps.is_empty(), "the canary is exempt");
    }

    #[test]
    fn the_canary_tenant_may_not_carry_caps() {
        let text = "[[tenants]]\nid = \"canary\"\n[[tenants.caps]]\npurpose = \"canary\"\n\
                    class = \"P2\"\nlimit = 10\nwindow = \"day\"\n";
        let error = parse(text).expect_err("refused");
        assert!(error.contains("exempt from budgets"), "{error}");
        // Another tenant name for the canary, or the canary off, lets those caps be.
        parse(&format!("[canary]\nenabled = false\n{text}")).expect("canary off");
        parse(&format!("[canary]\ntenant = \"probe\"\n{text}")).expect("another tenant");
    }

    #[test]
    fn tenants_replace_the_default_and_take_defaults_per_field() {
        let key = "ab".repeat(32);
        let text = format!(
            r#"
[[tenants]]
id = "acme"
weight = 3

[[tenants]]
id = "globex"
keys = ["{key}"]
"#
        );
        let config = parse(&text).expect("valid");
        assert_eq!(config.tenants.len(), 2);
        assert_eq!(
            (config.tenants[0].weight, config.tenants[0].rate_per_sec),
            (3, 1000)
        );
        assert_eq!(config.tenants[1].key_ids().len(), 1);
    }

    #[test]
    fn bad_values_name_the_key_and_what_is_allowed() {
        let cases = [
            ("[server]\nlisten = \"nowhere\"\n", "listen"),
            (
                "[server]\nio_memory_kib = 9000000\n",
                "server.io_memory_kib = 9000000 is not allowed: 64 to 65536",
            ),
            ("[server]\nshards = 2000\n", "server.shards = 2000"),
            (
                "[scheduling]\nbatch_max = 0\n",
                "scheduling.batch_max = 0 is not allowed",
            ),
            (
                "[[tenants]]\nid = \"Acme Corp\"\n",
                r#"tenants.id = "Acme Corp" is not allowed"#,
            ),
            (
                "[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"a\"\n",
                "each tenant id once",
            ),
            (
                "[[tenants]]\nid = \"a\"\nkeys = [\"xyz\"]\n",
                "64 hex digits",
            ),
            ("[[tenants]]\nid = \"a\"\nquota = 5\n", "quota"),
        ];
        for (text, expected) in cases {
            let err = parse(text).expect_err(text);
            assert!(err.starts_with("appliance.toml: "), "{err}");
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}
