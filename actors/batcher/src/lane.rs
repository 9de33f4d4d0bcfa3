//! Lanes: on a busy shard, a tenant sending beyond its share is batched apart from the others,
//! and its batches go after theirs. Requests of a lane batch only with requests of the same
//! lane, so a quiet tenant's requests do not wait in batches a flood fills.

/// Which lane a request travels in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lane {
    /// Within its tenant's share: due batches of this lane are verified first.
    #[default]
    Share,
    /// Beyond its tenant's share while the shard is busy: verified after the share lane's due
    /// batches, and giving way to them between verification steps.
    Surplus,
}

impl Lane {
    /// Both lanes, in the order their due batches are verified.
    pub const ALL: [Lane; 2] = [Lane::Share, Lane::Surplus];

    /// The lane's index in [`Lane::ALL`].
    pub fn index(self) -> usize {
        match self {
            Lane::Share => 0,
            Lane::Surplus => 1,
        }
    }
}
