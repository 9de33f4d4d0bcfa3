//! A request waiting on its tenant's home shard, and how it batches and what it costs.

use tf_budgets::{ChargePolicy, Work};
use tf_engine::work::{
    BLS_STATEMENT, BLS_VERIFY, GROTH16_DECODE_BLS12_381, GROTH16_DECODE_BN254,
    GROTH16_INPUT_BLS12_381, GROTH16_INPUT_BN254, GROTH16_VERIFY_BLS12_381, GROTH16_VERIFY_BN254,
    KEY_DECODE, PAIRING,
};
use tf_engine::{KeyId, StatementDigest};
use tf_fairness::{Micros, TenantSlot};
use tf_wire::{Curve, Statement, Submit};

/// One admitted request. `R` is the runtime's reply route (which shard, connection and stream
/// the answer goes back to); the shard never looks inside it.
#[derive(Debug)]
pub struct Job<R> {
    /// The tenant, from the connection's client certificate.
    pub tenant: TenantSlot,
    /// The request as the partner sent it.
    pub submit: Submit,
    /// When the ingress shard read it, Unix microseconds (for the receipt).
    pub received_unix_us: u64,
    /// Where the answer goes.
    pub route: R,
    /// The policy it was admitted under (set by the home shard at admission).
    pub policy: PolicyStamp,
    /// The budget cost it reserved and when it is charged (set by the home shard at
    /// admission), so a promotion between admission and verdict cannot change either.
    pub reservation: Reservation,
    /// When the home shard admitted it (its scheduling clock): its latency budget counts from
    /// here.
    pub admitted: Micros,
    /// Its admission's place among the home shard's events, for the decision log.
    pub decision_seq: u64,
}

/// What a request reserved of its tenant's budget at admission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// Cost units reserved in every cap that applies.
    pub cost: u64,
    /// When they are charged.
    pub policy: ChargePolicy,
}

impl Default for Reservation {
    /// Nothing reserved yet.
    fn default() -> Self {
        Reservation {
            cost: 0,
            policy: ChargePolicy::OnAttempt,
        }
    }
}

/// Which policy bundle decided a request: its revision and hash, carried by the request from
/// admission to its receipt so a promotion in between cannot relabel it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PolicyStamp {
    /// The bundle revision; 0 before any bundle was promoted.
    pub revision: u64,
    /// SHA-256 of the bundle's signed manifest; zeros for revision 0.
    pub hash: [u8; 32],
}

/// Requests that can be verified together: BLS single and fast-aggregate statements share one
/// pairing batch; Groth16 proofs batch per verifying key; BLS aggregates over distinct messages
/// are verified one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchKey {
    /// BLS single signatures and fast aggregates (one message each).
    Bls,
    /// BLS aggregates over distinct messages.
    BlsAggregate,
    /// Groth16 proofs under one verifying key.
    Groth16(KeyId),
}

impl<R> Job<R> {
    /// The batch this request joins.
    pub fn batch_key(&self) -> BatchKey {
        match &self.submit.statement {
            Statement::BlsAggregate { .. } => BatchKey::BlsAggregate,
            Statement::Groth16 { key_id, .. } => BatchKey::Groth16(KeyId(*key_id)),
            _ => BatchKey::Bls,
        }
    }

    /// Verification cost in scheduling units of one single BLS verification (at least 1), so
    /// a tenant sending expensive statements gets fewer of them per round, not more work.
    ///
    /// It adds up the statement's [`Work`] at the engine's measured relative costs (see
    /// [`tf_engine::work`]: `cargo bench -p tf-engine --bench work`, thousandths of a single
    /// verification): a BLS statement costs its signature's decode and final verification
    /// ([`BLS_STATEMENT`]), plus [`KEY_DECODE`] per key and [`PAIRING`] (hash to G2 and Miller
    /// loop) per pairing; a Groth16 proof its decode and verification on its curve plus one
    /// scalar multiplication per public input. So a single signature or a BN254 proof costs 1,
    /// a BLS12-381 proof 2, a fast aggregate of 1024 keys 63 and an aggregate over 1024
    /// messages 415.
    pub fn cost(&self) -> u64 {
        scheduling_cost(&self.submit.statement)
    }

