//! SIGHUP: re-reads the configuration file and applies what can change while serving, the log
//! level and tenants' admission quotas (rate and burst); everything else that changed is named
//! in the log as needing a restart. A file that does not load changes nothing.

use std::net::SocketAddr;
use std::path::PathBuf;

use tf_config::{Config, TenantConfig};
use tf_seam::{Board, Quota};
use tf_shard::TenantSlot;

use crate::logging::LogLevel;

/// Command-line flags that override the file, at start and on every reload.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--shards`.
    pub shards: Option<usize>,
    /// `--admin-listen`.
    pub admin_listen: Option<SocketAddr>,
    /// `--log-level`.
    pub log_level: Option<tracing::Level>,
}

impl Overrides {
    /// Puts the flags' values into `config`.
    pub fn apply(&self, config: &mut Config) {
        if let Some(listen) = self.listen {
            config.server.listen = listen;
        }
        if let Some(shards) = self.shards {
            config.server.shards = shards;
        }
        if let Some(admin) = self.admin_listen {
            config.admin.listen = admin;
        }
        if let Some(level) = self.log_level {
            config.logging.level = level.to_string().to_lowercase();
        }
    }
}

/// What a new configuration changes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// The new log level, if it changed.
    pub level: Option<String>,
    /// Tenants whose rate or burst changed: id, rate, burst.
    pub quotas: Vec<(String, u64, u64)>,
    /// Keys that changed and take effect only after a restart.
    pub need_restart: Vec<String>,
}

/// Compares the running configuration with a new one.
pub fn changes(running: &Config, new: &Config) -> Changes {
    let mut changes = Changes::default();
    if running.logging.level != new.logging.level {
        changes.level = Some(new.logging.level.clone());
    }
    let mut restart = |changed: bool, key: &str| {
        if changed {
            changes.need_restart.push(key.to_owned());
        }
    };
    restart(
        running.logging.format != new.logging.format,
        "logging.format",
    );
    restart(running.verify != new.verify, "[verify]");
    restart(running.server != new.server, "[server]");
    restart(running.scheduling != new.scheduling, "[scheduling]");
    restart(running.budgets != new.budgets, "[budgets]");
    restart(running.admin != new.admin, "[admin]");
    restart(running.tls != new.tls, "[tls]");
    restart(running.canary != new.canary, "[canary]");
    let ids = |tenants: &[TenantConfig]| -> Vec<String> {
        tenants.iter().map(|t| t.id.clone()).collect()
    };
    if ids(&running.tenants) != ids(&new.tenants) {
        changes
            .need_restart
            .push("[[tenants]] (added, removed or reordered)".to_owned());
        return changes;
    }
    for (old, new) in running.tenants.iter().zip(&new.tenants) {
        if (old.rate_per_sec, old.burst) != (new.rate_per_sec, new.burst) {
            changes
                .quotas
                .push((new.id.clone(), new.rate_per_sec as u64, new.burst as u64));
        }
        for (changed, key) in [
            (old.weight != new.weight, "weight"),
            (old.keys != new.keys, "keys"),
            (old.caps != new.caps, "caps"),
        ] {
            if changed {
                changes
                    .need_restart
                    .push(format!("tenants[{}].{key}", new.id));
            }
        }
    }
    changes
}

/// Reloads on request.
#[derive(Debug)]
pub struct Reloader {
    file: Option<PathBuf>,
    overrides: Overrides,
    running: Config,
    log_level: LogLevel,
}

impl Reloader {
    /// A reloader for the configuration `running` was loaded from.
    pub fn new(
        file: Option<PathBuf>,
        overrides: Overrides,
        running: Config,
        log_level: LogLevel,
    ) -> Self {
        Reloader {
            file,
            overrides,
            running,
            log_level,
        }
    }

