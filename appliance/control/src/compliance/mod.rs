//! Compliance snapshots as a worker: at each end of a period of `[compliance] schedule` (and
//! when an operator asks) it seals the period into a packet ([`tf_compliance::make_snapshot`]),
//! anchors the packet's index digest in the ledger and so in the transparency log, removes
//! packets beyond `keep`, and prunes the ledger's receipts older than the retention that a
//! packet holds.
//!
//! It runs on an arbiter (a thread) of its own: making a packet of a long period takes
//! minutes, and only this worker waits for it. The admin server never asks it anything: it
//! reads the [`ComplianceHandle`] the worker refreshes.
//!
//! Nothing here is lost to a crash: a packet is renamed into place only once complete and
//! durable; a packet without its anchor record is anchored at the next turn (a crash between
//! storing the anchor and recording it anchors the same digest twice, which is harmless);
//! pruning deletes only what a complete packet holds, one short transaction at a time.

mod due;
mod handle;
mod retention;

use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tf_compliance::{
    AnchorRecord, PacketInfo, Period, PreviousSnapshot, SnapshotContext, SnapshotError,
    SnapshotRequest, make_snapshot, packet_info, packet_names, prune_packets, read_anchor,
    save_anchor,
};
use tf_config::Schedule;
use tf_ledger::Ledger;
use tf_log::LogDir;
use tf_receipts::ReceiptSigner;
use tf_seam::clock::unix_micros;
use tf_seam::{AnchorSender, Board};

pub use handle::{AskError, ComplianceHandle, ComplianceStatus};

use due::{Due, due};
use retention::{packets_to_keep, prune_turn};

/// How often the worker looks for work.
const TURN: Duration = Duration::from_secs(1);
/// How long an anchor may wait for the ledger thread.
const ANCHOR_WAIT: Duration = Duration::from_secs(10);
/// The longest wait after repeated failures to make a packet.
const MAX_BACKOFF_US: u64 = 300_000_000;
/// The label of an anchor receipt (its `reason`), followed by the packet's name.
pub const ANCHOR_LABEL: &str = "compliance-snapshot";

/// Everything the worker is made of.
pub struct CompliancePlan {
    /// Its own ledger connection: it reads the period's receipts and prunes.
    pub ledger: Box<dyn Ledger>,
    /// The transparency log's folder (checkpoint and tiles).
    pub log: LogDir,
    /// The appliance key, which signs each packet's index.
    pub signer: ReceiptSigner,
    /// Where packets are kept.
    pub packets_dir: PathBuf,
    /// `[compliance] schedule`.
    pub schedule: Schedule,
    /// `[compliance] keep`.
    pub keep: usize,
    /// `[ledger] retention`, microseconds.
    pub retention_us: u64,
    /// The longest budget window of the configured tenants (a bundle in force brings its own).
    pub configured_window_us: u64,
    /// How long after a period's end its packet is made: what was decided before the end has
    /// reached the ledger, and the log has checkpointed it.
    pub settle: Duration,
    /// To the ledger thread, for anchors; `None` stores none (tests).
    pub anchors: Option<AnchorSender>,
    /// Workers that follow the ledger: nothing they have not handled is pruned.
    pub followers: Vec<&'static str>,
    /// What the appliance says of itself in each packet (version, bundle, configuration,
    /// preflight), asked when a packet is made.
    pub context: Box<dyn Fn() -> SnapshotContext + Send>,
    /// The board: the bundle in force, for its budget windows.
    pub board: Arc<Board>,
}

/// The worker.
pub struct Compliance {
    plan: CompliancePlan,
    handle: ComplianceHandle,
    /// Consecutive failures to make a packet, and when to try again.
    failures: u32,
    retry_at_us: u64,
}

impl std::fmt::Debug for Compliance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compliance")
            .field("packets_dir", &self.plan.packets_dir)
            .field("schedule", &self.plan.schedule.as_str())
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

impl Compliance {
    /// The worker and the handle the admin server reads; creates the packets folder.
    pub fn new(plan: CompliancePlan) -> Result<(Self, ComplianceHandle), String> {
        // Owner-only: pruned receipts' only copy is here.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&plan.packets_dir)
            .map_err(|e| {
                format!(
                    "creating the compliance snapshots folder {} ([compliance] dir): {e}",
                    plan.packets_dir.display()
                )
            })?;
        let handle = ComplianceHandle::new(plan.packets_dir.clone());
        let worker = Compliance {
            plan,
            handle: handle.clone(),
            failures: 0,
            retry_at_us: 0,
        };
        worker.refresh();
        Ok((worker, handle))
    }

    /// Its status as the admin server sees it.
    pub fn handle_status(&self) -> ComplianceStatus {
        self.handle.status()
    }

    /// Starts it on `arbiter`, a thread of its own.
    pub fn start_on(self, arbiter: &ArbiterHandle) -> Addr<Self> {
        Compliance::start_in_arbiter(arbiter, move |_| self)
    }

