//! What partners hold on one shard: handshakes in progress, and per tenant its connections and
//! the bytes of its requests still arriving. The driver asks it before taking on more, so no
//! stranger and no tenant can hold more than the limits say.

use std::collections::HashMap;
use std::time::Duration;

use tf_shard::TenantSlot;

/// The limits on what partners may hold on a shard.
#[derive(Clone, Copy, Debug)]
pub struct HoldLimits {
    /// Handshakes in progress at once.
    pub max_handshakes: usize,
    /// How long a handshake may take to identify a tenant.
    pub handshake_timeout: Duration,
    /// Connections per tenant.
    pub max_connections_per_tenant: usize,
    /// How long a request may take to arrive whole.
    pub request_timeout: Duration,
    /// Bytes of requests still arriving, per connection.
    pub partial_bytes_per_connection: usize,
    /// Bytes of requests still arriving, per tenant (all its connections on the shard).
    pub partial_bytes_per_tenant: usize,
}

impl HoldLimits {
    /// Past this many handshakes in progress, an address must be validated (QUIC Retry) before
    /// its connection is accepted: a flood of Initials from spoofed or silent addresses then
    /// costs the shard one stateless packet each, never a slot.
    pub fn retry_above(&self, max_connections: usize) -> usize {
        self.max_handshakes.min(max_connections) / 4
    }
}

/// Counts of what is held.
#[derive(Debug, Default)]
pub struct Occupancy {
    handshakes: usize,
    onboardings: usize,
    tenants: HashMap<TenantSlot, Held>,
}

#[derive(Debug, Default)]
struct Held {
    connections: usize,
    partial_bytes: usize,
}

impl Occupancy {
    /// Handshakes in progress.
    pub fn handshakes(&self) -> usize {
        self.handshakes
    }

    /// A handshake began.
    pub fn handshake_began(&mut self) {
        self.handshakes += 1;
    }

    /// A handshake ended: identified, refused, timed out or lost.
    pub fn handshake_ended(&mut self) {
        self.handshakes = self.handshakes.saturating_sub(1);
    }

    /// Takes a slot for an onboarding connection, unless `limit` are open already.
    pub fn join_onboarding(&mut self, limit: usize) -> Result<(), usize> {
        if self.onboardings >= limit {
            return Err(self.onboardings);
        }
        self.onboardings += 1;
        Ok(())
    }

    /// An onboarding connection is gone.
    pub fn leave_onboarding(&mut self) {
        self.onboardings = self.onboardings.saturating_sub(1);
    }

    /// Takes a connection slot for `tenant`, unless it holds `limit` already.
    pub fn join(&mut self, tenant: TenantSlot, limit: usize) -> Result<(), usize> {
        let held = self.tenants.entry(tenant).or_default();
        if held.connections >= limit {
            return Err(held.connections);
        }
        held.connections += 1;
        Ok(())
    }

    /// A connection of `tenant` is gone, with the partial bytes it still held.
    pub fn leave(&mut self, tenant: TenantSlot, partial_bytes: usize) {
        if let Some(held) = self.tenants.get_mut(&tenant) {
            held.connections = held.connections.saturating_sub(1);
            held.partial_bytes = held.partial_bytes.saturating_sub(partial_bytes);
            if held.connections == 0 {
                self.tenants.remove(&tenant);
            }
        }
    }

    /// Bytes `tenant` may still add to its partial requests.
    pub fn partial_room(&self, tenant: TenantSlot, limit: usize) -> usize {
        let held = self.tenants.get(&tenant).map_or(0, |h| h.partial_bytes);
        limit.saturating_sub(held)
    }

    /// A connection of `tenant` went from holding `before` partial bytes to `after`.
    pub fn partial_changed(&mut self, tenant: TenantSlot, before: usize, after: usize) {
        if let Some(held) = self.tenants.get_mut(&tenant) {
            held.partial_bytes = (held.partial_bytes + after).saturating_sub(before);
        }
    }

    /// Partial bytes `tenant` holds.
    #[cfg(test)]
    pub fn partial_bytes(&self, tenant: TenantSlot) -> usize {
        self.tenants.get(&tenant).map_or(0, |h| h.partial_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_holds_at_most_its_connections_and_bytes_and_gives_them_back() {
        let mut occupancy = Occupancy::default();
        let acme = TenantSlot(1);
        assert_eq!(occupancy.join(acme, 2), Ok(()));
        assert_eq!(occupancy.join(acme, 2), Ok(()));
        assert_eq!(occupancy.join(acme, 2), Err(2));
        assert_eq!(
            occupancy.join(TenantSlot(2), 2),
            Ok(()),
            "others unaffected"
        );
        occupancy.partial_changed(acme, 0, 700);
        assert_eq!(occupancy.partial_room(acme, 1000), 300);
        occupancy.partial_changed(acme, 700, 100);
        assert_eq!(occupancy.partial_bytes(acme), 100);
        occupancy.leave(acme, 100);
        assert_eq!(occupancy.partial_bytes(acme), 0);
        assert_eq!(occupancy.join(acme, 2), Ok(()), "a slot came back");
    }

    #[test]
    fn retry_starts_at_a_quarter_of_the_smaller_limit() {
        let limits = HoldLimits {
            max_handshakes: 256,
            handshake_timeout: Duration::from_secs(5),
            max_connections_per_tenant: 64,
            request_timeout: Duration::from_secs(10),
            partial_bytes_per_connection: 1 << 22,
            partial_bytes_per_tenant: 1 << 24,
        };
        assert_eq!(limits.retry_above(1024), 64);
        assert_eq!(limits.retry_above(16), 4);
    }
}
