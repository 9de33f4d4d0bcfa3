//! The parts of an evidence bundle's period that were pruned, with the compliance snapshots
//! that sealed them.

use tf_evidence::PrunedPart;
use tf_ledger::Ledger;

/// The pruned ranges that overlap `[from_us, to_us)`.
pub fn pruned_parts(
    ledger: &dyn Ledger,
    from_us: u64,
    to_us: u64,
) -> anyhow::Result<Vec<PrunedPart>> {
    Ok(ledger
        .pruned_ranges()?
        .into_iter()
        .filter(|range| range.decided_from_us < to_us && range.decided_to_us >= from_us)
        .map(|range| PrunedPart {
            from_seq: range.from_seq,
            to_seq: range.to_seq,
            decided_from_us: range.decided_from_us,
            decided_to_us: range.decided_to_us,
            sealed_by: range.sealed_by,
        })
        .collect())
}
