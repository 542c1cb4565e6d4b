//! Finding each kind in the stream. Every finding takes its items, so a number is
//! redacted once, as the first kind that claims it: e-mail, IBAN, card, national id,
//! expiry, CVV, phone, in that order (the more specific checks first).

mod after_cues;
mod card;
mod identifiers;

use std::collections::BTreeMap;

use super::RedactKind;
use super::stream::{Run, Stream};
use super::tokens::Item;
use super::words::{CVV_CUES, CVV_CUES_GENERAL, EXPIRY_CUES, EXPIRY_CUES_GENERAL};
use crate::transcript::Cue;

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
            RedactKind::Expiry => {
                self.after_cues(kind, [&EXPIRY_CUES, &EXPIRY_CUES_GENERAL], Self::expiry_at)
            }
            RedactKind::Cvv => self.after_cues(kind, [&CVV_CUES, &CVV_CUES_GENERAL], Self::cvv_at),
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
}