    /// Re-reads the file and applies what it can; logs what it did and what needs a restart.
    pub fn reload(&mut self, board: &Board) {
        let Some(file) = &self.file else {
            tracing::info!(
                "SIGHUP: running on the embedded defaults (no --config); nothing to reload"
            );
            return;
        };
        let mut new = match Config::load(file) {
            Ok(config) => config,
            Err(error) => {
                tracing::error!(
                    "SIGHUP: {error}; the running configuration is unchanged, fix the file and \
                     send SIGHUP again"
                );
                return;
            }
        };
        self.overrides.apply(&mut new);
        if board.policy().bundle.is_some() {
            // A policy bundle is in force: tenants and budgets are its, not the file's.
            new.tenants = self.running.tenants.clone();
            new.budgets = self.running.budgets.clone();
        }
        let changes = changes(&self.running, &new);
        if let Some(level) = &changes.level {
            match self.log_level.set(crate::logging::parse_level(level)) {
                Ok(()) => tracing::info!(
                    from = %self.running.logging.level,
                    to = %level,
                    "SIGHUP: log level changed"
                ),
                Err(error) => tracing::error!(%error, "SIGHUP: changing the log level failed"),
            }
            self.running.logging.level = level.clone();
        }
        if !changes.quotas.is_empty() {
            for (old, fresh) in self.running.tenants.iter_mut().zip(&new.tenants) {
                old.rate_per_sec = fresh.rate_per_sec;
                old.burst = fresh.burst;
            }
            board.publish_quotas(
                self.running
                    .tenants
                    .iter()
                    .enumerate()
                    .map(|(slot, t)| Quota {
                        slot: TenantSlot(slot as u32),
                        rate_per_sec: t.rate_per_sec as u64,
                        burst: t.burst as u64,
                    })
                    .collect(),
            );
            for (tenant, rate, burst) in &changes.quotas {
                tracing::info!(
                    tenant,
                    rate_per_sec = rate,
                    burst,
                    "SIGHUP: admission quota changed"
                );
            }
        }
        if changes.need_restart.is_empty() {
            if changes.level.is_none() && changes.quotas.is_empty() {
                tracing::info!("SIGHUP: configuration reloaded; nothing changed");
            }
        } else {
            tracing::warn!(
                keys = %changes.need_restart.join(", "),
                "SIGHUP: these changes take effect only after a restart (`systemctl restart \
                 appliance`); the appliance keeps running with the old values"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(text: &str) -> Config {
        Config::parse(text, Path::new("a.toml")).expect("valid")
    }

    const BASE: &str = "[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\n";

    #[test]
    fn level_and_quotas_are_live_the_rest_needs_a_restart() {
        let running = parse(BASE);
        let new = parse(
            "[logging]\nlevel = \"debug\"\n[scheduling]\nbatch_max = 8\n\
             [[tenants]]\nid = \"a\"\nrate_per_sec = 5\nburst = 2\n\
             [[tenants]]\nid = \"b\"\nweight = 3\n",
        );
        let changes = changes(&running, &new);
        assert_eq!(changes.level.as_deref(), Some("debug"));
        assert_eq!(changes.quotas, vec![("a".to_owned(), 5, 2)]);
        assert_eq!(
            changes.need_restart,
            vec!["[scheduling]".to_owned(), "tenants[b].weight".to_owned()]
        );
        assert_eq!(super::changes(&running, &parse(BASE)), Changes::default());
    }

    #[test]
    fn a_changed_tenant_list_needs_a_restart() {
        let running = parse(BASE);
        let new = parse("[[tenants]]\nid = \"a\"\n");
        let changes = changes(&running, &new);
        assert!(changes.quotas.is_empty());
        assert_eq!(
            changes.need_restart,
            vec!["[[tenants]] (added, removed or reordered)".to_owned()]
        );
    }

    #[test]
    fn flags_keep_winning_over_the_file() {
        let mut new = parse("[server]\nshards = 4\n[logging]\nlevel = \"debug\"\n");
        Overrides {
            listen: None,
            admin_listen: None,
            shards: Some(2),
            log_level: Some(tracing::Level::WARN),
        }
        .apply(&mut new);
        assert_eq!(new.server.shards, 2);
        assert_eq!(new.logging.level, "warn");
    }
}
