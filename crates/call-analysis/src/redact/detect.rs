//! Finding each kind in the stream. Every finding takes its items, so a number is
//! redacted once, as the first kind that claims it: e-mail, IBAN, card, national id,
//! expiry, CVV, phone, in that order (the more specific checks first).

use std::collections::BTreeMap;

use super::RedactKind;
use super::checks::{iban_valid, luhn, national_id_valid};
use super::stream::{Run, Stream};
use super::tokens::{Item, ItemKind};
use super::words::{
    CVV_CUES, EMAIL_AT, EMAIL_DOTS, EMAIL_JOINERS, EMAIL_TLDS, EXPIRY_CONNECTORS, EXPIRY_CUES,
    FILLERS, IBAN_LENGTHS, LETTER_CUES, MONTHS, NEIGHBOUR_DIGITS, PHONE_PREFIX_WORDS, Phrases,
    letter_named,
};
use crate::text::fold;
use crate::transcript::Cue;

/// Most digits said beside a card in the same run for the card to be looked for inside it:
/// an expiry and a CVV after it, or a short number before it ("option two", "Room 4").
const MAX_DIGITS_BESIDE_CARD: usize = 8;
/// Most digits said before a card inside a run (but for a card ending a long run): a number
/// word or a lone number ("option two", "número uno", "Room 12"). Three or four would let
/// two phone numbers said with a comma between them, or a group of four and a longer number,
/// hold a card that starts inside one of them.
const MAX_DIGITS_BEFORE_CARD: usize = 2;
/// How many items after a CVV or expiry cue its value may start.
const CUE_WINDOW_ITEMS: usize = 16;

/// A country code before the digits of an IBAN, and the items that said it.
struct Country {
    code: String,
    items: Vec<usize>,
    /// Written or spelled as a code, not a word that may be one.
    certain: bool,
}

/// One finding: the byte range it covers in each cue it touches.
pub(super) struct Found {
    pub kind: RedactKind,
    pub ranges: BTreeMap<usize, (usize, usize)>,
}

pub(super) struct Detector<'a> {
    cues: &'a [Cue],
    stream: Stream,
    pub found: Vec<Found>,
}

impl<'a> Detector<'a> {
    pub fn new(cues: &'a [Cue]) -> Self {
        Self {
            cues,
            stream: Stream::new(cues),
            found: Vec::new(),
        }
    }

    pub fn detect(&mut self, kind: RedactKind) {
        match kind {
            RedactKind::Email => self.emails(),
            RedactKind::Iban => self.ibans(),
            RedactKind::Card => self.cards(),
            RedactKind::NationalId => self.national_ids(),
            RedactKind::Expiry => self.after_cues(kind, &EXPIRY_CUES, Self::expiry_at),
            RedactKind::Cvv => self.after_cues(kind, &CVV_CUES, Self::cvv_at),
            RedactKind::Phone => self.phones(),
        }
    }

    fn item(&self, i: usize) -> &Item {
        &self.stream.items[i]
    }

    /// Records a finding covering `items` (and everything between them in each cue).
    fn take(&mut self, kind: RedactKind, items: &[usize]) {
        let mut ranges: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
        for &i in items {
            let item = &self.stream.items[i];
            let range = ranges.entry(item.cue).or_insert((item.start, item.end));
            range.0 = range.0.min(item.start);
            range.1 = range.1.max(item.end);
        }
        for (&cue, &(start, end)) in &ranges {
            for i in self.stream.cue_items(cue) {
                let item = &self.stream.items[i];
                self.stream.taken[i] |= item.start >= start && item.end <= end;
            }
        }
        self.found.push(Found { kind, ranges });
    }

    /// Runs whose digits pass `check`, taken as `kind` with the items `extra` adds.
    fn take_runs(&mut self, kind: RedactKind, check: impl Fn(&Self, &Run) -> Option<Vec<usize>>) {
        for run in self.stream.runs() {
            if let Some(items) = check(self, &run) {
                self.take(kind, &items);
            }
        }
    }

    // ---- cards ------------------------------------------------------------------------

