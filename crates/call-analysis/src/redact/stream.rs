//! A transcript as one stream of items, grouped into each speaker's continuous speech
//! ("chains"), and the runs of numbers said in a row within a chain.
//!
//! A chain goes on across the speaker's cues and across a short interruption by one other
//! speaker that contains no number ("sí", "ajá, siga"), so a card number read in two turns
//! is still one run of digits.

use std::collections::HashMap;
use std::ops::Range;

use super::tokens::{Item, ItemKind, items, read_neighbour_digits};
use super::words::{FILLERS, GROUP_JOINERS};
use crate::transcript::Cue;

/// Most cues another speaker may say in between while a number goes on.
const MAX_INTERRUPTION_CUES: usize = 3;
/// Punctuation that may sit between the parts of one number ("4556-7375", "45, 56").
const RUN_PUNCTUATION: &[char] = &[',', '.', '-', ';', '…', '(', ')'];

pub(super) struct Stream {
    pub items: Vec<Item>,
    pub chains: Vec<Vec<usize>>,
    /// For each item: its chain and its position there.
    place: Vec<(usize, usize)>,
    /// Items covered by a finding: they read as a placeholder from then on.
    pub taken: Vec<bool>,
    /// Each cue's items.
    per_cue: Vec<Range<usize>>,
}

/// Numbers said in a row: `atoms` are item indices; `strong[k]` tells whether a pause
/// (punctuation, a new cue, a filler, a written group) separates atom k from atom k + 1.
#[derive(Debug, Clone, Default)]
pub(super) struct Run {
    pub atoms: Vec<usize>,
    pub strong: Vec<bool>,
}

impl Stream {
    pub fn new(cues: &[Cue]) -> Self {
        let mut all = Vec::new();
        let mut per_cue = Vec::with_capacity(cues.len());
        for (c, cue) in cues.iter().enumerate() {
            let start = all.len();
            all.extend(items(c, &cue.text));
            per_cue.push(start..all.len());
        }
        let has_number = |c: usize| per_cue[c].clone().any(|i| all[i].digits().is_some());

        let mut chains: Vec<Vec<usize>> = Vec::new();
        let mut open: HashMap<Option<&str>, (usize, usize)> = HashMap::new();
        for (c, cue) in cues.iter().enumerate() {
            let speaker = cue.speaker.as_deref();
            let continues = open.get(&speaker).and_then(|&(last_cue, chain)| {
                let between = last_cue + 1..c;
                let quiet_interruption = between.len() <= MAX_INTERRUPTION_CUES
                    && between
                        .clone()
                        .all(|b| cues[b].speaker == cues[last_cue + 1].speaker && !has_number(b));
                (between.is_empty() || quiet_interruption).then_some(chain)
            });
            let chain = continues.unwrap_or_else(|| {
                chains.push(Vec::new());
                chains.len() - 1
            });
            chains[chain].extend(per_cue[c].clone());
            open.insert(speaker, (c, chain));
        }

        // A look-alike ("due", "un") alone at a cue's edge is read with the speaker's cue
        // before or after it.
        for chain in &chains {
            read_neighbour_digits(&mut all, chain);
        }
        let mut place = vec![(0, 0); all.len()];
        for (chain, members) in chains.iter().enumerate() {
            for (position, &item) in members.iter().enumerate() {
                place[item] = (chain, position);
            }
        }
        let taken = vec![false; all.len()];
        Self {
            items: all,
            chains,
            place,
            taken,
            per_cue,
        }
    }

    pub fn cue_items(&self, cue: usize) -> Range<usize> {
        self.per_cue.get(cue).cloned().unwrap_or_default()
    }

    /// The item before `item` in its speaker's chain.
    pub fn before(&self, item: usize) -> Option<usize> {
        let (chain, position) = self.place[item];
        self.chains[chain].get(position.checked_sub(1)?).copied()
    }

    /// The item after `item` in its speaker's chain.
    pub fn after(&self, item: usize) -> Option<usize> {
        let (chain, position) = self.place[item];
        self.chains[chain].get(position + 1).copied()
    }

    pub fn is_free_number(&self, item: usize) -> bool {
        !self.taken[item] && self.items[item].digits().is_some()
    }

    /// The item after `item`, if it is a number not yet taken.
    pub fn free_number_after(&self, item: usize) -> Option<usize> {
        self.after(item).filter(|&next| self.is_free_number(next))
    }

    /// Every run of numbers not yet taken.
    pub fn runs(&self) -> Vec<Run> {
        (0..self.chains.len())
            .flat_map(|chain| self.chain_runs(chain))
            .collect()
    }

    /// The runs in the chain `item` belongs to.
    pub fn runs_around(&self, item: usize) -> Vec<Run> {
        self.chain_runs(self.place[item].0)
    }

