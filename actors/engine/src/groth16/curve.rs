//! The pairing curves Groth16 proofs may use, and what the engine needs to know of each.

use std::fmt;
use std::str::FromStr;

use ark_ec::pairing::Pairing;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};

use super::{AnyKey, Arkworks, Backend, Blst, PreparedKey};

/// A supported Groth16 curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Curve {
    /// BN254 (snarkjs and circom call it `bn128`; Ethereum's alt_bn128).
    Bn254,
    /// BLS12-381.
    Bls12_381,
}

impl Curve {
    /// Bytes of a compressed Groth16 proof on this curve (A and C in G1, B in G2).
    pub fn proof_bytes(self) -> usize {
        match self {
            Curve::Bn254 => 32 + 64 + 32,
            Curve::Bls12_381 => 48 + 96 + 48,
        }
    }

    /// The curve whose compressed proofs are this long, if any.
    pub fn from_proof_len(len: usize) -> Option<Curve> {
        [Curve::Bn254, Curve::Bls12_381]
            .into_iter()
            .find(|c| c.proof_bytes() == len)
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Curve::Bn254 => "bn254",
            Curve::Bls12_381 => "bls12-381",
        })
    }
}

/// A curve name that is not one of the supported curves.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown curve {0:?}: use bn254 (snarkjs: bn128) or bls12-381 (snarkjs: bls12381)")]
pub struct UnknownCurve(pub String);

impl FromStr for Curve {
    type Err = UnknownCurve;

    /// Accepts our names and the names snarkjs and other tools write.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "bn254" | "bn128" | "alt_bn128" => Ok(Curve::Bn254),
            "bls12-381" | "bls12381" | "bls12_381" => Ok(Curve::Bls12_381),
            _ => Err(UnknownCurve(name.to_owned())),
        }
    }
}

/// A pairing engine the verifier supports, with its short-Weierstrass curve configurations so
/// points can be built from coordinates and checked.
pub trait SupportedCurve:
    Pairing<
        G1 = Projective<Self::G1Config>,
        G1Affine = Affine<Self::G1Config>,
        G2 = Projective<Self::G2Config>,
        G2Affine = Affine<Self::G2Config>,
    >
{
    /// G1's curve configuration.
    type G1Config: SWCurveConfig<ScalarField = Self::ScalarField>;
    /// G2's curve configuration.
    type G2Config: SWCurveConfig<ScalarField = Self::ScalarField>;
    /// Which curve this is.
    const CURVE: Curve;
    /// The verifier the engine uses on this curve: the fastest [`Backend`] for it. The others
    /// stay compiled, and tests check every verdict against them.
    type Verifier: Backend<Self>;

    /// The key if it is on this curve.
    fn key_of(key: &AnyKey) -> Option<&PreparedKey<Self>>;
}

impl SupportedCurve for ark_bn254::Bn254 {
    type G1Config = ark_bn254::g1::Config;
    type G2Config = ark_bn254::g2::Config;
    const CURVE: Curve = Curve::Bn254;
    type Verifier = Arkworks;

    fn key_of(key: &AnyKey) -> Option<&PreparedKey<Self>> {
        match key {
            AnyKey::Bn254(key) => Some(key),
            _ => None,
        }
    }
}

impl SupportedCurve for ark_bls12_381::Bls12_381 {
    type G1Config = ark_bls12_381::g1::Config;
    type G2Config = ark_bls12_381::g2::Config;
    const CURVE: Curve = Curve::Bls12_381;
    /// blst's pairing and multi-scalar multiplication are about twice as fast as arkworks' on
    /// BLS12-381 (see `docs/verification-engine.md`).
    type Verifier = Blst;

    fn key_of(key: &AnyKey) -> Option<&PreparedKey<Self>> {
        match key {
            AnyKey::Bls12_381(key) => Some(key),
            _ => None,
        }
    }
}
