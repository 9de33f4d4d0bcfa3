//! What a request costs, in budget units: a base by statement kind, plus one unit per full
//! group of the work it carries (keys, pairings, public inputs; see [`Work`]).
//!
//! ```text
//! cost = base(kind)
//!      + keys / keys_per_unit + pairings / pairings_per_unit + inputs / inputs_per_unit
//! ```
//!
//! in whole-number division, a term whose `*_per_unit` is 0 adding nothing. With the defaults
//! (16 keys, 3 pairings, 8 inputs: each about one single verification's work) a single BLS
//! signature or a Groth16 proof with fewer than 8 inputs costs exactly its base, a fast
//! aggregate of 1024 keys 1 + 64 and an aggregate over 1024 messages 1 + 64 + 341.

use tf_wire::{Curve, Statement};

use crate::work::Work;

/// Budget units per request: a base by statement kind, and what its work adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Costs {
    /// One BLS signature.
    pub bls_single: u64,
    /// A BLS aggregate over distinct messages.
    pub bls_aggregate: u64,
    /// A BLS aggregate over one message.
    pub bls_fast_aggregate: u64,
    /// A Groth16 proof on BN254.
    pub groth16_bn254: u64,
    /// A Groth16 proof on BLS12-381.
    pub groth16_bls12_381: u64,
    /// One more unit per this many BLS public keys (0: keys add nothing).
    pub keys_per_unit: u64,
    /// One more unit per this many BLS pairings, one per message (0: they add nothing).
    pub pairings_per_unit: u64,
    /// One more unit per this many Groth16 public inputs (0: they add nothing).
    pub inputs_per_unit: u64,
}

impl Costs {
    /// The default [`Costs::keys_per_unit`].
    pub const KEYS_PER_UNIT: u64 = 16;
    /// The default [`Costs::pairings_per_unit`].
    pub const PAIRINGS_PER_UNIT: u64 = 3;
    /// The default [`Costs::inputs_per_unit`].
    pub const INPUTS_PER_UNIT: u64 = 8;
}

impl Default for Costs {
    fn default() -> Self {
        Costs {
            bls_single: 1,
            bls_aggregate: 1,
            bls_fast_aggregate: 1,
            groth16_bn254: 1,
            groth16_bls12_381: 1,
            keys_per_unit: Costs::KEYS_PER_UNIT,
            pairings_per_unit: Costs::PAIRINGS_PER_UNIT,
            inputs_per_unit: Costs::INPUTS_PER_UNIT,
        }
    }
}

impl Costs {
    /// What `statement` costs: its kind's base plus what its work adds.
    pub fn of(&self, statement: &Statement) -> u64 {
        let base = match statement {
            Statement::BlsSingle { .. } => self.bls_single,
            Statement::BlsAggregate { .. } => self.bls_aggregate,
            Statement::BlsFastAggregate { .. } => self.bls_fast_aggregate,
            Statement::Groth16 {
                curve: Curve::Bn254,
                ..
            } => self.groth16_bn254,
            Statement::Groth16 { .. } => self.groth16_bls12_381,
            _ => 1,
        };
        base.saturating_add(self.of_work(&Work::of(statement)))
    }

    /// What work adds to a base: one unit per full group of each term.
    pub fn of_work(&self, work: &Work) -> u64 {
        let groups = |count: u64, per_unit: u64| count.checked_div(per_unit).unwrap_or(0);
        groups(work.keys, self.keys_per_unit)
            .saturating_add(groups(work.pairings, self.pairings_per_unit))
            .saturating_add(groups(work.public_inputs, self.inputs_per_unit))
    }

    /// The base cost of a statement kind as receipts name it (`bls-single`, `groth16-bn254`,
    /// ...), without what its work adds.
    pub fn of_kind(&self, kind: &str) -> u64 {
        match kind {
            "bls-single" => self.bls_single,
            "bls-aggregate" => self.bls_aggregate,
            "bls-fast-aggregate" => self.bls_fast_aggregate,
            "groth16-bn254" => self.groth16_bn254,
            "groth16-bls12-381" => self.groth16_bls12_381,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::{aggregate, fast, groth16, single};

    #[test]
    fn by_default_small_statements_cost_their_base_and_large_ones_much_more() {
        let costs = Costs {
            groth16_bls12_381: 2,
            ..Costs::default()
        };
        assert_eq!(costs.of(&single()), 1);
        assert_eq!(costs.of(&groth16(Curve::Bn254, 1)), 1);
        assert_eq!(costs.of(&groth16(Curve::Bn254, 7)), 1);
        assert_eq!(costs.of(&groth16(Curve::Bls12_381, 1)), 2);
        assert_eq!(costs.of(&fast(3)), 1);
        assert_eq!(costs.of(&aggregate(2, 2)), 1);
        assert_eq!(costs.of(&fast(1024)), 1 + 64);
        assert_eq!(costs.of(&aggregate(1024, 1024)), 1 + 64 + 341);
        assert_eq!(costs.of(&groth16(Curve::Bn254, 64)), 1 + 8);
    }

    #[test]
    fn a_unit_is_added_per_full_group_and_zero_turns_a_term_off() {
        let costs = Costs {
            keys_per_unit: 10,
            pairings_per_unit: 0,
            inputs_per_unit: 0,
            ..Costs::default()
        };
        assert_eq!(costs.of(&fast(9)), 1);
        assert_eq!(costs.of(&fast(10)), 2);
        assert_eq!(costs.of(&fast(19)), 2);
        assert_eq!(costs.of(&aggregate(1024, 1024)), 1 + 102);
        assert_eq!(costs.of(&groth16(Curve::Bn254, 64)), 1);
        let flat = Costs {
            keys_per_unit: 0,
            pairings_per_unit: 0,
            inputs_per_unit: 0,
            ..Costs::default()
        };
        assert_eq!(
            flat.of(&aggregate(1024, 1024)),
            1,
            "the per-kind price of before"
        );
    }

    #[test]
    fn the_base_follows_the_kind() {
        let costs = Costs {
            bls_single: 2,
            bls_aggregate: 3,
            bls_fast_aggregate: 4,
            groth16_bn254: 5,
            groth16_bls12_381: 6,
            ..Costs::default()
        };
        assert_eq!(costs.of(&single()), 2);
        assert_eq!(costs.of(&aggregate(2, 2)), 3);
        assert_eq!(costs.of(&fast(2)), 4);
        assert_eq!(costs.of(&groth16(Curve::Bn254, 1)), 5);
        assert_eq!(costs.of(&groth16(Curve::Bls12_381, 1)), 6);
        assert_eq!(costs.of_kind("groth16-bls12-381"), 6);
    }
}
