//! A shard's QUIC endpoint, driven by hand the way quinn's own `endpoint.rs` and
//! `connection.rs` drive `quinn-proto`: datagrams in through `handle`, connection and endpoint
//! events exchanged, timers through `poll_timeout`/`handle_timeout`, datagrams out through
//! `poll_transmit`. It is synchronous: the shard's tasks feed it and send what it queues.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use quinn_proto::{
    ConnectionHandle, DatagramEvent, Dir, Endpoint, EndpointConfig, Event, ServerConfig,
    StreamEvent, Transmit,
};
use rustls::pki_types::CertificateDer;
use tf_seam::TenantTable;
use tf_shard::TenantSlot;
use tf_wire::{ErrorCode, FrameDecoder, Message, WireLimits, close_code};

use super::connection::{Conn, ReadOutcome};
use super::occupancy::{HoldLimits, Occupancy};
use super::replies;
use super::routes::Route;

/// When to retry a request refused because its connection or tenant held as many partial
/// request bytes as it may: long enough for requests in flight to finish arriving.
const OVER_HELD_RETRY_MS: u32 = 100;

/// A datagram to send.
#[derive(Debug)]
pub struct Datagram {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Where to.
    pub to: SocketAddr,
}

/// A request read off a stream, with who sent it and where its answer goes.
#[derive(Debug)]
pub struct Request {
    /// The tenant (from the connection's certificate).
    pub tenant: TenantSlot,
    /// Where the answer goes.
    pub route: Route,
    /// The message (a `Submit`, `RegisterKey`, `BudgetQuery`, `LogProofQuery` or
    /// `AboutQuery`).
    pub message: Message,
    /// When the frame was complete, Unix microseconds.
    pub received_unix_us: u64,
}

/// An `Onboard` request read off an onboarding connection, for the control plane.
#[derive(Debug)]
pub struct OnboardRequest {
    /// Where the answer goes.
    pub route: Route,
    /// The request.
    pub onboard: tf_wire::Onboard,
    /// The address it came from.
    pub source: std::net::IpAddr,
}

/// Onboarding connections a shard holds at once; past it, more are closed as rate limited.
const MAX_ONBOARDING_CONNECTIONS: usize = 16;

/// Limits on what the driver accepts.
#[derive(Clone, Copy, Debug)]
pub struct DriverLimits {
    /// Connections at once on this shard.
    pub max_connections: usize,
    /// Handshakes, connections per tenant, and requests still arriving.
    pub hold: HoldLimits,
    /// Frame and field limits.
    pub wire: WireLimits,
}

/// The endpoint, its connections and the datagrams waiting to go out.
pub struct Driver {
    shard: usize,
    endpoint: Endpoint,
    limits: DriverLimits,
    tenants: Arc<TenantTable>,
    connections: HashMap<ConnectionHandle, Conn>,
    occupancy: Occupancy,
    dirty: Vec<ConnectionHandle>,
    next_generation: u64,
    decoder: FrameDecoder,
    outgoing: VecDeque<Datagram>,
    spare: Vec<Vec<u8>>,
    draining: bool,
    answered: u64,
    /// Where onboarding attempts are counted per source; `None`: onboarding is off.
    onboarding: Option<Arc<tf_seam::PartnerDesk>>,
    /// `Onboard` requests read and not yet taken by the shard.
    onboard_requests: Vec<OnboardRequest>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("shard", &self.shard)
            .field("connections", &self.connections.len())
            .finish()
    }
}

impl Driver {
    /// The tenants it identifies partners against.
    pub fn tenants(&self) -> &Arc<TenantTable> {
        &self.tenants
    }

    /// Identifies new connections against `tenants` from now on (a promotion added or
    /// dropped some), and closes the connections of tenants it no longer lists.
    pub fn set_tenants(&mut self, tenants: Arc<TenantTable>, now: Instant) {
        for (handle, conn) in self.connections.iter_mut() {
            let Some(slot) = conn.tenant else { continue };
            if tenants.is_listed(slot) {
                continue;
            }
            let removed = crate::identity::removed(tenants.id(slot));
            tracing::info!(shard = self.shard, remote = %conn.quic.remote_address(), reason = %removed.reason, "connection closed");
            conn.close(now, removed.code, &removed.reason);
            mark(&mut self.dirty, *handle, conn);
        }
        self.tenants = tenants;
    }

