//! `appliance compliance snapshot`: asks for a snapshot up to now, then polls the listing until
//! the packet is there (the worker makes it once the period has settled, a few seconds).

use std::time::{Duration, Instant};

use tf_admin_api::{Operation, SnapshotAsked, SnapshotsReply};

use super::{AdminApi, Failure, utc};
use crate::output;

/// How often the listing is read while waiting.
const POLL: Duration = Duration::from_secs(1);

/// Asks, and unless `no_wait`, waits up to `timeout` for the packet. With `json`, prints only
/// the reply asking got (`no_wait`), or the packet's entry in the listing.
pub(super) fn run(
    api: &AdminApi,
    no_wait: bool,
    timeout: Duration,
    json: bool,
) -> Result<(), Failure> {
    let asked: SnapshotAsked =
        api.call(Operation::AskSnapshot, Operation::AskSnapshot.route().path)?;
    if json && no_wait {
        return print_json(&asked);
    }
    if !json {
        output::line(format!(
            "asked for {}: everything decided before {}",
            asked.name, asked.to
        ));
    }
    if no_wait {
        output::line("`appliance compliance list` lists it once made");
        return Ok(());
    }
    let deadline = Instant::now() + timeout;
    loop {
        let listed: SnapshotsReply =
            api.call(Operation::Snapshots, Operation::Snapshots.route().path)?;
        if let Some(entry) = listed.snapshots.iter().find(|s| s.name == asked.name) {
            if json {
                return print_json(entry);
            }
            output::line(format!("made {}: {}", entry.name, entry.path));
            let counts = match &entry.summary {
                Some(summary) => format!(
                    ", {} receipt(s) of {} tenant(s) from {} to {}, log tree size {}",
                    summary.receipts,
                    summary.tenants.len(),
                    summary.from,
                    summary.to,
                    summary.tree_size
                ),
                None => String::new(),
            };
            output::line(format!("status: {}{counts}", entry.status));
            output::line(format!("index sha256: {}", entry.index_sha256));
            return Ok(());
        }
        if Instant::now() >= deadline {
            let worker = &listed.worker;
            let mut why = String::new();
            if let Some(waiting) = &worker.waiting {
                why.push_str(&format!("; the worker is waiting: {waiting}"));
            }
            if let Some(error) = &worker.last_error {
                why.push_str(&format!("; its last failure: {error}"));
            }
            if worker.asked_to_unix_us.is_none() {
                why.push_str("; it no longer lists the request (was the appliance restarted?)");
            }
            return Err(Failure::Failed(format!(
                "{} was not made within {} s{why}; `appliance compliance list` shows it once \
                 made{}",
                asked.name,
                timeout.as_secs(),
                match worker.asked_to_unix_us {
                    Some(to_us) => format!(" (asked up to {})", utc(to_us)),
                    None => String::new(),
                }
            )));
        }
        std::thread::sleep(POLL);
    }
}

fn print_json(reply: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(reply).map_err(|e| Failure::Failed(e.to_string()))?;
    output::line(text);
    Ok(())
}
