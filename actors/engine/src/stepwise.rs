//! Batch verification in small steps. A batch of 16 proofs is 10-20 ms of pairing work; run in
//! one call it holds its core, and everything else that core serves (network, answers from the
//! ledger, requests from other cores) waits behind it. [`BatchRun`] does the same checks a few
//! items at a time, so the caller can turn to other work between steps; run to the end it gives
//! exactly the verdicts of the one-call verifiers. [`DecodeThenVerify`] decodes untrusted
//! statements first, as much per step as the step's [`Allowance`] of work units holds (see
//! [`crate::work`]), resuming a large statement (a fast aggregate of many keys) where the last
//! step left it.

use std::ops::Range;

use rand_core::{CryptoRng, RngCore};

use crate::Verdict;
use crate::work::Allowance;

/// A batch-verifiable scheme: a random-linear-combination check built up a chunk of items at a
/// time and closed in two steps, and a single verifier for ranges of one (cheaper than a check
/// over one item: one multi-Miller loop, no random scalars), in steps too.
pub trait BatchScheme {
    /// One statement.
    type Item;
    /// The partial check over the items absorbed so far.
    type Check;
    /// A check with everything done but the final exponentiation.
    type Closing;
    /// One item's own verification before its Miller loops: the part of its work that grows
    /// with the item (a Groth16 proof's inputs), done so far.
    type Preparing;
    /// One item's own verification with its Miller loops done, waiting for the final
    /// exponentiation.
    type Single;
    /// Items absorbed per step. Items of a scheme cost alike (a fast aggregate joins a BLS
    /// batch as its summed key), so this bounds a step by work: choose it so a chunk is within
    /// [`crate::work::STEP`] units and still shares the Miller loop's squarings.
    const CHUNK: usize;

    /// Starts verifying one item on its own, with no curve work yet. `Err` when the verdict is
    /// known already.
    fn start_one(&self, item: &Self::Item) -> Result<Self::Preparing, Verdict>;
    /// Does part of the work that grows with the item, within `allowance` but at least one
    /// piece per call; true once only [`BatchScheme::begin_one`]'s fixed work is left and it
    /// may follow in the same step.
    fn prepare_one(
        &self,
        _item: &Self::Item,
        _preparing: &mut Self::Preparing,
        _allowance: &mut Allowance,
    ) -> bool {
        true
    }
    /// The item's Miller loops. `Err` when the verdict is known already.
    fn begin_one(
        &self,
        item: &Self::Item,
        preparing: Self::Preparing,
    ) -> Result<Self::Single, Verdict>;
    /// The final exponentiation and the comparison.
    fn finish_one(&self, single: Self::Single) -> Verdict;
    /// Starts a check over `len` items.
    fn begin(&self, len: usize) -> Self::Check;
    /// Adds items to a check, each with a fresh random scalar.
    fn absorb<R: RngCore + CryptoRng>(
        &self,
        check: &mut Self::Check,
        items: &[Self::Item],
        rng: &mut R,
    );
    /// Does part of the closing work that grows with the statements (a multi-scalar
    /// multiplication over a key's input bases), within `allowance` but at least one piece
    /// per call; true once only [`BatchScheme::close`]'s fixed work is left.
    fn prepare_close(&self, _check: &mut Self::Check, _allowance: &mut Allowance) -> bool {
        true
    }
    /// The first half of closing a check: the fixed scalar multiplications and pairings.
    fn close(&self, check: Self::Check) -> Self::Closing;
    /// The second half: the final exponentiation. True when every absorbed item holds (except
    /// with probability 2^-64 for two or more items).
    fn holds(&self, closing: Self::Closing) -> bool;
}

/// A batch being verified: a failed check is split in halves until each invalid item has its
/// own verdict, so one bad proof never costs the others their `Valid`.
pub struct BatchRun<S: BatchScheme> {
    scheme: S,
    items: Vec<S::Item>,
    verdicts: Vec<Verdict>,
    /// Ranges still to settle, the next on top.
    pending: Vec<Range<usize>>,
    open: Option<Open<S>>,
}

/// The check under way and how far it got.
enum Open<S: BatchScheme> {
    Absorbing {
        range: Range<usize>,
        next: usize,
        check: S::Check,
    },
    Closing {
        range: Range<usize>,
        closing: S::Closing,
    },
    Preparing {
        index: usize,
        preparing: S::Preparing,
    },
    Single {
        index: usize,
        single: S::Single,
    },
}

