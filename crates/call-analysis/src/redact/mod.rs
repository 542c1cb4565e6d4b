//! Redaction of card and personal data in a transcript, before anything is stored or sent.
//!
//! Cue texts become one stream of items in which spoken numbers in Spanish, English, French,
//! German, Portuguese and Italian are read as digits ("cuatro cinco", "doble cinco", "triple
//! seven", "oh", "cuarenta y cinco", "quatre-vingt-dix-neuf", "fünfundvierzig", "quarenta e
//! cinco", "quarantacinque") while keeping the bytes they came from. Articles that are also
//! digits ("un", "um", "uma") are read so only beside another spoken digit. Numbers said in a row by one speaker form runs,
//! also across cues and across a short interruption by the other speaker, and each kind is
//! found with its own check: Luhn for cards, ISO 13616 mod-97 for IBANs, the DNI/NIE check
//! letter, cue words for CVV and expiry, patterns for e-mail and phone. Each finding is
//! replaced by `[KIND]` over exactly the words that said it; look-alikes that fail the
//! checks (order numbers, amounts, dates, times, extensions) stay as they were. A speaker
//! label (a VTT voice tag may be a phone number or an address) is redacted first, as a text
//! of its own: it never joins the numbers said in its cues.
//!
//! Why not the `text2num` crate: it reads one language at a time (calls mix them), has no
//! "doble"/"triple"/"oh", and reads "cuatro cinco" as two numbers of its own grammar; the
//! digit-by-digit readings that matter here are a small grammar kept in `data/redact/`.

mod checks;
mod detect;
mod stream;
mod tokens;
mod words;

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};
use thiserror::Error;

use crate::transcript::{Cue, Transcript};
use detect::Detector;

/// Most detections over one text; each pass that finds something takes numbers away, so
/// the second pass almost always finds nothing and the limit is a guard, not a tuning.
const MAX_PASSES: usize = 4;

/// Findings as their first and last cue and their kind.
type Spans = Vec<(usize, usize, RedactKind)>;

/// What redaction looks for (the values of the `REDACT` setting).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    EnumIter,
    IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RedactKind {
    Card,
    Cvv,
    Expiry,
    Iban,
    NationalId,
    Email,
    Phone,
}

impl RedactKind {
    /// Every kind, in the order they are looked for: the more specific checks claim a
    /// number first (an e-mail's digits are not a phone, an IBAN's are not a card).
    pub const ALL: [RedactKind; 7] = [
        RedactKind::Email,
        RedactKind::Iban,
        RedactKind::Card,
        RedactKind::NationalId,
        RedactKind::Expiry,
        RedactKind::Cvv,
        RedactKind::Phone,
    ];

    /// The name used in `REDACT` and in `redactions` (`national_id`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// What replaces a finding: `[CARD]`, `[NATIONAL_ID]`…
    pub fn placeholder(self) -> String {
        format!("[{}]", self.name().to_uppercase())
    }
}

/// The kinds to redact, parsed from `REDACT`: `all`, `none`, or a comma-separated list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactKinds(BTreeSet<RedactKind>);

#[derive(Debug, Error, PartialEq, Eq)]
#[error("unknown redaction kind {0:?}: use all, none or a comma-separated list of {known}", known = known_kinds())]
pub struct UnknownRedactKind(pub String);

fn known_kinds() -> String {
    RedactKind::iter()
        .map(RedactKind::name)
        .collect::<Vec<_>>()
        .join(",")
}

impl RedactKinds {
    pub fn all() -> Self {
        Self(RedactKind::iter().collect())
    }

    pub fn none() -> Self {
        Self(BTreeSet::new())
    }

