//! Fairness across tenants. Each tenant i has a weight w_i (as configured on the appliance)
//! and a demand d_i (the rate it offered). Its weighted max-min fair share f_i of the capacity
//! C (the total rate the appliance served) is found by water-filling: give every tenant
//! C x w_i / sum(w) of what is left; a tenant whose demand is below that gets its demand and
//! leaves; repeat until nobody leaves. Then x_i = served_i / f_i (1 is exactly fair) and the
//! unfairness is summarised by the Gini coefficient of the x_i (0 = all equal) and Jain's
//! index (1 = all equal, 1/n = one tenant gets everything).

/// Weighted max-min fair shares of `capacity` for the given demands (same units).
pub fn fair_shares(capacity: f64, demands: &[f64], weights: &[f64]) -> Vec<f64> {
    let mut shares = vec![0.0; demands.len()];
    let mut active: Vec<usize> = (0..demands.len()).filter(|&i| demands[i] > 0.0).collect();
    let mut left = capacity.max(0.0);
    loop {
        let total_weight: f64 = active.iter().map(|&i| weights[i]).sum();
        if active.is_empty() || total_weight <= 0.0 {
            return shares;
        }
        let satisfied: Vec<usize> = active
            .iter()
            .copied()
            .filter(|&i| demands[i] <= left * weights[i] / total_weight)
            .collect();
        if satisfied.is_empty() {
            for &i in &active {
                shares[i] = left * weights[i] / total_weight;
            }
            return shares;
        }
        for &i in &satisfied {
            shares[i] = demands[i];
            left -= demands[i];
        }
        active.retain(|i| !satisfied.contains(i));
    }
}

/// x_i = served_i / fair_i for tenants with a fair share above 0.
pub fn normalised(served: &[f64], fair: &[f64]) -> Vec<f64> {
    served
        .iter()
        .zip(fair)
        .filter(|(_, f)| **f > 0.0)
        .map(|(s, f)| s / f)
        .collect()
}

/// Gini coefficient: sum over all pairs |x_i - x_j| / (2 n^2 mean); 0 for fewer than two
/// values or all zero.
pub fn gini(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 || mean <= 0.0 {
        return 0.0;
    }
    let pairs: f64 = values
        .iter()
        .map(|a| values.iter().map(|b| (a - b).abs()).sum::<f64>())
        .sum();
    pairs / (2.0 * n * n * mean)
}

/// Jain's fairness index: (sum x)^2 / (n sum x^2); 1 when all are equal.
pub fn jain(values: &[f64]) -> f64 {
    let sum: f64 = values.iter().sum();
    let squares: f64 = values.iter().map(|x| x * x).sum();
    if values.is_empty() || squares <= 0.0 {
        return 1.0;
    }
    sum * sum / (values.len() as f64 * squares)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn under_capacity_everyone_gets_their_demand() {
        assert!(close(
            &fair_shares(1000.0, &[100.0, 200.0, 300.0], &[1.0, 1.0, 1.0]),
            &[100.0, 200.0, 300.0]
        ));
    }

    #[test]
    fn water_filling_by_hand() {
        // C = 900, demands 100, 500, 600, equal weights: 300 each is the first level; tenant 0
        // needs 100 and leaves; the other two split 800 (400 each), both want more.
        assert!(close(
            &fair_shares(900.0, &[100.0, 500.0, 600.0], &[1.0, 1.0, 1.0]),
            &[100.0, 400.0, 400.0]
        ));
        // Weights 1 and 3 over 800 with demands 1000 each: 200 and 600.
        assert!(close(
            &fair_shares(800.0, &[1000.0, 1000.0], &[1.0, 3.0]),
            &[200.0, 600.0]
        ));
        // A tenant that sends nothing has no share.
        assert!(close(
            &fair_shares(100.0, &[0.0, 500.0], &[1.0, 1.0]),
            &[0.0, 100.0]
        ));
    }

    #[test]
    fn gini_and_jain_by_hand() {
        assert_eq!(gini(&[1.0, 1.0, 1.0, 1.0]), 0.0);
        assert_eq!(jain(&[1.0, 1.0, 1.0, 1.0]), 1.0);
        // x = (0, 0, 0, 4): pairs sum = 2 * 3 * 4 = 24; 24 / (2 * 16 * 1) = 0.75.
        assert!((gini(&[0.0, 0.0, 0.0, 4.0]) - 0.75).abs() < 1e-12);
        // Jain: 16 / (4 * 16) = 0.25 = 1/n.
        assert!((jain(&[0.0, 0.0, 0.0, 4.0]) - 0.25).abs() < 1e-12);
        // x = (1, 2): pairs 2; mean 1.5; 2 / (2 * 4 * 1.5) = 1/6. Jain 9 / (2 * 5) = 0.9.
        assert!((gini(&[1.0, 2.0]) - 1.0 / 6.0).abs() < 1e-12);
        assert!((jain(&[1.0, 2.0]) - 0.9).abs() < 1e-12);
    }

    #[test]
    fn a_noisy_tenant_served_beyond_its_share_is_unfair() {
        // Capacity 1000, demands 700, 300, 300: fair = 400, 300, 300. Served 700, 150, 150.
        let fair = fair_shares(1000.0, &[700.0, 300.0, 300.0], &[1.0, 1.0, 1.0]);
        assert!(close(&fair, &[400.0, 300.0, 300.0]));
        let x = normalised(&[700.0, 150.0, 150.0], &fair);
        assert!(close(&x, &[1.75, 0.5, 0.5]));
        assert!(gini(&x) > 0.3);
    }
}