    fn is_card(digits: &str) -> bool {
        (13..=19).contains(&digits.len()) && !digits.starts_with('0') && luhn(digits)
    }

    fn cards(&mut self) {
        let mut pending = self.stream.runs();
        while let Some(run) = pending.pop() {
            let digits = self.stream.digits(&run.atoms);
            if Self::is_card(&digits) {
                self.take(RedactKind::Card, &run.atoms);
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
                    pending.extend(self.without_filler_digits(&run));
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
            } else if let Some(paused) = self.without_filler_digits(&run) {
                pending.push(paused);
            }
        }
    }

    /// A filler that is also a digit ("um": English hesitation, Portuguese 1) was read as a
    /// digit beside the spoken digits around it. When the run holds no card that way, it is
    /// read the other way: the run without those words, each a pause where it stood, so
    /// "four five five six, um, seven three…" is a card again. `None` when it has none.
    fn without_filler_digits(&self, run: &Run) -> Option<Run> {
        let filler = |&atom: &usize| {
            let item = self.item(atom);
            matches!(item.kind, ItemKind::Number { spoken: true, .. })
                && FILLERS.contains(&fold(&self.cues[item.cue].text[item.start..item.end]))
        };
        if !run.atoms.iter().any(filler) {
            return None;
        }
        let mut paused = Run::default();
        let mut pause = false;
        for (k, atom) in run.atoms.iter().enumerate() {
            if filler(atom) {
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
        const BY_LENGTH: [usize; 7] = [16, 15, 19, 14, 13, 18, 17];
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
                if digits.len() >= 13 && Self::card_shaped(&shape) && Self::is_card(&digits) {
                    let rank = BY_LENGTH
                        .iter()
                        .position(|&l| l == digits.len())
                        .unwrap_or(BY_LENGTH.len());
                    candidates.push((rank, start, end));
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
    /// most two pieces (a number said at once, or split by a cue), groups of one length with
    /// a shorter last group only for 13, 15 or 19 digits (4-4-4-3, pairs and a digit), or
    /// American Express 4-6-5. A list of amounts or ages of mixed lengths is not.
    fn card_shaped(pieces: &[usize]) -> bool {
        let total: usize = pieces.iter().sum();
        let (Some(&first), Some(&last)) = (pieces.first(), pieces.last()) else {
            return false;
        };
        let body = &pieces[..pieces.len() - 1];
        pieces.len() <= 2
            || pieces == [4, 6, 5]
            || (body.iter().all(|&p| p == first)
                && (last == first || (last < first && matches!(total, 13 | 15 | 19))))
    }

    /// The card inside a run that is no card as a whole, as a range of its atoms: a number
    /// said just before it ("option two", "Room 4", "número uno") or after it (a CVV, an
    /// expiry) in the same breath. The card is the longest stretch of whole pieces, cut only
    /// where a pause, a written group or a number word ends (`Run::strong`; the first spoken
    /// digit of a run counts as a piece of its own: "número uno cuatro cinco…"), with at most
    /// `MAX_DIGITS_BESIDE_CARD` digits around it (4 in a run of up to 19) and at most
    /// `MAX_DIGITS_BEFORE_CARD` before it. Never a window slid digit by digit: a written
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
        let mut best: Option<std::ops::Range<usize>> = None;
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
                let longer = best
                    .as_ref()
                    .is_none_or(|b| length > before[b.end] - before[b.start]);
                // Before the card, a short number ("option two", "Room 12"); more only before
                // a card that ends a long run, as an expiry and CVV said first.
                let said_before =
                    before[start] <= MAX_DIGITS_BEFORE_CARD || (total > 19 && end == n);
                if beside > 0
                    && said_before
                    && length <= 19
                    && longer
                    && Self::is_card(&self.stream.digits(&run.atoms[start..end]))
                {
                    best = Some(start..end);
                }
            }
        }
        best
    }

    // ---- IBAN -------------------------------------------------------------------------

    /// The letter a word stands for: "Z", "z" (one letter) or a spoken name ("zeta").
    fn letter(&self, i: usize) -> Option<char> {
        let folded = self.item(i).word()?;
        let mut chars = folded.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() => Some(c.to_ascii_uppercase()),
            _ => letter_named(folded),
        }
    }

