//! Each tenant's part: every receipt line a genuine receipt of the tenant, decided in the
//! period, at a log index inside the range and with its leaf hash there; the charges file
//! exactly the charged receipts; the budget statements what the receipts add up to; and the
//! index's counts right. Read as streams: memory does not grow with the receipts.

use std::io::{BufRead, Read};

use ed25519_dalek::VerifyingKey;
use tf_evidence::BudgetStatements;
use tf_receipts::{Envelope, Receipt};
use tf_tlog::TILE_HEIGHT;

use crate::index::{SnapshotSummary, TenantSummary};
use crate::layout::{INDEX_FILE, budgets_path, charges_path, receipts_path};
use crate::model::{ChargeLine, SeqRange};
use crate::problem::{FileProblems, Problem};
use crate::tiles::hash_at;
use crate::verify::budgets::statement_difference;
use crate::verify::log::PacketTiles;
use crate::verify::packet::{NOT_GZIPPED_LINES, Packet, SubjectStream};
use crate::verify::{MAX_JSON_BYTES, parse};

/// The longest line a receipts or charges file may have: a receipt envelope is 1-2 KB.
const MAX_LINE: u64 = 1024 * 1024;

/// Checks every tenant the index names. `tiles` are the log's tiles, once shown to be.
pub(crate) fn check_tenants(
    packet: &Packet<'_>,
    summary: &SnapshotSummary,
    key: &VerifyingKey,
    tiles: Option<&PacketTiles<'_, '_>>,
    problems: &mut Vec<Problem>,
) {
    let sorted = summary
        .tenants
        .windows(2)
        .all(|pair| pair[0].tenant < pair[1].tenant);
    if !sorted {
        problems.push(Problem::new(
            INDEX_FILE,
            "its tenants are not sorted by name, each once",
        ));
    }
    let receipts: u64 = summary.tenants.iter().map(|t| t.receipts).sum();
    let charged: u64 = summary.tenants.iter().map(|t| t.charged).sum();
    if receipts != summary.receipts || charged != summary.charged {
        problems.push(Problem::new(
            INDEX_FILE,
            "its totals are not the sum of its tenants'",
        ));
    }
    for tenant in &summary.tenants {
        check_tenant(packet, summary, tenant, key, tiles, problems);
    }
}

/// What one tenant's receipts add up to.
struct Tally {
    statements: BudgetStatements,
    count: u64,
    charged: u64,
    seqs: Option<SeqRange>,
    last_seq: u64,
}