    /// The statement kind as receipts name it.
    pub fn kind(&self) -> &'static str {
        kind(&self.submit.statement)
    }

    /// What was verified, digested the same way the offline verifier does.
    pub fn statement_digest(&self) -> StatementDigest {
        statement_digest(&self.submit.statement)
    }
}

/// What `statement` asks to verify, digested the same way the offline verifier does (and
/// receipts carry).
pub fn statement_digest(statement: &Statement) -> StatementDigest {
    match statement {
        Statement::BlsSingle {
            public_key,
            message,
            ..
        } => StatementDigest::bls(
            "bls-single",
            std::iter::once((&public_key[..], message.as_slice())),
        ),
        Statement::BlsFastAggregate {
            public_keys,
            message,
            ..
        } => StatementDigest::bls(
            "bls-fast-aggregate",
            public_keys.iter().map(|k| (&k[..], message.as_slice())),
        ),
        Statement::BlsAggregate {
            public_keys,
            messages,
            ..
        } => StatementDigest::bls(
            "bls-aggregate",
            public_keys
                .iter()
                .zip(messages)
                .map(|(k, m)| (&k[..], m.as_slice())),
        ),
        Statement::Groth16 {
            key_id,
            public_inputs,
            ..
        } => StatementDigest::groth16(&KeyId(*key_id), public_inputs.iter()),
        // A kind this build does not know was refused at ingress; digest it as empty.
        _ => StatementDigest::bls(kind(statement), std::iter::empty()),
    }
}

/// See [`Job::cost`].
fn scheduling_cost(statement: &Statement) -> u64 {
    let work = Work::of(statement);
    let units = match statement {
        Statement::Groth16 {
            curve: Curve::Bn254,
            ..
        } => {
            u64::from(GROTH16_DECODE_BN254 + GROTH16_VERIFY_BN254)
                + work.public_inputs * u64::from(GROTH16_INPUT_BN254)
        }
        Statement::Groth16 { .. } => {
            u64::from(GROTH16_DECODE_BLS12_381 + GROTH16_VERIFY_BLS12_381)
                + work.public_inputs * u64::from(GROTH16_INPUT_BLS12_381)
        }
        _ => {
            u64::from(BLS_STATEMENT)
                + work.keys * u64::from(KEY_DECODE)
                + work.pairings * u64::from(PAIRING)
        }
    };
    let unit = u64::from(BLS_VERIFY);
    ((units + unit / 2) / unit).max(1)
}

/// The statement kind as receipts name it.
pub fn kind(statement: &Statement) -> &'static str {
    match statement {
        Statement::BlsSingle { .. } => "bls-single",
        Statement::BlsFastAggregate { .. } => "bls-fast-aggregate",
        Statement::BlsAggregate { .. } => "bls-aggregate",
        Statement::Groth16 {
            curve: Curve::Bn254,
            ..
        } => "groth16-bn254",
        Statement::Groth16 { .. } => "groth16-bls12-381",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use tf_budgets::shapes::{aggregate, fast, groth16, single};

    use super::*;

    #[test]
    fn scheduling_cost_follows_keys_pairings_and_inputs() {
        assert_eq!(scheduling_cost(&single()), 1);
        assert_eq!(scheduling_cost(&fast(3)), 1);
        assert_eq!(scheduling_cost(&fast(1024)), 63);
        assert_eq!(scheduling_cost(&aggregate(2, 2)), 2);
        assert_eq!(scheduling_cost(&aggregate(1024, 1024)), 415);
        assert_eq!(scheduling_cost(&aggregate(0, 0)), 1);
        // 1515 units (decode 170, verification 1245, 4 inputs of 25) and 3015.
        assert_eq!(scheduling_cost(&groth16(Curve::Bn254, 4)), 2);
        assert_eq!(scheduling_cost(&groth16(Curve::Bn254, 64)), 3);
        // blst: 1435 units (decode 295, verification 1000, 4 inputs of 35) and 3535.
        assert_eq!(scheduling_cost(&groth16(Curve::Bls12_381, 4)), 1);
        assert_eq!(scheduling_cost(&groth16(Curve::Bls12_381, 64)), 4);
    }
}
