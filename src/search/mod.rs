//! Full-text search without I/O: what a user typed in `q`, and the highlighted excerpt of a hit.
//! The SQL that runs a search lives in `store::search`.

mod highlight;
mod query;

pub use highlight::{HIGHLIGHT_MAX_CHARS, highlight};
pub use query::SearchQuery;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower case without diacritics: how both indexes compare words (`Facturación` = `facturacion`).
pub(crate) fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}
