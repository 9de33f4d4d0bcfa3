//! Decisions in compact blocks: each block holds one shard's events of one run (admission
//! decisions and settlements, in the shard's order) with a dictionary of its own (tenants,
//! purposes, kinds, policies, keys), so a block is read, pruned and exported on its own. A
//! decision takes about 13 bytes, a settlement about 6.

use std::collections::HashMap;
use std::sync::Arc;

use tf_budgets::Work;
use tf_engine::KeyId;
use tf_receipts::VerdictLabel;
use tf_wire::DatasetClass;

use crate::decision::{Busy, Decision, Event, Outcome, Settlement};
use crate::varint::{self, Reader, Truncated};

/// The encoding this build writes (the first byte of every block).
const VERSION: u8 = 1;
/// Most events, dictionary strings or keys a block may hold when read back.
pub const MAX_BLOCK_ITEMS: usize = 1 << 20;
/// Longest dictionary string read back (purposes are at most 64 bytes, policy ids short).
const MAX_STRING: usize = 4096;

/// One decision as a shard hands it to the log (borrowed: nothing is allocated per decision).
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// See [`Decision::seq`].
    pub seq: u64,
    /// See [`Decision::at_us`].
    pub at_us: u64,
    /// See [`Decision::mono_us`].
    pub mono_us: u64,
    /// The tenant.
    pub tenant: &'a str,
    /// The purpose.
    pub purpose: &'a str,
    /// The dataset class.
    pub class: DatasetClass,
    /// The statement kind.
    pub kind: &'a str,
    /// The Groth16 key.
    pub key: Option<KeyId>,
    /// The statement's work.
    pub work: Work,
    /// Its budget cost.
    pub cost: u64,
    /// The deciding bundle's revision.
    pub revision: u64,
    /// See [`Decision::key_known`].
    pub key_known: bool,
    /// The answer.
    pub outcome: RecordOutcome<'a>,
}

/// [`Outcome`] as a shard records it: the denial's policies borrowed.
pub type RecordOutcome<'a> = Outcome<&'a [String]>;

/// A settlement as a shard records it (the run and shard are the block's).
#[derive(Clone, Copy, Debug)]
pub struct SettlementRecord {
    /// See [`Settlement::seq`].
    pub seq: u64,
    /// See [`Settlement::admitted_seq`].
    pub admitted_seq: u64,
    /// See [`Settlement::at_us`].
    pub at_us: u64,
    /// The verdict.
    pub verdict: VerdictLabel,
    /// Units charged.
    pub charged: u64,
}

/// A finished block and what the log indexes it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// How many events it holds.
    pub count: usize,
    /// The earliest event time in it, Unix microseconds.
    pub first_us: u64,
    /// The latest.
    pub last_us: u64,
    /// The encoded events.
    pub data: Vec<u8>,
}

/// Gathers a shard's events into a block.
#[derive(Default)]
pub struct BlockWriter {
    strings: HashMap<String, u32>,
    string_list: Vec<String>,
    keys: HashMap<[u8; 32], u32>,
    key_list: Vec<[u8; 32]>,
    records: Vec<u8>,
    count: usize,
    previous: Previous,
    span: Option<(u64, u64)>,
    /// Where the last decision's flags are, while its outcome may still change.
    last_decision: Option<usize>,
}

/// What the previous event said, which the next is written against.
#[derive(Clone, Copy, Default)]
struct Previous {
    seq: u64,
    at_us: u64,
    mono_us: u64,
    revision: u64,
}

// The first byte: the event, then flags.
const TAG_BITS: u8 = 0b111;
const SETTLED: u8 = 7;
const KEY_KNOWN: u8 = 1 << 3;
const HAS_KEY: u8 = 1 << 4;
const DETAIL_SHIFT: u8 = 5;

// A decision's second byte: the class in the low two bits, then what most decisions share.
const CLASS_BITS: u8 = 0b11;
/// The work of one BLS signature (a key and a pairing), not written.
const ONE_SIGNATURE: u8 = 1 << 2;
/// The previous decision's revision, not written.
const SAME_REVISION: u8 = 1 << 3;

const SIGNATURE_WORK: Work = Work {
    keys: 1,
    pairings: 1,
    public_inputs: 0,
};

