//! The partner desk: requests partners make on the QUIC port that the control plane answers,
//! handed from the shard that took them: invites redeemed (onboarding, which puts the tenant
//! in force and certifies its key) and terms requests (which may put new terms in force).
//!
//! The shards hold the [`PartnerDesk`]: it limits onboarding attempts per source address (an
//! invite is a secret, so guessing at them is throttled where they arrive) and hands a request
//! over a bounded channel; a full channel is answered busy, never waited on. The control plane
//! takes requests from the [`PartnerInbox`] one at a time and answers each on its own channel,
//! which the shard polls: these requests are rare, and their answers wait for a bundle switch.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel,
};
use std::time::{Duration, Instant};

use tf_wire::{ChecklistQuery, ErrorCode, EvidencePreviewQuery, Message, Onboard, TermsRequest};

use crate::support::SupportLine;

/// Requests that may wait for the control plane.
pub const DESK_QUEUE: usize = 8;
/// When to retry an onboarding refused because the queue was full: about one switch.
pub const DESK_BUSY_MS: u32 = 1000;

/// How many attempts a source may make at once, and how fast it earns more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceLimit {
    /// Attempts a source may make in a burst.
    pub burst: u32,
    /// One more attempt is earned every this long.
    pub every: Duration,
    /// Sources tracked at once; past it, a source not tracked yet is refused until others'
    /// buckets refill (so a spray of addresses cannot grow the table).
    pub max_sources: usize,
}

impl SourceLimit {
    /// Five attempts, then one a minute: enough for a partner's typing mistakes, far too few
    /// to guess a 128-bit secret.
    pub const DEFAULT: SourceLimit = SourceLimit {
        burst: 5,
        every: Duration::from_secs(60),
        max_sources: 4096,
    };
}

/// What a partner asks the control plane.
#[derive(Debug)]
pub enum DeskRequest {
    /// Redeem an invite (on the onboarding protocol: no tenant yet).
    Onboard(Onboard),
    /// New terms for `tenant` (from its client certificate, never from the request).
    Terms {
        /// The tenant asking.
        tenant: String,
        /// What it asks for.
        request: TermsRequest,
    },
    /// `tenant`'s onboarding checklist.
    Checklist {
        /// The tenant asking.
        tenant: String,
        /// The receipts it names.
        query: ChecklistQuery,
    },
    /// A preview of `tenant`'s evidence bundle.
    EvidencePreview {
        /// The tenant asking.
        tenant: String,
        /// The sandbox receipts it names.
        query: EvidencePreviewQuery,
    },
}

impl DeskRequest {
    /// The partner's request id, echoed in the answer.
    pub fn request_id(&self) -> u64 {
        match self {
            DeskRequest::Onboard(onboard) => onboard.request_id,
            DeskRequest::Terms { request, .. } => request.request_id,
            DeskRequest::Checklist { query, .. } => query.request_id,
            DeskRequest::EvidencePreview { query, .. } => query.request_id,
        }
    }
}

/// A request with where it came from and where its answer goes.
#[derive(Debug)]
pub struct DeskAsk {
    /// The request.
    pub request: DeskRequest,
    /// The address it came from (for the log).
    pub source: IpAddr,
    /// Where the answer goes: the message to send, or the error.
    pub reply: SyncSender<Result<Message, ErrorCode>>,
}

/// The shards' side: the per-source limit and the channel to the control plane.
#[derive(Debug)]
pub struct PartnerDesk {
    sender: SyncSender<DeskAsk>,
    limit: SourceLimit,
    sources: Mutex<HashMap<IpAddr, Bucket>>,
    support: SupportLine,
}

/// The control plane's side.
#[derive(Debug)]
pub struct PartnerInbox {
    asks: Receiver<DeskAsk>,
    support: SupportLine,
}

/// What the desk has next.
#[derive(Debug)]
pub enum Next {
    /// A request to answer.
    Ask(DeskAsk),
    /// None came in the time given: a moment to take the failed steps reported.
    Idle,
    /// Every shard let go of the desk.
    Closed,
}

/// An answer on its way.
#[derive(Debug)]
pub struct PendingAnswer(Receiver<Result<Message, ErrorCode>>);

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A bounded onboarding channel limiting each source as `limit` says.
pub fn partner_desk(limit: SourceLimit) -> (PartnerDesk, PartnerInbox) {
    let (sender, receiver) = sync_channel(DESK_QUEUE);
    let support = SupportLine::default();
    let desk = PartnerDesk {
        sender,
        limit,
        sources: Mutex::new(HashMap::new()),
        support: support.clone(),
    };
    let inbox = PartnerInbox {
        asks: receiver,
        support,
    };
    (desk, inbox)
}

impl PartnerDesk {
    /// Where shards report partners' failed steps.
    pub fn support(&self) -> &SupportLine {
        &self.support
    }