    /// The country code said just before a run: "ES", "E S", "e ese", "es91" (`certain`),
    /// or a two-letter word apart from the digits in lower or mixed case ("es 91…", as
    /// speech-to-text writes it), which may as well be the verb "es" or "de": only the
    /// mod-97 check over the country and the digits together tells them apart.
    fn country_before(&self, first: usize) -> Option<Country> {
        let last = self.stream.before(first)?;
        let item = self.item(last);
        if let ItemKind::Word { folded, upper } = &item.kind
            // Two ASCII letters as written: "sí" folds to "si" but is no country code.
            && item.end - item.start == 2
            && folded.len() == 2
            && folded.bytes().all(|b| b.is_ascii_alphabetic())
        {
            let glued = !self.item(first).space_before && self.item(first).cue == item.cue;
            return Some(Country {
                code: folded.to_ascii_uppercase(),
                items: vec![last],
                certain: *upper || glued,
            });
        }
        let second = self.letter(last)?;
        let before = self.stream.before(last)?;
        let first_letter = self.letter(before)?;
        Some(Country {
            code: format!("{first_letter}{second}"),
            items: vec![before, last],
            certain: true,
        })
    }

    fn ibans(&mut self) {
        self.take_runs(RedactKind::Iban, |this, run| {
            let Country {
                code, mut items, ..
            } = this.country_before(run.atoms[0])?;
            let needed = IBAN_LENGTHS.get(&code)? - 2;
            let mut digits = String::new();
            for &atom in &run.atoms {
                digits.push_str(this.item(atom).digits()?);
                items.push(atom);
                if digits.len() >= needed {
                    break;
                }
            }
            (digits.len() == needed && iban_valid(&format!("{code}{digits}"))).then_some(items)
        });
    }

    // ---- DNI / NIE --------------------------------------------------------------------

    fn national_ids(&mut self) {
        self.take_runs(RedactKind::NationalId, |this, run| {
            // The number is the whole run, or its end after a pause ("tengo cuarenta.
            // 12345678Z"): the check letter follows the last digit. Only the starts 7 or 8
            // digits from the end can make one, so a long run costs its length, not its
            // square.
            let mut from_end = 0;
            let mut starts = Vec::new();
            for k in (0..run.atoms.len()).rev() {
                from_end += this.item(run.atoms[k]).digits().map_or(0, str::len);
                if from_end > 8 {
                    break;
                }
                if from_end >= 7 && (k == 0 || run.strong[k - 1]) {
                    starts.push(k);
                }
            }
            starts
                .into_iter()
                .rev()
                .find_map(|k| this.national_id(&run.atoms[k..]))
        });
    }

    fn national_id(&self, atoms: &[usize]) -> Option<Vec<usize>> {
        let digits = self.stream.digits(atoms);
        if !(7..=8).contains(&digits.len()) {
            return None;
        }
        let mut items = atoms.to_vec();
        let prefix = self
            .stream
            .before(atoms[0])
            .and_then(|p| {
                if self.item(p).is_punct('-') {
                    self.stream.before(p)
                } else {
                    Some(p)
                }
            })
            .filter(|_| digits.len() == 7)
            .and_then(|p| Some((p, self.letter(p).filter(|c| matches!(c, 'X' | 'Y' | 'Z'))?)));
        if let Some((item, _)) = prefix {
            items.push(item);
        }
        let (letter_item, letter) = self.id_letter_after(*atoms.last()?)?;
        items.push(letter_item);
        national_id_valid(prefix.map(|(_, c)| c), &digits, letter).then_some(items)
    }

