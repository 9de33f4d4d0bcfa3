//! How often requests of one batch key arrive: an exponentially decayed count of arrivals, so
//! a burst raises it at once and a quiet spell lowers it without waiting for the next arrival.
//! Arrivals may be reported out of order (the fair scheduler hands out requests of several
//! tenants that arrived interleaved); an older one counts as arriving at the newest time seen.

use tf_fairness::Micros;

/// Time constant of the decay, microseconds: the rate reflects about the last quarter second.
const TAU_US: f64 = 250_000.0;

/// Arrivals per microsecond, decayed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArrivalRate {
    /// Decayed arrivals per microsecond as of `at`.
    per_us: f64,
    at: Micros,
    /// Time constant of the decay, microseconds.
    tau_us: f64,
}

impl ArrivalRate {
    /// No arrival seen yet.
    pub fn new() -> Self {
        ArrivalRate::remembering(TAU_US)
    }

    /// No arrival seen yet, with a decay of time constant `tau_us` instead of a quarter second.
    pub fn remembering(tau_us: f64) -> Self {
        ArrivalRate {
            per_us: 0.0,
            at: Micros(0),
            tau_us,
        }
    }

    /// A request arrived at `at`.
    pub fn arrival(&mut self, at: Micros) {
        self.add(at, 1.0);
    }

    /// `amount` arrived at `at` (a quantity per microsecond is measured the same way as
    /// arrivals: microseconds of work give the share of a core they take).
    pub fn add(&mut self, at: Micros, amount: f64) {
        let at = Micros(at.0.max(self.at.0));
        self.per_us = self.rate_at(at) + amount / self.tau_us;
        self.at = at;
    }

    /// Arrivals per microsecond as of `now`.
    pub fn rate_at(&self, now: Micros) -> f64 {
        let elapsed = now.0.saturating_sub(self.at.0) as f64;
        self.per_us * (-elapsed / self.tau_us).exp()
    }

    /// One standard deviation of [`ArrivalRate::rate_at`] for arrivals that come at random
    /// (a Poisson stream) at that rate: the decayed count weighs about `2 tau` of them, so
    /// rates measured on few arrivals are told apart only by wide margins.
    pub fn noise_at(&self, now: Micros) -> f64 {
        (self.rate_at(now) / (2.0 * self.tau_us)).sqrt()
    }

    /// What arrived, decayed to `now`: the count (or the sum of amounts) that the rate spreads
    /// over its time constant.
    pub fn decayed_total(&self, now: Micros) -> f64 {
        self.rate_at(now) * self.tau_us
    }
}

/// The expected wait for the next arrival at `per_us` arrivals per microsecond, microseconds
/// (infinite when none is expected).
pub fn mean_gap_us(per_us: f64) -> f64 {
    if per_us > 0.0 {
        1.0 / per_us
    } else {
        f64::INFINITY
    }
}

impl Default for ArrivalRate {
    fn default() -> Self {
        ArrivalRate::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_stream_is_measured_at_its_rate() {
        let mut rate = ArrivalRate::new();
        // One arrival per millisecond for two seconds.
        for i in 0..2_000 {
            rate.arrival(Micros(i * 1_000));
        }
        let gap = mean_gap_us(rate.rate_at(Micros(1_999_000)));
        assert!((gap - 1_000.0).abs() < 20.0, "{gap}");
    }

    #[test]
    fn nothing_seen_means_nothing_expected() {
        assert_eq!(
            mean_gap_us(ArrivalRate::new().rate_at(Micros(5))),
            f64::INFINITY
        );
    }

    #[test]
    fn a_quiet_spell_lowers_the_rate_before_the_next_arrival() {
        let mut rate = ArrivalRate::new();
        for i in 0..1_000 {
            rate.arrival(Micros(i * 1_000));
        }
        let busy = mean_gap_us(rate.rate_at(Micros(999_000)));
        let quiet = mean_gap_us(rate.rate_at(Micros(1_999_000)));
        assert!(quiet > 50.0 * busy, "{busy} then {quiet}");
    }

    #[test]
    fn amounts_measure_a_share_of_time() {
        let mut busy = ArrivalRate::new();
        // 600 us of work every millisecond for two seconds: 60 % of a core.
        for i in 0..2_000 {
            busy.add(Micros(i * 1_000), 600.0);
        }
        let share = busy.rate_at(Micros(1_999_000));
        assert!((share - 0.6).abs() < 0.02, "{share}");
    }

    #[test]
    fn the_noise_shrinks_as_the_rate_grows() {
        let mut slow = ArrivalRate::new();
        let mut fast = ArrivalRate::new();
        for i in 0..2_000 {
            fast.arrival(Micros(i * 1_000));
            if i % 50 == 0 {
                slow.arrival(Micros(i * 1_000));
            }
        }
        let now = Micros(1_999_000);
        let relative = |r: &ArrivalRate| r.noise_at(now) / r.rate_at(now);
        // 1,000 a second over a quarter second: about 1/sqrt(500); 20 a second: 1/sqrt(10).
        assert!(
            (relative(&fast) - 0.045).abs() < 0.005,
            "{}",
            relative(&fast)
        );
        assert!(relative(&slow) > 0.25, "{}", relative(&slow));
    }

    #[test]
    fn late_reports_count_at_the_newest_time() {
        let mut rate = ArrivalRate::new();
        rate.arrival(Micros(10_000));
        rate.arrival(Micros(5_000));
        assert_eq!(rate.at, Micros(10_000));
        assert!((rate.rate_at(Micros(10_000)) - 2.0 / TAU_US).abs() < 1e-12);
    }
}
