//! The open-loop schedule: when each request is meant to be sent and as which tenant, fixed
//! before the run and independent of how fast answers come back. Latency is measured from
//! these intended times, so a stalled appliance cannot hide its stall by slowing the sender
//! (coordinated omission).

use std::time::Duration;

/// A constant rate for a while.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage {
    /// Requests per second.
    pub rate: f64,
    pub duration: Duration,
}

/// One scheduled request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Intended send time from the start of the run.
    pub at: Duration,
    /// Which stage it belongs to.
    pub stage: usize,
    /// Which tenant sends it.
    pub tenant: usize,
}

/// Iterates the slots of stages run back to back. Within a stage starting at S with rate r,
/// request k is due at S + k / r for every k with k / r < the stage's duration, so each stage
/// starts with a request and holds ceil(r x duration) of them. Tenants are chosen by smooth
/// weighted round robin over their demands: exact proportions, evenly interleaved.
#[derive(Debug)]
pub struct Schedule {
    stages: Vec<Stage>,
    stage: usize,
    stage_start: Duration,
    k: u64,
    picker: Picker,
}

impl Schedule {
    pub fn new(stages: Vec<Stage>, demands: &[f64]) -> Schedule {
        Schedule {
            stages,
            stage: 0,
            stage_start: Duration::ZERO,
            k: 0,
            picker: Picker::new(demands),
        }
    }

    /// When the last stage ends.
    pub fn total(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }
}

impl Iterator for Schedule {
    type Item = Slot;

    fn next(&mut self) -> Option<Slot> {
        loop {
            let stage = self.stages.get(self.stage)?;
            let offset = if stage.rate > 0.0 {
                Duration::from_secs_f64(self.k as f64 / stage.rate)
            } else {
                stage.duration
            };
            if offset < stage.duration {
                self.k += 1;
                return Some(Slot {
                    at: self.stage_start + offset,
                    stage: self.stage,
                    tenant: self.picker.next(),
                });
            }
            self.stage_start += stage.duration;
            self.stage += 1;
            self.k = 0;
        }
    }
}

/// Smooth weighted round robin: every pick adds each tenant's weight to its credit, picks the
/// highest credit and takes the total weight from it.
#[derive(Debug)]
struct Picker {
    weights: Vec<f64>,
    credit: Vec<f64>,
    total: f64,
}

impl Picker {
    fn new(weights: &[f64]) -> Picker {
        Picker {
            weights: weights.to_vec(),
            credit: vec![0.0; weights.len()],
            total: weights.iter().sum(),
        }
    }

    fn next(&mut self) -> usize {
        let mut best = 0;
        for i in 0..self.weights.len() {
            self.credit[i] += self.weights[i];
            if self.credit[i] > self.credit[best] {
                best = i;
            }
        }
        self.credit[best] -= self.total;
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(slots: &[Slot]) -> Vec<u64> {
        slots.iter().map(|s| s.at.as_millis() as u64).collect()
    }

    #[test]
    fn requests_are_due_at_exact_intervals_from_each_stage_start() {
        let slots: Vec<Slot> = Schedule::new(
            vec![
                Stage {
                    rate: 4.0,
                    duration: Duration::from_secs(1),
                },
                Stage {
                    rate: 2.0,
                    duration: Duration::from_secs(1),
                },
            ],
            &[1.0],
        )
        .collect();
        assert_eq!(ms(&slots), vec![0, 250, 500, 750, 1000, 1500]);
        assert_eq!(
            slots.iter().map(|s| s.stage).collect::<Vec<_>>(),
            vec![0, 0, 0, 0, 1, 1]
        );
    }

    #[test]
    fn a_stage_holds_ceil_rate_times_duration_requests() {
        let count = |rate: f64, millis: u64| {
            Schedule::new(
                vec![Stage {
                    rate,
                    duration: Duration::from_millis(millis),
                }],
                &[1.0],
            )
            .count()
        };
        assert_eq!(count(800.0, 60_000), 48_000);
        assert_eq!(count(3.0, 1_000), 3);
        assert_eq!(count(3.0, 1_100), 4); // 0, 333, 667, 1000 ms
        assert_eq!(count(0.0, 5_000), 0); // a pause
    }

    #[test]
    fn the_schedule_does_not_drift_over_an_hour() {
        let last = Schedule::new(
            vec![Stage {
                rate: 800.0,
                duration: Duration::from_secs(3600),
            }],
            &[1.0],
        )
        .last()
        .unwrap();
        // Request 2,879,999 is due at 2,879,999 / 800 s = 3599.99875 s.
        assert_eq!(last.at.as_micros(), 3_599_998_750);
    }

    #[test]
    fn tenants_get_their_demand_share_evenly_interleaved() {
        let tenants: Vec<usize> = Schedule::new(
            vec![Stage {
                rate: 8.0,
                duration: Duration::from_secs(1),
            }],
            &[3.0, 1.0],
        )
        .map(|s| s.tenant)
        .collect();
        assert_eq!(tenants, vec![0, 0, 1, 0, 0, 0, 1, 0]);
        let shares = |demands: &[f64]| {
            let mut counts = vec![0; demands.len()];
            for slot in Schedule::new(
                vec![Stage {
                    rate: 1000.0,
                    duration: Duration::from_secs(10),
                }],
                demands,
            ) {
                counts[slot.tenant] += 1;
            }
            counts
        };
        assert_eq!(
            shares(&[4.0, 1.0, 1.0, 1.0, 1.0]),
            vec![5000, 1250, 1250, 1250, 1250]
        );
        assert_eq!(shares(&[1.0, 0.0]), vec![10_000, 0]);
    }
}
