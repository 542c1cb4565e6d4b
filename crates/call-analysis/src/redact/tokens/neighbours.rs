//! Second readings of items by what is beside them, after the spoken-number grammar has read
//! each word on its own: written digits joined across thousands marks, look-alike words
//! (articles, "sei", "um") read as digits beside a spoken digit (also over a speaker's cues,
//! from `stream.rs`), and English "oh" read as a zero beside a digit.

use super::{Item, ItemKind};
use crate::redact::words::{FILLERS, NEIGHBOUR_DIGITS};

/// "12.345.678", "4.556.737.586.899.855", "1,249": written digits with thousands marks
/// (one to three digits, then groups of three, all joined by the same glued point or comma)
/// are one number. Anything else with a glued mark ("1.250,75" after its thousands, "10.30",
/// "4556.7375.8689.9855") stays apart: what the mark means there is for the runs to tell.
pub(super) fn join_thousands(items: Vec<Item>) -> Vec<Item> {
    let written = |item: &Item| match &item.kind {
        ItemKind::Number {
            digits,
            spoken: false,
        } => Some(digits.len()),
        _ => None,
    };
    let glued_mark = |w: &[Item]| {
        matches!(w[1].kind, ItemKind::Punct('.' | ','))
            && !w[1].space_before
            && !w[2].space_before
            && written(&w[0]).is_some()
            && written(&w[2]).is_some()
    };
    if !items.windows(3).any(glued_mark) {
        return items;
    }
    let mut joined = Vec::with_capacity(items.len());
    let mut i = 0;
    while i < items.len() {
        let Some(lead) = written(&items[i]) else {
            joined.push(items[i].clone());
            i += 1;
            continue;
        };
        // The groups after the first, each after the same glued mark.
        let mut mark = None;
        let mut last = i;
        let mut groups = Vec::new();
        while let (Some(punct), Some(group)) = (items.get(last + 1), items.get(last + 2)) {
            let ItemKind::Punct(c @ ('.' | ',')) = punct.kind else {
                break;
            };
            let Some(len) = written(group) else {
                break;
            };
            if punct.space_before || group.space_before || mark.is_some_and(|m| m != c) {
                break;
            }
            mark = Some(c);
            groups.push(len);
            last += 2;
        }
        let thousands =
            (1..=3).contains(&lead) && !groups.is_empty() && groups.iter().all(|&len| len == 3);
        if thousands {
            let digits = (i..=last)
                .step_by(2)
                .filter_map(|k| items[k].digits())
                .collect();
            joined.push(Item {
                end: items[last].end,
                kind: ItemKind::Number {
                    digits,
                    spoken: false,
                },
                ..items[i].clone()
            });
        } else {
            joined.extend_from_slice(&items[i..=last]);
        }
        i = last + 1;
    }
    joined
}

/// An article or a word like "sei" ("you are") is a digit only beside another spoken digit,
/// past commas, hyphens and fillers: "quatre un cinq", "zero, um", "cinque sei sette",
/// "sei, ehm, due". Look-alikes beside each other are digits together when one of them is
/// beside a digit ("due due due uno"): a sweep forward then one back reaches every such
/// word. `order` is the items in the order they were said (one cue, or a speaker's chain
/// across cues, so a look-alike alone at a cue's edge is read with the cue before it).
pub(in crate::redact) fn read_neighbour_digits(items: &mut [Item], order: &[usize]) {
    // One digit: "quarante-cinq, un homme" keeps its article.
    let spoken_digit = |item: &Item| matches!(&item.kind, ItemKind::Number { digits, spoken: true } if digits.len() == 1);
    let look_alike = |item: &Item| item.word().and_then(|w| NEIGHBOUR_DIGITS.get(w)).copied();
    // The position in `order` of the item next to position `k`, past what may sit between
    // the digits of one number.
    let neighbour = |items: &[Item], k: usize, forward: bool| -> Option<usize> {
        let mut next = k;
        for _ in 0..4 {
            next = if forward {
                Some(next + 1).filter(|&n| n < order.len())?
            } else {
                next.checked_sub(1)?
            };
            let item = &items[order[next]];
            let between = matches!(item.kind, ItemKind::Punct(',' | '-'))
                || item
                    .word()
                    .is_some_and(|w| FILLERS.contains(w) && !NEIGHBOUR_DIGITS.contains_key(w));
            if !between {
                return Some(next);
            }
        }
        None
    };
    let positions: Vec<usize> = (0..order.len())
        .filter(|&k| look_alike(&items[order[k]]).is_some())
        .collect();
    if positions.is_empty() {
        return;
    }
    for forward in [true, false] {
        let sweep: Box<dyn Iterator<Item = &usize>> = if forward {
            Box::new(positions.iter())
        } else {
            Box::new(positions.iter().rev())
        };
        for &k in sweep {
            let Some(digit) = look_alike(&items[order[k]]) else {
                continue;
            };
            let beside = [false, true]
                .into_iter()
                .filter_map(|forward| neighbour(items, k, forward))
                .any(|n| spoken_digit(&items[order[n]]));
            if beside {
                items[order[k]].kind = ItemKind::Number {
                    digits: digit.to_string(),
                    spoken: true,
                };
            }
        }
    }
}

/// English "oh" is a zero only beside another digit ("oh seven", "four oh four"); elsewhere
/// ("oh, I see") it stays a word.
pub(super) fn read_oh_as_zero(items: &mut [Item]) {
    let is_number = |item: Option<&Item>| item.is_some_and(|i| i.digits().is_some());
    for _ in 0..2 {
        for i in 0..items.len() {
            if items[i].word() != Some("oh") {
                continue;
            }
            let before = i.checked_sub(1).and_then(|p| items.get(p));
            let after = items.get(i + 1);
            if is_number(before) || is_number(after) {
                items[i].kind = ItemKind::Number {
                    digits: "0".to_string(),
                    spoken: true,
                };
            }
        }
    }
}
