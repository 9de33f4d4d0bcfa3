//! What a batch costs, learned from the batches verified: `fixed + per_item * n` microseconds
//! for a batch of `n`. The fixed part (a final exponentiation, the Miller loops every item
//! shares) is what batching spreads; the per-item part is what it cannot.
//!
//! The fit is a least-squares line over recent batches, each weighed less as newer ones come
//! (so it follows the host's drifting speed), held toward a prior by a small ridge: batches of
//! one size alone cannot tell the two parts apart, and then the prior's split stands.

/// How much an observation's weight keeps per newer observation: about the last 30 batches
/// carry the fit.
const DECAY: f64 = 0.97;
/// The prior's weight against observations (each weighs 1 when new).
const PRIOR_WEIGHT: f64 = 0.05;
/// The smallest per-item cost the fit may give, microseconds: no item is free.
const MIN_PER_ITEM_US: f64 = 1.0;

/// A learned `fixed + per_item * n` cost, microseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct CostModel {
    prior: Line,
    fit: Line,
    /// Decayed sums: weights, w*n, w*n^2, w*y, w*n*y.
    w: f64,
    wn: f64,
    wnn: f64,
    wy: f64,
    wny: f64,
}

/// `fixed + per_item * n`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    /// Microseconds every batch costs whatever its size.
    pub fixed_us: f64,
    /// Microseconds each item adds.
    pub per_item_us: f64,
}

impl Line {
    /// A batch of `n`, microseconds.
    pub fn batch_us(&self, n: usize) -> f64 {
        self.fixed_us + self.per_item_us * n as f64
    }

    /// Per item in a batch of `n` (at least 1), microseconds.
    pub fn per_item_at(&self, n: usize) -> f64 {
        self.batch_us(n.max(1)) / n.max(1) as f64
    }
}

impl CostModel {
    /// A model that predicts `prior` until batches are observed.
    pub fn new(prior: Line) -> Self {
        CostModel {
            prior,
            fit: prior,
            w: 0.0,
            wn: 0.0,
            wnn: 0.0,
            wy: 0.0,
            wny: 0.0,
        }
    }

    /// A batch of `items` took `elapsed_us` to verify.
    pub fn observe(&mut self, items: usize, elapsed_us: f64) {
        if items == 0 || !elapsed_us.is_finite() || elapsed_us < 0.0 {
            return;
        }
        let (n, y) = (items as f64, elapsed_us);
        self.w = self.w * DECAY + 1.0;
        self.wn = self.wn * DECAY + n;
        self.wnn = self.wnn * DECAY + n * n;
        self.wy = self.wy * DECAY + y;
        self.wny = self.wny * DECAY + n * y;
        self.fit = self.solve();
    }

    /// The current line.
    pub fn line(&self) -> Line {
        self.fit
    }

    /// Solves the ridge-held normal equations
    /// `[w + p, wn; wn, wnn + p] [fixed; per_item] = [wy + p fixed0; wny + p per_item0]`.
    fn solve(&self) -> Line {
        let p = PRIOR_WEIGHT;
        let (a11, a12, a22) = (self.w + p, self.wn, self.wnn + p);
        let b1 = self.wy + p * self.prior.fixed_us;
        let b2 = self.wny + p * self.prior.per_item_us;
        let determinant = a11 * a22 - a12 * a12;
        if determinant.abs() < f64::EPSILON {
            return self.fit;
        }
        let fixed = (b1 * a22 - a12 * b2) / determinant;
        let per_item = (a11 * b2 - a12 * b1) / determinant;
        // A noisy fit can tip either part below zero; neither is, so keep the total and clamp.
        let per_item = per_item.max(MIN_PER_ITEM_US);
        let mean_n = self.wn / self.w.max(f64::MIN_POSITIVE);
        let fixed = if fixed < 0.0 {
            // Keep the mean batch's cost, all of it per item.
            (self.wy / self.w.max(f64::MIN_POSITIVE) - per_item * mean_n).max(0.0)
        } else {
            fixed
        };
        Line {
            fixed_us: fixed,
            per_item_us: per_item,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(n: usize) -> f64 {
        600.0 + 400.0 * n as f64
    }

    #[test]
    fn the_prior_stands_until_batches_are_seen() {
        let prior = Line {
            fixed_us: 500.0,
            per_item_us: 500.0,
        };
        assert_eq!(CostModel::new(prior).line(), prior);
    }

    #[test]
    fn batches_of_several_sizes_teach_both_parts() {
        let mut model = CostModel::new(Line {
            fixed_us: 2_000.0,
            per_item_us: 100.0,
        });
        for round in 0..60 {
            let n = 1 + round % 16;
            model.observe(n, truth(n));
        }
        let line = model.line();
        assert!((line.fixed_us - 600.0).abs() < 30.0, "{line:?}");
        assert!((line.per_item_us - 400.0).abs() < 5.0, "{line:?}");
    }

    #[test]
    fn batches_of_one_keep_the_priors_split_and_learn_the_total() {
        let mut model = CostModel::new(Line {
            fixed_us: 1_000.0,
            per_item_us: 1_000.0,
        });
        for _ in 0..100 {
            model.observe(1, 1_000.0);
        }
        let line = model.line();
        assert!((line.batch_us(1) - 1_000.0).abs() < 10.0, "{line:?}");
        assert!((line.fixed_us - line.per_item_us).abs() < 50.0, "{line:?}");
    }

    #[test]
    fn it_follows_a_host_that_slows_down() {
        let mut model = CostModel::new(Line {
            fixed_us: 600.0,
            per_item_us: 400.0,
        });
        for round in 0..200 {
            let n = 1 + round % 8;
            model.observe(n, 2.0 * truth(n));
        }
        let line = model.line();
        assert!(
            (line.batch_us(8) - 2.0 * truth(8)).abs() < 100.0,
            "{line:?}"
        );
    }

    #[test]
    fn nonsense_observations_are_ignored_and_parts_never_go_negative() {
        let mut model = CostModel::new(Line {
            fixed_us: 600.0,
            per_item_us: 400.0,
        });
        model.observe(0, 5.0);
        model.observe(3, f64::NAN);
        model.observe(3, -1.0);
        assert_eq!(model.line().fixed_us, 600.0);
        // Big batches cheaper in total than small ones: no line fits; the parts stay sane.
        for _ in 0..20 {
            model.observe(1, 5_000.0);
            model.observe(32, 100.0);
        }
        let line = model.line();
        assert!(
            line.fixed_us >= 0.0 && line.per_item_us >= MIN_PER_ITEM_US,
            "{line:?}"
        );
    }
}
