//! Charges already made, as a cap that did not exist when they were made needs them: read
//! back from the ledger, or noted by the home shard while a promotion is being prepared.

use tf_wire::DatasetClass;

/// Charges for one purpose and class made at some time in `[first_at, last_at]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastCharge {
    /// The request's purpose.
    pub purpose: String,
    /// Its dataset class.
    pub class: DatasetClass,
    /// Cost units charged.
    pub amount: u64,
    /// The earliest charge, Unix microseconds.
    pub first_at: u64,
    /// The latest charge, Unix microseconds.
    pub last_at: u64,
}

/// Charges summed per purpose, class and minute, the way the ledger reads them back; so a
/// journal stays small however many requests settle while it is kept. Minutes never straddle
/// a calendar window's boundary, so summing loses nothing a calendar cap needs; a rolling cap
/// counts a group as made at its latest charge, which holds it slightly longer, never shorter.
#[derive(Clone, Debug, Default)]
pub struct ChargeJournal {
    groups: Vec<PastCharge>,
}

const MINUTE_US: u64 = 60_000_000;

impl ChargeJournal {
    /// Notes a charge.
    pub fn record(&mut self, purpose: &str, class: DatasetClass, amount: u64, at: u64) {
        if amount == 0 {
            return;
        }
        let minute = at / MINUTE_US;
        let same =
            self.groups.iter_mut().rev().find(|g| {
                g.class == class && g.purpose == purpose && g.first_at / MINUTE_US == minute
            });
        match same {
            Some(group) => {
                group.amount += amount;
                group.first_at = group.first_at.min(at);
                group.last_at = group.last_at.max(at);
            }
            None => self.groups.push(PastCharge {
                purpose: purpose.to_owned(),
                class,
                amount,
                first_at: at,
                last_at: at,
            }),
        }
    }

    /// The groups noted so far.
    pub fn charges(&self) -> &[PastCharge] {
        &self.groups
    }

    /// Takes the groups noted so far.
    pub fn into_charges(self) -> Vec<PastCharge> {
        self.groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_sum_per_purpose_class_and_minute() {
        let mut journal = ChargeJournal::default();
        let t = 1_700_000_000_000_000 / MINUTE_US * MINUTE_US;
        journal.record("kyc", DatasetClass::P1, 2, t + 5);
        journal.record("kyc", DatasetClass::P1, 3, t + 9);
        journal.record("kyc", DatasetClass::P0, 1, t + 9);
        journal.record("kyc", DatasetClass::P1, 0, t + 10);
        journal.record("kyc", DatasetClass::P1, 4, t + MINUTE_US);
        let groups = journal.charges();
        assert_eq!(groups.len(), 3);
        assert_eq!(
            (groups[0].amount, groups[0].first_at, groups[0].last_at),
            (5, t + 5, t + 9)
        );
        assert_eq!(groups[1].class, DatasetClass::P0);
        assert_eq!(groups[2].first_at, t + MINUTE_US);
    }
}