impl BlockWriter {
    /// Events gathered so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds one decision.
    pub fn push(&mut self, record: &Record<'_>) {
        let (tag, detail) = outcome_tag(&record.outcome);
        let mut flags = tag | (detail << DETAIL_SHIFT);
        if record.key_known {
            flags |= KEY_KNOWN;
        }
        if record.key.is_some() {
            flags |= HAS_KEY;
        }
        let tenant = self.string(record.tenant);
        let purpose = self.string(record.purpose);
        let kind = self.string(record.kind);
        let key = record.key.map(|key| self.key(key));
        let previous = self.previous;
        let mut shared = class_code(record.class);
        if record.work == SIGNATURE_WORK {
            shared |= ONE_SIGNATURE;
        }
        if record.revision == previous.revision {
            shared |= SAME_REVISION;
        }
        self.last_decision = Some(self.records.len());
        let out = &mut self.records;
        out.push(flags);
        out.push(shared);
        varint::put_delta(out, previous.seq, record.seq);
        varint::put_delta(out, previous.at_us, record.at_us);
        // The monotonic clock moves as the wall clock does: its step, less the wall clock's.
        let mono_step = record.mono_us.wrapping_sub(previous.mono_us);
        let wall_step = record.at_us.wrapping_sub(previous.at_us);
        varint::put_delta(out, wall_step, mono_step);
        self.previous = Previous {
            seq: record.seq,
            at_us: record.at_us,
            mono_us: record.mono_us,
            revision: record.revision,
        };
        for index in [tenant, purpose, kind].into_iter().chain(key) {
            varint::put(out, u64::from(index));
        }
        if shared & ONE_SIGNATURE == 0 {
            for number in [
                record.work.keys,
                record.work.pairings,
                record.work.public_inputs,
            ] {
                varint::put(out, number);
            }
        }
        varint::put(out, record.cost);
        if shared & SAME_REVISION == 0 {
            varint::put(out, record.revision);
        }
        if let Outcome::Denied { policies, .. } = record.outcome {
            varint::put(&mut self.records, policies.len() as u64);
            for policy in policies {
                let index = self.string(policy);
                varint::put(&mut self.records, u64::from(index));
            }
            // A denial's outcome is final: its policies follow its flags.
            self.last_decision = None;
        }
        self.count += 1;
        self.widen(record.at_us);
    }

    /// Changes the last decision pushed from admitted to `outcome`: a shard records a request
    /// before the checks that take it over, then says how they answered. A denial, whose
    /// policies are written with it, is pushed as such instead.
    pub fn refuse_last(&mut self, outcome: RecordOutcome<'_>) {
        if matches!(outcome, Outcome::Denied { .. }) {
            return;
        }
        if let Some(at) = self.last_decision {
            let (tag, detail) = outcome_tag(&outcome);
            let flags = &mut self.records[at];
            *flags = (*flags & (KEY_KNOWN | HAS_KEY)) | tag | (detail << DETAIL_SHIFT);
        }
    }

    /// Adds one settlement.
    pub fn settle(&mut self, record: &SettlementRecord) {
        self.last_decision = None;
        let out = &mut self.records;
        out.push(SETTLED | (verdict_code(record.verdict) << DETAIL_SHIFT));
        let previous = self.previous;
        varint::put_delta(out, previous.seq, record.seq);
        varint::put_delta(out, previous.at_us, record.at_us);
        varint::put(out, record.seq.wrapping_sub(record.admitted_seq));
        varint::put(out, record.charged);
        self.previous.seq = record.seq;
        self.previous.at_us = record.at_us;
        self.count += 1;
        self.widen(record.at_us);
    }

    fn widen(&mut self, at_us: u64) {
        self.span = Some(match self.span {
            None => (at_us, at_us),
            Some((first, last)) => (first.min(at_us), last.max(at_us)),
        });
    }

    /// The block of everything pushed since the last one; the writer starts afresh.
    pub fn finish(&mut self) -> Option<Block> {
        let (first_us, last_us) = self.span.take()?;
        let mut data = Vec::with_capacity(self.records.len() + 64 * self.string_list.len());
        data.push(VERSION);
        varint::put(&mut data, self.string_list.len() as u64);
        for string in &self.string_list {
            varint::put(&mut data, string.len() as u64);
            data.extend_from_slice(string.as_bytes());
        }
        varint::put(&mut data, self.key_list.len() as u64);
        for key in &self.key_list {
            data.extend_from_slice(key);
        }
        varint::put(&mut data, self.count as u64);
        data.extend_from_slice(&self.records);
        let block = Block {
            count: self.count,
            first_us,
            last_us,
            data,
        };
        self.strings.clear();
        self.string_list.clear();
        self.keys.clear();
        self.key_list.clear();
        self.records.clear();
        self.count = 0;
        self.previous = Previous::default();
        self.last_decision = None;
        Some(block)
    }

