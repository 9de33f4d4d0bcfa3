//! snarkjs 0.7 JSON: `verification_key.json`, `proof.json` and `public.json`, with decimal-string
//! coordinates in projective form (z = 1, or z = 0 for the point at infinity). Every error names
//! the file and the JSON path of the offending value.

use ark_bls12_381::Bls12_381;
use ark_bn254::Bn254;
use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_ff::{Field as ArkField, Zero};
use ark_groth16::{Proof, VerifyingKey};
use ark_serialize::{Compress, Validate};
use serde_json::Value;

use super::decode::check_point;
use super::{Curve, SupportedCurve};
use crate::{Field, Limits};

/// Longest decimal string accepted for one coordinate or input (a 381-bit value has 115 digits).
const MAX_DECIMAL_DIGITS: usize = 128;

/// A snarkjs file that cannot be used, with the place and the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {path}: {problem}")]
pub struct FormatError {
    /// Which kind of file (`verification_key.json`, `proof.json`, `public.json`).
    pub file: &'static str,
    /// JSON path of the value, such as `pi_b[1][0]`.
    pub path: String,
    /// What is wrong and what is expected.
    pub problem: String,
}

/// A verifying key on either curve.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AnyVerifyingKey {
    /// A BN254 key.
    Bn254(Box<VerifyingKey<Bn254>>),
    /// A BLS12-381 key.
    Bls12_381(Box<VerifyingKey<Bls12_381>>),
}

/// A proof on either curve.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AnyProof {
    /// A BN254 proof.
    Bn254(Proof<Bn254>),
    /// A BLS12-381 proof.
    Bls12_381(Proof<Bls12_381>),
}

impl AnyProof {
    /// The proof's curve.
    pub fn curve(&self) -> Curve {
        match self {
            AnyProof::Bn254(_) => Curve::Bn254,
            AnyProof::Bls12_381(_) => Curve::Bls12_381,
        }
    }
}

const VK_FILE: &str = "verification_key.json";
const PROOF_FILE: &str = "proof.json";
const PUBLIC_FILE: &str = "public.json";

/// Parses `verification_key.json`.
pub fn parse_verifying_key(text: &str, limits: &Limits) -> Result<AnyVerifyingKey, FormatError> {
    let doc = Doc::parse(VK_FILE, text)?;
    doc.expect_groth16()?;
    Ok(match doc.curve()? {
        Curve::Bn254 => AnyVerifyingKey::Bn254(Box::new(doc.verifying_key(limits)?)),
        Curve::Bls12_381 => AnyVerifyingKey::Bls12_381(Box::new(doc.verifying_key(limits)?)),
    })
}

/// Parses `proof.json`.
pub fn parse_proof(text: &str) -> Result<AnyProof, FormatError> {
    let doc = Doc::parse(PROOF_FILE, text)?;
    doc.expect_groth16()?;
    Ok(match doc.curve()? {
        Curve::Bn254 => AnyProof::Bn254(doc.proof()?),
        Curve::Bls12_381 => AnyProof::Bls12_381(doc.proof()?),
    })
}