    /// A driver for one shard.
    pub fn new(
        shard: usize,
        endpoint_config: Arc<EndpointConfig>,
        server_config: Arc<ServerConfig>,
        limits: DriverLimits,
        tenants: Arc<TenantTable>,
    ) -> Self {
        Driver {
            shard,
            endpoint: Endpoint::new(endpoint_config, Some(server_config), false, None),
            limits,
            tenants,
            connections: HashMap::new(),
            occupancy: Occupancy::default(),
            dirty: Vec::new(),
            next_generation: 1,
            decoder: FrameDecoder::new(limits.wire),
            outgoing: VecDeque::new(),
            spare: Vec::new(),
            draining: false,
            answered: 0,
            onboarding: None,
            onboard_requests: Vec::new(),
        }
    }

    /// Takes onboarding connections, counting their attempts per source on `desk`.
    pub fn with_onboarding(mut self, desk: Option<Arc<tf_seam::PartnerDesk>>) -> Self {
        self.onboarding = desk;
        self
    }

    /// The remote address of the connection a request came on, if it is still open.
    pub fn remote(&self, route: &Route) -> Option<std::net::IpAddr> {
        self.connections
            .get(&route.connection)
            .filter(|conn| conn.generation == route.generation)
            .map(|conn| conn.quic.remote_address().ip())
    }

    /// The `Onboard` requests read since the last call.
    pub fn take_onboard_requests(&mut self) -> Vec<OnboardRequest> {
        std::mem::take(&mut self.onboard_requests)
    }