    /// One turn: a due packet, missing anchors, pruning, then packets beyond `keep`.
    pub fn turn(&mut self, now_us: u64) {
        if now_us >= self.retry_at_us {
            match self.make_due(now_us) {
                Ok(()) => {}
                Err(why) => self.failed(now_us, why),
            }
        }
        if let Err(why) = self.anchor_missing() {
            tracing::warn!("anchoring a compliance snapshot failed, retrying: {why}");
        }
        let pruning = self.retain(now_us).err();
        let before = self.handle.status().pruning_stopped;
        if pruning != before {
            // Logged when it changes, not every turn.
            match &pruning {
                Some(why) => tracing::warn!("pruning sealed receipts stopped: {why}"),
                None => tracing::info!("pruning sealed receipts goes on"),
            }
            self.handle
                .update(|status| status.pruning_stopped = pruning);
        }
        self.refresh();
    }

    /// Makes the packet of the due period, if one is due.
    fn make_due(&mut self, now_us: u64) -> Result<(), String> {
        let status = self.handle.status();
        let newest = status.packets.last();
        let newest_to = match newest.map(|p| &p.summary) {
            Some(Ok(summary)) => Some(summary.to_unix_us),
            Some(Err(why)) => {
                return Err(format!(
                    "the newest snapshot {} does not open ({why}); move it aside to go on",
                    newest.map_or("", |p| p.name.as_str())
                ));
            }
            None => None,
        };
        let settle_us = self.plan.settle.as_micros() as u64;
        let Some(Due {
            from_us,
            mut to_us,
            asked,
        }) = due(
            &self.plan.schedule,
            newest_to,
            status.asked_to_us,
            now_us,
            settle_us,
        )
        else {
            return Ok(());
        };
        if newest.is_none() && !asked && !self.has_receipts_before(to_us)? {
            // A new appliance: nothing to seal before the schedule's last firing, and no packet
            // of nothing. An operator's request after that firing is made all the same (else
            // the empty scheduled period would stand before it for ever).
            let ready_us = now_us.saturating_sub(settle_us);
            match status
                .asked_to_us
                .filter(|&asked_to| asked_to > to_us && asked_to <= ready_us)
            {
                Some(asked_to) => to_us = asked_to,
                None => return Ok(()),
            }
        }
        let previous = match newest {
            Some(packet) => {
                Some(PreviousSnapshot::from_packet(&packet.path).map_err(|e| e.to_string())?)
            }
            None => None,
        };
        let period = Period::new(from_us, to_us).map_err(|e| e.to_string())?;
        let made = make_snapshot(SnapshotRequest {
            ledger: self.plan.ledger.as_ref(),
            log: &self.plan.log,
            signer: &mut self.plan.signer,
            packets_dir: &self.plan.packets_dir,
            period,
            now_us,
            context: (self.plan.context)(),
            previous,
        });
        match made {
            Ok(snapshot) => {
                tracing::info!(
                    snapshot = %snapshot.name,
                    receipts = snapshot.summary.receipts,
                    tree_size = snapshot.summary.log.tree_size,
                    index_sha256 = %snapshot.index_sha256,
                    "compliance snapshot made"
                );
                self.failures = 0;
                self.handle.update(|status| {
                    if status.asked_to_us.is_some_and(|asked| asked <= to_us) {
                        status.asked_to_us = None;
                    }
                    status.waiting = None;
                    status.last_error = None;
                });
                self.refresh();
                Ok(())
            }
            Err(SnapshotError::NotYetLogged { seq, tree_size }) => {
                self.handle.update(|status| {
                    status.waiting = Some(format!(
                        "the transparency log's checkpoint covers {tree_size} entries; receipt \
                         {seq} must be in it before the period is sealed"
                    ));
                });
                Ok(())
            }
            Err(error) => Err(error.to_string()),
        }
    }

    /// Whether the ledger holds a receipt decided before `to_us` (or ever pruned one).
    fn has_receipts_before(&self, to_us: u64) -> Result<bool, String> {
        let ledger = self.plan.ledger.as_ref();
        let oldest = ledger.oldest_retained().map_err(|e| e.to_string())?;
        let pruned = ledger.pruned_ranges().map_err(|e| e.to_string())?;
        Ok(oldest.is_some_and(|(_, decided_us)| decided_us < to_us) || !pruned.is_empty())
    }

    /// Anchors every packet without an anchor record, oldest first.
    fn anchor_missing(&mut self) -> Result<(), String> {
        let Some(anchors) = &self.plan.anchors else {
            return Ok(());
        };
        let packets = self.handle.status().packets;
        for packet in packets
            .iter()
            .filter(|p| p.anchor.is_none() && p.summary.is_ok())
        {
            let label = format!("{ANCHOR_LABEL} {}", packet.name);
            let anchored = anchors
                .anchor(packet.index_sha256.0, &label, ANCHOR_WAIT)
                .map_err(|e| e.to_string())?;
            save_anchor(
                &self.plan.packets_dir,
                &packet.name,
                &AnchorRecord {
                    seq: anchored.seq,
                    envelope: anchored.envelope_json,
                },
            )
            .map_err(|e| e.to_string())?;
            tracing::info!(snapshot = %packet.name, seq = anchored.seq, "compliance snapshot anchored in the log");
        }
        Ok(())
    }