impl<S: BatchScheme> BatchRun<S> {
    /// A run over `items`; nothing is computed until [`BatchRun::step`].
    pub fn new(scheme: S, items: Vec<S::Item>) -> Self {
        let len = items.len();
        let mut pending = Vec::new();
        if len > 0 {
            pending.push(0..len);
        }
        BatchRun {
            scheme,
            items,
            verdicts: vec![Verdict::Valid; len],
            pending,
            open: None,
        }
    }

    /// Does one bounded piece of work: absorbs one chunk, does one half of closing a check, or
    /// a piece of a single verification (part of its inputs, its Miller loops, its final
    /// exponentiation). Returns false once every item has its verdict.
    pub fn step<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> bool {
        let open = match self.open.take() {
            Some(open) => open,
            None => {
                let Some(range) = self.pending.pop() else {
                    return false;
                };
                if range.len() == 1 {
                    // A lone item (a batch of one, or a bisection's last) costs what verifying
                    // it alone costs: no random scalar, no check over one item.
                    match self.scheme.start_one(&self.items[range.start]) {
                        Ok(preparing) => Open::Preparing {
                            index: range.start,
                            preparing,
                        },
                        Err(verdict) => {
                            self.verdicts[range.start] = verdict;
                            return !self.is_done();
                        }
                    }
                } else {
                    Open::Absorbing {
                        check: self.scheme.begin(range.len()),
                        next: range.start,
                        range,
                    }
                }
            }
        };
        match open {
            Open::Preparing {
                index,
                mut preparing,
            } => {
                let item = &self.items[index];
                if self
                    .scheme
                    .prepare_one(item, &mut preparing, &mut Allowance::step())
                {
                    match self.scheme.begin_one(item, preparing) {
                        Ok(single) => self.open = Some(Open::Single { index, single }),
                        Err(verdict) => self.verdicts[index] = verdict,
                    }
                } else {
                    self.open = Some(Open::Preparing { index, preparing });
                }
            }
            Open::Absorbing {
                range,
                next,
                mut check,
            } if next < range.end => {
                let end = (next + S::CHUNK).min(range.end);
                self.scheme.absorb(&mut check, &self.items[next..end], rng);
                self.open = Some(Open::Absorbing {
                    range,
                    next: end,
                    check,
                });
            }
            Open::Absorbing {
                range, mut check, ..
            } => {
                self.open = Some(
                    if self
                        .scheme
                        .prepare_close(&mut check, &mut Allowance::step())
                    {
                        Open::Closing {
                            range,
                            closing: self.scheme.close(check),
                        }
                    } else {
                        // Absorbed: `next` stays at the end, so the next step prepares again.
                        Open::Absorbing {
                            next: range.end,
                            range,
                            check,
                        }
                    },
                );
            }
            Open::Single { index, single } => {
                self.verdicts[index] = self.scheme.finish_one(single);
            }
            Open::Closing { range, closing } => {
                if self.scheme.holds(closing) {
                    self.verdicts[range].fill(Verdict::Valid);
                } else {
                    // A check is over two items or more (one is verified alone), so both
                    // halves hold one at least.
                    let mid = range.start + range.len() / 2;
                    self.pending.push(mid..range.end);
                    self.pending.push(range.start..mid);
                }
            }
        }
        !self.is_done()
    }

    /// Whether every item has its verdict.
    pub fn is_done(&self) -> bool {
        self.open.is_none() && self.pending.is_empty()
    }

    /// Runs to the end.
    pub fn finish<R: RngCore + CryptoRng>(mut self, rng: &mut R) -> Vec<Verdict> {
        while self.step(rng) {}
        self.verdicts
    }

    /// The verdicts, one per item in order; only meaningful once [`BatchRun::is_done`].
    pub fn into_verdicts(self) -> Vec<Verdict> {
        debug_assert!(self.is_done(), "verdicts taken before the run finished");
        self.verdicts
    }
}

/// Turns one untrusted statement into a batch item, or the verdict that keeps it out, within
/// a step's allowance of work.
pub trait Decoder<Source> {
    /// The decoded item.
    type Item;
    /// A statement decoded part way, kept from one step to the next (`()` for decoders that
    /// take a statement whole).
    type Partial;
    /// Decodes and checks one statement (sizes, encodings, curve and subgroup membership),
    /// going on from `partial` if an earlier step paused on it, and taking every piece of work
    /// from `allowance` before doing it. Pauses, handing back what it has, when the next piece
    /// does not fit; given a fresh allowance it always gets somewhere.
    fn decode(
        &self,
        source: &Source,
        partial: Option<Self::Partial>,
        allowance: &mut Allowance,
    ) -> Decoding<Self::Item, Self::Partial>;
}

