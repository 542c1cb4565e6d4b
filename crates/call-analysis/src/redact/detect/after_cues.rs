//! Expiry and CVV: codes found after their cue words ("caducidad", "CVV", "the three digits
//! on the back"), with look-alike words read as digits there.

use super::Detector;
use crate::redact::RedactKind;
use crate::redact::tokens::ItemKind;
use crate::redact::words::{
    CARD_WORDS, EXPIRY_CONNECTORS, FILLERS, MONTHS, NEIGHBOUR_DIGITS, Phrases,
};
use crate::text::fold;

/// How many items after a CVV or expiry cue its value may start.
const CUE_WINDOW_ITEMS: usize = 16;
/// How many cues before a general cue's own are its card context (with its own and those up
/// to the one after its value): an agent's "¿y el código de seguridad?" a few turns after the
/// card.
const CARD_CONTEXT_CUES_BEFORE: usize = 6;

impl Detector<'_> {
    /// The item ends of every cue phrase, in order, each with whether its list is the
    /// general one (the second).
    fn cue_ends(&self, lists: [&Phrases; 2]) -> Vec<(usize, bool)> {
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
            for (general, phrase) in lists
                .iter()
                .enumerate()
                .flat_map(|(k, list)| list.iter().map(move |phrase| (k == 1, phrase)))
            {
                let end = start + phrase.len() - 1;
                let matches = end < items.len()
                    && items[end].cue == items[start].cue
                    && phrase
                        .iter()
                        .zip(&folded[start..=end])
                        .all(|(p, f)| p == f.as_ref());
                if matches {
                    ends.push((end, general));
                }
            }
        }
        ends
    }

    pub(super) fn after_cues(
        &mut self,
        kind: RedactKind,
        cues: [&Phrases; 2],
        value_at: fn(&Self, usize) -> Option<Vec<usize>>,
    ) {
        for (end, general) in self.cue_ends(cues) {
            // After a general cue a value counts in a card's context or in a card's form.
            let value_at = |this: &Self, first: usize| {
                value_at(this, first).filter(|items| {
                    !general || this.in_card_form(kind, items) || this.in_card_context(end, items)
                })
            };
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

    /// Whether a card is near a cue ending at `cue_end` and its value `items`: a card word, a
    /// `[CARD]` or a card found in the cue, the `CARD_CONTEXT_CUES_BEFORE` before it, or up to
    /// the one after the value's last.
    fn in_card_context(&self, cue_end: usize, items: &[usize]) -> bool {
        let from = self
            .item(cue_end)
            .cue
            .saturating_sub(CARD_CONTEXT_CUES_BEFORE);
        let last = items
            .iter()
            .map(|&i| self.item(i).cue)
            .max()
            .unwrap_or(from);
        let to = (last + 1).min(self.cues.len().saturating_sub(1));
        (from..=to).any(|cue| {
            self.found
                .iter()
                .any(|f| f.kind == RedactKind::Card && f.ranges.contains_key(&cue))
                || self.stream.cue_items(cue).any(|i| {
                    let item = self.item(i);
                    item.word().is_some_and(|w| CARD_WORDS.contains(w))
                        || (item.kind == ItemKind::Placeholder
                            && self.cues[cue].text[item.start..item.end]
                                == RedactKind::Card.placeholder())
                })
        })
    }

    /// Whether a value reads as a card prints it: an expiry whose year has two digits
    /// ("12/28", "diciembre 28", "uno dos dos ocho"), a code of three digits.
    fn in_card_form(&self, kind: RedactKind, items: &[usize]) -> bool {
        let (Some(&first), Some(&last)) = (items.first(), items.last()) else {
            return false;
        };
        let cues = [self.item(first).cue, self.item(last).cue];
        let digits: usize = (first..=last)
            .filter(|&i| cues.contains(&self.item(i).cue))
            .filter_map(|i| self.item(i).digits())
            .map(str::len)
            .sum();
        match kind {
            // A named month is two digits a card prints.
            RedactKind::Expiry => {
                let named = self
                    .item(first)
                    .word()
                    .is_some_and(|w| MONTHS.contains_key(w));
                digits + if named { 2 } else { 0 } <= 4
            }
            _ => digits == 3,
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
    pub(super) fn cvv_at(&self, first: usize) -> Option<Vec<usize>> {
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

    pub(super) fn expiry_at(&self, first: usize) -> Option<Vec<usize>> {
        let month_ok = |m: &str| m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
        let month = match (self.item(first).digits(), self.item(first).word()) {
            // "1228", "122028" said as one group.
            (Some(d), _) if d.len() >= 4 => {
                return (month_ok(&d[..2]) && year_ok(&d[2..])).then(|| vec![first]);
            }
            (Some(d), _) => d.to_string(),
            (None, Some(w)) => MONTHS.get(w)?.to_string(),
            (None, None) => return None,
        };
        // The month as said, and its last item: "zero eight" and "one two" (said digit by
        // digit) before "one", "eight" alone, so "one two two eight" is 12/28, and "one
        // twenty-eight" 1/28.
        let mut months = Vec::new();
        if matches!(month.as_str(), "0" | "1")
            && let Some(unit) = self.stream.free_number_after(first)
            && let Some(d) = self.item(unit).digits().filter(|d| d.len() == 1)
        {
            months.push((format!("{month}{d}"), unit));
        }
        months.push((month, first));
        months
            .into_iter()
            .filter(|(month, _)| month_ok(month))
            .find_map(|(_, month_end)| self.expiry_year_after(month_end))
            .map(|last| vec![first, last])
    }

    /// The year after a month ending at `month_end` (past separators): its last item.
    fn expiry_year_after(&self, month_end: usize) -> Option<usize> {
        let mut next = self.stream.after(month_end)?;
        while self.is_expiry_separator(next) {
            next = self.stream.after(next)?;
        }
        let year = self
            .stream
            .is_free_number(next)
            .then(|| self.item(next).digits())??;
        // "two eight", "two zero two eight": a year said digit by digit, with no pause inside
        // (so "two zero, one two three" is 20 and a code after it).
        if year.len() == 1 {
            let mut said = vec![next];
            let mut digits = year.to_string();
            while said.len() < 4
                && let Some(unit) = self.stream.free_number_after(said[said.len() - 1])
                && let Some(d) = self.item(unit).digits().filter(|d| d.len() == 1)
            {
                said.push(unit);
                digits.push_str(d);
            }
            return match digits.len() {
                4 if year_ok(&digits) => Some(said[3]),
                2.. if year_ok(&digits[..2]) => Some(said[1]),
                _ => None,
            };
        }
        if !year_ok(year) {
            return None;
        }
        // "twenty twenty eight": the century said on its own.
        if year == "20"
            && let Some(rest) = self.stream.free_number_after(next)
            && self.item(rest).digits().is_some_and(|d| d.len() == 2)
        {
            return Some(rest);
        }
        Some(next)
    }

    fn is_expiry_separator(&self, item: usize) -> bool {
        let item = self.item(item);
        matches!(item.kind, ItemKind::Punct('/' | '-' | '.' | ','))
            || item
                .word()
                .is_some_and(|w| EXPIRY_CONNECTORS.contains(w) || FILLERS.contains(w))
    }
}

/// A card's year: two digits, or four from 20.
fn year_ok(year: &str) -> bool {
    year.len() == 2 || (year.len() == 4 && year.starts_with("20"))
}
