//! The one query behind the recordings list, the API's `q` and the console: filters, full-text
//! search (FTS5 on SQLite, `tsvector` on PostgreSQL), ranking and the exact total, in one SQL
//! round trip.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::recordings::{COLUMNS, HOLD_COLUMNS, label_str, recording_from_row};
use super::{Backend, Store, StoreError, to_millis};
use crate::domain::{ProcessingStatus, Recording};
use crate::search::{SearchQuery, highlight};
use call_analysis::SentimentLabel;

/// What `GET /api/v1/recordings/` and the console's calls page ask for.
#[derive(Debug, Clone, Default)]
pub struct RecordingSearch {
    /// Full-text query; with it, results are ranked by relevance, then newest.
    pub q: Option<SearchQuery>,
    /// `None` leaves out deleted and purged recordings.
    pub status: Option<ProcessingStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub sentiment: Option<SentimentLabel>,
    /// The label of the call's last quarter.
    pub end_sentiment: Option<SentimentLabel>,
    /// Two-letter code, lower case.
    pub language: Option<String>,
    /// Case-insensitive substring of caller, callee or their names.
    pub participant: Option<String>,
    /// Seconds.
    pub min_duration: Option<f64>,
    pub max_duration: Option<f64>,
    /// Only recordings this tracker matched.
    pub tracker: Option<String>,
    pub skip: u64,
    pub limit: u64,
}

#[derive(Debug, Clone)]
pub struct SearchPage {
    /// Recordings matching every filter, before skip and limit: exact.
    pub total: u64,
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    pub recording: Recording,
    /// With a query: an excerpt with the hits in `<mark>`, everything else HTML-escaped.
    pub highlight: Option<String>,
}

/// Relative weight of a hit per FTS5 column (spoken, analysis, people), as PostgreSQL's
/// `setweight` classes D, B and A do.
const FTS5_RANK: &str = "-bm25(recordings_fts, 1.0, 2.0, 4.0)";

/// With a query, relevance orders the most recent matches up to this many (SQLite: the most
/// recently stored, PostgreSQL: the newest by `sort_at`); older matches follow none of them
/// but still count in `total`. Ranking every one of 80,000 matches costs ~0.1–1 s.
pub const RANKING_WINDOW: u64 = 10_000;

static PAGE_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!("{COLUMNS}, {HOLD_COLUMNS}")
        .split(',')
        .map(|c| format!("r.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
});

enum Param {
    Text(String),
    Int(i64),
    Float(f64),
}

/// A WHERE clause and its numbered parameters, built in step.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    params: Vec<Param>,
}

impl Conditions {
    /// Adds a parameter and returns its placeholder.
    fn param(&mut self, value: Param) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }
}

