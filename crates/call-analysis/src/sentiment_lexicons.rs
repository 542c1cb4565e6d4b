//! Where each language's sentiment word lists live under `data/sentiment/`.
//!
//! Every language has the same eight files, `<code>_<kind>`, so adding a language is adding
//! its files and one line to [`SOURCES`]. All lists were written for this project (none is
//! copied from a third-party lexicon), so they carry the crate's own licence.

/// The text of one language's word lists, parsed once by the sentiment module.
pub(crate) struct LexiconSource {
    pub(crate) language: &'static str,
    pub(crate) stemmed: &'static str,
    pub(crate) exact: &'static str,
    pub(crate) phrases: &'static str,
    pub(crate) negators: &'static str,
    pub(crate) intensifiers: &'static str,
    pub(crate) diminishers: &'static str,
    pub(crate) diminisher_phrases: &'static str,
    pub(crate) contrasts: &'static str,
    /// French and Italian elide articles and "ne" ("n'est", "l'assistenza"): splitting at
    /// the apostrophe lets "n" negate and the noun match its entry. English must keep
    /// "don't" whole, so the split is per language.
    pub(crate) splits_elisions: bool,
}

macro_rules! lexicon_source {
    ($code:literal, $splits_elisions:literal) => {
        LexiconSource {
            language: $code,
            stemmed: lexicon_file!($code, "_stemmed.tsv"),
            exact: lexicon_file!($code, "_exact.tsv"),
            phrases: lexicon_file!($code, "_phrases.tsv"),
            negators: lexicon_file!($code, "_negators.txt"),
            intensifiers: lexicon_file!($code, "_intensifiers.txt"),
            diminishers: lexicon_file!($code, "_diminishers.txt"),
            diminisher_phrases: lexicon_file!($code, "_diminisher_phrases.txt"),
            contrasts: lexicon_file!($code, "_contrasts.txt"),
            splits_elisions: $splits_elisions,
        }
    };
}

macro_rules! lexicon_file {
    ($code:literal, $suffix:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/sentiment/",
            $code,
            $suffix
        ))
    };
}

/// English first: it is the fallback for languages without their own lists.
pub(crate) const SOURCES: [LexiconSource; 6] = [
    lexicon_source!("en", false),
    lexicon_source!("es", false),
    lexicon_source!("pt", false),
    lexicon_source!("fr", true),
    lexicon_source!("it", true),
    lexicon_source!("de", false),
];