    /// Feeds one received datagram to the endpoint.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        let mut buffer = self.spare.pop().unwrap_or_default();
        buffer.clear();
        let event = self
            .endpoint
            .handle(now, from, None, None, BytesMut::from(data), &mut buffer);
        match event {
            Some(DatagramEvent::NewConnection(incoming)) => {
                let hold = self.limits.hold;
                if self.draining
                    || self.connections.len() >= self.limits.max_connections
                    || self.occupancy.handshakes() >= hold.max_handshakes
                {
                    let transmit = self.endpoint.refuse(incoming, &mut buffer);
                    self.queue(buffer, &transmit);
                    return;
                }
                if self.occupancy.handshakes() >= hold.retry_above(self.limits.max_connections)
                    && !incoming.remote_address_validated()
                    && incoming.may_retry()
                {
                    match self.endpoint.retry(incoming, &mut buffer) {
                        Ok(transmit) => self.queue(buffer, &transmit),
                        Err(error) => self.endpoint.ignore(error.into_incoming()),
                    }
                    return;
                }
                match self.endpoint.accept(incoming, now, &mut buffer, None) {
                    Ok((handle, quic)) => {
                        let generation = self.next_generation;
                        self.next_generation += 1;
                        tracing::debug!(shard = self.shard, remote = %quic.remote_address(), "connection accepted");
                        let conn = Conn::new(
                            quic,
                            generation,
                            now + hold.handshake_timeout,
                            hold.partial_bytes_per_connection,
                        );
                        self.occupancy.handshake_began();
                        self.connections.insert(handle, conn);
                        self.dirty.push(handle);
                    }
                    Err(error) => {
                        if let Some(transmit) = error.response {
                            self.queue(buffer, &transmit);
                        }
                        return;
                    }
                }
            }
            Some(DatagramEvent::ConnectionEvent(handle, event)) => {
                if let Some(conn) = self.connections.get_mut(&handle) {
                    conn.quic.handle_event(event);
                    mark(&mut self.dirty, handle, conn);
                }
            }
            Some(DatagramEvent::Response(transmit)) => {
                self.queue(buffer, &transmit);
                return;
            }
            None => {}
        }
        self.spare.push(buffer);
    }

    /// Drives every connection that has something to do: timers, events, streams, and the
    /// datagrams they want sent. Complete requests are appended to `requests`, stamped as
    /// received at `unix_us` (the wall clock read with `now`).
    pub fn poll(&mut self, now: Instant, unix_us: u64, requests: &mut Vec<Request>) {
        for (handle, conn) in self.connections.iter_mut() {
            if conn.timeout.is_some_and(|t| t <= now) {
                conn.quic.handle_timeout(now);
                mark(&mut self.dirty, *handle, conn);
            }
            if conn.deadline.is_some_and(|t| t <= now) {
                mark(&mut self.dirty, *handle, conn);
            }
        }
        while let Some(handle) = self.dirty.pop() {
            self.poll_connection(handle, now, unix_us, requests);
        }
    }

    fn poll_connection(
        &mut self,
        handle: ConnectionHandle,
        now: Instant,
        unix_us: u64,
        requests: &mut Vec<Request>,
    ) {
        let Some(conn) = self.connections.get_mut(&handle) else {
            return;
        };
        conn.dirty = false;
        let held_before = conn.partial_bytes;
        enforce_deadlines(self.shard, conn, &mut self.occupancy, now);
        // Events between the connection and the endpoint (connection ids, draining).
        while let Some(event) = conn.quic.poll_endpoint_events() {
            if let Some(back) = self.endpoint.handle_event(handle, event) {
                conn.quic.handle_event(back);
            }
        }
        let hold = self.limits.hold;
        let mut tenant_room = conn.tenant.map_or(0, |t| {
            self.occupancy
                .partial_room(t, hold.partial_bytes_per_tenant)
        });
        let (shard, draining, decoder) = (self.shard, self.draining, &mut self.decoder);
        let onboard_requests = &mut self.onboard_requests;
        let mut read = |conn: &mut Conn, id, tenant_room: &mut usize| {
            let received = (now, unix_us);
            if conn.onboarding {
                let to = Route {
                    shard,
                    connection: handle,
                    generation: conn.generation,
                    stream: id,
                };
                return read_onboard(conn, to, decoder, draining, now, onboard_requests);
            }
            read_request(
                shard,
                handle,
                conn,
                id,
                decoder,
                draining,
                received,
                tenant_room,
                requests,
            )
        };
        while let Some(event) = conn.quic.poll() {
            match event {
                Event::Connected => {
                    if speaks_onboarding(conn) {
                        join_onboarding(
                            self.shard,
                            self.onboarding.as_deref(),
                            conn,
                            &mut self.occupancy,
                            now,
                        );
                        continue;
                    }
                    identify(
                        self.shard,
                        &self.tenants,
                        conn,
                        &mut self.occupancy,
                        &hold,
                        now,
                    );
                    tenant_room = conn.tenant.map_or(0, |t| {
                        self.occupancy
                            .partial_room(t, hold.partial_bytes_per_tenant)
                    });
                }
                Event::ConnectionLost { reason } => {
                    tracing::info!(shard = self.shard, remote = %conn.quic.remote_address(), %reason, "connection closed");
                    // Its slot is free now, not only once its closing state has drained.
                    release(conn, &mut self.occupancy, held_before);
                }
                Event::Stream(StreamEvent::Opened { dir: Dir::Bi }) => {
                    while let Some(id) = conn.quic.streams().accept(Dir::Bi) {
                        conn.open_stream(id, now + hold.request_timeout);
                        read(conn, id, &mut tenant_room);
                    }
                }
                Event::Stream(StreamEvent::Readable { id }) => read(conn, id, &mut tenant_room),
                Event::Stream(StreamEvent::Writable { id }) => conn.write(id),
                Event::Stream(StreamEvent::Finished { id }) => conn.remove_stream(id),
                Event::Stream(StreamEvent::Stopped { id, .. }) => conn.remove_stream(id),
                _ => {}
            }
        }
        loop {
            let mut buffer = self.spare.pop().unwrap_or_default();
            buffer.clear();
            match conn.quic.poll_transmit(now, 1, &mut buffer) {
                Some(transmit) => push_datagram(&mut self.outgoing, buffer, &transmit),
                None => {
                    self.spare.push(buffer);
                    break;
                }
            }
        }
        conn.timeout = conn.quic.poll_timeout();
        conn.refresh_deadline();
        if conn.quic.is_drained() {
            release(conn, &mut self.occupancy, held_before);
            self.connections.remove(&handle);
        } else if let Some(tenant) = conn.tenant {
            self.occupancy
                .partial_changed(tenant, held_before, conn.partial_bytes);
        }
    }

    /// Delivers an answer to its stream, if the connection is still the one that asked.
    pub fn answer(&mut self, route: Route, frame: Vec<u8>) {
        let Some(conn) = self.connections.get_mut(&route.connection) else {
            return;
        };
        if conn.generation != route.generation {
            return;
        }
        conn.in_flight = conn.in_flight.saturating_sub(1);
        conn.answer(route.stream, frame);
        mark(&mut self.dirty, route.connection, conn);
        self.answered += 1;
    }

    /// Answers delivered to this shard's connections since it started.
    pub fn answered(&self) -> u64 {
        self.answered
    }

    /// Requests taken on open connections and not answered yet.
    pub fn owed(&self) -> u64 {
        self.connections.values().map(|c| c.in_flight as u64).sum()
    }

    /// The next datagram to send.
    pub fn next_datagram(&mut self) -> Option<Datagram> {
        self.outgoing.pop_front()
    }

    /// Returns a sent datagram's buffer for reuse.
    pub fn recycle(&mut self, bytes: Vec<u8>) {
        if self.spare.len() < 64 {
            self.spare.push(bytes);
        }
    }

    /// The earliest connection timer or deadline.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.connections
            .values()
            .filter_map(|c| match (c.timeout, c.deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            })
            .min()
    }

    /// Stops taking new connections and new requests; requests already taken are answered.
    pub fn begin_drain(&mut self) {
        self.draining = true;
        self.endpoint.set_server_config(None);
    }

    /// Whether every request taken has been answered and acknowledged.
    pub fn quiescent(&self) -> bool {
        self.connections.values().all(Conn::quiescent)
    }

    /// Closes every connection with a code.
    pub fn close_all(&mut self, now: Instant, code: u32, reason: &str) {
        for (handle, conn) in self.connections.iter_mut() {
            conn.close(now, code, reason);
            mark(&mut self.dirty, *handle, conn);
        }
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.connections.len()
    }

    /// Whether a datagram is waiting to be sent.
    pub fn has_outgoing(&self) -> bool {
        !self.outgoing.is_empty()
    }

    fn queue(&mut self, buffer: Vec<u8>, transmit: &Transmit) {
        push_datagram(&mut self.outgoing, buffer, transmit);
    }
}