    fn string(&mut self, text: &str) -> u32 {
        // Cedar ids have no length limit; the log keeps what a reader accepts.
        let text = clip(text, MAX_STRING);
        if let Some(index) = self.strings.get(text) {
            return *index;
        }
        let index = self.string_list.len() as u32;
        self.strings.insert(text.to_owned(), index);
        self.string_list.push(text.to_owned());
        index
    }

    fn key(&mut self, key: KeyId) -> u32 {
        let next = self.key_list.len() as u32;
        let index = *self.keys.entry(key.0).or_insert(next);
        if index == next {
            self.key_list.push(key.0);
        }
        index
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn outcome_tag<P>(outcome: &Outcome<P>) -> (u8, u8) {
    match outcome {
        Outcome::Admitted => (0, 0),
        Outcome::Denied { unlisted, .. } => (1, u8::from(*unlisted)),
        Outcome::UnknownKey => (2, 0),
        Outcome::OverBudget => (3, 0),
        Outcome::OverRate => (4, 0),
        Outcome::Busy(Busy::Mailbox) => (5, 0),
        Outcome::Busy(Busy::Ingress) => (6, 0),
    }
}

/// A block that cannot be read: the log file was damaged or written by a newer appliance.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// A version this build does not read.
    #[error("a decision block of encoding {0}; this build reads encoding {VERSION}")]
    Version(u8),
    /// Damaged.
    #[error("a damaged decision block ({0})")]
    Damaged(&'static str),
}

impl From<Truncated> for BlockError {
    fn from(_: Truncated) -> Self {
        BlockError::Damaged("it ends early or holds an overlong number")
    }
}

/// Reads the events of a block that shard `shard` wrote in run `run`, in the order pushed.
pub fn decode_block(run: u64, shard: u16, data: &[u8]) -> Result<Vec<Event>, BlockError> {
    let mut reader = Reader::new(data);
    let version = reader.byte()?;
    if version != VERSION {
        return Err(BlockError::Version(version));
    }
    let string_count = reader.count(MAX_BLOCK_ITEMS)?;
    let mut strings: Vec<Arc<str>> = Vec::with_capacity(string_count.min(4096));
    for _ in 0..string_count {
        let len = reader.count(MAX_STRING)?;
        let text = std::str::from_utf8(reader.take(len)?)
            .map_err(|_| BlockError::Damaged("a dictionary string is not UTF-8"))?;
        strings.push(Arc::from(text));
    }
    let key_count = reader.count(MAX_BLOCK_ITEMS)?;
    let mut keys = Vec::with_capacity(key_count.min(4096));
    for _ in 0..key_count {
        let bytes: [u8; 32] = reader.take(32)?.try_into().expect("32 bytes taken");
        keys.push(KeyId(bytes));
    }
    let count = reader.count(MAX_BLOCK_ITEMS)?;
    let string = |reader: &mut Reader<'_>| -> Result<Arc<str>, BlockError> {
        let index = reader.u64()?;
        usize::try_from(index)
            .ok()
            .and_then(|i| strings.get(i))
            .cloned()
            .ok_or(BlockError::Damaged("a string index outside the dictionary"))
    };
    let mut events = Vec::with_capacity(count.min(1 << 16));
    let mut previous = Previous::default();
    for _ in 0..count {
        let flags = reader.byte()?;
        let detail = flags >> DETAIL_SHIFT;
        if flags & TAG_BITS == SETTLED {
            let seq = reader.delta(previous.seq)?;
            let at_us = reader.delta(previous.at_us)?;
            let back = reader.u64()?;
            let charged = reader.u64()?;
            previous.seq = seq;
            previous.at_us = at_us;
            events.push(Event::Settled(Settlement {
                run,
                shard,
                seq,
                admitted_seq: seq.wrapping_sub(back),
                at_us,
                verdict: verdict_from(detail)?,
                charged,
            }));
            continue;
        }
        let shared = reader.byte()?;
        if shared >> 4 != 0 {
            return Err(BlockError::Damaged("unknown flags"));
        }
        let class = class_from(shared & CLASS_BITS)?;
        let seq = reader.delta(previous.seq)?;
        let at_us = reader.delta(previous.at_us)?;
        let wall_step = at_us.wrapping_sub(previous.at_us);
        let mono_us = previous.mono_us.wrapping_add(reader.delta(wall_step)?);
        let tenant = string(&mut reader)?;
        let purpose = string(&mut reader)?;
        let kind = string(&mut reader)?;
        let key = if flags & HAS_KEY != 0 {
            let index = reader.u64()?;
            let key = usize::try_from(index)
                .ok()
                .and_then(|i| keys.get(i))
                .copied()
                .ok_or(BlockError::Damaged("a key index outside the dictionary"))?;
            Some(key)
        } else {
            None
        };
        let work = if shared & ONE_SIGNATURE != 0 {
            SIGNATURE_WORK
        } else {
            Work {
                keys: reader.u64()?,
                pairings: reader.u64()?,
                public_inputs: reader.u64()?,
            }
        };
        let cost = reader.u64()?;
        let revision = if shared & SAME_REVISION != 0 {
            previous.revision
        } else {
            reader.u64()?
        };
        previous = Previous {
            seq,
            at_us,
            mono_us,
            revision,
        };
        let outcome = match flags & TAG_BITS {
            0 => Outcome::Admitted,
            1 => {
                let n = reader.count(MAX_BLOCK_ITEMS)?;
                let mut policies = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    policies.push(string(&mut reader)?);
                }
                Outcome::Denied {
                    policies,
                    unlisted: detail & 1 != 0,
                }
            }
            2 => Outcome::UnknownKey,
            3 => Outcome::OverBudget,
            4 => Outcome::OverRate,
            5 => Outcome::Busy(Busy::Mailbox),
            _ => Outcome::Busy(Busy::Ingress),
        };
        events.push(Event::Decided(Decision {
            run,
            shard,
            seq,
            at_us,
            mono_us,
            tenant,
            purpose,
            class,
            kind,
            key,
            work,
            cost,
            revision,
            key_known: flags & KEY_KNOWN != 0,
            outcome,
        }));
    }
    if !reader.is_empty() {
        return Err(BlockError::Damaged("bytes after its last event"));
    }
    Ok(events)
}