    /// The check letter after a DNI number: "12345678Z", "12345678-Z", "letra zeta".
    fn id_letter_after(&self, last: usize) -> Option<(usize, char)> {
        let mut next = self.stream.after(last)?;
        let mut cued = false;
        if self.item(next).is_punct('-') || self.item(next).is_punct(',') {
            next = self.stream.after(next)?;
            cued = true;
        }
        if self
            .item(next)
            .word()
            .is_some_and(|w| LETTER_CUES.contains(w))
        {
            next = self.stream.after(next)?;
            cued = true;
        }
        let item = self.item(next);
        let folded = item.word()?;
        let single = folded.chars().count() == 1;
        let upper = matches!(item.kind, ItemKind::Word { upper: true, .. });
        // A lone lower-case "a", "e", "y" is a word unless "letra" or a hyphen says otherwise.
        let accepted = !single || cued || upper || !item.space_before;
        Some((next, self.letter(next).filter(|_| accepted)?))
    }

    // ---- expiry and CVV, after their cue words -----------------------------------------

    /// The item ends of every cue phrase, in order.
    fn cue_ends(&self, phrases: &Phrases) -> Vec<usize> {
        let items = &self.stream.items;
        // Cue phrases may hold number words ("los tres números de atrás"): compare the
        // words as said, not the digits read from them.
        let folded: Vec<std::borrow::Cow<str>> = items
            .iter()
            .map(|item| match item.word() {
                Some(word) => word.into(),
                None => fold(&self.cues[item.cue].text[item.start..item.end]).into(),
            })
            .collect();
        let mut ends = Vec::new();
        for start in 0..items.len() {
            for phrase in phrases {
                let end = start + phrase.len() - 1;
                let matches = end < items.len()
                    && items[end].cue == items[start].cue
                    && phrase
                        .iter()
                        .zip(&folded[start..=end])
                        .all(|(p, f)| p == f.as_ref());
                if matches {
                    ends.push(end);
                }
            }
        }
        ends
    }

    fn after_cues(
        &mut self,
        kind: RedactKind,
        cues: &Phrases,
        value_at: fn(&Self, usize) -> Option<Vec<usize>>,
    ) {
        for end in self.cue_ends(cues) {
            let value = |this: &Self, i: usize| {
                let item = this.item(i);
                this.stream.taken[i]
                    || matches!(item.kind, ItemKind::Number { .. } | ItemKind::Placeholder)
                    || (kind == RedactKind::Expiry
                        && item.word().is_some_and(|w| MONTHS.contains_key(w)))
            };
            let look_alike = |this: &Self, i: usize| {
                this.item(i)
                    .word()
                    .is_some_and(|w| NEIGHBOUR_DIGITS.contains_key(w))
            };
            // "CVV2", "CVC2": the 2 glued to the cue is its name, not the value.
            let glued_two = self.stream.items.get(end + 1).is_some_and(|item| {
                item.cue == self.item(end).cue
                    && !item.space_before
                    && matches!(&item.kind, ItemKind::Number { digits, spoken: false } if digits == "2")
            });
            let after = if glued_two { end + 2 } else { end + 1 };
            // The first number (or month) after the cue is the value, if anything is.
            let window = (after..self.stream.items.len()).take(CUE_WINDOW_ITEMS);
            // Look-alikes said before it ("le CVV est un un un", "o CVV é meia meia meia")
            // are read as digits first: after a cue a number is expected. When they make no
            // value they are words again.
            if let Some(start) = window
                .clone()
                .find(|&i| value(self, i) || look_alike(self, i))
                .filter(|&i| look_alike(self, i))
            {
                let read = self.read_look_alikes(start);
                if let Some(items) = value_at(self, start) {
                    self.take(kind, &items);
                    continue;
                }
                for (i, was) in read {
                    self.stream.items[i].kind = was;
                }
            }
            let first = window.clone().find(|&i| value(self, i));
            let Some(first) = first.filter(|&i| !self.stream.taken[i]) else {
                continue;
            };
            if let Some(items) = value_at(self, first) {
                self.take(kind, &items);
            }
        }
    }

