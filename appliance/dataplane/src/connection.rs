//! One partner connection on a shard: its QUIC state, its tenant, and its request streams.
//! A request is one bidirectional stream: the partner writes one frame and finishes; the
//! appliance answers with one frame and finishes.

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use quinn_proto::{Connection, ReadError, StreamId, VarInt, WriteError};
use tf_shard::TenantSlot;
use tf_wire::{FrameHeader, HEADER_BYTES, WireError, WireLimits};

/// Stream error code sent with STOP_SENDING when a request is refused before its body is read.
const STOP_REFUSED: u32 = 1;

/// A request stream's progress.
#[derive(Debug)]
pub enum Stream {
    /// Reading the request frame, which must be whole by the deadline.
    Reading {
        /// What arrived so far.
        buffer: Vec<u8>,
        /// When the request stops being waited for.
        deadline: Instant,
    },
    /// The request is being verified.
    Waiting,
    /// Writing the answer.
    Writing {
        /// The answer frame.
        frame: Vec<u8>,
        /// Bytes handed to QUIC so far.
        sent: usize,
    },
    /// Answer written and finished; waiting for the partner to acknowledge it.
    Finishing,
}

/// What reading a stream produced.
#[derive(Debug)]
pub enum ReadOutcome {
    /// More to come (or nothing to do).
    Pending,
    /// A whole frame arrived.
    Frame(Vec<u8>),
    /// The frame is refused before the end of its body arrived (bad header, oversize).
    Refused(WireError),
    /// The connection or its tenant holds as many partial request bytes as it may; the stream
    /// was stopped and its bytes let go.
    OverHeld,
}

/// A connection and its streams.
#[derive(Debug)]
pub struct Conn {
    /// quinn's connection state.
    pub quic: Connection,
    /// Distinguishes this connection from a later one reusing its handle.
    pub generation: u64,
    /// The tenant, once the handshake completed and its certificate named one.
    pub tenant: Option<TenantSlot>,
    /// On the onboarding protocol: no tenant, one `Onboard` request.
    pub onboarding: bool,
    /// Its `Onboard` request was taken.
    pub onboard_taken: bool,
    /// Request streams in progress.
    pub streams: HashMap<StreamId, Stream>,
    /// Requests dispatched for verification and not yet answered.
    pub in_flight: usize,
    /// When quinn wants `handle_timeout` next (cached after each poll).
    pub timeout: Option<Instant>,
    /// The earliest of the handshake's and the reading streams' deadlines (cached after each
    /// poll).
    pub deadline: Option<Instant>,
    /// Until the handshake identifies a tenant: when it is given up.
    pub handshake_deadline: Option<Instant>,
    /// Bytes held in streams still being read.
    pub partial_bytes: usize,
    /// The most it may hold.
    partial_limit: usize,
    /// Queued for the next poll.
    pub dirty: bool,
}

impl Conn {
    /// A newly accepted connection, which must identify a tenant by `handshake_deadline` and
    /// may hold `partial_limit` bytes of requests still arriving.
    pub fn new(
        quic: Connection,
        generation: u64,
        handshake_deadline: Instant,
        partial_limit: usize,
    ) -> Self {
        Conn {
            quic,
            generation,
            tenant: None,
            onboarding: false,
            onboard_taken: false,
            streams: HashMap::new(),
            in_flight: 0,
            timeout: None,
            deadline: Some(handshake_deadline),
            handshake_deadline: Some(handshake_deadline),
            partial_bytes: 0,
            partial_limit,
            dirty: true,
        }
    }

    /// A request stream opened; its request must be whole by `deadline`.
    pub fn open_stream(&mut self, id: StreamId, deadline: Instant) {
        self.streams.insert(
            id,
            Stream::Reading {
                buffer: Vec::new(),
                deadline,
            },
        );
    }

    /// Forgets a stream (finished, stopped or reset by the partner).
    pub fn remove_stream(&mut self, id: StreamId) {
        let removed = self.streams.remove(&id);
        self.release(removed.as_ref());
    }

    /// Puts a stream in a new state, letting go of a partial request it held.
    fn set_stream(&mut self, id: StreamId, stream: Stream) -> Option<Stream> {
        let previous = self.streams.insert(id, stream);
        self.release(previous.as_ref());
        previous
    }

    fn release(&mut self, stream: Option<&Stream>) {
        if let Some(Stream::Reading { buffer, .. }) = stream {
            self.partial_bytes = self.partial_bytes.saturating_sub(buffer.len());
        }
    }

