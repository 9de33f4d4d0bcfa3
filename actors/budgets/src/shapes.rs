//! Statements of a given size with placeholder bytes. Pricing reads only a statement's shape
//! (how many keys, messages and inputs: see [`crate::Work`]), so these serve the pricing tests
//! here and in the shard; nothing in them would verify.

use tf_wire::{Curve, Statement};

/// One BLS signature.
pub fn single() -> Statement {
    Statement::BlsSingle {
        public_key: [0; 48],
        message: vec![0; 32],
        signature: [0; 96],
    }
}

/// A fast aggregate over `keys` keys.
pub fn fast(keys: usize) -> Statement {
    Statement::BlsFastAggregate {
        public_keys: vec![[0; 48]; keys],
        message: vec![0; 32],
        signature: [0; 96],
    }
}

/// An aggregate over `keys` keys and `messages` messages (equal for a well-formed one).
pub fn aggregate(keys: usize, messages: usize) -> Statement {
    Statement::BlsAggregate {
        public_keys: vec![[0; 48]; keys],
        messages: vec![vec![0; 32]; messages],
        signature: [0; 96],
    }
}

/// A Groth16 proof with `inputs` public inputs on `curve`.
pub fn groth16(curve: Curve, inputs: usize) -> Statement {
    Statement::Groth16 {
        curve,
        key_id: [0; 32],
        proof: vec![0; 128],
        public_inputs: vec![[0; 32]; inputs],
    }
}
