//! The word lists under `data/`, compiled into the library with `include_str!`.
//!
//! Format: one entry per line; blank lines and lines starting with `#` are ignored.
//! Weighted lists (`.tsv`) end each line with a tab and a number. The files are fixed at
//! compile time, so a malformed line is a bug in this crate: `every_data_file_parses`
//! loads them all, and the loaders panic naming the line rather than dropping it silently.

use std::sync::LazyLock;

/// A word list loaded on first use.
pub(crate) type WordList = LazyLock<Vec<&'static str>>;

/// `embedded_word_list!("summary/formulaic_markers.txt")`: the list in that file under `data/`,
/// embedded in the library and parsed on first use.
macro_rules! embedded_word_list {
    ($path:literal) => {
        std::sync::LazyLock::new(|| {
            $crate::data::word_list(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/data/",
                $path
            )))
        })
    };
}
pub(crate) use embedded_word_list;

/// The entries of a word list, in file order.
pub(crate) fn word_list(source: &str) -> Vec<&str> {
    entries(source).collect()
}

/// The `(entry, weight)` pairs of a weighted list, in file order.
pub(crate) fn weighted_list(source: &str) -> Vec<(&str, f64)> {
    entries(source)
        .map(|line| {
            let parsed = line
                .rsplit_once('\t')
                .and_then(|(entry, weight)| Some((entry.trim(), weight.trim().parse().ok()?)));
            match parsed {
                Some(pair) => pair,
                None => panic!("word list line {line:?} is not `entry<TAB>number`"),
            }
        })
        .collect()
}

fn entries(source: &str) -> impl Iterator<Item = &str> {
    source
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_comments_and_blank_lines() {
        assert_eq!(
            word_list("# head\n\nuno\n  dos tres \n"),
            vec!["uno", "dos tres"]
        );
        assert_eq!(
            weighted_list("# positive\nmuy bien\t2.5\nmal\t-1.5\n"),
            vec![("muy bien", 2.5), ("mal", -1.5)]
        );
    }

    /// Every list shipped in `data/` loads and is not empty: `.tsv` files as weighted lists,
    /// `.txt` files as plain ones. Found by walking the folder, so a new file is checked too.
    #[test]
    fn every_data_file_parses() {
        let mut folders = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")];
        let mut checked = 0;
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                let name = path.display();
                let size = match path.extension().and_then(|e| e.to_str()) {
                    Some("tsv") => weighted_list(&std::fs::read_to_string(&path).unwrap()).len(),
                    Some("txt") => word_list(&std::fs::read_to_string(&path).unwrap()).len(),
                    _ => panic!("{name}: a data file is a .txt or .tsv list"),
                };
                assert!(size > 0, "{name} is empty");
                checked += 1;
            }
        }
        assert!(checked > 80, "only {checked} lists found");
        for source in &crate::sentiment_lexicons::SOURCES {
            let weighted = [source.stemmed, source.exact, source.phrases];
            let plain = [
                source.negators,
                source.intensifiers,
                source.diminishers,
                source.diminisher_phrases,
                source.contrasts,
            ];
            let weighted_sizes = weighted.map(|list| weighted_list(list).len());
            let plain_sizes = plain.map(|list| word_list(list).len());
            assert!(
                weighted_sizes.iter().chain(&plain_sizes).all(|&n| n > 0),
                "{}: {weighted_sizes:?} {plain_sizes:?}",
                source.language
            );
        }
    }

    #[test]
    #[should_panic(expected = "entry<TAB>number")]
    fn a_weight_that_is_not_a_number_is_a_bug() {
        weighted_list("bien\tmucho\n");
    }
}
