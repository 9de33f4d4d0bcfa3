//! `appliance config default`: the embedded defaults written out as a commented TOML file.
//! The values come from `Config::default()`, the comments from [`DOCS`]; a test makes sure
//! every key has its comment and the file parses back to the defaults.

use std::fmt::Write as _;

use crate::Config;

/// Every key's explanation, in the order the file lists them. Tables have an entry too.
const DOCS: &[(&str, &str)] = &[
    (
        "verify",
        "Limits checked before any curve work; larger inputs are refused unread.",
    ),
    (
        "verify.max_public_inputs",
        "Most public inputs a Groth16 statement may have. 1 to 4096.",
    ),
    (
        "verify.max_message_bytes",
        "Longest BLS message, bytes. 1 to 1048576.",
    ),
    (
        "verify.max_aggregate_keys",
        "Most public keys in one BLS aggregate. 1 to 65536.",
    ),
    ("server", "The QUIC listener and the shards."),
    (
        "server.listen",
        "QUIC (UDP) listen address; partners connect here.",
    ),
    (
        "server.shards",
        "Shards, one pinned executor each: 0 (one per CPU) to 1024. 0 follows the process's \
         affinity mask (systemd's CPUAffinity=).",
    ),
    (
        "server.io_memory_kib",
        "io_uring memory per shard (and for the ledger thread), KiB, registered with each \
         executor's 3 rings: (shards + 1) x 3 x this, in whole 2 MiB pages, is locked memory \
         and should fit RLIMIT_MEMLOCK (LimitMEMLOCK= under systemd; `appliance preflight` \
         checks it). The data plane's sockets do not use these buffers. 64 to 65536.",
    ),
    (
        "server.state_dir",
        "State directory (certificates, receipt key, ledger). Default: $STATE_DIRECTORY \
         (systemd's StateDirectory=), else ./appliance-state.",
    ),
    (
        "server.max_connections",
        "Most concurrent QUIC connections per shard. 1 to 65536.",
    ),
    (
        "server.max_streams_per_connection",
        "Most concurrent request streams per connection. 1 to 4096; default 256, as many as a \
         tenant's mailbox holds, so one connection can fill it and hear `busy` instead of \
         waiting for stream credit.",
    ),
    (
        "server.idle_timeout_ms",
        "Close connections idle this long, ms. 1000 to 600000.",
    ),
    (
        "server.max_handshakes",
        "Most QUIC handshakes in progress per shard (no tenant certificate shown yet); beyond \
         it new connections are refused, and past a quarter of it clients first prove their \
         address with a QUIC Retry. 4 to 65536.",
    ),
    (
        "server.handshake_timeout_ms",
        "Close a connection whose handshake has not identified a tenant within this long, ms. \
         500 to 60000.",
    ),
    (
        "server.max_connections_per_tenant",
        "Most connections one tenant may hold on one shard. 1 to 65536.",
    ),
    (
        "server.request_timeout_ms",
        "A request must arrive whole within this long of its stream opening, ms. 100 to \
         600000.",
    ),
    (
        "server.partial_request_kib_per_connection",
        "Bytes of requests still arriving that one connection may hold, KiB; beyond it the \
         request is answered busy. 64 to 1048576.",
    ),
    (
        "server.partial_request_kib_per_tenant",
        "Bytes of requests still arriving that one tenant may hold on one shard, KiB. 64 to \
         4194304.",
    ),
    ("scheduling", "Per-shard queues, fairness and batching."),
    (
        "scheduling.mailbox_capacity",
        "Requests a tenant may have queued on its home shard; beyond it the answer is \"busy, \
         retry after\". 1 to 65536.",
    ),
    (
        "scheduling.quantum",
        "Deficit round robin quantum for weight 1, in cost units (a single BLS verification is \
         1; a large aggregate hundreds, and waits that many quanta, its deficit carried from \
         round to round). 1 to 1000.",
    ),
    (
        "scheduling.batch_max",
        "Largest verification batch. Its requests are answered together, so this bounds how \
         long a request waits for the others in its batch. 1 to 1024.",
    ),
    (
        "scheduling.latency_budget_ms",
        "How long after admission a request should have its verdict, ms: a batch waits for \
         company only while that keeps it within 65 % of this and lowers the cost \
         per request (an idle shard never waits; 0: never wait), and holds no more than \
         35 % of this in verification time, even under backlog. 0 to 1000.",
    ),
    (
        "scheduling.lending",
        "Whether a shard lends batches to an idle core to verify (admission, budgets and \
         receipts stay on the tenant's home shard): \"when-busy\", \"always\" or \"never\".",
    ),
    (
        "budgets",
        "What requests cost against privacy budgets, and when they are charged.",
    ),
    (
        "budgets.contact",
        "Told to partners whose request is over budget: how to ask for more.",
    ),
    (
        "budgets.cost",
        "Budget units per request: a base by statement kind, 1 to 1000000, plus one unit per \
         full group of the keys, pairings and public inputs the statement carries.",
    ),
    ("budgets.cost.bls-single", "One BLS signature."),
    (
        "budgets.cost.bls-aggregate",
        "A BLS aggregate over distinct messages.",
    ),
    (
        "budgets.cost.bls-fast-aggregate",
        "A BLS aggregate over one message.",
    ),
    ("budgets.cost.groth16-bn254", "A Groth16 proof on BN254."),
    (
        "budgets.cost.groth16-bls12-381",
        "A Groth16 proof on BLS12-381.",
    ),
    (
        "budgets.cost.keys-per-unit",
        "One more unit per this many BLS public keys (either aggregate). 0 (off) to 1000000.",
    ),
    (
        "budgets.cost.pairings-per-unit",
        "One more unit per this many BLS pairings: one per message of an aggregate, one for a \
         single or fast-aggregate signature. 0 (off) to 1000000.",
    ),
    (
        "budgets.cost.inputs-per-unit",
        "One more unit per this many Groth16 public inputs. 0 (off) to 1000000.",
    ),
    (
        "budgets.charge",
        "Per dataset class: \"attempt\" charges every verified request, \"valid\" only valid \
         verdicts (a reservation is taken at admission and settled after the verdict).",
    ),
    ("budgets.charge.P0", "The most sensitive class."),
    ("budgets.charge.P1", "The middle class."),
    ("budgets.charge.P2", "The least sensitive class."),
    (
        "logging",
        "How much the appliance logs and in which form. SIGHUP reloads the level.",
    ),
    (
        "logging.level",
        "\"error\", \"warn\", \"info\", \"debug\" or \"trace\". At info: one line per \
         connection event and per error, never one per successful request.",
    ),
    (
        "logging.format",
        "\"text\", \"json\" or \"journald\": readable lines on stderr, one JSON object per \
         line on stderr, or native journal fields sent to the journal.",
    ),
    (
        "tls",
        "The QUIC server's certificate and the CA partners' client certificates chain to. \
         Unset: the state directory's development PKI (server.pem, server.key, ca.pem).",
    ),
    ("tls.certificate", "The server's certificate chain, PEM."),
    (
        "tls.private_key",
        "Its private key, PEM. tls.certificate and tls.private_key are set together (a \
         certificate without its key cannot serve).",
    ),
    (
        "tls.client_ca",
        "The CA(s) issuing partners' client certificates, PEM. The tenant is the certificate's \
         URI SAN urn:trust-fabric:tenant:<id>.",
    ),
    (
        "admin",
        "The operators' HTTP server: /metrics (Prometheus), /healthz, the admin API (/api/v1) \
         and the console (/).",
    ),
    (
        "admin.listen",
        "Where it listens. Keep it on loopback or a management network: the API and console \
         need a token, /metrics and /healthz do not.",
    ),
    ("admin.enabled", "Whether to run it."),
    (
        "admin.hosts",
        "The names clients reach it by, as their Host header carries them: host names or IP \
         addresses, each with an optional :port (\"admin.example.net\", \"10.0.0.5:8080\", \
         \"[fd00::5]\"); without a port, any port. Any other Host is refused (421), so a web \
         page cannot reach the server through DNS rebinding. localhost, 127.0.0.1 and [::1] \
         with the listening port are always accepted. Empty: the listen address.",
    ),
    (
        "admin.tls",
        "TLS on the admin port: true (the appliance's server certificate: [tls] certificate \
         and private_key, else the state directory's server.pem and server.key), false, or \
         { cert = \"FILE\", key = \"FILE\" }. Unset: off when listen is a loopback address, \
         on otherwise. With TLS the console's session cookie is Secure.",
    ),
    (
        "admin.body_timeout_ms",
        "How long a request body (a bundle upload, at most 8 MiB) may take to arrive once its \
         headers have, ms; slower ones are answered 408. Request headers must arrive within 5 \
         s, and a body is read only after the caller's token and roles allow the route. 1000 \
         to 600000.",
    ),
    (
        "admin.tokens",
        "Bearer tokens for the admin API and console, one [[admin.tokens]] each with name, \
         roles (sre, policy-author, auditor, viewer) and sha256 (of the token; \
         `appliance ctl token new` prints both). Empty: one development token with every role, \
         in the state directory's admin.token.",
    ),
    (
        "admin.tokens.name",
        "Who holds the token, as the timeline records them: 1 to 64 characters of a-z, 0-9, -, \
         _, . and @, each name once.",
    ),
    (
        "admin.tokens.roles",
        "What it may do: one or more of \"sre\", \"policy-author\", \"auditor\", \"viewer\".",
    ),
    (
        "admin.tokens.sha256",
        "64 hex digits: the SHA-256 of the token, never the token itself.",
    ),
    (
        "bundles",
        "Policy bundles: whose signed bundles may be promoted.",
    ),
    (
        "bundles.trusted_authors",
        "Ed25519 public keys, 64 hex digits each (`appliance bundle keygen` prints one). List \
         the new key next to the old one to rotate, then remove the old. Empty: only the state \
         directory's development author key (bundle-author.key).",
    ),
    (
        "ledger",
        "The ledger of receipts: how long receipts are kept.",
    ),
    (
        "ledger.retention",
        "How long a receipt stays in the ledger: a whole number and s, m, h or d, 1s to 3650d. \
         Older receipts are pruned once a compliance snapshot has sealed them; their hashes \
         stay in the transparency log. Receipts are kept at least as long as the longest \
         budget window in force (a month counts 31 days), whatever this says: budgets are \
         rebuilt from the receipts kept.",
    ),
    (
        "decisions",
        "The decision log: every admission decision (tenant, purpose, class, kind, key id, \
         cost, answer and why, bundle revision, time; never a proof or a message), kept \
         compactly for `appliance bundle drift` to replay a candidate bundle against.",
    ),
    (
        "decisions.record",
        "Whether decisions are recorded. Recording runs off the partners' path: shards hand \
         blocks of decisions to a writer thread of its own, and a block the writer has no room \
         for is counted as not recorded, never waited for.",
    ),
    (
        "decisions.retention",
        "How long a decision is kept: a whole number and m, h or d, 1m to 366d.",
    ),
    (
        "decisions.max_mib",
        "The most the decision log may hold, MiB (16 to 16777216); the oldest decisions go \
         first past it. A decision takes about 14 bytes: 800 requests/s for a day is about \
         1 GiB.",
    ),
    (
        "scenarios",
        "The scenario scheduler: what-if packs (a change to the bundle in force, recorded or \
         synthetic traffic, expectations) replayed on a schedule at idle priority; results kept \
         90 days (`appliance scenarios results`). See docs/drift-guard.md.",
    ),
    ("scenarios.enabled", "Whether packs run on the schedule."),
    (
        "scenarios.schedule",
        "When packs run: a cron expression in UTC. A run still going skips the next slot; after \
         downtime one run catches up. Default: nightly at 02:30 UTC.",
    ),
    (
        "scenarios.dir",
        "A folder of packs (*.toml). Default: the five example packs built in \
         (docs/examples/scenarios), written for the example bundle's tenants: where those are \
         absent they are not applicable (not run, neither passed nor failed).",
    ),
    (
        "scenarios.cpu_seconds",
        "CPU seconds one night's packs may use together (1 to 86400); a pack past it stops and \
         is recorded as not finished.",
    ),
    (
        "canary",
        "The golden canary: a signed set of known-answer requests sent through this \
         appliance's own QUIC listener as a tenant of its own, every verdict and receipt \
         checked, latency and errors judged against a baseline. Its tenant must be listed in \
         [[tenants]] (or the bundle in force), without caps. See docs/canary.md.",
    ),
    ("canary.enabled", "Whether the canary runs."),
    (
        "canary.tenant",
        "The tenant the canary connects as (its client certificate is issued by the state \
         directory's CA at start unless canary.certificate is set).",
    ),
    (
        "canary.interval_ms",
        "How often the golden set is sent, milliseconds (1000 to 3600000).",
    ),
    (
        "canary.timeout_ms",
        "How long the canary waits for each answer, milliseconds (100 to 60000); no answer in \
         time counts as an error.",
    ),
    (
        "canary.golden",
        "The golden set (`appliance canary golden build`). Default: canary/golden.dsse.json \
         in the state directory, built from the built-in known answers at the first start.",
    ),
    (
        "canary.certificate",
        "The canary's client certificate (PEM), when [tls] client_ca is not the state \
         directory's CA. Set together with canary.private_key.",
    ),
    (
        "canary.private_key",
        "The canary client certificate's private key (PEM).",
    ),
    (
        "canary.ca",
        "The CA that issued the QUIC server's certificate (PEM), when [tls] certificate is set. \
         Set together with canary.server_name.",
    ),
    (
        "canary.server_name",
        "The name [tls] certificate carries, as partners connect to it (default localhost).",
    ),
    (
        "canary.current_runs",
        "Runs in the window the comparators judge (1 to 100).",
    ),
    (
        "canary.baseline_runs",
        "Runs before that window that make the baseline (1 to 1000); a run that failed a \
         comparator stays out of it.",
    ),
    (
        "canary.consecutive_failures",
        "Runs in a row a non-critical comparator (latency, error rate) must fail before the \
         canary fails (1 to 100). A wrong verdict or receipt fails it at once.",
    ),
    (
        "compliance",
        "Compliance snapshots: packets that seal each period's receipts, budgets, policy \
         timeline and log evidence, signed, for auditors to check offline.",
    ),
    (
        "compliance.schedule",
        "When each period ends and its snapshot is made: a cron expression in UTC, five fields \
         (minute hour day-of-month month day-of-week) or six with seconds first. Default: \
         daily at 00:00 UTC.",
    ),
    (
        "compliance.keep",
        "Snapshots kept; older ones are removed, never one whose receipts the ledger still \
         holds. 1 to 100000. Ship them off the host: a pruned receipt's only copy is its \
         snapshot.",
    ),
    (
        "compliance.dir",
        "Where snapshots are written. Default: compliance/ in the state directory.",
    ),
    (
        "log",
        "The transparency log: every stored receipt's hash is appended to a Merkle tree whose \
         signed checkpoints and tiles the admin server serves (C2SP tlog-tiles).",
    ),
    (
        "log.origin",
        "The log's name, first line of its checkpoints: unique to this appliance, such as \
         verify.example.com/log. Empty: trust-fabric.invalid/log/<16 hex digits of the log \
         key's id>.",
    ),
    (
        "log.checkpoint_interval_ms",
        "Most time between a new entry and a checkpoint covering it, milliseconds. 10 to 60000.",
    ),
    (
        "webhooks",
        "Auditor webhooks: how signed receipts and events are delivered to the endpoints added \
         with `appliance ctl webhooks add` (kept in the ledger, not here).",
    ),
    (
        "webhooks.timeout_ms",
        "One attempt's deadline (connect, TLS, request, answer), milliseconds. 100 to 120000.",
    ),
    (
        "webhooks.window",
        "Messages in flight per endpoint, 1 to 64: more hides a receiver's latency. First \
         attempts go out in ledger order; a retried message may arrive after later ones, and \
         each carries its receipts' sequence numbers.",
    ),
    (
        "webhooks.ca_file",
        "A CA certificate (PEM) trusted for https endpoints besides the host's roots.",
    ),
    (
        "tenants",
        "Who may connect: one [[tenants]] per tenant. The id is the one in the client \
         certificate (URI SAN urn:trust-fabric:tenant:<id>).",
    ),
    ("tenants.id", "1 to 64 characters of a-z, 0-9, - and _."),
    (
        "tenants.weight",
        "Share of a shard's verification work under contention. 1 to 1000.",
    ),
    (
        "tenants.rate_per_sec",
        "Sustained admission rate, requests/s. 1 to 1000000.",
    ),
    (
        "tenants.burst",
        "Burst above the rate the admission bucket absorbs. 1 to 1000000.",
    ),
    (
        "tenants.keys",
        "Verifying key ids (64 hex digits) the tenant may use besides those it registers.",
    ),
    (
        "tenants.max_registered_keys",
        "Most verifying keys the tenant may register itself (keys granted by id or carried by \
         a bundle do not count). 0 to 1024; default 16.",
    ),
    (
        "tenants.caps",
        "Privacy budget caps, at most 64 caps per tenant; every cap that applies to a request \
         must hold.",
    ),
    (
        "tenants.caps.purpose",
        "The purpose it limits: 1 to 64 characters of a-z, 0-9, -, _ and . (omit it for a cap \
         across purposes)",
    ),
    ("tenants.caps.class", "\"P0\", \"P1\" or \"P2\"."),
    (
        "tenants.caps.limit",
        "Budget units per window, 1 to 1000000000000.",
    ),
    (
        "tenants.caps.window",
        "Calendar windows in UTC (a week starts on Monday) or a rolling one: \"hour\", \"day\", \
         \"week\", \"month\" or \"rolling Ns\" (N from 1 to 31622400)",
    ),
];