fn check_tenant(
    packet: &Packet<'_>,
    summary: &SnapshotSummary,
    tenant: &TenantSummary,
    key: &VerifyingKey,
    tiles: Option<&PacketTiles<'_, '_>>,
    problems: &mut Vec<Problem>,
) {
    let names = [
        receipts_path(&tenant.tenant),
        charges_path(&tenant.tenant),
        budgets_path(&tenant.tenant),
    ];
    for name in &names {
        if !packet.is_subject(name) {
            problems.push(Problem::new(
                name,
                format!(
                    "tenant {:?} has receipts, but the index does not list this file",
                    tenant.tenant
                ),
            ));
        }
    }
    let [receipts_name, charges_name, budgets_name] = names;
    let budgets = packet
        .read(&budgets_name, MAX_JSON_BYTES, problems)
        .and_then(|bytes| parse::<BudgetStatements>(&budgets_name, &bytes, problems));
    let Some(mut receipts) = packet.stream(&receipts_name, problems) else {
        return;
    };
    let mut charges = packet.stream(&charges_name, problems);
    let mut receipt_problems = FileProblems::new(&receipts_name);
    let mut charge_problems = FileProblems::new(&charges_name);
    let mut tally = Tally {
        statements: BudgetStatements {
            tenant: tenant.tenant.clone(),
            from_unix_us: summary.from_unix_us,
            to_unix_us: summary.to_unix_us,
            lines: Vec::new(),
        },
        count: 0,
        charged: 0,
        seqs: None,
        last_seq: 0,
    };
    let mut line = Vec::with_capacity(4096);
    let mut charge_line = Vec::with_capacity(256);
    let mut number = 0u64;
    loop {
        match next_line(&mut receipts, &mut line) {
            Ok(false) => break,
            Ok(true) => {}
            Err(what) => {
                receipt_problems.push(format!("line {}: {what}", number + 1));
                break;
            }
        }
        number += 1;
        let checked = receipt_of(&line, key, summary, tenant).and_then(|(receipt, text)| {
            in_log(&receipt, &text, summary, tiles, tally.last_seq).map(|()| receipt)
        });
        let receipt = match checked {
            Ok(receipt) => receipt,
            Err(what) => {
                receipt_problems.push(format!("line {number}: {what}"));
                continue;
            }
        };
        tally.add(&receipt);
        // Charges are checked in step with the receipts only while every receipt read: a
        // receipt that does not is reported, and where its charge would be is unknown.
        if receipt.budget_charged > 0
            && receipt_problems.is_empty()
            && let Some(charges) = charges.as_mut()
        {
            check_charge(charges, &mut charge_line, &receipt, &mut charge_problems);
        }
    }
    // What the receipts add up to is compared with the files only when every receipt read:
    // otherwise the receipts' own problems say what is wrong, and the sums would only echo it.
    let receipts_clean = receipt_problems.is_empty();
    let receipts_sound =
        settle(packet, &receipts_name, receipts, receipt_problems, problems) && receipts_clean;
    if let Some(mut charges) = charges {
        if !receipts_sound {
            charge_problems = FileProblems::new(&charges_name);
        } else if charge_problems.is_empty()
            && matches!(next_line(&mut charges, &mut charge_line), Ok(true))
        {
            charge_problems.push("more charges than the receipts made".to_owned());
        }
        settle(packet, &charges_name, charges, charge_problems, problems);
    }
    if !receipts_sound {
        return;
    }
    if tally.count != tenant.receipts
        || tally.charged != tenant.charged
        || tally.seqs != Some(tenant.seqs)
    {
        problems.push(Problem::new(
            INDEX_FILE,
            format!(
                "counts {} receipt(s) of tenant {:?} charging {}, {receipts_name} holds {} charging {}",
                tenant.receipts, tenant.tenant, tenant.charged, tally.count, tally.charged
            ),
        ));
    }
    if let Some(mut budgets) = budgets {
        budgets.sort();
        tally.statements.sort();
        if let Some(what) = statement_difference(&budgets, &tally.statements) {
            problems.push(Problem::new(
                &budgets_name,
                format!("the statements do not add up to the receipts: {what}"),
            ));
        }
    }
}

impl Tally {
    fn add(&mut self, receipt: &Receipt) {
        self.statements.add(
            &receipt.purpose,
            &receipt.dataset_class,
            receipt.verdict.as_str(),
            receipt.budget_charged,
        );
        self.count += 1;
        self.charged += receipt.budget_charged;
        SeqRange::hold(&mut self.seqs, receipt.ledger_seq);
        self.last_seq = receipt.ledger_seq;
    }
}

/// A line's receipt, genuine, of the tenant and decided in the period; with the envelope's
/// exact text (the log entry is its hash).
fn receipt_of(
    line: &[u8],
    key: &VerifyingKey,
    summary: &SnapshotSummary,
    tenant: &TenantSummary,
) -> Result<(Receipt, String), String> {
    let text: String = serde_json::from_slice(line)
        .map_err(|_| "not a JSON string holding a receipt envelope".to_owned())?;
    let envelope = Envelope::from_json(&text)?;
    let receipt = tf_receipts::verify(&envelope, key).map_err(|e| e.to_string())?;
    if receipt.tenant != tenant.tenant {
        return Err(format!(
            "receipt {} is tenant {:?}'s, not {:?}'s",
            receipt.ledger_seq, receipt.tenant, tenant.tenant
        ));
    }
    if !(summary.from_unix_us..summary.to_unix_us).contains(&receipt.decided_at_unix_us) {
        return Err(format!(
            "receipt {} was decided at {}, outside the period [{}, {})",
            receipt.ledger_seq,
            receipt.decided_at_unix_us,
            summary.from_unix_us,
            summary.to_unix_us
        ));
    }
    Ok((receipt, text))
}

