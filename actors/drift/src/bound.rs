//! The exact (Clopper-Pearson) one-sided upper confidence bound on a rate: the largest rate
//! under which seeing as few flips as were seen still has at least `1 - confidence` chance.
//! Exact rather than a normal approximation, because drift is usually a handful of flips
//! among many decisions, where the approximations are worst.

/// The upper bound on the rate behind `hits` of `trials`, at `confidence` (0.95: 95 %).
/// 1 for no trials.
pub fn upper_bound(hits: u64, trials: u64, confidence: f64) -> f64 {
    if trials == 0 || hits >= trials {
        return 1.0;
    }
    // P(X <= hits | p) = 1 - I_p(hits + 1, trials - hits), falling in p: find where it
    // reaches 1 - confidence.
    let (a, b) = ((hits + 1) as f64, (trials - hits) as f64);
    let (mut low, mut high) = (hits as f64 / trials as f64, 1.0);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if incomplete_beta(a, b, mid) < confidence {
            low = mid;
        } else {
            high = mid;
        }
        if high - low <= 1e-15 * high.max(1e-300) {
            break;
        }
    }
    high
}

/// The fewest trials for which no hits at all bound the rate at or under `tolerance`.
pub fn trials_needed(tolerance: f64, confidence: f64) -> u64 {
    if tolerance <= 0.0 {
        return u64::MAX;
    }
    if tolerance >= 1.0 {
        return 1;
    }
    // With no hits the bound is 1 - (1 - confidence)^(1/n).
    ((1.0 - confidence).ln() / (1.0 - tolerance).ln()).ceil() as u64
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified
/// Lentz), on the side where it converges fast.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * continued_fraction(a, b, x) / a
    } else {
        1.0 - front * continued_fraction(b, a, 1.0 - x) / b
    }
}

fn continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    d = 1.0 / if d.abs() < TINY { TINY } else { d };
    let mut h = d;
    for m in 1..10_000 {
        let m = m as f64;
        let step = |numerator: f64, c: &mut f64, d: &mut f64| {
            *d = 1.0 + numerator * *d;
            *d = 1.0 / if d.abs() < TINY { TINY } else { *d };
            *c = 1.0 + numerator / *c;
            if c.abs() < TINY {
                *c = TINY;
            }
            *d * *c
        };
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        h *= step(even, &mut c, &mut d);
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        let delta = step(odd, &mut c, &mut d);
        h *= delta;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms: about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the series accurate near zero.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P(X <= k) for X ~ Binomial(n, p), summed term by term in logs: an independent way to
    /// the same number.
    fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
        let mut log_choose = 0.0f64;
        let mut total = 0.0;
        for i in 0..=k {
            if i > 0 {
                log_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
            }
            total += (log_choose + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp();
        }
        total
    }

    #[test]
    fn with_no_hits_the_bound_is_the_closed_form() {
        for n in [1u64, 10, 600, 100_000, 10_000_000] {
            let expected = 1.0 - 0.05f64.powf(1.0 / n as f64);
            let bound = upper_bound(0, n, 0.95);
            assert!(
                (bound - expected).abs() <= 1e-6 * expected,
                "n {n}: {bound} against {expected}"
            );
        }
    }

    #[test]
    fn at_the_bound_seeing_so_few_hits_has_exactly_the_leftover_chance() {
        for (k, n) in [
            (1u64, 50u64),
            (7, 200),
            (40, 1000),
            (3, 1_000_000),
            (500, 100_000),
        ] {
            let bound = upper_bound(k, n, 0.95);
            assert!(bound > k as f64 / n as f64);
            let tail = binomial_cdf(k, n, bound);
            assert!(
                (tail - 0.05).abs() < 1e-7,
                "k {k} n {n}: bound {bound}, tail {tail}"
            );
        }
    }

    #[test]
    fn the_fewest_trials_that_can_pass_a_tolerance() {
        let n = trials_needed(0.005, 0.95);
        assert_eq!(n, 598);
        assert!(upper_bound(0, n, 0.95) <= 0.005);
        assert!(upper_bound(0, n - 1, 0.95) > 0.005);
        assert_eq!(upper_bound(5, 5, 0.95), 1.0);
        assert_eq!(upper_bound(0, 0, 0.95), 1.0);
    }
}