    pub fn contains(&self, kind: RedactKind) -> bool {
        self.0.contains(&kind)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Default for RedactKinds {
    /// Card data and the identifiers PCI DSS and the GDPR care most about; e-mail and phone
    /// are often what the call is about, so they are opt-in.
    fn default() -> Self {
        use RedactKind::*;
        Self([Card, Cvv, Expiry, Iban, NationalId].into())
    }
}

impl FromStr for RedactKinds {
    type Err = UnknownRedactKind;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "all" => return Ok(Self::all()),
            "none" | "" => return Ok(Self::none()),
            _ => {}
        }
        value
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                RedactKind::from_str(&name.to_ascii_lowercase())
                    .map_err(|_| UnknownRedactKind(name.to_string()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// Where a finding was in the call: seconds from the cues it covers, never the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Redaction {
    pub kind: RedactKind,
    /// Seconds into the call; `None` where the text had no timings.
    pub start: Option<f64>,
    pub end: Option<f64>,
}

/// A transcript with every finding replaced, and where they were.
#[derive(Debug, Clone, PartialEq)]
pub struct RedactedTranscript {
    pub transcript: Transcript,
    pub redactions: Vec<Redaction>,
}

/// Redacts the configured kinds.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    kinds: RedactKinds,
}

impl Redactor {
    pub fn new(kinds: RedactKinds) -> Self {
        Self { kinds }
    }

    pub fn kinds(&self) -> &RedactKinds {
        &self.kinds
    }

    /// Redacts a transcript, its cue texts and speaker labels, keeping its cue timings.
    pub fn transcript(&self, transcript: &Transcript) -> RedactedTranscript {
        let (cues, redactions) = self.cues(&transcript.cues, true);
        RedactedTranscript {
            transcript: Transcript { cues },
            redactions,
        }
    }

    /// Redacts free text (an LLM's summary, a translation): one cue without timings.
    pub fn text(&self, text: &str) -> String {
        let cue = Cue {
            start_ms: 0,
            end_ms: 0,
            speaker: None,
            text: text.to_string(),
        };
        let (mut cues, _) = self.cues(std::slice::from_ref(&cue), false);
        cues.pop().map(|cue| cue.text).unwrap_or_default()
    }

    fn cues(&self, cues: &[Cue], timed: bool) -> (Vec<Cue>, Vec<Redaction>) {
        // Labels first: the text is then read in the chains of the labels as they are
        // stored, so redacting the output again reads the same chains.
        let (labelled, mut found) = self.speakers(cues);
        let (redacted, said) = self.passes(labelled.unwrap_or_else(|| cues.to_vec()));
        found.extend(said);
        // In the order they were said, by cue (stable: within a cue, labels first, then by
        // pass and place).
        found.sort_by_key(|&(first, _, _)| first);
        let seconds = |ms: u64| ms as f64 / 1000.0;
        let redactions = found
            .into_iter()
            .map(|(first, last, kind)| Redaction {
                kind,
                start: timed.then(|| seconds(cues[first].start_ms)),
                end: timed.then(|| seconds(cues[last].end_ms)),
            })
            .collect();
        (redacted, redactions)
    }

    /// Detections over `cues` until one finds nothing: the redacted cues and each finding's
    /// first and last cue.
    fn passes(&self, cues: Vec<Cue>) -> (Vec<Cue>, Spans) {
        let mut redacted = cues;
        let mut found = Vec::new();
        // A finding can cut a run of numbers so that what is left reads as another finding
        // ("… 9855 mil 12345678Z": once the DNI is out, the rest passes Luhn). Redacting
        // the output again until nothing more is found makes redaction idempotent, so text
        // stored redacted never changes when it is redacted again (a reprocess, an LLM reply).
        for _ in 0..MAX_PASSES {
            let (next, more) = self.pass(&redacted);
            if more.is_empty() {
                break;
            }
            redacted = next;
            found.extend(more);
        }
        (redacted, found)
    }

    /// Redacts each speaker label as a text of its own: a VTT voice label may be a phone
    /// number or an address, and it is printed before what it labels ("{speaker}: text").
    /// A label never joins the numbers of the text. Each finding in a label is one finding,
    /// from the first to the last cue the label is on. The cues relabelled, if any label
    /// changed.
    fn speakers(&self, cues: &[Cue]) -> (Option<Vec<Cue>>, Spans) {
        let mut found = Vec::new();
        if self.kinds.is_empty() {
            return (None, found);
        }
        // Each label once, in the order it first appears, with its first and last cue.
        let mut labels: Vec<(&str, usize, usize)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (c, cue) in cues.iter().enumerate() {
            let Some(label) = cue.speaker.as_deref() else {
                continue;
            };
            match index.get(label) {
                Some(&k) => labels[k].2 = c,
                None => {
                    index.insert(label, labels.len());
                    labels.push((label, c, c));
                }
            }
        }
        let mut relabel: HashMap<&str, String> = HashMap::new();
        // Two speakers stay two ("[PHONE]", "[PHONE] (2)"): roles and sides need them apart.
        let mut taken: std::collections::HashSet<String> = labels
            .iter()
            .map(|(label, _, _)| label.to_string())
            .collect();
        for (label, first, last) in labels {
            let cue = Cue {
                start_ms: 0,
                end_ms: 0,
                speaker: None,
                text: label.to_string(),
            };
            let (mut redacted, kinds) = self.passes(vec![cue]);
            if kinds.is_empty() {
                continue;
            }
            found.extend(kinds.into_iter().map(|(_, _, kind)| (first, last, kind)));
            let text = redacted.pop().map(|cue| cue.text).unwrap_or_default();
            let unique = (1..)
                .map(|n| match n {
                    1 => text.clone(),
                    n => format!("{text} ({n})"),
                })
                .find(|candidate| !taken.contains(candidate))
                .unwrap_or(text);
            taken.insert(unique.clone());
            relabel.insert(label, unique);
        }
        if relabel.is_empty() {
            return (None, found);
        }
        let mut labelled = cues.to_vec();
        for cue in &mut labelled {
            if let Some(label) = cue.speaker.as_deref().and_then(|s| relabel.get(s)) {
                cue.speaker = Some(label.clone());
            }
        }
        (Some(labelled), found)
    }

    /// One detection over `cues`: the redacted cues and each finding's first and last cue.
    fn pass(&self, cues: &[Cue]) -> (Vec<Cue>, Spans) {
        let mut redacted = cues.to_vec();
        if self.kinds.is_empty() {
            return (redacted, Vec::new());
        }
        let mut detector = Detector::new(cues);
        for kind in RedactKind::ALL {
            if self.kinds.contains(kind) {
                detector.detect(kind);
            }
        }
        let mut replacements: Vec<(usize, usize, usize, RedactKind)> = Vec::new();
        // In the order they were said: by cue, then by place in the cue.
        let mut found = detector.found;
        found.sort_by_key(|f| {
            f.ranges
                .iter()
                .next()
                .map(|(&cue, &(start, _))| (cue, start))
        });
        let mut spans = Vec::with_capacity(found.len());
        for found in &found {
            for (&cue, &(start, end)) in &found.ranges {
                replacements.push((cue, start, end, found.kind));
            }
            if let (Some(&first), Some(&last)) =
                (found.ranges.keys().next(), found.ranges.keys().next_back())
            {
                spans.push((first, last, found.kind));
            }
        }
        // From the end of each cue backwards, so earlier byte offsets stay valid.
        replacements.sort_by_key(|&(cue, start, _, _)| std::cmp::Reverse((cue, start)));
        for (cue, start, end, kind) in replacements {
            redacted[cue]
                .text
                .replace_range(start..end, &kind.placeholder());
        }
        (redacted, spans)
    }
}

#[cfg(test)]
mod tests;