impl Store {
    /// A page of recordings for `search`, with the exact total.
    pub async fn search_recordings(
        &self,
        search: &RecordingSearch,
    ) -> Result<SearchPage, StoreError> {
        let mut cond = Conditions::default();
        let (from, rank) = match (&search.q, self.backend) {
            // PostgreSQL would type a bare 0.0 as NUMERIC, which the Any driver cannot read.
            (None, _) => (
                "recordings r".to_string(),
                "CAST(0 AS DOUBLE PRECISION)".to_string(),
            ),
            (Some(q), Backend::Sqlite) => {
                let p = cond.param(Param::Text(q.fts5_match()));
                cond.sql.push(format!("recordings_fts MATCH {p}"));
                (
                    "recordings_fts \
                     JOIN recording_search_docs d ON d.doc_id = recordings_fts.rowid \
                     JOIN recordings r ON r.recording_id = d.recording_id"
                        .to_string(),
                    FTS5_RANK.to_string(),
                )
            }
            (Some(q), Backend::Postgres) => {
                let tsquery = postgres_tsquery(q, &mut cond);
                cond.sql.push(format!("r.search_vector @@ ({tsquery})"));
                (
                    "recordings r".to_string(),
                    format!("CAST(ts_rank(r.search_vector, {tsquery}) AS DOUBLE PRECISION)"),
                )
            }
        };
        let conditions_before_filters = cond.sql.len();
        add_filters(search, self.backend, &mut cond);
        let filtered = cond.sql.len() > conditions_before_filters;
        let where_clause = if cond.sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", cond.sql.join(" AND "))
        };
        let columns = PAGE_COLUMNS.as_str();
        // The count and the page are planned separately (each uses its best index) but travel
        // together; the outer join yields the total even for a page past the end. The page is
        // chosen on keys alone and only its rows are read whole: sorting whole rows would read
        // every matching transcript.
        let (with, total, page) = match (&search.q, self.backend) {
            (None, _) => {
                let limit = cond.param(Param::Int(i64::try_from(search.limit).unwrap_or(i64::MAX)));
                let skip = cond.param(Param::Int(i64::try_from(search.skip).unwrap_or(i64::MAX)));
                (
                    String::new(),
                    format!("SELECT COUNT(*) FROM {from} {where_clause}"),
                    // A constant rank in the ORDER BY would keep the planner off the sort index.
                    format!(
                        "SELECT 0 AS tier, {rank} AS search_rank, r.recording_id AS page_id, \
                       r.sort_at AS page_sort \
                     FROM {from} {where_clause} \
                     ORDER BY r.sort_at DESC, r.recording_id DESC LIMIT {limit} OFFSET {skip}"
                    ),
                )
            }
            (Some(_), Backend::Sqlite) => {
                let window = Window::of(search, &mut cond, true);
                let (head_limit, head_skip, last_in_head, tail_limit, tail_skip) = (
                    &window.head_limit,
                    &window.head_skip,
                    &window.last_in_head,
                    &window.tail_limit,
                    &window.tail_skip,
                );
                // Without a filter on the row, the count, the window and the tail are the
                // index's alone (the joins to the rows would double each).
                let matches = if filtered {
                    format!("{from} {where_clause}")
                } else {
                    format!("recordings_fts {where_clause}")
                };
                // The ranking window: the most recently stored matches (FTS5 walks its rowids
                // backwards without sorting). Only rows ranked at least as high as the page's
                // last are joined for the newest-first tie-break, not every match.
                let with = format!(
                    "WITH ranking_window AS MATERIALIZED ( \
                       SELECT recordings_fts.rowid AS doc_id, {rank} AS search_rank \
                       FROM {matches} \
                       ORDER BY recordings_fts.rowid DESC LIMIT {RANKING_WINDOW} \
                     ), page_edge AS ( \
                       SELECT search_rank FROM ranking_window \
                       ORDER BY search_rank DESC LIMIT 1 OFFSET {last_in_head} \
                     ) "
                );
                let page = format!(
                    "SELECT * FROM ( \
                       SELECT 0 AS tier, w.search_rank, r.recording_id AS page_id, \
                         r.sort_at AS page_sort \
                       FROM ranking_window w \
                       JOIN recording_search_docs d ON d.doc_id = w.doc_id \
                       JOIN recordings r ON r.recording_id = d.recording_id \
                       WHERE w.search_rank >= \
                         COALESCE((SELECT search_rank FROM page_edge), -1e308) \
                       ORDER BY w.search_rank DESC, r.sort_at DESC, r.recording_id DESC \
                       LIMIT {head_limit} OFFSET {head_skip} \
                     ) UNION ALL SELECT * FROM ( \
                       SELECT 1 AS tier, CAST(t.doc_id AS REAL) AS search_rank, \
                         r.recording_id AS page_id, r.sort_at AS page_sort \
                       FROM ( \
                         SELECT recordings_fts.rowid AS doc_id FROM {matches} \
                         ORDER BY recordings_fts.rowid DESC LIMIT {tail_limit} OFFSET {tail_skip} \
                       ) t \
                       JOIN recording_search_docs d ON d.doc_id = t.doc_id \
                       JOIN recordings r ON r.recording_id = d.recording_id \
                     )"
                );
                (with, format!("SELECT COUNT(*) FROM {matches}"), page)
            }
            (Some(q), Backend::Postgres) => {
                let window = Window::of(search, &mut cond, false);
                let (head_limit, head_skip, tail_limit, tail_skip) = (
                    &window.head_limit,
                    &window.head_skip,
                    &window.tail_limit,
                    &window.tail_skip,
                );
                // The ranking window: the newest matches; only their vectors are ranked.
                // A phrase is checked against every candidate's word positions, read from its
                // vector: then the window counts the matches in the same pass (half the reads
                // of a separate count). Loose words need no vector to match, so they are
                // counted apart, from the index, and the window stops at its 10,000th match.
                let one_pass = q.phrases().next().is_some();
                let counted = if one_pass {
                    ", COUNT(*) OVER () AS matches"
                } else {
                    ""
                };
                let newest = "r.sort_at DESC, r.recording_id DESC";
                let with = format!(
                    "WITH ranking_window AS ( \
                       SELECT r.recording_id, r.sort_at, r.search_vector{counted} \
                       FROM {from} {where_clause} ORDER BY {newest} LIMIT {RANKING_WINDOW} \
                     ) "
                );
                let total = if one_pass {
                    "SELECT COALESCE((SELECT matches FROM ranking_window LIMIT 1), 0)".to_string()
                } else {
                    format!("SELECT COUNT(*) FROM {from} {where_clause}")
                };
                let rank = rank.replace("r.search_vector", "w.search_vector");
                let page = format!(
                    "(SELECT 0 AS tier, {rank} AS search_rank, w.recording_id AS page_id, \
                       w.sort_at AS page_sort \
                     FROM ranking_window w \
                     ORDER BY search_rank DESC, w.sort_at DESC, w.recording_id DESC \
                     LIMIT {head_limit} OFFSET {head_skip}) \
                     UNION ALL \
                     (SELECT 1 AS tier, CAST(0 AS DOUBLE PRECISION) AS search_rank, \
                       r.recording_id AS page_id, r.sort_at AS page_sort \
                     FROM {from} {where_clause} ORDER BY {newest} \
                     LIMIT {tail_limit} OFFSET {tail_skip})"
                );
                (with, total, page)
            }
        };
        let sql = format!(
            "{with}SELECT ({total}) AS search_total, {columns} \
             FROM (SELECT 1 AS one) AS one LEFT JOIN ({page}) AS page ON 1 = 1 \
             LEFT JOIN recordings r ON r.recording_id = page.page_id \
             ORDER BY page.tier, page.search_rank DESC, page.page_sort DESC, page.page_id DESC"
        );
        // PostgreSQL plans a phrase search for its words each time (an unnamed statement): a
        // cached generic plan guesses 500 matches for any query and runs the phrase's pass over
        // its candidates in one process (398 → 307 ms p50 for a phrase in 100,000 calls). Loose
        // words keep the cached plan, which was faster for them (136 against 149 ms).
        let custom_plan = self.backend == Backend::Postgres
            && search
                .q
                .as_ref()
                .is_some_and(|q| q.phrases().next().is_some());
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(!custom_plan);
        for param in cond.params {
            query = match param {
                Param::Text(v) => query.bind(v),
                Param::Int(v) => query.bind(v),
                Param::Float(v) => query.bind(v),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;

        let mut total = 0;
        let mut recordings = Vec::with_capacity(rows.len());
        for row in &rows {
            total = u64::try_from(row.try_get::<i64, _>("search_total")?).unwrap_or(0);
            if row.try_get::<Option<String>, _>("recording_id")?.is_none() {
                continue; // the page is empty: only the total came back
            }
            recordings.push(recording_from_row(row)?);
        }
        // The page's tracker hits: one indexed lookup for the whole page, beside the search.
        self.attach_trackers(&mut recordings).await?;
        let hits = recordings
            .into_iter()
            .map(|recording| SearchHit {
                highlight: search.q.as_ref().and_then(|q| highlight_of(q, &recording)),
                recording,
            })
            .collect();
        Ok(SearchPage { total, hits })
    }
}

/// Where a page falls against the ranking window: its ranked part (the head) and the part
/// past the window (the tail, newest first), as placeholders.
struct Window {
    head_limit: String,
    head_skip: String,
    /// Position of the page's last ranked row, within the window.
    last_in_head: String,
    tail_limit: String,
    /// Counted from the first match, window included.
    tail_skip: String,
}

impl Window {
    /// `with_edge`: the query uses `last_in_head` (PostgreSQL must see every placeholder used).
    fn of(search: &RecordingSearch, cond: &mut Conditions, with_edge: bool) -> Self {
        let (skip, limit) = (search.skip, search.limit);
        let end = skip.saturating_add(limit);
        let head_end = end.min(RANKING_WINDOW);
        let head_limit = head_end.saturating_sub(skip);
        let tail_skip = skip.max(RANKING_WINDOW);
        let tail_limit = end.saturating_sub(tail_skip);
        let mut int = |v: u64| cond.param(Param::Int(i64::try_from(v).unwrap_or(i64::MAX)));
        let last_in_head = if with_edge {
            int(head_end.saturating_sub(1))
        } else {
            String::new()
        };
        Window {
            head_limit: int(head_limit),
            head_skip: int(skip),
            last_in_head,
            tail_limit: int(tail_limit),
            tail_skip: int(tail_skip),
        }
    }
}

/// Loose words must all match (`plainto_tsquery` ANDs them); each phrase matches in order.
fn postgres_tsquery(q: &SearchQuery, cond: &mut Conditions) -> String {
    let mut parts = Vec::new();
    if let Some(words) = q.loose_words() {
        let p = cond.param(Param::Text(words));
        parts.push(format!("plainto_tsquery('simple', unaccent({p}))"));
    }
    for phrase in q.phrases() {
        let p = cond.param(Param::Text(phrase));
        parts.push(format!("phraseto_tsquery('simple', unaccent({p}))"));
    }
    parts.join(" && ")
}

fn add_filters(search: &RecordingSearch, backend: Backend, cond: &mut Conditions) {
    match search.status {
        Some(status) => {
            let p = cond.param(Param::Text(status.as_str().to_string()));
            cond.sql.push(format!("r.processing_status = {p}"));
        }
        // Deleted and purged recordings are not in the full-text index: a search needs no check.
        None if search.q.is_some() => {}
        None => cond
            .sql
            .push("r.processing_status NOT IN ('deleted', 'purged')".to_string()),
    }
    if let Some(from) = search.from {
        let p = cond.param(Param::Int(to_millis(from)));
        cond.sql.push(format!("r.sort_at >= {p}"));
    }
    if let Some(to) = search.to {
        let p = cond.param(Param::Int(to_millis(to)));
        cond.sql.push(format!("r.sort_at <= {p}"));
    }
    if let Some(sentiment) = search.sentiment {
        let p = cond.param(Param::Text(label_str(sentiment).to_string()));
        cond.sql.push(format!("r.sentiment_label = {p}"));
    }
    if let Some(end) = search.end_sentiment {
        let p = cond.param(Param::Text(label_str(end).to_string()));
        cond.sql.push(format!("r.sentiment_end = {p}"));
    }
    if let Some(language) = &search.language {
        let p = cond.param(Param::Text(language.to_lowercase()));
        cond.sql.push(format!("r.detected_language = {p}"));
    }
    if let Some(participant) = &search.participant {
        let condition = participant_condition(participant, backend, cond);
        cond.sql.push(condition);
    }
    if let Some(min) = search.min_duration {
        let p = cond.param(Param::Float(min));
        cond.sql.push(format!("r.duration_seconds >= {p}"));
    }
    if let Some(max) = search.max_duration {
        let p = cond.param(Param::Float(max));
        cond.sql.push(format!("r.duration_seconds <= {p}"));
    }
    if let Some(tracker) = &search.tracker {
        let p = cond.param(Param::Text(tracker.clone()));
        cond.sql.push(format!(
            "r.recording_id IN (SELECT recording_id FROM tracker_matches WHERE tracker = {p})"
        ));
    }
}

/// A part of caller, callee, caller_name or callee_name, in any case, with or without accents.
fn participant_condition(participant: &str, backend: Backend, cond: &mut Conditions) -> String {
    // Names hold no control characters; refusing them also keeps a match inside one field:
    // both backends' indexes join the fields with one.
    if participant.chars().any(char::is_control) {
        return "1 = 0".to_string();
    }
    // Combining accents do not count: the trigram tokenizer drops them.
    let letters = participant
        .chars()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .count();
    match backend {
        // A trigram index over `participant_folded` answers this (migration 20261207010001).
        // The pattern is a subquery so it is folded once: a prepared statement's generic plan
        // otherwise folds it again for each row it rechecks (65 ms instead of 21 for 14,000).
        Backend::Postgres => {
            let p = cond.param(Param::Text(participant.to_string()));
            let pattern = contains(&format!("participant_fold({p})"));
            format!(r"r.participant_folded LIKE (SELECT {pattern}) ESCAPE '\'")
        }
        // The trigram index needs three characters; shorter parts fall back to LIKE, which
        // folds ASCII case only.
        Backend::Sqlite if letters >= 3 => {
            let p = cond.param(Param::Text(format!(
                "\"{}\"",
                participant.replace('"', "\"\"")
            )));
            format!(
                "r.recording_id IN (SELECT d.recording_id FROM recordings_people \
                 JOIN recording_search_docs d ON d.doc_id = recordings_people.rowid \
                 WHERE recordings_people MATCH {p})"
            )
        }
        Backend::Sqlite => {
            let p = cond.param(Param::Text(participant.to_string()));
            let pattern = contains(&format!("LOWER({p})"));
            let any_of = ["caller", "callee", "caller_name", "callee_name"]
                .map(|c| format!(r"LOWER(r.{c}) LIKE {pattern} ESCAPE '\'"))
                .join(" OR ");
            format!("({any_of})")
        }
    }
}

/// A LIKE pattern for "contains `folded`" (an SQL expression). It is escaped after folding:
/// `unaccent` can turn a character into `%`, `_` or `\` ("％" → "%").
fn contains(folded: &str) -> String {
    format!(r"'%' || replace(replace(replace({folded}, '\', '\\'), '%', '\%'), '_', '\_') || '%'")
}

/// The excerpt comes from the fields in the order a reader cares about them.
fn highlight_of(q: &SearchQuery, r: &Recording) -> Option<String> {
    let joined = |items: &[String]| items.join(" · ");
    // "Ana García (+34600111222) → Carlos Ruiz (4060)": each side once, its number beside its name.
    let party = |name: &Option<String>, number: &Option<String>| match (name, number) {
        (Some(name), Some(number)) => Some(format!("{name} ({number})")),
        (name, number) => name.clone().or_else(|| number.clone()),
    };
    let people = [
        party(&r.caller_name, &r.caller),
        party(&r.callee_name, &r.callee),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" → ");
    let (bullets, topics, actions) = (
        joined(&r.summary_bullet_points),
        joined(&r.key_topics),
        joined(&r.action_items),
    );
    let fields = [
        r.transcript_text.as_deref().unwrap_or_default(),
        r.summary_text.as_deref().unwrap_or_default(),
        r.translated_text.as_deref().unwrap_or_default(),
        &bullets,
        &topics,
        &actions,
        &people,
    ];
    highlight(q, &fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The placeholders' values, in the order `Window::of` adds them.
    fn window_values(skip: u64, limit: u64) -> Vec<i64> {
        let mut cond = Conditions::default();
        let search = RecordingSearch {
            skip,
            limit,
            ..Default::default()
        };
        Window::of(&search, &mut cond, true);
        cond.params
            .iter()
            .map(|p| match p {
                Param::Int(v) => *v,
                _ => unreachable!("the window binds integers only"),
            })
            .collect()
    }

    #[test]
    fn a_page_is_split_between_the_ranked_window_and_the_newest_first_tail() {
        // [last_in_head, head_limit, head_skip, tail_limit, tail_skip]
        let w = RANKING_WINDOW as i64;
        assert_eq!(window_values(0, 50), [49, 50, 0, 0, w]);
        assert_eq!(window_values(9_980, 50), [w - 1, 20, 9_980, 30, w]);
        assert_eq!(window_values(20_000, 50), [w - 1, 0, 20_000, 50, 20_000]);
        assert_eq!(window_values(u64::MAX, u64::MAX)[3], 0);
    }
}