/// Queues the datagram quinn wrote into `buffer`.
fn push_datagram(outgoing: &mut VecDeque<Datagram>, mut buffer: Vec<u8>, transmit: &Transmit) {
    buffer.truncate(transmit.size);
    outgoing.push_back(Datagram {
        bytes: buffer,
        to: transmit.destination,
    });
}

fn mark(dirty: &mut Vec<ConnectionHandle>, handle: ConnectionHandle, conn: &mut Conn) {
    if !conn.dirty {
        conn.dirty = true;
        dirty.push(handle);
    }
}

/// Names the connection's tenant from its client certificate and gives it a connection slot,
/// or closes it saying why. Either way its handshake is over.
fn identify(
    shard: usize,
    tenants: &TenantTable,
    conn: &mut Conn,
    occupancy: &mut Occupancy,
    hold: &HoldLimits,
    now: Instant,
) {
    conn.handshake_deadline = None;
    occupancy.handshake_ended();
    let chain = conn
        .quic
        .crypto_session()
        .peer_identity()
        .and_then(|identity| identity.downcast::<Vec<CertificateDer<'static>>>().ok())
        .map(|chain| *chain)
        .unwrap_or_default();
    let slot = match crate::identity::identify(tenants, &chain) {
        Ok(slot) => slot,
        Err(refused) => {
            tracing::info!(shard, remote = %conn.quic.remote_address(), reason = %refused.reason, "connection refused");
            conn.close(now, refused.code, &refused.reason);
            return;
        }
    };
    let tenant = tenants.id(slot);
    if let Err(held) = occupancy.join(slot, hold.max_connections_per_tenant) {
        let reason = format!(
            "tenant {tenant} already holds {held} connections on this shard, the most allowed \
             (server.max_connections_per_tenant); send more requests on the open connections"
        );
        tracing::info!(shard, remote = %conn.quic.remote_address(), tenant, "connection refused: too many connections");
        conn.close(now, close_code::TOO_MANY_CONNECTIONS, &reason);
        return;
    }
    tracing::info!(shard, remote = %conn.quic.remote_address(), tenant, "partner connected");
    conn.tenant = Some(slot);
}

/// Whether the handshake agreed on the onboarding protocol.
fn speaks_onboarding(conn: &Conn) -> bool {
    conn.quic
        .crypto_session()
        .handshake_data()
        .and_then(|data| {
            data.downcast::<quinn_proto::crypto::rustls::HandshakeData>()
                .ok()
        })
        .and_then(|data| data.protocol)
        .is_some_and(|alpn| alpn == tf_wire::ONBOARDING_ALPN)
}

/// Takes an onboarding connection: counted against its source's allowance (an invite's secret
/// is guessed at here, if anywhere) and the shard's room for them; closed saying why when
/// either is spent. Either way its handshake is over.
fn join_onboarding(
    shard: usize,
    desk: Option<&tf_seam::PartnerDesk>,
    conn: &mut Conn,
    occupancy: &mut Occupancy,
    now: Instant,
) {
    conn.handshake_deadline = None;
    occupancy.handshake_ended();
    let remote = conn.quic.remote_address();
    let Some(desk) = desk else {
        conn.close(
            now,
            close_code::WRONG_PROTOCOL,
            "this appliance does not take onboarding requests",
        );
        return;
    };
    let refused = match desk.admit_source(remote.ip(), now) {
        Err(wait_ms) => Some(format!(
            "too many onboarding attempts from {}: retry in {} s",
            remote.ip(),
            wait_ms.div_ceil(1000)
        )),
        Ok(()) => occupancy
            .join_onboarding(MAX_ONBOARDING_CONNECTIONS)
            .err()
            .map(|_| "too many onboardings at once: retry in a few seconds".to_owned()),
    };
    if let Some(reason) = refused {
        tracing::info!(shard, %remote, %reason, "onboarding connection refused");
        conn.close(now, close_code::ONBOARDING_RATE_LIMITED, &reason);
        return;
    }
    tracing::debug!(shard, %remote, "onboarding connection");
    conn.onboarding = true;
}

/// Reads a stream of an onboarding connection: one `Onboard` request, then nothing. Anything
/// else closes the connection.
fn read_onboard(
    conn: &mut Conn,
    route: Route,
    decoder: &mut FrameDecoder,
    draining: bool,
    now: Instant,
    onboard_requests: &mut Vec<OnboardRequest>,
) {
    let wrong = |conn: &mut Conn| {
        conn.close(
            now,
            close_code::WRONG_PROTOCOL,
            "the onboarding protocol carries one Onboard request per connection; everything \
             else goes over trust-fabric/1 with the client certificate onboarding gave you",
        );
    };
    let limits = *decoder.limits();
    let mut room = usize::MAX;
    let frame = match conn.read(route.stream, &limits, &mut room) {
        ReadOutcome::Pending => return,
        ReadOutcome::Refused(error) => {
            conn.answer(route.stream, replies::wire_error(0, &error));
            return;
        }
        ReadOutcome::OverHeld => {
            wrong(conn);
            return;
        }
        ReadOutcome::Frame(frame) => frame,
    };
    // Checked once a whole frame is read: more events for the stream already taken (its end
    // arriving in a packet of its own) are no second request.
    if conn.onboard_taken {
        wrong(conn);
        return;
    }
    let onboard = match decoder.decode(&frame).map(tf_wire::to_owned) {
        Ok(Message::Onboard(onboard)) => onboard,
        Ok(_) => {
            wrong(conn);
            return;
        }
        Err(error) => {
            conn.answer(route.stream, replies::wire_error(0, &error));
            return;
        }
    };
    if draining {
        conn.answer(
            route.stream,
            replies::error(onboard.request_id, ErrorCode::ShuttingDown),
        );
        return;
    }
    conn.onboard_taken = true;
    conn.in_flight += 1;
    onboard_requests.push(OnboardRequest {
        route,
        source: conn.quic.remote_address().ip(),
        onboard,
    });
}

/// Gives back what a connection that is gone held: its handshake or its tenant's slot, and
/// the partial request bytes it held when this poll began (`held_before`).
fn release(conn: &mut Conn, occupancy: &mut Occupancy, held_before: usize) {
    if conn.handshake_deadline.take().is_some() {
        occupancy.handshake_ended();
    }
    if std::mem::take(&mut conn.onboarding) {
        occupancy.leave_onboarding();
    }
    if let Some(tenant) = conn.tenant.take() {
        occupancy.leave(tenant, held_before);
    }
}

/// Closes a connection whose handshake ran out of time, and answers requests that did not
/// arrive whole in time.
fn enforce_deadlines(shard: usize, conn: &mut Conn, occupancy: &mut Occupancy, now: Instant) {
    // The cached earliest deadline spares the stream walk on the polls (nearly all) where
    // nothing is due.
    if conn.deadline.is_none_or(|due| due > now) {
        return;
    }
    if conn.handshake_deadline.is_some_and(|t| t <= now) {
        conn.handshake_deadline = None;
        occupancy.handshake_ended();
        tracing::debug!(shard, remote = %conn.quic.remote_address(), "handshake timed out");
        conn.close(
            now,
            close_code::HANDSHAKE_TIMEOUT,
            "the handshake did not identify a tenant in time",
        );
    }
    for id in conn.expire_reads(now) {
        let detail =
            "the request did not arrive whole in time (server.request_timeout_ms); send each \
             request in one go"
                .to_owned();
        conn.answer(id, replies::error(0, ErrorCode::Malformed { detail }));
    }
}

/// Reads a request stream; a complete frame becomes a [`Request`] (or an immediate error
/// answer when it is malformed, not for us, or the shard is draining).
#[allow(clippy::too_many_arguments)] // one call site, each argument a different part of it
fn read_request(
    shard: usize,
    handle: ConnectionHandle,
    conn: &mut Conn,
    id: quinn_proto::StreamId,
    decoder: &mut FrameDecoder,
    draining: bool,
    (now, unix_us): (Instant, u64),
    tenant_room: &mut usize,
    requests: &mut Vec<Request>,
) {
    let Some(tenant) = conn.tenant else {
        // Streams before identification cannot happen (no 0-RTT); refuse them if they do.
        conn.close(
            now,
            close_code::PROTOCOL_VIOLATION,
            "request before the tenant was identified",
        );
        return;
    };
    let limits = *decoder.limits();
    let frame = match conn.read(id, &limits, tenant_room) {
        ReadOutcome::Pending => return,
        ReadOutcome::Refused(error) => {
            conn.answer(id, replies::wire_error(0, &error));
            return;
        }
        ReadOutcome::OverHeld => {
            let busy = ErrorCode::Busy {
                retry_after_ms: OVER_HELD_RETRY_MS,
            };
            conn.answer(id, replies::error(0, busy));
            return;
        }
        ReadOutcome::Frame(frame) => frame,
    };
    let message = match decoder.decode(&frame) {
        Ok(archived) => tf_wire::to_owned(archived),
        Err(error) => {
            conn.answer(id, replies::wire_error(0, &error));
            return;
        }
    };
    let request_id = match &message {
        Message::Submit(submit) => submit.request_id,
        Message::RegisterKey(register) => register.request_id,
        Message::BudgetQuery(query) => query.request_id,
        Message::LogProofQuery(query) => query.request_id,
        Message::AboutQuery(query) => query.request_id,
        Message::TermsRequest(request) => request.request_id,
        Message::ChecklistQuery(query) => query.request_id,
        Message::EvidencePreviewQuery(query) => query.request_id,
        _ => {
            let detail = "partners send Submit, RegisterKey, BudgetQuery, LogProofQuery, \
                          AboutQuery, TermsRequest, ChecklistQuery or EvidencePreviewQuery \
                          messages (Onboard goes over the onboarding protocol, \
                          trust-fabric-onboard/1)"
                .to_owned();
            conn.answer(id, replies::error(0, ErrorCode::Malformed { detail }));
            return;
        }
    };
    if draining {
        conn.answer(id, replies::error(request_id, ErrorCode::ShuttingDown));
        return;
    }
    conn.in_flight += 1;
    requests.push(Request {
        tenant,
        route: Route {
            shard,
            connection: handle,
            generation: conn.generation,
            stream: id,
        },
        message,
        received_unix_us: unix_us,
    });
}