    /// Stops the streams whose request did not arrive whole in time; returns them, to be
    /// answered.
    pub fn expire_reads(&mut self, now: Instant) -> Vec<StreamId> {
        let expired: Vec<StreamId> = self
            .streams
            .iter()
            .filter(|(_, s)| matches!(s, Stream::Reading { deadline, .. } if *deadline <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in &expired {
            let _ = self
                .quic
                .recv_stream(*id)
                .stop(VarInt::from_u32(STOP_REFUSED));
        }
        expired
    }

    /// Recomputes [`Conn::deadline`].
    pub fn refresh_deadline(&mut self) {
        let reads = self.streams.values().filter_map(|s| match s {
            Stream::Reading { deadline, .. } => Some(*deadline),
            _ => None,
        });
        self.deadline = reads.chain(self.handshake_deadline).min();
    }

    /// Reads what arrived on a request stream. The header is checked as soon as it is complete,
    /// so an oversize or foreign frame is refused before its body is buffered.
    /// `tenant_room` is what the connection's tenant may still add over all its connections;
    /// it is reduced by what this read keeps.
    pub fn read(
        &mut self,
        id: StreamId,
        limits: &WireLimits,
        tenant_room: &mut usize,
    ) -> ReadOutcome {
        let Some(Stream::Reading { buffer, .. }) = self.streams.get_mut(&id) else {
            return ReadOutcome::Pending;
        };
        let mut recv = self.quic.recv_stream(id);
        let Ok(mut chunks) = recv.read(true) else {
            self.remove_stream(id);
            return ReadOutcome::Pending;
        };
        let mut finished = false;
        let mut reset = false;
        let mut refused = None;
        let mut over_held = false;
        loop {
            match chunks.next(usize::MAX) {
                Ok(Some(chunk)) => {
                    let n = chunk.bytes.len();
                    if self.partial_bytes + n > self.partial_limit || n > *tenant_room {
                        over_held = true;
                        break;
                    }
                    buffer.extend_from_slice(&chunk.bytes);
                    self.partial_bytes += n;
                    *tenant_room -= n;
                    if let Err(e) = check_so_far(buffer, limits) {
                        refused = Some(e);
                        break;
                    }
                }
                Ok(None) => {
                    finished = true;
                    break;
                }
                Err(ReadError::Blocked) => break,
                Err(ReadError::Reset(_)) => {
                    reset = true;
                    break;
                }
            }
        }
        // Whether flow-control credit must be sent is picked up by the next poll_transmit.
        let _ = chunks.finalize();
        if reset {
            self.remove_stream(id);
            return ReadOutcome::Pending;
        }
        if refused.is_some() || over_held {
            let _ = self
                .quic
                .recv_stream(id)
                .stop(VarInt::from_u32(STOP_REFUSED));
        }
        if let Some(error) = refused {
            return ReadOutcome::Refused(error);
        }
        if over_held {
            return ReadOutcome::OverHeld;
        }
        if !finished {
            return ReadOutcome::Pending;
        }
        match self.set_stream(id, Stream::Waiting) {
            Some(Stream::Reading { buffer, .. }) => ReadOutcome::Frame(buffer),
            _ => ReadOutcome::Pending,
        }
    }

    /// Starts answering a stream (dropped if the partner stopped or reset it meanwhile).
    pub fn answer(&mut self, id: StreamId, frame: Vec<u8>) {
        if self.streams.contains_key(&id) {
            self.set_stream(id, Stream::Writing { frame, sent: 0 });
            self.write(id);
        }
    }

    /// Writes as much of an answer as flow control allows, then finishes the stream.
    pub fn write(&mut self, id: StreamId) {
        let Some(Stream::Writing { frame, sent }) = self.streams.get_mut(&id) else {
            return;
        };
        let mut send = self.quic.send_stream(id);
        while *sent < frame.len() {
            match send.write(&frame[*sent..]) {
                Ok(n) => *sent += n,
                Err(WriteError::Blocked) => return,
                Err(_) => {
                    self.remove_stream(id);
                    return;
                }
            }
        }
        let _ = send.finish();
        self.streams.insert(id, Stream::Finishing);
    }

    /// Whether every answer was written and acknowledged and nothing is being verified.
    pub fn quiescent(&self) -> bool {
        self.in_flight == 0
            && self
                .streams
                .values()
                .all(|s| matches!(s, Stream::Reading { .. }))
    }

    /// Closes the connection with an application code and reason. The caller polls it
    /// afterwards (it is being polled, or marks it dirty), so the close goes out and its
    /// timers keep running until it is drained.
    pub fn close(&mut self, now: Instant, code: u32, reason: &str) {
        self.quic.close(
            now,
            VarInt::from_u32(code),
            Bytes::copy_from_slice(reason.as_bytes()),
        );
    }
}

/// Checks a partially read frame: the header once it is complete, and that no more than the
/// header's length arrives.
fn check_so_far(buffer: &[u8], limits: &WireLimits) -> Result<(), WireError> {
    if buffer.len() < HEADER_BYTES {
        return Ok(());
    }
    let header = FrameHeader::parse(buffer, limits)?;
    if buffer.len() > HEADER_BYTES + header.body_len {
        return Err(WireError::Malformed);
    }
    Ok(())
}
