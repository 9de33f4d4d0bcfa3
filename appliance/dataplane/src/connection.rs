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
    /// Reading the request frame.
    Reading(Vec<u8>),
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
    /// Request streams in progress.
    pub streams: HashMap<StreamId, Stream>,
    /// Requests dispatched for verification and not yet answered.
    pub in_flight: usize,
    /// When quinn wants `handle_timeout` next (cached after each poll).
    pub timeout: Option<Instant>,
    /// Queued for the next poll.
    pub dirty: bool,
}

impl Conn {
    /// A newly accepted connection.
    pub fn new(quic: Connection, generation: u64) -> Self {
        Conn {
            quic,
            generation,
            tenant: None,
            streams: HashMap::new(),
            in_flight: 0,
            timeout: None,
            dirty: true,
        }
    }

    /// Reads what arrived on a request stream. The header is checked as soon as it is complete,
    /// so an oversize or foreign frame is refused before its body is buffered.
    pub fn read(&mut self, id: StreamId, limits: &WireLimits) -> ReadOutcome {
        let Some(Stream::Reading(buffer)) = self.streams.get_mut(&id) else {
            return ReadOutcome::Pending;
        };
        let mut recv = self.quic.recv_stream(id);
        let Ok(mut chunks) = recv.read(true) else {
            self.streams.remove(&id);
            return ReadOutcome::Pending;
        };
        let mut finished = false;
        let mut reset = false;
        let mut refused = None;
        loop {
            match chunks.next(usize::MAX) {
                Ok(Some(chunk)) => {
                    buffer.extend_from_slice(&chunk.bytes);
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
            self.streams.remove(&id);
            return ReadOutcome::Pending;
        }
        if let Some(error) = refused {
            let _ = self
                .quic
                .recv_stream(id)
                .stop(VarInt::from_u32(STOP_REFUSED));
            return ReadOutcome::Refused(error);
        }
        if !finished {
            return ReadOutcome::Pending;
        }
        match self.streams.insert(id, Stream::Waiting) {
            Some(Stream::Reading(frame)) => ReadOutcome::Frame(frame),
            _ => ReadOutcome::Pending,
        }
    }

    /// Starts answering a stream (dropped if the partner stopped or reset it meanwhile).
    pub fn answer(&mut self, id: StreamId, frame: Vec<u8>) {
        if let Some(stream) = self.streams.get_mut(&id) {
            *stream = Stream::Writing { frame, sent: 0 };
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
                    self.streams.remove(&id);
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
                .all(|s| matches!(s, Stream::Reading(_)))
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
