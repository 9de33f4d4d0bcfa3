//! Verifying keys prepared once and cached by id.

use std::collections::HashMap;
use std::sync::Arc;

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_ec::AffineRepr;
use ark_groth16::{PreparedVerifyingKey, VerifyingKey, prepare_verifying_key};

use super::decode::{decode_verifying_key, encode_verifying_key};
use super::{Backend, Curve, SupportedCurve};
use crate::{KeyId, Limits, Rejection};

/// A verifying key with its pairing precomputations, ready for single and batch verification.
#[derive(Clone, Debug)]
pub struct PreparedKey<E: SupportedCurve> {
    id: KeyId,
    pub(crate) prepared: PreparedVerifyingKey<E>,
    /// `-beta` in G2, prepared: the batch check pairs it with the summed `alpha` term.
    pub(crate) neg_beta_g2: E::G2Prepared,
    /// What the curve's verifier keeps besides (blst's form of the key on BLS12-381).
    pub(crate) verifier: <E::Verifier as Backend<E>>::Prepared,
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
            verifier: <E::Verifier as Backend<E>>::prepare(&key),
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

/// Who keeps a prepared key: the policy bundle in force, or partners who registered it. Each
/// has its own room, so keys partners register can never crowd out the operator's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Holder {
    /// The key registry of the bundle in force.
    Bundle,
    /// One or more partners registered it.
    Partners,
}

/// How many keys each holder may keep prepared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRoom {
    /// Room for the bundle's registry (a bundle carrying more is refused at promotion).
    pub bundle: usize,
    /// Room for keys partners register, shared by the tenants homed on a shard, each also
    /// bounded by its own quota.
    pub partners: usize,
}

/// A holder's room is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryFull {
    /// Partners' keys fill their room.
    #[error(
        "the room for keys partners register is full ({capacity} keys on this shard); ask the \
         operator to grant the key through a policy bundle"
    )]
    Partners {
        /// The room.
        capacity: usize,
    },
    /// More bundle keys than the room reserved for them.
    #[error("a policy bundle may carry at most {capacity} verifying keys")]
    Bundle {
        /// The room.
        capacity: usize,
    },
}

impl RegistryFull {
    fn of(holder: Holder, capacity: usize) -> Self {
        match holder {
            Holder::Bundle => RegistryFull::Bundle { capacity },
            Holder::Partners => RegistryFull::Partners { capacity },
        }
    }
}

#[derive(Clone, Debug)]
struct Held {
    key: Arc<AnyKey>,
    bundle: bool,
    partners: bool,
}

impl Held {
    fn by(&mut self, holder: Holder) -> &mut bool {
        match holder {
            Holder::Bundle => &mut self.bundle,
            Holder::Partners => &mut self.partners,
        }
    }
}

/// Prepared keys by id, each kept by the bundle, by partners or by both, every holder bounded
/// by its room. A key is prepared once however many hold it. Shared read-only (through `Arc`)
/// by whoever verifies.
#[derive(Clone, Debug)]
pub struct KeyRegistry {
    keys: HashMap<KeyId, Held>,
    room: KeyRoom,
    bundle_len: usize,
    partners_len: usize,
}

impl KeyRegistry {
    /// An empty registry with this much room.
    pub fn new(room: KeyRoom) -> Self {
        KeyRegistry {
            keys: HashMap::with_capacity((room.bundle + room.partners).min(1024)),
            room,
            bundle_len: 0,
            partners_len: 0,
        }
    }

    fn counts(&mut self, holder: Holder) -> (&mut usize, usize) {
        match holder {
            Holder::Bundle => (&mut self.bundle_len, self.room.bundle),
            Holder::Partners => (&mut self.partners_len, self.room.partners),
        }
    }

    /// Adds a prepared key for `holder`; a key it already holds is a no-op returning its id.
    pub fn insert(&mut self, key: AnyKey, holder: Holder) -> Result<KeyId, RegistryFull> {
        let id = key.id();
        if !self.keys.contains_key(&id) {
            let (len, room) = self.counts(holder);
            if *len >= room {
                return Err(RegistryFull::of(holder, room));
            }
            self.keys.insert(
                id,
                Held {
                    key: Arc::new(key),
                    bundle: false,
                    partners: false,
                },
            );
        }
        self.hold(&id, holder).map(|_| id)
    }

    /// Makes `holder` keep a key already prepared; false when no key has this id.
    pub fn hold(&mut self, id: &KeyId, holder: Holder) -> Result<bool, RegistryFull> {
        let held_already = match self.keys.get_mut(id) {
            None => return Ok(false),
            Some(held) => *held.by(holder),
        };
        if !held_already {
            let (len, room) = self.counts(holder);
            if *len >= room {
                return Err(RegistryFull::of(holder, room));
            }
            *len += 1;
            if let Some(held) = self.keys.get_mut(id) {
                *held.by(holder) = true;
            }
        }
        Ok(true)
    }

    /// `holder` no longer keeps the key; it is dropped once nobody does.
    pub fn release(&mut self, id: &KeyId, holder: Holder) {
        let Some(held) = self.keys.get_mut(id) else {
            return;
        };
        if !std::mem::take(held.by(holder)) {
            return;
        }
        let unheld = !held.bundle && !held.partners;
        *self.counts(holder).0 -= 1;
        if unheld {
            self.keys.remove(id);
        }
    }

    /// The key with this id.
    pub fn get(&self, id: &KeyId) -> Result<&Arc<AnyKey>, Rejection> {
        self.keys
            .get(id)
            .map(|held| &held.key)
            .ok_or(Rejection::UnknownKey(*id))
    }

    /// Whether `holder` keeps the key with this id.
    pub fn is_held_by(&self, id: &KeyId, holder: Holder) -> bool {
        self.keys.get(id).is_some_and(|held| match holder {
            Holder::Bundle => held.bundle,
            Holder::Partners => held.partners,
        })
    }

    /// How many keys `holder` keeps.
    pub fn held_by(&self, holder: Holder) -> usize {
        match holder {
            Holder::Bundle => self.bundle_len,
            Holder::Partners => self.partners_len,
        }
    }

    /// The room of each holder.
    pub fn room(&self) -> KeyRoom {
        self.room
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