    /// Reads the look-alikes from `start` on, said in a row (past commas, hyphens and
    /// fillers), as the digits they also are; the items changed and what they were.
    fn read_look_alikes(&mut self, start: usize) -> Vec<(usize, ItemKind)> {
        let mut read = Vec::new();
        let mut next = Some(start);
        while let Some(i) = next.filter(|&i| !self.stream.taken[i]) {
            let item = self.item(i);
            if let Some(&digit) = item.word().and_then(|w| NEIGHBOUR_DIGITS.get(w)) {
                let digits = digit.to_string();
                let was = std::mem::replace(
                    &mut self.stream.items[i].kind,
                    ItemKind::Number {
                        digits,
                        spoken: true,
                    },
                );
                read.push((i, was));
            } else if !(matches!(item.kind, ItemKind::Punct(',' | '-'))
                || item.word().is_some_and(|w| FILLERS.contains(w)))
            {
                break;
            }
            next = self.stream.after(i);
        }
        read
    }

    /// The code: the numbers from `first` (the first after the cue) to the end of their run,
    /// when they have 3 or 4 digits. The run may have begun before the cue's end ("au dos",
    /// "CVV2 123") or in the speaker's words before the other's question.
    fn cvv_at(&self, first: usize) -> Option<Vec<usize>> {
        let run = self
            .stream
            .runs_around(first)
            .into_iter()
            .find(|r| r.atoms.contains(&first))?;
        let from = run.atoms.iter().position(|&a| a == first)?;
        let atoms = &run.atoms[from..];
        let length = self.stream.digits(atoms).len();
        (3..=4).contains(&length).then(|| atoms.to_vec())
    }

    fn expiry_at(&self, first: usize) -> Option<Vec<usize>> {
        let year_ok = |y: &str| y.len() == 2 || (y.len() == 4 && y.starts_with("20"));
        let month_ok = |m: &str| m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
        let mut month = match (self.item(first).digits(), self.item(first).word()) {
            // "1228", "122028" said as one group.
            (Some(d), _) if d.len() >= 4 => {
                return (month_ok(&d[..2]) && year_ok(&d[2..])).then(|| vec![first]);
            }
            (Some(d), _) => d.to_string(),
            (None, Some(w)) => MONTHS.get(w)?.to_string(),
            (None, None) => return None,
        };
        let mut month_end = first;
        if month == "0"
            && let Some(unit) = self.stream.free_number_after(first)
            && let Some(d) = self.item(unit).digits().filter(|d| d.len() == 1)
        {
            month = format!("0{d}");
            month_end = unit;
        }
        if !month_ok(&month) {
            return None;
        }
        let mut next = self.stream.after(month_end)?;
        while self.is_expiry_separator(next) {
            next = self.stream.after(next)?;
        }
        let year = self
            .stream
            .is_free_number(next)
            .then(|| self.item(next).digits())??;
        if !year_ok(year) {
            return None;
        }
        // "twenty twenty eight": the century said on its own.
        let mut last = next;
        if year == "20"
            && let Some(rest) = self.stream.free_number_after(next)
            && self.item(rest).digits().is_some_and(|d| d.len() == 2)
        {
            last = rest;
        }
        Some(vec![first, last])
    }

    fn is_expiry_separator(&self, item: usize) -> bool {
        let item = self.item(item);
        matches!(item.kind, ItemKind::Punct('/' | '-' | '.' | ','))
            || item
                .word()
                .is_some_and(|w| EXPIRY_CONNECTORS.contains(w) || FILLERS.contains(w))
    }

    // ---- phone ------------------------------------------------------------------------

    fn phones(&mut self) {
        self.take_runs(RedactKind::Phone, |this, run| {
            let digits = this.stream.digits(&run.atoms);
            let prefix = this.stream.before(run.atoms[0]).filter(|&p| {
                this.item(p).is_punct('+')
                    || this
                        .item(p)
                        .word()
                        .is_some_and(|w| PHONE_PREFIX_WORDS.contains(w))
            });
            let first = digits.as_bytes().first().copied().unwrap_or(b'0');
            let groups: Vec<usize> = run
                .atoms
                .iter()
                .filter_map(|&a| this.item(a).digits().map(str::len))
                .collect();
            let phone = match digits.len() {
                // Spanish numbers: mobiles 6/7, landlines 8/9.
                9 => (b'6'..=b'9').contains(&first),
                // North American, written 3-3-4.
                10 => groups == [3, 3, 4],
                // UK national ("07…", "02…"), or +1 / +34 with the country code.
                11 => first == b'0' || prefix.is_some() || digits.starts_with("34"),
                12..=13 => prefix.is_some() || digits.starts_with("00"),
                14..=15 => digits.starts_with("00"),
                _ => false,
            };
            let mut items = run.atoms.clone();
            items.extend(prefix);
            phone.then_some(items)
        });
    }