/// Where decoding one statement got to.
#[derive(Debug)]
#[non_exhaustive]
pub enum Decoding<Item, Partial> {
    /// Decoded, or refused with its verdict.
    Done(Result<Item, Verdict>),
    /// Out of allowance; resume with this in the next step.
    Paused(Partial),
}

/// Untrusted statements decoded as many per step as the step's [`Allowance`] holds, then
/// verified as one [`BatchRun`]; a malformed statement keeps its rejection and stays out of the
/// batch.
pub struct DecodeThenVerify<Source, S: BatchScheme, D: Decoder<Source>> {
    sources: Vec<Source>,
    decoder: D,
    /// Per decoded statement: its rejection, or None if it joined the batch.
    rejected: Vec<Option<Verdict>>,
    /// The next statement, if a step paused part way through it.
    partial: Option<D::Partial>,
    phase: Phase<S>,
}

enum Phase<S: BatchScheme> {
    Decoding {
        scheme: S,
        decoded: Vec<S::Item>,
    },
    Verifying(BatchRun<S>),
    /// Only while switching from one phase to the next.
    Switching,
}

impl<Source, S: BatchScheme, D: Decoder<Source, Item = S::Item>> DecodeThenVerify<Source, S, D> {
    /// A run over `sources`; nothing is decoded until the first step.
    pub fn new(scheme: S, decoder: D, sources: Vec<Source>) -> Self {
        DecodeThenVerify {
            rejected: Vec::with_capacity(sources.len()),
            sources,
            decoder,
            partial: None,
            phase: Phase::Decoding {
                scheme,
                decoded: Vec::new(),
            },
        }
    }

    /// Does one bounded piece of work: decodes what one [`Allowance`] holds, or one step of the
    /// batch's verification. False once every statement has its verdict.
    pub fn step<R: RngCore + CryptoRng>(&mut self, rng: &mut R) -> bool {
        let Phase::Decoding { decoded, .. } = &mut self.phase else {
            return match &mut self.phase {
                Phase::Verifying(run) => run.step(rng),
                _ => unreachable!("a step never ends mid-switch"),
            };
        };
        let mut allowance = Allowance::step();
        while let Some(source) = self.sources.get(self.rejected.len()) {
            match self
                .decoder
                .decode(source, self.partial.take(), &mut allowance)
            {
                Decoding::Done(Ok(item)) => {
                    decoded.push(item);
                    self.rejected.push(None);
                }
                Decoding::Done(Err(verdict)) => self.rejected.push(Some(verdict)),
                Decoding::Paused(partial) => {
                    debug_assert!(!allowance.is_fresh(), "a decoder paused on a fresh step");
                    self.partial = Some(partial);
                    return true;
                }
            }
        }
        let Phase::Decoding { scheme, decoded } =
            std::mem::replace(&mut self.phase, Phase::Switching)
        else {
            unreachable!("matched Decoding above");
        };
        self.phase = Phase::Verifying(BatchRun::new(scheme, decoded));
        true
    }

    /// Runs to the end.
    pub fn finish<R: RngCore + CryptoRng>(mut self, rng: &mut R) -> Vec<Verdict> {
        while self.step(rng) {}
        self.into_verdicts()
    }

    /// One verdict per statement in order, once [`DecodeThenVerify::step`] has returned false.
    pub fn into_verdicts(self) -> Vec<Verdict> {
        let Phase::Verifying(run) = self.phase else {
            panic!("verdicts taken before the statements were decoded");
        };
        merge_verdicts(self.rejected, run.into_verdicts())
    }
}