fn class_code(class: DatasetClass) -> u8 {
    match class {
        DatasetClass::P0 => 0,
        DatasetClass::P1 => 1,
        _ => 2,
    }
}

fn class_from(code: u8) -> Result<DatasetClass, BlockError> {
    match code {
        0 => Ok(DatasetClass::P0),
        1 => Ok(DatasetClass::P1),
        2 => Ok(DatasetClass::P2),
        _ => Err(BlockError::Damaged("an unknown dataset class")),
    }
}

fn verdict_code(verdict: VerdictLabel) -> u8 {
    match verdict {
        VerdictLabel::Valid => 0,
        VerdictLabel::Invalid => 1,
        _ => 2,
    }
}

fn verdict_from(code: u8) -> Result<VerdictLabel, BlockError> {
    match code {
        0 => Ok(VerdictLabel::Valid),
        1 => Ok(VerdictLabel::Invalid),
        2 => Ok(VerdictLabel::Rejected),
        _ => Err(BlockError::Damaged("an unknown verdict")),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn outcome() -> impl Strategy<Value = Outcome> {
        prop_oneof![
            Just(Outcome::Admitted),
            (
                proptest::collection::vec("[a-z-]{1,12}", 0..3),
                any::<bool>()
            )
                .prop_map(|(policies, unlisted)| Outcome::Denied {
                    policies: policies.into_iter().map(Arc::from).collect(),
                    unlisted,
                }),
            Just(Outcome::UnknownKey),
            Just(Outcome::OverBudget),
            Just(Outcome::OverRate),
            Just(Outcome::Busy(Busy::Mailbox)),
            Just(Outcome::Busy(Busy::Ingress)),
        ]
    }

    fn decision() -> impl Strategy<Value = Event> {
        (
            (any::<u64>(), any::<u64>(), any::<u64>()),
            ("[a-c]{1,3}", "[a-z]{0,64}", 0u8..3, "[a-z0-9-]{1,20}"),
            (
                proptest::option::of(0u8..4),
                any::<(u64, u64, u64)>(),
                any::<u64>(),
            ),
            (any::<u64>(), any::<bool>(), outcome()),
        )
            .prop_map(
                |(
                    (seq, at_us, mono_us),
                    (tenant, purpose, class, kind),
                    (key, (keys, pairings, public_inputs), cost),
                    (revision, key_known, outcome),
                )| {
                    Event::Decided(Decision {
                        run: 9,
                        shard: 1,
                        seq,
                        at_us,
                        mono_us,
                        tenant: Arc::from(tenant.as_str()),
                        purpose: Arc::from(purpose.as_str()),
                        class: class_from(class).expect("0..3"),
                        kind: Arc::from(kind.as_str()),
                        key: key.map(|k| KeyId([k; 32])),
                        work: Work {
                            keys,
                            pairings,
                            public_inputs,
                        },
                        cost,
                        revision,
                        key_known,
                        outcome,
                    })
                },
            )
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            3 => decision(),
            1 => (any::<u64>(), any::<u64>(), any::<u64>(), 0u8..3, any::<u64>()).prop_map(
                |(seq, admitted_seq, at_us, verdict, charged)| Event::Settled(Settlement {
                    run: 9,
                    shard: 1,
                    seq,
                    admitted_seq,
                    at_us,
                    verdict: verdict_from(verdict).expect("0..3"),
                    charged,
                })
            ),
        ]
    }

    fn push(writer: &mut BlockWriter, event: &Event) {
        let d = match event {
            Event::Decided(d) => d,
            Event::Settled(s) => {
                writer.settle(&SettlementRecord {
                    seq: s.seq,
                    admitted_seq: s.admitted_seq,
                    at_us: s.at_us,
                    verdict: s.verdict,
                    charged: s.charged,
                });
                return;
            }
        };
        let named: Vec<String>;
        let outcome = match &d.outcome {
            Outcome::Denied { policies, unlisted } => {
                named = policies.iter().map(|p| p.to_string()).collect();
                Outcome::Denied {
                    policies: named.as_slice(),
                    unlisted: *unlisted,
                }
            }
            Outcome::Admitted => Outcome::Admitted,
            Outcome::UnknownKey => Outcome::UnknownKey,
            Outcome::OverBudget => Outcome::OverBudget,
            Outcome::OverRate => Outcome::OverRate,
            Outcome::Busy(busy) => Outcome::Busy(*busy),
        };
        // Refusals after admission are recorded as a shard does: admitted, then changed.
        let refused_later = !matches!(outcome, Outcome::Denied { .. } | Outcome::Admitted);
        writer.push(&Record {
            seq: d.seq,
            at_us: d.at_us,
            mono_us: d.mono_us,
            tenant: &d.tenant,
            purpose: &d.purpose,
            class: d.class,
            kind: &d.kind,
            key: d.key,
            work: d.work,
            cost: d.cost,
            revision: d.revision,
            key_known: d.key_known,
            outcome: if refused_later {
                Outcome::Admitted
            } else {
                outcome
            },
        });
        if refused_later {
            writer.refuse_last(outcome);
        }
    }

    proptest! {
        #[test]
        fn every_event_reads_back_as_written(events in proptest::collection::vec(event(), 1..40)) {
            let mut writer = BlockWriter::default();
            for event in &events {
                push(&mut writer, event);
            }
            let block = writer.finish().expect("events were pushed");
            prop_assert_eq!(block.count, events.len());
            prop_assert_eq!(block.first_us, events.iter().map(Event::at_us).min().expect("one at least"));
            prop_assert_eq!(block.last_us, events.iter().map(Event::at_us).max().expect("one at least"));
            prop_assert_eq!(decode_block(9, 1, &block.data), Ok(events));
            prop_assert!(writer.is_empty() && writer.finish().is_none(), "the writer starts afresh");
        }

        #[test]
        fn damaged_blocks_are_refused_never_misread_into_a_panic(
            events in proptest::collection::vec(event(), 1..8),
            cut in any::<prop::sample::Index>(),
            flip in any::<(prop::sample::Index, u8)>(),
        ) {
            let mut writer = BlockWriter::default();
            for event in &events {
                push(&mut writer, event);
            }
            let data = writer.finish().expect("pushed").data;
            let short = &data[..cut.index(data.len())];
            prop_assert!(decode_block(9, 1, short).is_err());
            let mut flipped = data.clone();
            let at = flip.0.index(flipped.len());
            flipped[at] ^= flip.1 | 1;
            // A flipped byte may still read as other events; it must not panic.
            let _ = decode_block(9, 1, &flipped);
        }
    }

    #[test]
    fn a_verified_request_takes_few_bytes() {
        let mut writer = BlockWriter::default();
        for i in 0..4096u64 {
            let at_us = 1_796_083_200_000_000 + i * 1250;
            writer.push(&Record {
                seq: 2 * i,
                at_us,
                mono_us: 5_000_000 + i * 1250,
                tenant: ["acme", "globex", "demo", "initech"][(i % 4) as usize],
                purpose: "kyc",
                class: DatasetClass::P1,
                kind: "bls-single",
                key: None,
                work: SIGNATURE_WORK,
                cost: 1,
                revision: 12,
                key_known: true,
                outcome: Outcome::Admitted,
            });
            writer.settle(&SettlementRecord {
                seq: 2 * i + 1,
                admitted_seq: 2 * i,
                at_us: at_us + 18_000,
                verdict: VerdictLabel::Valid,
                charged: 1,
            });
        }
        let block = writer.finish().expect("pushed");
        let per_request = block.data.len() as f64 / 4096.0;
        assert!(
            per_request < 22.0,
            "{per_request} bytes per verified request"
        );
    }
}