    // ---- e-mail -----------------------------------------------------------------------

    fn emails(&mut self) {
        for at in 0..self.stream.items.len() {
            if self.stream.taken[at] {
                continue;
            }
            let found = if self.item(at).is_punct('@') {
                self.written_email(at)
            } else if self.item(at).word().is_some_and(|w| EMAIL_AT.contains(w)) {
                self.spoken_email(at)
            } else {
                None
            };
            if let Some(items) = found {
                self.take(RedactKind::Email, &items);
            }
        }
    }

    /// `juan.perez+x@mail.example.com`: the items glued to the "@" in the same cue.
    fn written_email(&self, at: usize) -> Option<Vec<usize>> {
        let items = &self.stream.items;
        let glued = |i: usize| {
            let item = &items[i];
            item.cue == items[at].cue
                && !self.stream.taken[i]
                && match &item.kind {
                    ItemKind::Word { .. } | ItemKind::Number { spoken: false, .. } => true,
                    ItemKind::Punct(c) => matches!(c, '.' | '_' | '-' | '+'),
                    _ => false,
                }
        };
        let mut start = at;
        while start > 0 && !items[start].space_before && glued(start - 1) {
            start -= 1;
        }
        let mut end = at;
        while end + 1 < items.len() && !items[end + 1].space_before && glued(end + 1) {
            end += 1;
        }
        // A full stop after the address ends the sentence, not the domain.
        while end > at && matches!(items[end].kind, ItemKind::Punct(_)) {
            end -= 1;
        }
        let has_dot = (at..end).any(|i| items[i].is_punct('.'));
        let tld_ok = items[end].word().is_some_and(|w| w.chars().count() >= 2);
        (start < at && has_dot && tld_ok).then(|| vec![start, end])
    }

    /// "juan punto perez arroba gmail punto com".
    fn spoken_email(&self, at: usize) -> Option<Vec<usize>> {
        let is_part = |i: usize| {
            !self.stream.taken[i]
                && matches!(
                    self.item(i).kind,
                    ItemKind::Word { .. } | ItemKind::Number { .. }
                )
        };
        let mut start = self.stream.before(at).filter(|&i| is_part(i))?;
        while let Some(joiner) = self.joiner_before(start)
            && let Some(part) = self.stream.before(joiner).filter(|&i| is_part(i))
        {
            start = part;
        }
        let mut end = self.stream.after(at).filter(|&i| is_part(i))?;
        let mut last_tld = None;
        while let Some(dot) = self
            .stream
            .after(end)
            .filter(|&d| self.item(d).word().is_some_and(|w| EMAIL_DOTS.contains(w)))
            && let Some(part) = self.stream.after(dot).filter(|&i| is_part(i))
        {
            end = part;
            if self
                .item(part)
                .word()
                .is_some_and(|w| EMAIL_TLDS.contains(w))
            {
                last_tld = Some(part);
            }
        }
        Some(vec![start, last_tld?])
    }

    /// The first item of a spoken "punto", "guion bajo"… ending just before `part`.
    fn joiner_before(&self, part: usize) -> Option<usize> {
        let last = self.stream.before(part)?;
        if self
            .item(last)
            .word()
            .is_some_and(|w| EMAIL_DOTS.contains(w))
        {
            return Some(last);
        }
        EMAIL_JOINERS.iter().find_map(|phrase| {
            let mut item = last;
            for (k, word) in phrase.iter().rev().enumerate() {
                if self.item(item).word() != Some(word.as_str()) {
                    return None;
                }
                if k + 1 < phrase.len() {
                    item = self.stream.before(item)?;
                }
            }
            Some(item)
        })
    }
}