/// Parses `public.json` (an array of decimal strings) into scalars of curve `E`, refusing values
/// not below the scalar field modulus.
pub fn parse_public_inputs<E: SupportedCurve>(
    text: &str,
    limits: &Limits,
) -> Result<Vec<E::ScalarField>, FormatError> {
    let doc = Doc::parse(PUBLIC_FILE, text)?;
    let items = doc.root.as_array().ok_or_else(|| {
        doc.error(
            String::new(),
            "expected an array of decimal strings".to_owned(),
        )
    })?;
    if items.len() > limits.max_public_inputs {
        return Err(doc.error(
            String::new(),
            format!(
                "{} public inputs exceed the limit of {}",
                items.len(),
                limits.max_public_inputs
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, value)| doc.decimal::<E::ScalarField>(value, format!("[{i}]")))
        .collect()
}

struct Doc {
    file: &'static str,
    root: Value,
}

impl Doc {
    fn parse(file: &'static str, text: &str) -> Result<Self, FormatError> {
        let root = serde_json::from_str(text).map_err(|e| FormatError {
            file,
            path: format!("line {} column {}", e.line(), e.column()),
            problem: format!("not valid JSON: {e}"),
        })?;
        Ok(Doc { file, root })
    }

    fn error(&self, path: String, problem: String) -> FormatError {
        FormatError {
            file: self.file,
            path: if path.is_empty() {
                "(top)".into()
            } else {
                path
            },
            problem,
        }
    }

    fn member(&self, name: &str) -> Result<&Value, FormatError> {
        self.root
            .get(name)
            .ok_or_else(|| self.error(name.to_owned(), "missing; snarkjs 0.7 writes it".to_owned()))
    }

    fn expect_groth16(&self) -> Result<(), FormatError> {
        match self.member("protocol")?.as_str() {
            Some("groth16") => Ok(()),
            other => Err(self.error(
                "protocol".into(),
                format!("expected \"groth16\", found {}", describe(other)),
            )),
        }
    }

    fn curve(&self) -> Result<Curve, FormatError> {
        let name = self.member("curve")?.as_str().ok_or_else(|| {
            self.error("curve".into(), "expected a string such as \"bn128\"".into())
        })?;
        name.parse()
            .map_err(|e: super::UnknownCurve| self.error("curve".into(), e.to_string()))
    }

    fn verifying_key<E: SupportedCurve>(
        &self,
        limits: &Limits,
    ) -> Result<VerifyingKey<E>, FormatError> {
        let ic = self
            .member("IC")?
            .as_array()
            .ok_or_else(|| self.error("IC".into(), "expected an array of G1 points".into()))?;
        if ic.is_empty() || ic.len() - 1 > limits.max_public_inputs {
            return Err(self.error(
                "IC".into(),
                format!(
                    "{} points: a key needs 1 + its public inputs, at most {} inputs",
                    ic.len(),
                    limits.max_public_inputs
                ),
            ));
        }
        if let Some(declared) = self.root.get("nPublic")
            && declared.as_u64() != Some(ic.len() as u64 - 1)
        {
            return Err(self.error(
                "nPublic".into(),
                format!(
                    "says {declared} but IC has {} points (nPublic + 1 expected)",
                    ic.len()
                ),
            ));
        }
        let gamma_abc_g1 = ic
            .iter()
            .enumerate()
            .map(|(i, p)| self.point::<E::G1Config>(p, format!("IC[{i}]"), "verifying_key.IC"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(VerifyingKey {
            alpha_g1: self.named_point::<E::G1Config>("vk_alpha_1")?,
            beta_g2: self.named_point::<E::G2Config>("vk_beta_2")?,
            gamma_g2: self.named_point::<E::G2Config>("vk_gamma_2")?,
            delta_g2: self.named_point::<E::G2Config>("vk_delta_2")?,
            gamma_abc_g1,
        })
    }

    fn proof<E: SupportedCurve>(&self) -> Result<Proof<E>, FormatError> {
        Ok(Proof {
            a: self.named_point::<E::G1Config>("pi_a")?,
            b: self.named_point::<E::G2Config>("pi_b")?,
            c: self.named_point::<E::G1Config>("pi_c")?,
        })
    }

    fn named_point<C: SWCurveConfig>(&self, name: &'static str) -> Result<Affine<C>, FormatError> {
        self.point(self.member(name)?, name.to_owned(), name)
    }

    /// A projective point [x, y, z]; each coordinate a decimal string (G1) or a pair (G2).
    fn point<C: SWCurveConfig>(
        &self,
        value: &Value,
        path: String,
        field: &'static str,
    ) -> Result<Affine<C>, FormatError> {
        let coords = value.as_array().filter(|a| a.len() == 3).ok_or_else(|| {
            self.error(
                path.clone(),
                "expected [x, y, z] (projective, as snarkjs writes)".into(),
            )
        })?;
        let x = self.coordinate::<C::BaseField>(&coords[0], format!("{path}[0]"))?;
        let y = self.coordinate::<C::BaseField>(&coords[1], format!("{path}[1]"))?;
        let z = self.coordinate::<C::BaseField>(&coords[2], format!("{path}[2]"))?;
        if z.is_zero() {
            return Ok(Affine::identity());
        }
        if z != C::BaseField::ONE {
            return Err(self.error(
                format!("{path}[2]"),
                "z must be 1 (affine) or 0 (the point at infinity); normalise the point".into(),
            ));
        }
        check_point(Affine::new_unchecked(x, y), Field::new(field))
            .map_err(|rejection| self.error(path, rejection.to_string()))
    }

    /// A base-field element: a decimal string, or an array of them for an extension field.
    fn coordinate<F: ArkField>(&self, value: &Value, path: String) -> Result<F, FormatError> {
        let degree = F::extension_degree() as usize;
        if degree == 1 {
            let element = self.decimal::<F::BasePrimeField>(value, path.clone())?;
            return F::from_base_prime_field_elems([element])
                .ok_or_else(|| self.error(path, "not a field element".into()));
        }
        let parts = value
            .as_array()
            .filter(|a| a.len() == degree)
            .ok_or_else(|| {
                self.error(
                    path.clone(),
                    format!("expected {degree} decimal strings (c0, c1)"),
                )
            })?;
        let elements = parts
            .iter()
            .enumerate()
            .map(|(i, part)| self.decimal::<F::BasePrimeField>(part, format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        F::from_base_prime_field_elems(elements)
            .ok_or_else(|| self.error(path, "not a field element".into()))
    }

    /// A decimal string below the field's modulus (never reduced).
    fn decimal<F: ark_ff::PrimeField>(
        &self,
        value: &Value,
        path: String,
    ) -> Result<F, FormatError> {
        let text = value.as_str().ok_or_else(|| {
            self.error(
                path.clone(),
                format!("expected a decimal string, found {}", kind(value)),
            )
        })?;
        let width = F::zero().serialized_size(Compress::Yes);
        let bytes = decimal_to_le_bytes(text, width).ok_or_else(|| {
            self.error(
                path.clone(),
                format!(
                    "{:?} is not a decimal number below 2^{}",
                    clip(text),
                    width * 8
                ),
            )
        })?;
        F::deserialize_with_mode(&bytes[..], Compress::Yes, Validate::Yes).map_err(|_| {
            self.error(
                path,
                format!("{} is not below the field modulus", clip(text)),
            )
        })
    }
}

/// Parses ASCII decimal digits into `width` little-endian bytes; `None` for anything else or on
/// overflow.
fn decimal_to_le_bytes(text: &str, width: usize) -> Option<Vec<u8>> {
    if text.is_empty() || text.len() > MAX_DECIMAL_DIGITS {
        return None;
    }
    let mut out = vec![0u8; width];
    for digit in text.bytes() {
        if !digit.is_ascii_digit() {
            return None;
        }
        let mut carry = u32::from(digit - b'0');
        for byte in out.iter_mut() {
            let value = u32::from(*byte) * 10 + carry;
            *byte = value as u8;
            carry = value >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(out)
}

fn describe(value: Option<&str>) -> String {
    value.map_or_else(|| "a non-string".to_owned(), |s| format!("{s:?}"))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number (write it as a string)",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn clip(text: &str) -> String {
    if text.len() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_parsing_is_exact_and_refuses_junk() {
        assert_eq!(decimal_to_le_bytes("258", 2), Some(vec![2, 1]));
        assert_eq!(decimal_to_le_bytes("65535", 2), Some(vec![255, 255]));
        assert_eq!(decimal_to_le_bytes("65536", 2), None);
        for junk in ["", "-1", "+1", "1_0", "0x10", " 1", "1e3"] {
            assert_eq!(decimal_to_le_bytes(junk, 32), None, "{junk:?}");
        }
    }

    #[test]
    fn scalar_at_the_modulus_is_refused_not_reduced() {
        let modulus =
            "21888242871839275222246405745257275088548364400416034343698204186575808495617";
        let err = parse_public_inputs::<Bn254>(&format!("[\"{modulus}\"]"), &Limits::DEFAULT)
            .expect_err("the modulus is not a field element");
        assert_eq!(err.path, "[0]");
        assert!(err.problem.contains("not below the field modulus"), "{err}");
        let below = "21888242871839275222246405745257275088548364400416034343698204186575808495616";
        assert!(parse_public_inputs::<Bn254>(&format!("[\"{below}\"]"), &Limits::DEFAULT).is_ok());
    }

    #[test]
    fn too_many_inputs_are_refused_before_parsing() {
        let limits = Limits {
            max_public_inputs: 2,
            ..Limits::DEFAULT
        };
        let err = parse_public_inputs::<Bn254>("[\"1\",\"2\",\"x\"]", &limits).expect_err("3 > 2");
        assert!(err.problem.contains("exceed the limit of 2"), "{err}");
    }
}
