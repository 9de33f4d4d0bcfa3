//! A circuit with as many public inputs as asked, for Groth16 proofs with many inputs.

use ark_ff::PrimeField;
use ark_relations::r1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError, Variable};

/// `inputs` public inputs, each constrained to equal itself times one.
pub struct ManyInputs<F> {
    pub inputs: Vec<F>,
}

impl<F: PrimeField> ConstraintSynthesizer<F> for ManyInputs<F> {
    fn generate_constraints(self, cs: ConstraintSystemRef<F>) -> Result<(), SynthesisError> {
        for value in self.inputs {
            let input = cs.new_input_variable(|| Ok(value))?;
            cs.enforce_constraint(input.into(), Variable::One.into(), input.into())?;
        }
        Ok(())
    }
}
