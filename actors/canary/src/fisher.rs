//! Fisher's exact test on a 2×2 table of counts, one-sided.

/// The p-value that the current window's error rate is higher than the baseline's:
/// `current_errors` of `current_total` against `baseline_errors` of `baseline_total`, from
/// the hypergeometric distribution with the margins fixed, as SciPy's
/// `fisher_exact([[ce, ct - ce], [be, bt - be]], alternative="greater")` computes it. `None`
/// for a count over its total or an empty window.
pub fn fisher_greater(
    current_errors: u64,
    current_total: u64,
    baseline_errors: u64,
    baseline_total: u64,
) -> Option<f64> {
    if current_errors > current_total
        || baseline_errors > baseline_total
        || current_total == 0
        || baseline_total == 0
    {
        return None;
    }
    let total = current_total + baseline_total;
    let errors = current_errors + baseline_errors;
    // X, the current window's errors, is hypergeometric: `current_total` drawn from `total`
    // of which `errors` are errors. P(X >= current_errors).
    let most = errors.min(current_total);
    let least = (current_total + errors).saturating_sub(total);
    let log_all = ln_choose(total, current_total);
    let pmf = |x: u64| {
        (ln_choose(errors, x) + ln_choose(total - errors, current_total - x) - log_all).exp()
    };
    if current_errors <= least {
        return Some(1.0);
    }
    let upper: f64 = (current_errors..=most).map(pmf).sum();
    Some(upper.clamp(0.0, 1.0))
}

/// ln C(n, k).
fn ln_choose(n: u64, k: u64) -> f64 {
    let ln_factorial = |x: u64| libm::lgamma(x as f64 + 1.0);
    ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_tables_by_hand() {
        // Current 3 of 3 errors, baseline 0 of 3: only the most extreme table, 1 of C(6, 3).
        let p = fisher_greater(3, 3, 0, 3).expect("a table");
        assert!((p - 1.0 / 20.0).abs() < 1e-12, "{p}");
        // No errors at all: nothing to see.
        assert_eq!(fisher_greater(0, 100, 0, 100), Some(1.0));
        assert_eq!(fisher_greater(1, 0, 0, 10), None);
        assert_eq!(fisher_greater(0, 0, 0, 10), None);
    }
}
