//! The Hodges-Lehmann estimate of the shift between two samples.

/// The median of every difference `current[i] - baseline[j]`: how far the current sample sits
/// above the baseline (negative: below). `None` when either sample is empty. Costs
/// |current| × |baseline| differences; the canary's windows hold a few hundred values each.
pub fn hodges_lehmann(current: &[f64], baseline: &[f64]) -> Option<f64> {
    if current.is_empty() || baseline.is_empty() {
        return None;
    }
    let mut differences: Vec<f64> = current
        .iter()
        .flat_map(|c| baseline.iter().map(move |b| c - b))
        .collect();
    differences.sort_by(f64::total_cmp);
    let middle = differences.len() / 2;
    Some(if differences.len() % 2 == 1 {
        differences[middle]
    } else {
        (differences[middle - 1] + differences[middle]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_every_pairwise_difference() {
        assert_eq!(hodges_lehmann(&[], &[1.0]), None);
        assert_eq!(hodges_lehmann(&[5.0], &[2.0]), Some(3.0));
        // Differences: 1-0, 1-10, 2-0, 2-10 = 1, -9, 2, -8: median (-8 + 1) / 2.
        assert_eq!(hodges_lehmann(&[1.0, 2.0], &[0.0, 10.0]), Some(-3.5));
        // An outlier moves it little: the same shift of 10 with one wild value.
        let base = [10.0, 11.0, 12.0, 13.0, 14.0];
        let shifted = [20.0, 21.0, 22.0, 23.0, 1_000.0];
        assert_eq!(hodges_lehmann(&shifted, &base), Some(10.0));
    }
}