    /// Takes one attempt from `source`'s allowance at `now`; when it has none, how long until
    /// it has one, milliseconds.
    pub fn admit_source(&self, source: IpAddr, now: Instant) -> Result<(), u64> {
        let limit = self.limit;
        let key = source_key(source);
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        if !sources.contains_key(&key) && sources.len() >= limit.max_sources {
            // Full buckets say nothing a missing entry would not: forget them.
            sources.retain(|_, bucket| refilled(bucket, &limit, now) < f64::from(limit.burst));
            if sources.len() >= limit.max_sources {
                return Err(limit.every.as_millis() as u64);
            }
        }
        let bucket = sources.entry(key).or_insert(Bucket {
            tokens: f64::from(limit.burst),
            at: now,
        });
        bucket.tokens = refilled(bucket, &limit, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let missing = 1.0 - bucket.tokens;
        Err((missing * limit.every.as_secs_f64() * 1000.0).ceil() as u64)
    }

    /// Hands a request to the control plane; `Err` says why it was not (the answer to send at
    /// once).
    pub fn ask(&self, request: DeskRequest, source: IpAddr) -> Result<PendingAnswer, NotAsked> {
        let (reply, answer) = sync_channel(1);
        let ask = DeskAsk {
            request,
            source,
            reply,
        };
        match self.sender.try_send(ask) {
            Ok(()) => Ok(PendingAnswer(answer)),
            Err(TrySendError::Full(_)) => Err(NotAsked::Busy),
            Err(TrySendError::Disconnected(_)) => Err(NotAsked::Stopped),
        }
    }
}

/// Why a request was not handed to the control plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAsked {
    /// [`DESK_QUEUE`] requests wait already.
    Busy,
    /// The control plane is not taking requests (the appliance is stopping).
    Stopped,
}

impl From<NotAsked> for ErrorCode {
    fn from(refused: NotAsked) -> Self {
        match refused {
            NotAsked::Busy => ErrorCode::Busy {
                retry_after_ms: DESK_BUSY_MS,
            },
            NotAsked::Stopped => ErrorCode::ShuttingDown,
        }
    }
}

impl PendingAnswer {
    /// The answer, once there is one (never blocks); the control plane gone is answered as
    /// shutting down.
    pub fn try_take(&self) -> Option<Result<Message, ErrorCode>> {
        match self.0.try_recv() {
            Ok(answer) => Some(answer),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(ErrorCode::ShuttingDown)),
        }
    }
}

impl PartnerInbox {
    /// The next request, waiting for one at most `wait`.
    pub fn next(&self, wait: Duration) -> Next {
        match self.asks.recv_timeout(wait) {
            Ok(ask) => Next::Ask(ask),
            Err(RecvTimeoutError::Timeout) => Next::Idle,
            Err(RecvTimeoutError::Disconnected) => Next::Closed,
        }
    }

    /// The failed steps the shards reported.
    pub fn support(&self) -> &SupportLine {
        &self.support
    }
}

/// IPv6 sources are counted by their /64: one host usually holds a whole one.
fn source_key(source: IpAddr) -> IpAddr {
    match source {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::V6(octets.into())
            }
        },
        v4 => v4,
    }
}

fn refilled(bucket: &Bucket, limit: &SourceLimit, now: Instant) -> f64 {
    let earned = now.saturating_duration_since(bucket.at).as_secs_f64() / limit.every.as_secs_f64();
    (bucket.tokens + earned).min(f64::from(limit.burst))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn onboard() -> DeskRequest {
        DeskRequest::Onboard(Onboard {
            request_id: 1,
            invite_id: 2,
            secret: [3; 16],
            tenant: "initech".into(),
            csr: vec![0x30],
        })
    }

    #[test]
    fn a_source_gets_its_burst_then_one_attempt_per_period() {
        let limit = SourceLimit {
            burst: 3,
            every: Duration::from_secs(10),
            max_sources: 2,
        };
        let (desk, _inbox) = partner_desk(limit);
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(desk.admit_source(a, t0), Ok(()));
        }
        assert_eq!(desk.admit_source(a, t0), Err(10_000));
        assert_eq!(
            desk.admit_source(a, t0 + Duration::from_secs(4)),
            Err(6_000)
        );
        assert_eq!(desk.admit_source(a, t0 + Duration::from_secs(10)), Ok(()));
        // Another host of the same IPv6 /64 shares its allowance; another /64 does not.
        let b: IpAddr = "2001:db8::1".parse().expect("ip");
        let b2: IpAddr = "2001:db8::2".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(desk.admit_source(b, t0), Ok(()));
        }
        assert!(desk.admit_source(b2, t0).is_err(), "same /64");
        // The table is full (two sources): a third is refused until a bucket refills.
        let c: IpAddr = "198.51.100.7".parse().expect("ip");
        assert!(desk.admit_source(c, t0).is_err());
        assert_eq!(desk.admit_source(c, t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn a_full_queue_is_answered_busy_and_answers_come_back() {
        let (desk, inbox) = partner_desk(SourceLimit::DEFAULT);
        let source: IpAddr = "192.0.2.1".parse().expect("ip");
        let pending = desk.ask(onboard(), source).expect("queued");
        assert_eq!(pending.try_take(), None, "not answered yet");
        let Next::Ask(ask) = inbox.next(Duration::ZERO) else {
            panic!("a request");
        };
        assert_eq!(ask.request.request_id(), 1);
        ask.reply
            .send(Err(ErrorCode::Internal))
            .expect("the shard waits");
        assert_eq!(pending.try_take(), Some(Err(ErrorCode::Internal)));
        assert!(matches!(inbox.next(Duration::ZERO), Next::Idle));
        let mut kept = Vec::new();
        let refused = loop {
            match desk.ask(onboard(), source) {
                Ok(pending) => kept.push(pending),
                Err(code) => break code,
            }
        };
        assert_eq!(kept.len(), DESK_QUEUE);
        assert_eq!(refused, NotAsked::Busy);
        drop(inbox);
        assert_eq!(kept[0].try_take(), Some(Err(ErrorCode::ShuttingDown)));
    }
}