/// Puts verdicts back in item order: `early` has, per item, the verdict it got before the batch
/// (a rejection) or None if it joined the batch, whose verdicts `batched` holds in order.
pub fn merge_verdicts(early: Vec<Option<Verdict>>, batched: Vec<Verdict>) -> Vec<Verdict> {
    let mut batched = batched.into_iter();
    early
        .into_iter()
        .map(|early| early.unwrap_or_else(|| batched.next().expect("one verdict per batched item")))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::InvalidReason;
    use crate::work::STEP;

    /// Items are true (valid) or false; a check holds when every absorbed item is true. Records
    /// the size of every absorb so the test can see the work was cut into chunks.
    #[derive(Default)]
    struct Toy {
        absorbed: RefCell<Vec<usize>>,
    }

    impl BatchScheme for Toy {
        type Item = bool;
        type Check = bool;
        type Closing = bool;
        type Preparing = ();
        type Single = bool;
        const CHUNK: usize = 3;

        fn start_one(&self, _item: &bool) -> Result<(), Verdict> {
            Ok(())
        }
        fn begin_one(&self, item: &bool, _: ()) -> Result<bool, Verdict> {
            Ok(*item)
        }
        fn finish_one(&self, single: bool) -> Verdict {
            Verdict::from_check(single, InvalidReason::ProofMismatch)
        }
        fn begin(&self, _len: usize) -> bool {
            true
        }
        fn absorb<R: RngCore + CryptoRng>(&self, check: &mut bool, items: &[bool], _: &mut R) {
            self.absorbed.borrow_mut().push(items.len());
            *check &= items.iter().all(|i| *i);
        }
        fn close(&self, check: bool) -> bool {
            check
        }
        fn holds(&self, closing: bool) -> bool {
            closing
        }
    }

    #[test]
    fn a_valid_batch_is_absorbed_in_chunks_then_closed_once() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut run = BatchRun::new(Toy::default(), vec![true; 8]);
        let mut steps = 0;
        while run.step(&mut rng) {
            steps += 1;
        }
        // three absorbs (3 + 3 + 2), the first half of the close, then the second half, whose
        // step returns false.
        assert_eq!(steps, 4);
        assert_eq!(*run.scheme.absorbed.borrow(), vec![3, 3, 2]);
        assert!(run.into_verdicts().iter().all(|v| *v == Verdict::Valid));
    }

    #[test]
    fn a_failed_batch_is_bisected_until_the_bad_items_are_found() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut items = vec![true; 7];
        items[2] = false;
        items[6] = false;
        let verdicts = BatchRun::new(Toy::default(), items.clone()).finish(&mut rng);
        for (i, (verdict, valid)) in verdicts.iter().zip(&items).enumerate() {
            assert_eq!(matches!(verdict, Verdict::Valid), *valid, "item {i}");
        }
    }

    /// Statements of `units` work (valid unless odd), decoded 100 units at a time; records
    /// every piece so the test can add up what each step did.
    #[derive(Default)]
    struct ToyDecoder {
        pieces: RefCell<Vec<u32>>,
    }

    impl Decoder<u32> for ToyDecoder {
        type Item = bool;
        type Partial = u32;

        fn decode(
            &self,
            units: &u32,
            partial: Option<u32>,
            allowance: &mut Allowance,
        ) -> Decoding<bool, u32> {
            let mut done = partial.unwrap_or(0);
            while done < *units {
                let piece = (*units - done).min(100);
                if !allowance.take(piece) {
                    return Decoding::Paused(done);
                }
                self.pieces.borrow_mut().push(piece);
                done += piece;
            }
            if units % 2 == 1 {
                return Decoding::Done(Err(Verdict::Invalid(InvalidReason::ProofMismatch)));
            }
            Decoding::Done(Ok(true))
        }
    }

    #[test]
    fn decoding_shares_one_allowance_per_step_and_resumes_large_statements() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let sources = vec![300, 301, 5000, 200, 0, 700];
        let mut run = DecodeThenVerify::new(Toy::default(), ToyDecoder::default(), sources);
        let mut per_step = Vec::new();
        while matches!(run.phase, Phase::Decoding { .. }) {
            assert!(run.step(&mut rng));
            per_step.push(run.decoder.pieces.take().iter().sum::<u32>());
        }
        // 6501 units in steps of at most STEP, each as full as the 100-unit pieces allow.
        assert!(per_step.iter().all(|units| *units <= STEP), "{per_step:?}");
        assert_eq!(per_step.iter().sum::<u32>(), 6501);
        assert_eq!(per_step.len(), 7, "{per_step:?}");
        let verdicts = run.finish(&mut rng);
        assert_eq!(verdicts.len(), 6);
        assert_eq!(verdicts[1], Verdict::Invalid(InvalidReason::ProofMismatch));
        assert!(
            [0, 2, 3, 4, 5]
                .iter()
                .all(|i| verdicts[*i] == Verdict::Valid)
        );
    }

    #[test]
    fn an_empty_batch_is_done_at_once() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut run = BatchRun::new(Toy::default(), Vec::new());
        assert!(run.is_done());
        assert!(!run.step(&mut rng));
        assert!(run.into_verdicts().is_empty());
    }
}
