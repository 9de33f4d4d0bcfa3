//! The standard normal distribution's upper tail.

/// P(Z > z) for a standard normal Z, accurate in the far tail too (through erfc).
pub(crate) fn upper_tail(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tail_probabilities() {
        assert!((upper_tail(0.0) - 0.5).abs() < 1e-15);
        assert!((upper_tail(1.959_963_984_540_054) - 0.025).abs() < 1e-12);
        assert!((upper_tail(-1.0) - 0.841_344_746_068_542_9).abs() < 1e-12);
        // Far out, where 1 - cdf would round to 0.
        assert!((upper_tail(10.0) / 7.619_853_024_160_527e-24 - 1.0).abs() < 1e-9);
    }
}
