//! The appliance's log: `tracing` events (and `log` records from dependencies) to stderr as
//! readable text or JSON lines, or to the journal with native fields. The level can change
//! while running (SIGHUP).

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry, reload};

type Filtered = Layered<reload::Layer<LevelFilter, Registry>, Registry>;

/// Changes the level of the running log.
#[derive(Debug)]
pub struct LogLevel {
    handle: reload::Handle<LevelFilter, Registry>,
}

impl LogLevel {
    /// Switches to `level`.
    pub fn set(&self, level: LevelFilter) -> Result<(), String> {
        self.handle.reload(level).map_err(|e| e.to_string())
    }
}

/// Parses a configured level (validated by the configuration already).
pub fn parse_level(level: &str) -> LevelFilter {
    level.parse().unwrap_or(LevelFilter::INFO)
}

/// Installs the process-wide log. `format` is `text`, `json` or `journald`; without a journal
/// to write to, `journald` falls back to text on stderr and says so.
pub fn init(level: LevelFilter, format: &str) -> LogLevel {
    let (filter, handle) = reload::Layer::new(level);
    let mut fallback = None;
    let output: Box<dyn Layer<Filtered> + Send + Sync> = match format {
        "json" => Box::new(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::stderr)
                .with_current_span(false)
                .with_span_list(false)
                .with_thread_names(true),
        ),
        "journald" => match tracing_journald::layer() {
            // Fields as TENANT=, SHARD=, ... (none of ours clash with the journal's own).
            Ok(journal) => Box::new(
                journal
                    .with_syslog_identifier("trust-fabric".into())
                    .with_field_prefix(None),
            ),
            Err(error) => {
                fallback = Some(error);
                text()
            }
        },
        _ => text(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .init();
    if let Some(error) = fallback {
        tracing::warn!(
            %error,
            "logging.format = \"journald\" but the journal cannot be reached; logging text to \
             stderr instead"
        );
    }
    LogLevel { handle }
}

fn text() -> Box<dyn Layer<Filtered> + Send + Sync> {
    Box::new(
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
    )
}