/// The receipt follows the one before it in sequence, is inside the log range, and its leaf
/// hash is at its index in the log's tiles (when they were shown to be the log's).
fn in_log(
    receipt: &Receipt,
    text: &str,
    summary: &SnapshotSummary,
    tiles: Option<&PacketTiles<'_, '_>>,
    last_seq: u64,
) -> Result<(), String> {
    let seq = receipt.ledger_seq;
    if seq <= last_seq {
        return Err(format!(
            "receipt {seq} does not follow receipt {last_seq} in sequence"
        ));
    }
    if !summary
        .log
        .receipts
        .is_some_and(|range| range.contains(seq))
    {
        return Err(format!(
            "receipt {seq} is outside the log range of log/range.json"
        ));
    }
    let Some(tiles) = tiles else {
        return Ok(());
    };
    let leaf = tf_tlog::leaf_hash(&tf_log::receipt_entry(text));
    let position = (seq & 0xff) as usize;
    match tiles.cached(0, seq >> TILE_HEIGHT, |tile| hash_at(tile, position)) {
        Ok(Some(logged)) if logged == leaf => Ok(()),
        Ok(_) => Err(format!(
            "receipt {seq} is not the log's entry {seq} (its leaf hash differs)"
        )),
        // The tile was checked before the receipts: its problem is reported there.
        Err(_) => Ok(()),
    }
}

/// The next charge line must be `receipt`'s charge.
fn check_charge(
    charges: &mut SubjectStream,
    line: &mut Vec<u8>,
    receipt: &Receipt,
    problems: &mut FileProblems,
) {
    let expected = ChargeLine {
        seq: receipt.ledger_seq,
        decided_unix_us: receipt.decided_at_unix_us,
        purpose: receipt.purpose.as_str().into(),
        dataset_class: receipt.dataset_class.as_str().into(),
        verdict: receipt.verdict.as_str().into(),
        charged: receipt.budget_charged,
    };
    let found = match next_line(charges, line) {
        Ok(true) => serde_json::from_slice::<ChargeLine<'_>>(line)
            .map_err(|e| format!("not a charge line: {e}")),
        Ok(false) => Err("ends before the charge of every charged receipt".to_owned()),
        Err(what) => Err(what),
    };
    match found {
        Ok(found) if found == expected => {}
        Ok(found) => problems.push(format!(
            "the charge of receipt {} is {:?}, the receipt says {:?}",
            receipt.ledger_seq, found, expected
        )),
        Err(what) => problems.push(format!("at receipt {}: {what}", receipt.ledger_seq)),
    }
}

/// Reads the next line into `line` without its newline: `false` at the end.
fn next_line(stream: &mut SubjectStream, line: &mut Vec<u8>) -> Result<bool, String> {
    line.clear();
    let read = stream
        .by_ref()
        .take(MAX_LINE + 1)
        .read_until(b'\n', line)
        .map_err(|e| format!("{NOT_GZIPPED_LINES}: {e}"))?;
    if read == 0 {
        return Ok(false);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if read as u64 > MAX_LINE {
        return Err(format!("a line longer than {MAX_LINE} bytes"));
    }
    Ok(true)
}

/// Finishes a stream: an altered file is one problem (what its content looked like does not
/// matter then); an intact one's content problems are reported. Whether it was intact.
fn settle(
    packet: &Packet<'_>,
    name: &str,
    stream: SubjectStream,
    content: FileProblems,
    problems: &mut Vec<Problem>,
) -> bool {
    match packet.settle(name, stream) {
        Ok(()) => {
            content.report(problems);
            true
        }
        Err(altered) => {
            problems.push(altered);
            false
        }
    }
}
