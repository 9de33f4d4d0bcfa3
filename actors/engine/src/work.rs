//! What verification work costs, and how much of it one step may do.
//!
//! Costs are in work units: thousandths of one single BLS verification as the engine does it
//! (hash to G2, the Miller loops of both pairings, the final exponentiation; no decoding). They
//! are ratios, measured with `cargo bench -p tf-engine --bench work -- 41`, which times every
//! operation back to back in each round and reports the median of per-round ratios to a single
//! verification, so the host's drifting speed cancels out. Each constant gives the range of
//! three such runs (2-core development machine shared with other builds, ADX/BMI2 build, a
//! single verification 1.20-1.47 ms; 1.15-1.32 ms for the Groth16 ones, re-measured once
//! BLS12-381 proofs were verified by blst), rounded; `docs/verification-engine.md` has the
//! table.
//!
//! The shard prices requests with these (its scheduling cost), and an [`Allowance`] of them
//! bounds each decoding step of a [`crate::DecodeThenVerify`], each step of a
//! [`crate::bls::AggregateRun`], and the work of a [`crate::BatchRun`] that grows with the
//! statements (a Groth16 proof's inputs, verified alone or in a check). A [`crate::BatchRun`]
//! absorbs its scheme's chunk of items per step, which cost alike (see
//! [`crate::BatchScheme::CHUNK`]).

/// Work units in one step: about one single BLS verification, 1.2-1.5 ms on the development
/// machine. Every operation the engine cannot cut (the largest is [`FINAL_VERIFY`]) fits in one.
pub const STEP: u32 = 1000;

/// One single BLS verification: the unit everything else is measured against.
pub const BLS_VERIFY: u32 = 1000;

/// Decoding one compressed public key: decompression, curve, subgroup and canonical checks
/// (measured 57-60), and adding it to a fast aggregate's sum (under 1).
pub const KEY_DECODE: u32 = 60;

/// Decoding one compressed signature, with its G2 subgroup check (measured 80-82).
pub const SIGNATURE_DECODE: u32 = 80;

/// Hashing one message to G2 (measured 169-189).
pub const HASH_TO_G2: u32 = 185;

/// A multi-Miller loop's cost for each pair in it (measured 150-172: an 8-pair loop costs
/// about 8 of these plus [`MILLER_LOOP_BASE`]).
pub const MILLER_LOOP_PER_PAIR: u32 = 160;

/// A multi-Miller loop's cost whatever its number of pairs: the squarings every pair shares
/// (measured 70-115: a one-pair loop less a pair's share of an 8-pair one).
pub const MILLER_LOOP_BASE: u32 = 100;

/// The signature's Miller loop and the final exponentiation that close a BLS verification
/// (measured 550-575: a single verification less its hash and one-pair Miller loop).
pub const FINAL_VERIFY: u32 = 560;

/// One (key, message) pair of a BLS verification: its hash and its share of a Miller loop.
pub const PAIRING: u32 = HASH_TO_G2 + MILLER_LOOP_PER_PAIR;

/// What every BLS statement costs besides its keys and pairings: the signature's decode, the
/// Miller loop's shared squarings and the final verification.
pub const BLS_STATEMENT: u32 = SIGNATURE_DECODE + MILLER_LOOP_BASE + FINAL_VERIFY;

/// Decoding a Groth16 proof on BN254 with its checks (measured 168-175 with 4 inputs; an
/// input's range check is negligible).
pub const GROTH16_DECODE_BN254: u32 = 170;

/// Decoding a Groth16 proof on BLS12-381 with its checks (measured 292-301).
pub const GROTH16_DECODE_BLS12_381: u32 = 295;

/// A single Groth16 verification on BN254 with no public inputs (measured 1231-1257: 1327-1361
/// with 4 full-size inputs, less 4 x [`GROTH16_INPUT_BN254`]).
pub const GROTH16_VERIFY_BN254: u32 = 1245;

/// A single Groth16 verification on BLS12-381 with no public inputs, by blst (measured
/// 992-1016: 1134-1141 with 4 full-size inputs, less 4 x [`GROTH16_INPUT_BLS12_381`]).
pub const GROTH16_VERIFY_BLS12_381: u32 = 1000;

