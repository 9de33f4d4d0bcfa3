//! Verifying keys prepared once and cached by id.

use std::collections::HashMap;
use std::sync::Arc;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_ec::AffineRepr;
use ark_groth16::{PreparedVerifyingKey, VerifyingKey, prepare_verifying_key};

use super::decode::{decode_verifying_key, encode_verifying_key};
use super::{Curve, SupportedCurve};
use crate::{KeyId, Limits, Rejection};

/// A verifying key with its pairing precomputations, ready for single and batch verification.
#[derive(Clone, Debug)]
pub struct PreparedKey<E: SupportedCurve> {
    id: KeyId,
    pub(crate) prepared: PreparedVerifyingKey<E>,
    /// `-beta` in G2, prepared: the batch check pairs it with the summed `alpha` term.
    pub(crate) neg_beta_g2: E::G2Prepared,
}

impl<E: SupportedCurve> PreparedKey<E> {
    /// Prepares a decoded key, refusing one that expects more public inputs than the limits allow.
    pub fn new(limits: &Limits, key: VerifyingKey<E>) -> Result<Self, Rejection> {
        if key.gamma_abc_g1.is_empty() {
            return Err(Rejection::WrongLength {
                field: crate::Field::new("verifying_key.gamma_abc_g1"),
                expected: 1,
                actual: 0,
            });
        }
        super::decode::check_input_count(limits, key.gamma_abc_g1.len() - 1)?;
        // With gamma or delta at infinity the pairing check no longer binds the public inputs
        // or the proof's C, so anything would verify; alpha and beta likewise degenerate.
        for (at_infinity, name) in [
            (key.alpha_g1.is_zero(), "verifying_key.alpha_g1"),
            (key.beta_g2.is_zero(), "verifying_key.beta_g2"),
            (key.gamma_g2.is_zero(), "verifying_key.gamma_g2"),
            (key.delta_g2.is_zero(), "verifying_key.delta_g2"),
        ] {
            if at_infinity {
                return Err(Rejection::Infinity {
                    field: crate::Field::new(name),
                });
            }
        }
        let id = KeyId::of_canonical_bytes(&encode_verifying_key(&key));
        let neg_beta_g2 = (-key.beta_g2.into_group()).into();
        Ok(PreparedKey {
            id,
            prepared: prepare_verifying_key(&key),
            neg_beta_g2,
        })
    }

    /// The key's id: SHA-256 of its canonical compressed bytes.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// How many public inputs a statement under this key has.
    pub fn public_inputs(&self) -> usize {
        self.prepared.vk.gamma_abc_g1.len() - 1
    }

    /// The unprepared key.
    pub fn verifying_key(&self) -> &VerifyingKey<E> {
        &self.prepared.vk
    }

    /// arkworks' prepared key, for callers comparing against the library directly.
    pub fn arkworks_prepared(&self) -> &PreparedVerifyingKey<E> {
        &self.prepared
    }
}

/// A prepared key on either curve.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AnyKey {
    /// A BN254 key.
    Bn254(Box<PreparedKey<Bn254>>),
    /// A BLS12-381 key.
    Bls12_381(Box<PreparedKey<Bls12_381>>),
}

impl AnyKey {
    /// Decodes and prepares a key from canonical compressed bytes on the given curve.
    pub fn decode(curve: Curve, limits: &Limits, bytes: &[u8]) -> Result<Self, Rejection> {
        fn prepare<E: SupportedCurve>(
            limits: &Limits,
            bytes: &[u8],
        ) -> Result<Box<PreparedKey<E>>, Rejection> {
            Ok(Box::new(PreparedKey::new(
                limits,
                decode_verifying_key(limits, bytes)?,
            )?))
        }
        Ok(match curve {
            Curve::Bn254 => AnyKey::Bn254(prepare(limits, bytes)?),
            Curve::Bls12_381 => AnyKey::Bls12_381(prepare(limits, bytes)?),
        })
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        match self {
            AnyKey::Bn254(k) => k.id(),
            AnyKey::Bls12_381(k) => k.id(),
        }
    }

    /// The key's curve.
    pub fn curve(&self) -> Curve {
        match self {
            AnyKey::Bn254(_) => Curve::Bn254,
            AnyKey::Bls12_381(_) => Curve::Bls12_381,
        }
    }

    /// How many public inputs a statement under this key has.
    pub fn public_inputs(&self) -> usize {
        match self {
            AnyKey::Bn254(k) => k.public_inputs(),
            AnyKey::Bls12_381(k) => k.public_inputs(),
        }
    }
}

/// The registry is full; remove keys before adding more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the key registry holds its limit of {capacity} keys; remove unused keys first")]
pub struct RegistryFull {
    /// The registry's capacity.
    pub capacity: usize,
}

/// Prepared keys by id, bounded. Shared read-only (through `Arc`) by whoever verifies.
#[derive(Clone, Debug)]
pub struct KeyRegistry {
    keys: HashMap<KeyId, Arc<AnyKey>>,
    capacity: usize,
}

impl KeyRegistry {
    /// An empty registry holding at most `capacity` keys.
    pub fn with_capacity(capacity: usize) -> Self {
        KeyRegistry {
            keys: HashMap::with_capacity(capacity.min(1024)),
            capacity,
        }
    }

    /// Adds a prepared key; adding a key already present is a no-op returning its id.
    pub fn insert(&mut self, key: AnyKey) -> Result<KeyId, RegistryFull> {
        let id = key.id();
        if !self.keys.contains_key(&id) {
            if self.keys.len() >= self.capacity {
                return Err(RegistryFull {
                    capacity: self.capacity,
                });
            }
            self.keys.insert(id, Arc::new(key));
        }
        Ok(id)
    }

    /// The key with this id.
    pub fn get(&self, id: &KeyId) -> Result<&Arc<AnyKey>, Rejection> {
        self.keys.get(id).ok_or(Rejection::UnknownKey(*id))
    }

    /// Removes a key.
    pub fn remove(&mut self, id: &KeyId) -> Option<Arc<AnyKey>> {
        self.keys.remove(id)
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no keys are held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
