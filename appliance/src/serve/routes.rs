//! What crosses between shards: requests going to their tenant's home shard, and answers going
//! back to the shard whose connection asked.

use quinn_proto::{ConnectionHandle, StreamId};
use tf_shard::{Job, TenantSlot};
use tf_wire::Curve;

/// Where an answer goes: the ingress shard, the connection (with its generation, because
/// quinn reuses handles) and the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The ingress shard.
    pub shard: usize,
    /// The connection on that shard.
    pub connection: ConnectionHandle,
    /// Distinguishes this connection from a later one given the same handle.
    pub generation: u64,
    /// The request's stream.
    pub stream: StreamId,
}

/// A request for a tenant's home shard.
#[derive(Debug)]
pub enum ToHome {
    /// Verify a statement.
    Submit(Job<Route>),
    /// Register a Groth16 verifying key.
    RegisterKey {
        /// The tenant registering it.
        tenant: TenantSlot,
        /// The partner's request id.
        request_id: u64,
        /// The key's curve.
        curve: Curve,
        /// Canonical compressed bytes.
        key: Vec<u8>,
        /// Where the answer goes.
        route: Route,
    },
}

/// An encoded answer frame and where it goes.
#[derive(Debug)]
pub struct Reply {
    /// Where it goes.
    pub route: Route,
    /// The framed message.
    pub frame: Vec<u8>,
}
