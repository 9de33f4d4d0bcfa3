//! What the admin server sees of the compliance worker: its status, shared as a snapshot the
//! worker refreshes (the worker may be busy making a packet for minutes; a status question
//! never waits for it), and the one request it takes, "seal up to now".

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use tf_compliance::PacketInfo;

/// Where the compliance worker stands.
#[derive(Clone, Debug, Default)]
pub struct ComplianceStatus {
    /// The complete packets, oldest first.
    pub packets: Vec<PacketInfo>,
    /// The end of the period an operator asked to seal, until its packet is made.
    pub asked_to_us: Option<u64>,
    /// When the next scheduled period ends.
    pub next_scheduled_us: Option<u64>,
    /// What the worker waits for, if anything (the log to checkpoint past the period).
    pub waiting: Option<String>,
    /// The last failure to make or anchor a packet, cleared by the next packet made.
    pub last_error: Option<String>,
    /// Why pruning is stopped, if it is (a receipt no packet holds, a failing ledger);
    /// cleared by the next pruning turn that goes through.
    pub pruning_stopped: Option<String>,
    /// The oldest receipt the ledger still holds (sequence number, decision time).
    pub oldest_retained: Option<(u64, u64)>,
}

/// Why a snapshot cannot be asked for now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AskError {
    /// One is already asked for and not made yet.
    #[error("a snapshot up to {0} µs is already being made; wait for it to be listed")]
    AlreadyAsked(u64),
    /// The newest packet already ends at or after this moment.
    #[error("the newest snapshot already seals everything up to {0} µs")]
    AlreadySealed(u64),
}

/// The handle the admin server holds.
#[derive(Clone, Debug)]
pub struct ComplianceHandle {
    shared: Arc<Mutex<ComplianceStatus>>,
    packets_dir: PathBuf,
}

impl ComplianceHandle {
    pub(crate) fn new(packets_dir: PathBuf) -> Self {
        ComplianceHandle {
            shared: Arc::default(),
            packets_dir,
        }
    }

    /// The worker's status as last refreshed.
    pub fn status(&self) -> ComplianceStatus {
        self.lock().clone()
    }

    /// The folder packets are kept in.
    pub fn packets_dir(&self) -> &Path {
        &self.packets_dir
    }

    /// Asks for a snapshot sealing everything decided up to `now_us`: the period ends at the
    /// next whole second (packets are named by their end's second). The worker makes it once
    /// the period has settled. Returns the period's end.
    pub fn ask(&self, now_us: u64) -> Result<u64, AskError> {
        let to_us = now_us.div_ceil(1_000_000).saturating_mul(1_000_000);
        let mut status = self.lock();
        if let Some(asked) = status.asked_to_us {
            return Err(AskError::AlreadyAsked(asked));
        }
        let newest = status
            .packets
            .last()
            .and_then(|p| p.summary.as_ref().ok())
            .map(|s| s.to_unix_us);
        if let Some(newest) = newest.filter(|&newest| newest >= to_us) {
            return Err(AskError::AlreadySealed(newest));
        }
        status.asked_to_us = Some(to_us);
        Ok(to_us)
    }

    pub(crate) fn update(&self, change: impl FnOnce(&mut ComplianceStatus)) {
        change(&mut self.lock());
    }

    fn lock(&self) -> MutexGuard<'_, ComplianceStatus> {
        // The status is plain data replaced whole: a panic mid-update cannot leave it broken.
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
