//! Retention: the ledger's receipts older than the retention are deleted once a packet holds
//! them, in small steps, and packets beyond the number kept are removed once the ledger no
//! longer holds their receipts.

use tf_compliance::PacketInfo;
use tf_ledger::{Ledger, LedgerError, PruneBounds};

/// Receipts deleted per transaction: each holds the write lock the ledger thread's commits
/// wait for about a millisecond.
pub(crate) const PRUNE_STEP: usize = 1_000;
/// Steps per turn, so status questions and new packets are not held up behind a long backlog.
pub(crate) const STEPS_PER_TURN: usize = 25;

/// What one pruning turn did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PruneTurn {
    /// Receipts deleted.
    pub(crate) deleted: u64,
    /// More is ready to go: the turn's steps ran out.
    pub(crate) more: bool,
    /// A receipt that is in no packet stopped pruning (sequence number, decision time).
    pub(crate) unsealed: Option<(u64, u64)>,
}

/// Deletes, oldest first, the receipts each packet holds that were decided before `cutoff_us`
/// and that every follower has handled (`through_seq`), at most [`STEPS_PER_TURN`] steps.
pub(crate) fn prune_turn(
    ledger: &mut dyn Ledger,
    packets: &[PacketInfo],
    cutoff_us: u64,
    through_seq: u64,
    now_us: u64,
) -> Result<PruneTurn, LedgerError> {
    let mut turn = PruneTurn::default();
    let mut steps = 0;
    for packet in packets {
        let Ok(summary) = &packet.summary else {
            // A packet whose index does not open seals nothing: stop before it.
            return Ok(turn);
        };
        let Some(range) = summary.log.receipts else {
            continue;
        };
        let Some((oldest_seq, _)) = ledger.oldest_retained()? else {
            return Ok(turn);
        };
        if range.last < oldest_seq {
            continue;
        }
        if summary.from_unix_us >= cutoff_us {
            return Ok(turn);
        }
        let bounds = PruneBounds {
            through_seq: range.last.min(through_seq),
            decided_from_us: summary.from_unix_us,
            decided_before_us: summary.to_unix_us.min(cutoff_us),
            max_rows: PRUNE_STEP,
        };
        loop {
            if steps == STEPS_PER_TURN {
                turn.more = true;
                return Ok(turn);
            }
            steps += 1;
            let pruned = ledger.prune(bounds, &packet.name, now_us)?;
            turn.deleted += pruned.deleted;
            if pruned.deleted < PRUNE_STEP as u64 {
                break;
            }
        }
        // Stopped inside this packet's receipts: by the cut-off or a follower (later packets
        // wait), or by a receipt that no packet holds.
        if ledger
            .oldest_retained()?
            .is_some_and(|(seq, _)| seq <= bounds.through_seq)
        {
            turn.unsealed = unsealed(ledger, packets, cutoff_us, through_seq)?;
            return Ok(turn);
        }
    }
    turn.unsealed = unsealed(ledger, packets, cutoff_us, through_seq)?;
    Ok(turn)
}

/// The oldest receipt kept, if it would be pruned by now were a packet holding it, and none
/// does: it reached the ledger after the packet of its period was made.
fn unsealed(
    ledger: &dyn Ledger,
    packets: &[PacketInfo],
    cutoff_us: u64,
    through_seq: u64,
) -> Result<Option<(u64, u64)>, LedgerError> {
    let Some((seq, decided_us)) = ledger.oldest_retained()? else {
        return Ok(None);
    };
    let summaries = packets.iter().filter_map(|p| p.summary.as_ref().ok());
    let Some(newest_end) = summaries.clone().map(|s| s.to_unix_us).max() else {
        return Ok(None);
    };
    let due = decided_us < cutoff_us && decided_us < newest_end && seq <= through_seq;
    let held = summaries.into_iter().any(|summary| {
        summary
            .log
            .receipts
            .is_some_and(|range| (range.first..=range.last).contains(&seq))
            && (summary.from_unix_us..summary.to_unix_us).contains(&decided_us)
    });
    Ok((due && !held).then_some((seq, decided_us)))
}

/// How many of `packets` (oldest first) to keep: at least `keep`, and every packet from the
/// oldest whose receipts the ledger still holds on (its only other copy).
pub(crate) fn packets_to_keep(
    packets: &[PacketInfo],
    keep: usize,
    oldest_seq: Option<u64>,
) -> usize {
    let still_held = |packet: &PacketInfo| match (&packet.summary, oldest_seq) {
        (Ok(summary), Some(oldest)) => summary.log.receipts.is_some_and(|r| r.last >= oldest),
        (Ok(_), None) => false,
        // Unreadable: kept for an operator to look at.
        (Err(_), _) => true,
    };
    let removable = packets.iter().take_while(|p| !still_held(p)).count();
    let excess = packets.len().saturating_sub(keep);
    packets.len() - excess.min(removable)
}
