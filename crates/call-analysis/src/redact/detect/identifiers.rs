//! Identifiers: IBAN (after its country code), national id (DNI/NIE, with its check
//! letter), phone and e-mail (written or spoken).

use super::Detector;
use crate::redact::RedactKind;
use crate::redact::checks::{iban_valid, national_id_valid};
use crate::redact::tokens::ItemKind;
use crate::redact::words::{
    EMAIL_AT, EMAIL_DOTS, EMAIL_JOINERS, EMAIL_TLDS, IBAN_LENGTHS, LETTER_CUES, PHONE_PREFIX_WORDS,
    letter_named,
};

/// A country code before the digits of an IBAN, and the items that said it.
pub(super) struct Country {
    pub(super) code: String,
    items: Vec<usize>,
    /// Written or spelled as a code, not a word that may be one.
    pub(super) certain: bool,
}

impl Detector<'_> {
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
    pub(super) fn country_before(&self, first: usize) -> Option<Country> {
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

    pub(super) fn ibans(&mut self) {
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

    pub(super) fn national_ids(&mut self) {
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

    // ---- phone ------------------------------------------------------------------------

    pub(super) fn phones(&mut self) {
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

    pub(super) fn emails(&mut self) {
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