/// Keys with no default value, shown commented out with an example.
const OPTIONAL: &[(&str, &str)] = &[
    ("server.state_dir", "\"/var/lib/trust-fabric\""),
    ("tls.certificate", "\"/etc/trust-fabric/server.pem\""),
    ("tls.private_key", "\"/etc/trust-fabric/server.key\""),
    ("tls.client_ca", "\"/etc/trust-fabric/partners-ca.pem\""),
    ("compliance.dir", "\"/srv/trust-fabric/compliance\""),
    ("scenarios.dir", "\"/etc/trust-fabric/scenarios\""),
    ("canary.golden", "\"/etc/trust-fabric/golden.dsse.json\""),
    ("canary.certificate", "\"/etc/trust-fabric/canary.pem\""),
    ("canary.private_key", "\"/etc/trust-fabric/canary.key\""),
    ("canary.ca", "\"/etc/trust-fabric/server-ca.pem\""),
    ("canary.server_name", "\"verify.example.com\""),
    ("webhooks.ca_file", "\"/etc/trust-fabric/auditors-ca.pem\""),
    ("admin.tls", "true"),
    ("admin.tokens.name", "\"alice\""),
    ("admin.tokens.roles", "[\"sre\", \"policy-author\"]"),
    (
        "admin.tokens.sha256",
        "\"<64 hex digits from `appliance ctl token new`>\"",
    ),
];