/// What one public input adds to a Groth16 verification on BN254: its base's share of the
/// inputs' Pippenger multiplication (arkworks), over 32 inputs, about what a step holds
/// (measured 25.3-25.7). Fewer inputs cost more each (4: about 45), more cost less (64: about
/// 20), so the line from [`GROTH16_VERIFY_BN254`] is right at 4 inputs and 15 % over at 64.
pub const GROTH16_INPUT_BN254: u32 = 25;

/// What one public input adds on BLS12-381: the same, by blst (measured 34.5-35.0; 4 inputs
/// about 55 each, 64 about 27: the line is 20 % over at 64 inputs).
pub const GROTH16_INPUT_BLS12_381: u32 = 35;

/// How much work a step has left. Each piece of work is taken from it before it is done; a
/// piece that does not fit waits for the next step, so no step does more than [`STEP`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    left: u32,
}

impl Allowance {
    /// A fresh step's allowance, [`STEP`] units.
    pub fn step() -> Self {
        Allowance { left: STEP }
    }

    /// An allowance of `units` (tests; callers that want smaller steps).
    pub fn of(units: u32) -> Self {
        Allowance { left: units }
    }

    /// Takes `units` if they fit, and says whether they did.
    pub fn take(&mut self, units: u32) -> bool {
        match self.left.checked_sub(units) {
            Some(left) => {
                self.left = left;
                true
            }
            None => false,
        }
    }

    /// Units left.
    pub fn left(&self) -> u32 {
        self.left
    }

    /// Whether nothing was taken from a fresh step's allowance yet: work that does not fit now
    /// never will.
    pub fn is_fresh(&self) -> bool {
        self.left == STEP
    }
}

/// Operations that are counted, in tests, where they are done, so a test can check what each
/// step really did against [`STEP`] without timing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    KeyDecode,
    SignatureDecode,
    /// One pair hashed into a pairing context.
    Hash,
    /// A multi-Miller loop over this many pairs.
    MillerLoop(u32),
    FinalVerify,
    /// Groth16 input bases multiplied in a multi-scalar multiplication, at this cost each.
    InputBases {
        bases: u32,
        per_base: u32,
    },
    /// A piece of a single Groth16 verification's multiplication: every input, these bytes
    /// of each, at this cost.
    InputBytes {
        inputs: u32,
        bytes: u32,
        units: u32,
    },
}

impl Op {
    #[cfg(test)]
    fn units(self) -> u32 {
        match self {
            Op::KeyDecode => KEY_DECODE,
            Op::SignatureDecode => SIGNATURE_DECODE,
            Op::Hash => HASH_TO_G2,
            Op::MillerLoop(pairs) => MILLER_LOOP_BASE + pairs * MILLER_LOOP_PER_PAIR,
            Op::FinalVerify => FINAL_VERIFY,
            Op::InputBases { bases, per_base } => bases * per_base,
            Op::InputBytes { units, .. } => units,
        }
    }
}

/// Counts an operation (tests only; nothing at all otherwise).
#[inline(always)]
pub(crate) fn record(op: Op) {
    #[cfg(test)]
    meter::record(op);
    #[cfg(not(test))]
    let _ = op;
}

#[cfg(test)]
pub(crate) mod meter {
    //! Per-thread tally of recorded operations (every test runs on its own thread).

    use std::cell::RefCell;

    use super::Op;

    thread_local! {
        static DONE: RefCell<Vec<Op>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn record(op: Op) {
        DONE.with(|done| done.borrow_mut().push(op));
    }

    /// The operations recorded since the last call, and their work units.
    pub(crate) fn take() -> (Vec<Op>, u32) {
        let ops = DONE.with(|done| std::mem::take(&mut *done.borrow_mut()));
        let units = ops.iter().map(|op| op.units()).sum();
        (ops, units)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_that_cannot_be_cut_fits_in_a_step() {
        for units in [
            KEY_DECODE,
            SIGNATURE_DECODE,
            GROTH16_DECODE_BN254,
            GROTH16_DECODE_BLS12_381,
            FINAL_VERIFY,
            MILLER_LOOP_BASE + PAIRING,
        ] {
            assert!(units <= STEP, "{units}");
        }
    }

    #[test]
    fn an_allowance_refuses_what_does_not_fit_and_keeps_the_rest() {
        let mut allowance = Allowance::step();
        assert!(allowance.is_fresh());
        assert!(allowance.take(STEP - 10));
        assert!(!allowance.take(11));
        assert_eq!(allowance.left(), 10);
        assert!(allowance.take(10));
        assert!(!allowance.take(1));
    }
}
