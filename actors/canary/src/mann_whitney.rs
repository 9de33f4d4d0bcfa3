//! The Mann-Whitney U test: whether one sample tends to hold larger values than another,
//! without assuming any distribution. The p-value is computed as SciPy's
//! `mannwhitneyu(x, y, alternative=..., method="auto")` does: exact when either sample has at
//! most 8 values and there is no tie, else the normal approximation with the tie correction
//! and a continuity correction of one half.

use crate::normal::upper_tail;
use crate::rank::average_ranks;

/// What the test asks of the current sample against the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alternative {
    /// Either sample tends to be larger.
    TwoSided,
    /// The current sample tends to be larger (slower, for latencies).
    Greater,
    /// The current sample tends to be smaller.
    Less,
}

/// How the p-value was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// From the exact distribution of U.
    Exact,
    /// From the normal approximation.
    Asymptotic,
}

/// The test's result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MannWhitney {
    /// U of the current sample: how many (current, baseline) pairs have the current value
    /// larger, ties counting one half.
    pub u: f64,
    /// The p-value under `alternative`.
    pub p_value: f64,
    /// How it was computed.
    pub method: Method,
}

/// The largest sample the exact distribution is computed for (the smaller of the two, as
/// SciPy does); above it the normal approximation is used.
const EXACT_UP_TO: usize = 8;

/// The largest other sample the exact distribution is computed beside: its table holds
/// 8 × 10,000 counts, each below C(10,008, 8) ≈ 2.5e27, well inside i128. Past it the normal
/// approximation is used, where SciPy would still count exactly.
const EXACT_BESIDE_UP_TO: usize = 10_000;

/// Tests `current` against `baseline`; `None` when either is empty (there is nothing to
/// compare, which a caller must not take as a pass). NaNs are not expected: latencies and
/// counts are finite.
pub fn mann_whitney(
    current: &[f64],
    baseline: &[f64],
    alternative: Alternative,
) -> Option<MannWhitney> {
    let (n1, n2) = (current.len(), baseline.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let pooled: Vec<f64> = current.iter().chain(baseline).copied().collect();
    let (ranks, ties) = average_ranks(&pooled);
    let rank_sum: f64 = ranks[..n1].iter().sum();
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let u1 = rank_sum - n1f * (n1f + 1.0) / 2.0;
    let u2 = n1f * n2f - u1;
    let (u, factor) = match alternative {
        Alternative::Greater => (u1, 1.0),
        Alternative::Less => (u2, 1.0),
        Alternative::TwoSided => (u1.max(u2), 2.0),
    };
    let exact = n1.min(n2) <= EXACT_UP_TO && n1.max(n2) <= EXACT_BESIDE_UP_TO && ties == 0.0;
    let (tail, method) = if exact {
        // Without ties U is a whole number.
        (exact_at_least(u.round() as usize, n1, n2), Method::Exact)
    } else {
        let n = n1f + n2f;
        let mean = n1f * n2f / 2.0;
        let spread = (n1f * n2f / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
        let tail = if spread > 0.0 {
            upper_tail((u - mean - 0.5) / spread)
        } else {
            // Every value equal: no evidence either way.
            1.0
        };
        (tail, Method::Asymptotic)
    };
    Some(MannWhitney {
        u: u1,
        p_value: (tail * factor).clamp(0.0, 1.0),
        method,
    })
}

/// P(U ≥ `u`) for samples of `n1` and `n2` values without ties, from the exact distribution:
/// the number of ways to reach each U is the coefficient of the Gaussian binomial
/// [n1 + n2 choose n1] in q, built one factor (1 − q^(n+i)) / (1 − q^i) at a time.
fn exact_at_least(u: usize, n1: usize, n2: usize) -> f64 {
    let (small, large) = (n1.min(n2), n1.max(n2));
    let most = small * large;
    if u == 0 {
        return 1.0;
    }
    if u > most {
        return 0.0;
    }
    // Counts reach C(small + large, small), inside i128 for the sizes `mann_whitney` sends.
    let mut ways = vec![0i128; most + 1];
    ways[0] = 1;
    let mut top = 0;
    for i in 1..=small {
        // Multiply by (1 - q^(large + i)), highest degree first so each term reads the old one.
        let shift = large + i;
        let new_top = top + large;
        for k in (shift..=new_top.min(most)).rev() {
            ways[k] -= ways[k - shift];
        }
        // Divide by (1 - q^i): a running sum with stride i.
        for k in i..=new_top {
            ways[k] += ways[k - i];
        }
        top = new_top;
    }
    let total: i128 = ways.iter().sum();
    let at_least: i128 = ways[u..].iter().sum();
    at_least as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_distribution_counts_every_arrangement() {
        // Two against two: U takes 0..=4 in 1, 1, 2, 1, 1 of the 6 arrangements.
        assert_eq!(exact_at_least(0, 2, 2), 1.0);
        assert!((exact_at_least(3, 2, 2) - 2.0 / 6.0).abs() < 1e-15);
        assert!((exact_at_least(4, 2, 2) - 1.0 / 6.0).abs() < 1e-15);
        assert_eq!(exact_at_least(5, 2, 2), 0.0);
        // One against n: U is uniform on 0..=n.
        assert!((exact_at_least(3, 1, 9) - 7.0 / 10.0).abs() < 1e-15);
        // Large counts stay exact: C(1008, 8) arrangements.
        let p = exact_at_least(4_000, 8, 1_000);
        assert!(p > 0.0 && p < 1.0, "{p}");
    }

    #[test]
    fn empty_samples_give_no_answer_and_equal_ones_no_evidence() {
        assert_eq!(mann_whitney(&[], &[1.0], Alternative::TwoSided), None);
        let same = [3.0; 20];
        let result = mann_whitney(&same, &same, Alternative::Greater).expect("samples");
        assert_eq!((result.p_value, result.method), (1.0, Method::Asymptotic));
        assert_eq!(result.u, 200.0);
    }
}
