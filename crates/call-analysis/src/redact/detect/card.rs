//! Cards: a run that is one, a card inside a short run with a number said beside it, the
//! cards inside a long run, and the run read again without the fillers that are also digits.

use super::Detector;
use crate::redact::RedactKind;
use crate::redact::checks::luhn;
use crate::redact::stream::Run;
use crate::redact::tokens::ItemKind;
use crate::redact::words::{FILLERS, IBAN_LENGTHS};
use crate::text::fold;

/// Most digits said beside a card in the same run for the card to be looked for inside it:
/// an expiry and a CVV after it, or a short number before it ("option two", "Room 4").
const MAX_DIGITS_BESIDE_CARD: usize = 8;
/// Most digits said before a card inside a run (but for a card ending a long run): a number
/// word or a lone number ("option two", "número uno", "Room 12"). Three or four would let
/// two phone numbers said with a comma between them, or a group of four and a longer number,
/// hold a card that starts inside one of them.
const MAX_DIGITS_BEFORE_CARD: usize = 2;

impl Detector<'_> {
    fn is_card(digits: &str) -> bool {
        (13..=19).contains(&digits.len()) && !digits.starts_with('0') && luhn(digits)
    }

    pub(super) fn cards(&mut self) {
        let mut pending = self.stream.runs();
        while let Some(run) = pending.pop() {
            let digits = self.stream.digits(&run.atoms);
            if Self::is_card(&digits) {
                if let Some(end) = self.card_ending_a_cue(&run, digits.len()) {
                    self.take(RedactKind::Card, &run.atoms[..end]);
                    pending.push(run.part(end..run.atoms.len()));
                } else {
                    self.take(RedactKind::Card, &run.atoms);
                }
                continue;
            }
            // "four five five six, um, seven three…": the run without the fillers that are
            // also digits is a card as a whole (before a stretch of the run with "um" read as
            // 1 that drops the first digit is looked for).
            if let Some(paused) = [true, false]
                .into_iter()
                .filter_map(|alone| self.without_filler_digits(&run, alone))
                .find(|paused| Self::is_card(&self.stream.digits(&paused.atoms)))
            {
                self.take(RedactKind::Card, &paused.atoms);
                continue;
            }
            // Not in what looks like an IBAN that failed its check: its digits are an
            // account.
            if self
                .country_before(run.atoms[0])
                .is_some_and(|c| c.certain && IBAN_LENGTHS.contains_key(&c.code))
            {
                continue;
            }
            // Longer than a card and what may be said beside it: a card said twice, or with
            // its expiry, CVV and more numbers in the speaker's answers to the other's
            // questions.
            if digits.len() > 19 + MAX_DIGITS_BESIDE_CARD {
                let cards = self.cards_in_long_run(&run);
                let mut rest = 0;
                for card in &cards {
                    self.take(RedactKind::Card, &run.atoms[card.clone()]);
                    if rest < card.start {
                        pending.push(run.part(rest..card.start));
                    }
                    rest = card.end;
                }
                if cards.is_empty() {
                    pending.extend(self.filler_fallback(&run));
                } else if rest < run.atoms.len() {
                    pending.push(run.part(rest..run.atoms.len()));
                }
                continue;
            }
            if let Some(card) = self.card_within(&run) {
                self.take(RedactKind::Card, &run.atoms[card.clone()]);
                for rest in [0..card.start, card.end..run.atoms.len()] {
                    if !rest.is_empty() {
                        pending.push(run.part(rest));
                    }
                }
            } else if let Some(paused) = self.filler_fallback(&run) {
                pending.push(paused);
            }
        }
    }

    /// In a run of 17–19 digits that passes Luhn as a whole, the end of a card of 15 or 16
    /// digits that starts the run and ends with one of the speaker's cues: the rest is their
    /// answer to the next question ("¿y la fecha de caducidad?"), which made the run pass
    /// Luhn by chance (about 1 time in 10). A card of 17–19 digits read in two cues whose
    /// first 15 or 16 digits pass Luhn too loses its last digits this way (rare).
    fn card_ending_a_cue(&self, run: &Run, length: usize) -> Option<usize> {
        if !(17..=19).contains(&length) {
            return None;
        }
        let mut digits = String::new();
        for k in 1..run.atoms.len() {
            digits.push_str(self.item(run.atoms[k - 1]).digits().unwrap_or_default());
            let ends_cue = self.item(run.atoms[k - 1]).cue != self.item(run.atoms[k]).cue;
            if ends_cue && matches!(digits.len(), 15 | 16) && Self::is_card(&digits) {
                return Some(k);
            }
        }
        None
    }

    fn filler_fallback(&self, run: &Run) -> Option<Run> {
        self.without_filler_digits(run, true)
            .or_else(|| self.without_filler_digits(run, false))
    }

    /// A filler that is also a digit ("um": English hesitation, Portuguese 1) was read as a
    /// digit beside the spoken digits around it. When the run holds no card that way, it is
    /// read the other way: the run without those words, each a pause where it stood, so
    /// "four five five six, um, seven three…" is a card again. `None` when it has none.
    ///
    /// With `alone`, only such a word said between pauses (", um,") is dropped, so a
    /// Portuguese "um" inside a group ("um zero quatro dois") stays 1; the fallback reading
    /// is that one when the run has such a word, else the one without any.
    fn without_filler_digits(&self, run: &Run, alone: bool) -> Option<Run> {
        let n = run.atoms.len();
        let filler = |k: usize| {
            let item = self.item(run.atoms[k]);
            matches!(item.kind, ItemKind::Number { spoken: true, .. })
                && FILLERS.contains(&fold(&self.cues[item.cue].text[item.start..item.end]))
                && (!alone || ((k == 0 || run.strong[k - 1]) && (k + 1 == n || run.strong[k])))
        };
        if !(0..n).any(filler) {
            return None;
        }
        let mut paused = Run::default();
        let mut pause = false;
        for (k, atom) in run.atoms.iter().enumerate() {
            if filler(k) {
                pause = true;
                continue;
            }
            if !paused.atoms.is_empty() {
                paused.strong.push(pause || run.strong[k - 1]);
            }
            paused.atoms.push(*atom);
            pause = false;
        }
        (!paused.atoms.is_empty()).then_some(paused)
    }

    /// The cards in a run longer than `card_within` looks into (a card said twice, or with
    /// its expiry, CVV and more in the speaker's answers to the other's questions), as
    /// ranges of its atoms in order: stretches of whole pieces (cut at pauses, written
    /// groups, number words) that start the run or a cue, start with a card's first digit
    /// (2–6), are shaped as a card is read (`card_shaped`), have 13–19 digits and pass
    /// Luhn, none overlapping another. Where two overlap, the one of the commoner length
    /// (16, then 15, 19, 14, 13, 18, 17) is taken, then the earlier. Each start is tried
    /// against the ends at most 19 digits on, so the cost is linear in the run, and a number
    /// written as one piece ("a 22-digit tracking number") is never looked into.
    fn cards_in_long_run(&self, run: &Run) -> Vec<std::ops::Range<usize>> {
        let n = run.atoms.len();
        let cut = |k: usize| k <= 1 || k == n || run.strong[k - 1];
        let pieces: Vec<&str> = run
            .atoms
            .iter()
            .map(|&atom| self.item(atom).digits().unwrap_or_default())
            .collect();
        let starts_cue =
            |k: usize| k == 0 || self.item(run.atoms[k]).cue != self.item(run.atoms[k - 1]).cue;
        let mut candidates = Vec::new();
        for start in (0..n).filter(|&k| starts_cue(k)) {
            if !pieces[start].starts_with(['2', '3', '4', '5', '6']) {
                continue;
            }
            let mut digits = String::new();
            // The digits of each piece between pauses so far.
            let mut shape = vec![0];
            for end in start + 1..=n {
                digits.push_str(pieces[end - 1]);
                if digits.len() > 19 {
                    break;
                }
                if let Some(last) = shape.last_mut() {
                    *last += pieces[end - 1].len();
                }
                if !cut(end) {
                    continue;
                }
                if digits.len() >= 13
                    && Self::card_shaped(&shape, &digits)
                    && Self::is_card(&digits)
                {
                    candidates.push((Self::length_rank(digits.len()), start, end));
                }
                if end < n && run.strong[end - 1] {
                    shape.push(0);
                }
            }
        }
        candidates.sort_unstable();
        let mut free = vec![true; n];
        let mut cards = Vec::new();
        for (_, start, end) in candidates {
            if free[start..end].iter().all(|&f| f) {
                free[start..end].fill(false);
                cards.push(start..end);
            }
        }
        cards.sort_unstable_by_key(|card| card.start);
        cards
    }

    /// Whether pieces of these lengths (digits between pauses) read as a card is read: at
    /// most two pieces: a number said at once, or split in two (by a cue) into halves of 14
    /// digits or more, 16 digits where a group of four ends (4-12, 12-4), or an American
    /// Express (34, 37) after its first 4 or 10 digits; three or more groups of one length, with a shorter last group
    /// only for 13, 15 or 19 digits (4-4-4-3, pairs and a digit), or American Express 4-6-5. A list of amounts
    /// or ages of mixed lengths is not, nor answers to two questions (an order number of 10
    /// digits and a postcode of 5).
    fn card_shaped(pieces: &[usize], digits: &str) -> bool {
        let total: usize = pieces.iter().sum();
        let (Some(&first), Some(&last)) = (pieces.first(), pieces.last()) else {
            return false;
        };
        let amex = digits.starts_with("34") || digits.starts_with("37");
        let body = &pieces[..pieces.len() - 1];
        pieces.len() == 1
            || (pieces.len() == 2
                && ((total == 16 && first % 4 == 0)
                    || (amex && total == 15 && matches!(first, 4 | 10))
                    || (total >= 14 && (first == total / 2 || first == total.div_ceil(2)))))
            || pieces == [4, 6, 5]
            || (pieces.len() > 2
                && body.iter().all(|&p| p == first)
                && (last == first || (last < first && matches!(total, 13 | 15 | 19))))
    }

    /// The card inside a run that is no card as a whole, as a range of its atoms: a number
    /// said just before it ("option two", "Room 4", "número uno") or after it (a CVV, an
    /// expiry) in the same breath. The card is a stretch of whole pieces, cut only where a
    /// pause, a written group or a number word ends (`Run::strong`; the first spoken digit of
    /// a run counts as a piece of its own: "número uno cuatro cinco…"), with at most
    /// `MAX_DIGITS_BESIDE_CARD` digits around it (4 in a run of up to 19) and at most
    /// `MAX_DIGITS_BEFORE_CARD` before it, passing Luhn. Of several: not one going on into a
    /// later cue of the speaker past a card from the same start that ends with the cue
    /// before; then one of 16 or 15 digits starting the run with 2–6; then the commoner
    /// length (`length_rank`), then the earlier. The longest was taken before, and a stretch
    /// swallowing the expiry answered after the card, or dropping the card's first spoken
    /// digit, passes Luhn about 1 time in 10. Never a window slid digit by digit: a written
    /// number is one piece, so a 22-digit tracking number written as one is never looked
    /// into, and a run has few such stretches (each passes Luhn about 1 time in 10).
    fn card_within(&self, run: &Run) -> Option<std::ops::Range<usize>> {
        let n = run.atoms.len();
        let cut = |k: usize| k <= 1 || k == n || run.strong[k - 1];
        // Digits before atom k.
        let mut before = vec![0];
        for &atom in &run.atoms {
            before.push(before.last()? + self.item(atom).digits().map_or(0, str::len));
        }
        let total = before[n];
        // A run no longer than a card has few digits to spare: what is beside the card is a
        // CVV's worth at most, and a 13-digit card (no longer issued) is not looked for, so a
        // 17-digit number read with pauses does not hold a card merely because its first 13
        // digits pass Luhn.
        let (shortest, most_beside) = if total <= 19 {
            (14, 4)
        } else {
            (13, MAX_DIGITS_BESIDE_CARD)
        };
        // (rank of the length, start, end) of each stretch that may be the card.
        let mut candidates = Vec::new();
        for start in (0..n).filter(|&k| cut(k)) {
            if before[start] > most_beside {
                break;
            }
            for end in (start + 1..=n).rev().filter(|&k| cut(k)) {
                let beside = before[start] + total - before[end];
                let length = before[end] - before[start];
                if beside > most_beside || length < shortest {
                    break;
                }
                // Before the card, a short number ("option two", "Room 12"); more only before
                // a card that ends a long run, as an expiry and CVV said first, and read as a
                // card is (not the last answers to several questions).
                let said_before = before[start] <= MAX_DIGITS_BEFORE_CARD
                    || (total > 19 && end == n && self.shaped(run, start..end));
                if beside > 0
                    && said_before
                    && length <= 19
                    && Self::is_card(&self.stream.digits(&run.atoms[start..end]))
                {
                    candidates.push((Self::length_rank(length), start, end));
                }
            }
        }
        // A stretch going on into a later cue of the speaker after a card that ends with the
        // cue before it (the expiry answered after the card) is not the card.
        let ends_cue =
            |k: usize| k < n && self.item(run.atoms[k - 1]).cue != self.item(run.atoms[k]).cue;
        let crosses = |&(_, start, end): &(usize, usize, usize)| {
            candidates
                .iter()
                .any(|&(_, s, e)| s == start && e < end && ends_cue(e))
        };
        // A card of a common length that starts the run with a card's first digit: said
        // from its first digit on, so no stretch dropping that digit is the card.
        let from_first = |&(rank, start, _): &(usize, usize, usize)| {
            start == 0
                && rank <= 1
                && self
                    .stream
                    .digits(&run.atoms[..1])
                    .starts_with(['2', '3', '4', '5', '6'])
        };
        // A stretch that is whole cues of the speaker (an answer of its own, after the other
        // speaker asked) before one that takes part of an earlier answer: "2017 | …and the
        // card? | 4556 7375 8689 9855" is the card, whatever "2017 4556 7375 8689" passes.
        let cue_edge = |k: usize| {
            k == 0 || k == n || self.item(run.atoms[k - 1]).cue != self.item(run.atoms[k]).cue
        };
        let whole_cues =
            |&(_, start, end): &(usize, usize, usize)| cue_edge(start) && cue_edge(end);
        candidates
            .iter()
            .min_by_key(|c| (crosses(c), !whole_cues(c), !from_first(c), c.0, c.1))
            .map(|&(_, start, end)| start..end)
    }

    /// Whether the atoms `range` of `run` are shaped as a card is read (`card_shaped`), its
    /// pieces cut at pauses.
    fn shaped(&self, run: &Run, range: std::ops::Range<usize>) -> bool {
        let mut pieces = vec![0];
        for k in range.clone() {
            if k > range.start && run.strong[k - 1] {
                pieces.push(0);
            }
            if let Some(last) = pieces.last_mut() {
                *last += self.item(run.atoms[k]).digits().map_or(0, str::len);
            }
        }
        Self::card_shaped(&pieces, &self.stream.digits(&run.atoms[range]))
    }

    /// Commoner card lengths first: 16, then 15, 19, 14, 13, 18, 17 (each stretch of a run
    /// that merely happens to pass Luhn is as likely at any length).
    fn length_rank(length: usize) -> usize {
        const BY_LENGTH: [usize; 7] = [16, 15, 19, 14, 13, 18, 17];
        BY_LENGTH
            .iter()
            .position(|&l| l == length)
            .unwrap_or(BY_LENGTH.len())
    }
}