    fn chain_runs(&self, chain: usize) -> Vec<Run> {
        let mut runs = Vec::new();
        {
            let chain = &self.chains[chain];
            let mut run = Run::default();
            let mut paused = false;
            // "1.250,75": a point or comma between written digits with no space is a decimal
            // or thousands mark, so the number ends there.
            let mut tight_mark = false;
            for &i in chain {
                let item = &self.items[i];
                let separator = match &item.kind {
                    _ if self.taken[i] => false,
                    ItemKind::Number { spoken, .. } => {
                        let Some(&last) = run.atoms.last() else {
                            run.atoms.push(i);
                            (paused, tight_mark) = (false, false);
                            continue;
                        };
                        if tight_mark && !spoken && !item.space_before {
                            runs.push(std::mem::take(&mut run));
                        } else {
                            let strong = paused
                                || self.items[last].cue != item.cue
                                || !self.single_spoken_digit(last)
                                || !self.single_spoken_digit(i);
                            run.strong.push(strong);
                        }
                        run.atoms.push(i);
                        (paused, tight_mark) = (false, false);
                        continue;
                    }
                    ItemKind::Punct(c) if RUN_PUNCTUATION.contains(c) => {
                        let after_written = run.atoms.last().is_some_and(|&last| {
                            matches!(
                                self.items[last].kind,
                                ItemKind::Number { spoken: false, .. }
                            ) && self.after(last) == Some(i)
                        });
                        tight_mark |= after_written
                            && !item.space_before
                            && matches!(c, '.' | ',')
                            && !self.joins_groups(i);
                        true
                    }
                    ItemKind::Word { folded, .. } => {
                        FILLERS.contains(folded)
                            || (GROUP_JOINERS.contains(folded) && self.reads_like_card_groups(&run))
                    }
                    _ => false,
                };
                if separator {
                    paused = true;
                } else if !run.atoms.is_empty() {
                    runs.push(std::mem::take(&mut run));
                    (paused, tight_mark) = (false, false);
                }
            }
            if !run.atoms.is_empty() {
                runs.push(run);
            }
        }
        runs
    }

    /// Whether a joining word ("y", "and", "et", "und", "e", "bueno") may go on with `run`:
    /// it is a card being read in groups, written or spoken, so far one to three groups of
    /// four ("4539 1488 y 0343", "cuatro cinco cinco seis y siete…"), American Express 4-6
    /// ("3782 y 822463 y 10005"), or up to seven numbers said in pairs ("quarenta e cinco e
    /// cinquenta e seis…"). Anything else ends there: "las 10 y 20" is a time, two phone
    /// numbers are two numbers, and a card already whole must not swallow the CVV or count
    /// said after it.
    fn reads_like_card_groups(&self, run: &Run) -> bool {
        // Digits between pauses.
        let mut pieces = vec![0];
        for (k, &atom) in run.atoms.iter().enumerate() {
            if k > 0 && run.strong[k - 1] {
                pieces.push(0);
            }
            if let Some(last) = pieces.last_mut() {
                *last += self.items[atom].digits().map_or(0, str::len);
            }
        }
        let spoken = run
            .atoms
            .iter()
            .all(|&a| matches!(self.items[a].kind, ItemKind::Number { spoken: true, .. }));
        (pieces.len() <= 3 && pieces.iter().all(|&p| p == 4))
            || pieces == [4, 6]
            || (spoken && pieces.len() <= 7 && pieces.iter().all(|&p| p == 2))
    }

    /// Whether the glued point or comma `mark` joins the written groups of one number as a
    /// space would ("4556.7375.8689.9855"): two or more of the same mark, each between groups
    /// of three digits or more. A decimal has one mark, and thousands ("12.345.678") were
    /// read as one number already, so neither reads this way.
    fn joins_groups(&self, mark: usize) -> bool {
        let ItemKind::Punct(c) = self.items[mark].kind else {
            return false;
        };
        let cue = self.per_cue[self.items[mark].cue].clone();
        let group = |i: usize| {
            cue.contains(&i)
                && matches!(&self.items[i].kind, ItemKind::Number { digits, spoken: false } if digits.len() >= 3)
        };
        // The mark at `m`, glued to the groups either side of it.
        let joins = |m: usize| {
            cue.contains(&m)
                && self.items[m].kind == ItemKind::Punct(c)
                && !self.items[m].space_before
                && m >= 1
                && group(m - 1)
                && group(m + 1)
                && !self.items[m + 1].space_before
        };
        // Two or more such marks in a row: this one and a neighbour (looking no further keeps
        // a long dotted run linear).
        joins(mark) && ((mark >= 2 && joins(mark - 2)) || joins(mark + 2))
    }

    fn single_spoken_digit(&self, item: usize) -> bool {
        matches!(&self.items[item].kind, ItemKind::Number { digits, spoken: true } if digits.len() == 1)
    }

    pub fn digits(&self, atoms: &[usize]) -> String {
        atoms
            .iter()
            .filter_map(|&a| self.items[a].digits())
            .collect()
    }
}

impl Run {
    /// The atoms in `range` (not empty) as a run of their own.
    pub fn part(&self, range: Range<usize>) -> Run {
        Run {
            strong: self.strong[range.start..range.end - 1].to_vec(),
            atoms: self.atoms[range].to_vec(),
        }
    }
}
