//! What a statement asks of the verifier, counted once for every price put on it: the shard's
//! scheduling cost and the budget cost both start from [`Work::of`].

use tf_wire::Statement;

/// The work a statement carries, before any of it is done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// BLS public keys to decode (decompression and subgroup check each): 1 for a single
    /// signature, one per signer for either aggregate.
    pub keys: u64,
    /// BLS pairings: a message hashed to G2 and its Miller loop. 1 for a single signature or a
    /// fast aggregate (its keys are summed first), one per message for an aggregate over
    /// distinct messages (repeated messages are hashed again).
    pub pairings: u64,
    /// Groth16 public inputs: a scalar multiplication each in a single verification.
    pub public_inputs: u64,
}

impl Work {
    /// The work of `statement`, counted from its lengths (nothing is decoded). A statement
    /// whose counts disagree (more messages than keys) is refused before any curve work, but is
    /// counted as it came.
    pub fn of(statement: &Statement) -> Work {
        let len = |n: usize| n as u64;
        match statement {
            Statement::BlsSingle { .. } => Work {
                keys: 1,
                pairings: 1,
                public_inputs: 0,
            },
            Statement::BlsFastAggregate { public_keys, .. } => Work {
                keys: len(public_keys.len()),
                pairings: 1,
                public_inputs: 0,
            },
            Statement::BlsAggregate {
                public_keys,
                messages,
                ..
            } => Work {
                keys: len(public_keys.len()),
                pairings: len(messages.len()),
                public_inputs: 0,
            },
            Statement::Groth16 { public_inputs, .. } => Work {
                keys: 0,
                pairings: 0,
                public_inputs: len(public_inputs.len()),
            },
            // A kind this build does not know is refused at ingress.
            _ => Work::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use tf_wire::Curve;

    use super::*;
    use crate::shapes::{aggregate, fast, groth16, single};

    #[test]
    fn keys_pairings_and_inputs_are_counted_per_kind() {
        let work = |keys, pairings, public_inputs| Work {
            keys,
            pairings,
            public_inputs,
        };
        assert_eq!(Work::of(&single()), work(1, 1, 0));
        assert_eq!(Work::of(&fast(1024)), work(1024, 1, 0));
        assert_eq!(Work::of(&aggregate(1024, 1024)), work(1024, 1024, 0));
        assert_eq!(Work::of(&groth16(Curve::Bn254, 5)), work(0, 0, 5));
    }
}