    /// Prunes sealed receipts past the retention, then packets beyond `keep`.
    fn retain(&mut self, now_us: u64) -> Result<(), String> {
        let packets = self.handle.status().packets;
        let cutoff_us = now_us.saturating_sub(self.retention_us());
        let through_seq = self.followers_handled()?;
        let turn = prune_turn(
            self.plan.ledger.as_mut(),
            &packets,
            cutoff_us,
            through_seq,
            now_us,
        )
        .map_err(|e| e.to_string())?;
        if turn.deleted > 0 {
            tracing::debug!(
                deleted = turn.deleted,
                more = turn.more,
                "sealed receipts pruned"
            );
        }
        let oldest = self
            .plan
            .ledger
            .oldest_retained()
            .map_err(|e| e.to_string())?;
        // Webhook messages whose receipts are gone: their acknowledgements are in the packets.
        if let Some((oldest_seq, _)) = oldest {
            let deleted = self
                .plan
                .ledger
                .prune_webhook_messages(oldest_seq)
                .map_err(|e| e.to_string())?;
            if deleted > 0 {
                tracing::debug!(deleted, "webhook messages of pruned receipts deleted");
            }
        }
        let keep = packets_to_keep(&packets, self.plan.keep, oldest.map(|(seq, _)| seq));
        if keep < packets.len() {
            let removed = prune_packets(&self.plan.packets_dir, keep).map_err(|e| e.to_string())?;
            tracing::info!(
                ?removed,
                keep = self.plan.keep,
                "old compliance snapshots removed"
            );
        }
        if let Some((seq, decided_us)) = turn.unsealed {
            return Err(format!(
                "receipt {seq}, decided at {decided_us} µs, reached the ledger after the \
                 snapshot of its period was made and is in no snapshot: pruning stops before it \
                 (export it with `appliance evidence export` and report it)"
            ));
        }
        Ok(())
    }

    /// The retention, or the longest budget window in force if longer: budgets are rebuilt
    /// from the receipts kept.
    fn retention_us(&self) -> u64 {
        let policy = self.plan.board.policy();
        let window_us = match &policy.bundle {
            Some(bundle) => tf_config::longest_window_us(&bundle.content.tenants),
            None => self.plan.configured_window_us,
        };
        self.plan.retention_us.max(window_us)
    }

    /// The last sequence number every follower has handled.
    fn followers_handled(&self) -> Result<u64, String> {
        // The board's watermark: this connection's `next_seq` is only known to the appender.
        let mut through = self.plan.board.committed();
        for follower in &self.plan.followers {
            let cursor = self
                .plan
                .ledger
                .cursor(follower)
                .map_err(|e| e.to_string())?;
            through = through.min(cursor);
        }
        let webhooks = self.plan.ledger.webhook_hold().map_err(|e| e.to_string())?;
        Ok(webhooks.map_or(through, |hold| through.min(hold)))
    }

    fn failed(&mut self, now_us: u64, why: String) {
        self.failures = self.failures.saturating_add(1);
        let backoff_us = (1_000_000u64 << self.failures.min(16)).min(MAX_BACKOFF_US);
        self.retry_at_us = now_us + backoff_us;
        tracing::warn!(
            failures = self.failures,
            retry_in_s = backoff_us / 1_000_000,
            "making a compliance snapshot failed: {why}"
        );
        self.handle.update(|status| status.last_error = Some(why));
    }

    /// Re-reads the packets folder (only packets not seen before are opened and measured) and
    /// the ledger's oldest receipt into the handle.
    fn refresh(&self) {
        let packets = self.read_packets();
        let oldest = self.plan.ledger.oldest_retained();
        let next = self.plan.schedule.next_after(unix_micros());
        self.handle.update(|status| {
            match packets {
                Ok(packets) => status.packets = packets,
                Err(error) => status.last_error = Some(error.to_string()),
            }
            if let Ok(oldest) = oldest {
                status.oldest_retained = oldest;
            }
            status.next_scheduled_us = next;
        });
    }

    fn read_packets(&self) -> Result<Vec<PacketInfo>, SnapshotError> {
        let known = self.handle.status().packets;
        let key = self.plan.signer.public_key();
        let dir = &self.plan.packets_dir;
        packet_names(dir)?
            .into_iter()
            .map(|name| match known.iter().find(|p| p.name == name) {
                Some(packet) if packet.anchor.is_some() => Ok(packet.clone()),
                Some(packet) => Ok(PacketInfo {
                    anchor: read_anchor(dir, &name)?,
                    ..packet.clone()
                }),
                None => packet_info(dir, name, &key),
            })
            .collect()
    }
}

impl Actor for Compliance {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(crate::worker::MAILBOX);
        ctx.run_interval(TURN, |worker, _| worker.turn(unix_micros()));
    }
}
