//! What a request costs, in budget units, by statement kind.

/// Budget units per request, by statement kind.
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
}

impl Default for Costs {
    fn default() -> Self {
        Costs {
            bls_single: 1,
            bls_aggregate: 1,
            bls_fast_aggregate: 1,
            groth16_bn254: 1,
            groth16_bls12_381: 1,
        }
    }
}

impl Costs {
    /// The cost of a statement kind as receipts name it (`bls-single`, `groth16-bn254`, ...).
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