/// The default configuration as a commented TOML file.
pub fn default_file() -> String {
    let mut out = String::from(
        "# Trust Fabric appliance configuration: every key with its default value.\n\
         # Generated by `appliance config default`; an empty file means the same.\n\
         # Check a file with `appliance config check FILE`.\n",
    );
    let value = toml::Value::try_from(Config::default()).expect("the defaults serialize");
    let table = value.as_table().expect("a table");
    render_table(&mut out, "", table);
    out
}

fn doc(key: &str) -> &'static str {
    DOCS.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, d)| *d)
        .unwrap_or_else(|| panic!("config key {key} has no entry in DOCS"))
}

fn order(key: &str) -> usize {
    DOCS.iter()
        .position(|(k, _)| *k == key)
        .unwrap_or_else(|| panic!("config key {key} has no entry in DOCS"))
}

/// Whether `key` is directly inside `parent`.
fn is_child(key: &str, parent: &str) -> bool {
    key.rsplit_once('.').map(|(p, _)| p) == Some(parent)
}

fn comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + word.len() + 1 > 96 {
            let _ = writeln!(out, "{line}");
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    let _ = writeln!(out, "{line}");
}

fn render_table(out: &mut String, prefix: &str, table: &toml::Table) {
    let dotted = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    let mut keys: Vec<String> = table.keys().map(|k| dotted(k)).collect();
    keys.extend(
        OPTIONAL
            .iter()
            .filter(|(key, _)| key.rsplit_once('.').map(|(p, _)| p) == Some(prefix))
            .map(|(key, _)| (*key).to_owned()),
    );
    keys.sort_by_key(|k| order(k));
    let name = |key: &str| key.rsplit('.').next().unwrap_or(key).to_owned();
    // Plain values first: TOML puts everything after a [header] into that table.
    for key in &keys {
        match table.get(&name(key)) {
            None => {
                let example = OPTIONAL
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, e)| *e)
                    .unwrap_or_default();
                comment(out, doc(key));
                let _ = writeln!(out, "# {} = {example}", name(key));
            }
            Some(toml::Value::Table(_)) => {}
            Some(toml::Value::Array(items)) if items.iter().any(toml::Value::is_table) => {}
            // An empty array of tables: show one, commented out, with each key explained.
            Some(toml::Value::Array(items))
                if items.is_empty() && OPTIONAL.iter().any(|(k, _)| is_child(k, key)) =>
            {
                comment(out, doc(key));
                let _ = writeln!(out, "# [[{key}]]");
                for (child, example) in OPTIONAL.iter().filter(|(k, _)| is_child(k, key)) {
                    comment(out, doc(child));
                    let _ = writeln!(out, "# {} = {example}", name(child));
                }
            }
            Some(value) => {
                comment(out, doc(key));
                let _ = writeln!(out, "{} = {value}", name(key));
            }
        }
    }
    for key in &keys {
        match table.get(&name(key)) {
            Some(toml::Value::Table(inner)) => {
                let _ = writeln!(out);
                comment(out, doc(key));
                let _ = writeln!(out, "[{key}]");
                render_table(out, key, inner);
            }
            Some(toml::Value::Array(items)) if items.iter().any(toml::Value::is_table) => {
                let _ = writeln!(out);
                comment(out, doc(key));
                for item in items {
                    let _ = writeln!(out, "[[{key}]]");
                    if let Some(inner) = item.as_table() {
                        render_table(out, key, inner);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_default_file_parses_back_to_the_defaults() {
        let text = default_file();
        let parsed = Config::parse(&text, Path::new("default.toml")).expect("valid");
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn every_key_is_explained_and_every_explanation_is_a_key() {
        let text = default_file();
        for (key, _) in DOCS {
            let name = key.rsplit('.').next().unwrap_or(key);
            let present = text.lines().any(|l| {
                l.starts_with(&format!("{name} ="))
                    || l.starts_with(&format!("# {name} ="))
                    || l.contains(&format!("[{key}]"))
            });
            assert!(present, "DOCS names {key}, which the file does not have");
        }
        assert!(text.contains("# QUIC (UDP) listen address"));
        assert!(text.contains("listen = \"127.0.0.1:4433\""));
    }
    /// Every checked key: a bad value is refused with the file, the key and what is allowed,
    /// and what is allowed is what the default file documents for that key.
    #[test]
    fn each_invalid_value_gives_the_documented_message() {
        let tenant = "[[tenants]]\nid = \"t\"\n";
        let cases: Vec<(String, &str)> = vec![
            (
                "[verify]\nmax_public_inputs = 0".into(),
                "verify.max_public_inputs",
            ),
            (
                "[verify]\nmax_message_bytes = 0".into(),
                "verify.max_message_bytes",
            ),
            (
                "[verify]\nmax_aggregate_keys = 0".into(),
                "verify.max_aggregate_keys",
            ),
            ("[server]\nshards = 2000".into(), "server.shards"),
            ("[server]\nio_memory_kib = 1".into(), "server.io_memory_kib"),
            (
                "[server]\nmax_connections = 0".into(),
                "server.max_connections",
            ),
            (
                "[server]\nmax_streams_per_connection = 0".into(),
                "server.max_streams_per_connection",
            ),
            (
                "[server]\nidle_timeout_ms = 5".into(),
                "server.idle_timeout_ms",
            ),
            (
                "[scheduling]\nmailbox_capacity = 0".into(),
                "scheduling.mailbox_capacity",
            ),
            ("[scheduling]\nquantum = 0".into(), "scheduling.quantum"),
            (
                "[scheduling]\nbatch_max = 5000".into(),
                "scheduling.batch_max",
            ),
            (
                "[scheduling]\nlatency_budget_ms = 2000".into(),
                "scheduling.latency_budget_ms",
            ),
            (
                "[scheduling]\nlending = \"sometimes\"".into(),
                "scheduling.lending",
            ),
            ("[logging]\nlevel = \"loud\"".into(), "logging.level"),
            ("[logging]\nformat = \"xml\"".into(), "logging.format"),
            ("[tls]\ncertificate = \"/c.pem\"".into(), "tls.private_key"),
            (
                "[bundles]\ntrusted_authors = [\"abc\"]".into(),
                "bundles.trusted_authors",
            ),
            (
                "[[admin.tokens]]\nname = \"ops\"\nroles = [\"root\"]\nsha256 = \"00\"".into(),
                "admin.tokens.roles",
            ),
            ("[admin]\nhosts = [\"*\"]".into(), "admin.hosts"),
            (
                "[admin]\nbody_timeout_ms = 10".into(),
                "admin.body_timeout_ms",
            ),
            (format!("{tenant}rate_per_sec = 0"), "tenants.rate_per_sec"),
            (format!("{tenant}burst = 0"), "tenants.burst"),
            (
                format!("{tenant}max_registered_keys = 1025"),
                "tenants.max_registered_keys",
            ),
            (format!("{tenant}weight = 0"), "tenants.weight"),
            ("[[tenants]]\nid = \"Bad Id\"".into(), "tenants.id"),
            (
                format!("{tenant}[[tenants.caps]]\nclass = \"P0\"\nlimit = 0\nwindow = \"day\""),
                "tenants.caps.limit",
            ),
            (
                format!(
                    "{tenant}[[tenants.caps]]\nclass = \"P0\"\nlimit = 5\nwindow = \"fortnight\""
                ),
                "tenants.caps.window",
            ),
        ];
        for (text, key) in cases {
            let error = Config::parse(&text, Path::new("bad.toml"))
                .expect_err(&format!("{text} must be refused"));
            let crate::ConfigError::Invalid {
                key: named,
                allowed,
                ..
            } = &error
            else {
                panic!("{text}: not a range error: {error}");
            };
            let shown = error.to_string();
            assert!(shown.starts_with("bad.toml: "), "{shown}");
            assert_eq!(*named, key, "{shown}");
            assert!(
                doc(key).contains(allowed),
                "{key}: the error allows {allowed:?} but the file documents {:?}",
                doc(key)
            );
        }
    }
}
