-- Full-text search (FTS5). Case and accents are folded by the tokenizer, the same on the indexed
-- text and on the query, so `facturacion` finds `facturación` in any of the six languages.
-- Contentless: the text already lives in `recordings`; the highlight is built from there in Rust.
CREATE VIRTUAL TABLE recordings_fts USING fts5(
    spoken,
    analysis,
    people,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- A stable integer key per recording for the FTS5 rowid (a table's implicit rowid may change on
-- VACUUM; this one never does).
CREATE TABLE recording_search_docs (
    doc_id       INTEGER PRIMARY KEY,
    recording_id TEXT NOT NULL UNIQUE
);

-- What is indexed for each searchable recording; deleted and purged ones are never found.
CREATE VIEW recording_search_text AS
SELECT
    recording_id,
    concat_ws(' ', transcript_text, translated_text) AS spoken,
    concat_ws(' ', summary_text,
        (SELECT group_concat(value, ' ') FROM json_each(summary_bullet_points)),
        (SELECT group_concat(value, ' ') FROM json_each(key_topics)),
        (SELECT group_concat(value, ' ') FROM json_each(action_items))) AS analysis,
    concat_ws(' ', caller, callee, caller_name, callee_name) AS people
FROM recordings
WHERE processing_status NOT IN ('deleted', 'purged');

-- The triggers keep the index in the same transaction as the row it describes.
CREATE TRIGGER recordings_search_insert AFTER INSERT ON recordings
BEGIN
    INSERT OR IGNORE INTO recording_search_docs (recording_id) VALUES (new.recording_id);
    INSERT INTO recordings_fts (rowid, spoken, analysis, people)
    SELECT d.doc_id, t.spoken, t.analysis, t.people
    FROM recording_search_text t JOIN recording_search_docs d ON d.recording_id = t.recording_id
    WHERE t.recording_id = new.recording_id;
END;

-- Only when indexed text or searchability changes: claims and heartbeats do not re-index.
CREATE TRIGGER recordings_search_update AFTER UPDATE ON recordings
WHEN old.transcript_text IS NOT new.transcript_text
  OR old.translated_text IS NOT new.translated_text
  OR old.summary_text IS NOT new.summary_text
  OR old.summary_bullet_points IS NOT new.summary_bullet_points
  OR old.key_topics IS NOT new.key_topics
  OR old.action_items IS NOT new.action_items
  OR old.caller IS NOT new.caller
  OR old.callee IS NOT new.callee
  OR old.caller_name IS NOT new.caller_name
  OR old.callee_name IS NOT new.callee_name
  OR (old.processing_status IN ('deleted', 'purged')) <> (new.processing_status IN ('deleted', 'purged'))
BEGIN
    DELETE FROM recordings_fts
    WHERE rowid = (SELECT doc_id FROM recording_search_docs WHERE recording_id = old.recording_id);
    INSERT INTO recordings_fts (rowid, spoken, analysis, people)
    SELECT d.doc_id, t.spoken, t.analysis, t.people
    FROM recording_search_text t JOIN recording_search_docs d ON d.recording_id = t.recording_id
    WHERE t.recording_id = new.recording_id;
END;

CREATE TRIGGER recordings_search_delete AFTER DELETE ON recordings
BEGIN
    DELETE FROM recordings_fts
    WHERE rowid = (SELECT doc_id FROM recording_search_docs WHERE recording_id = old.recording_id);
    DELETE FROM recording_search_docs WHERE recording_id = old.recording_id;
END;

INSERT INTO recording_search_docs (recording_id) SELECT recording_id FROM recordings;
INSERT INTO recordings_fts (rowid, spoken, analysis, people)
SELECT d.doc_id, t.spoken, t.analysis, t.people
FROM recording_search_text t JOIN recording_search_docs d ON d.recording_id = t.recording_id;

-- Filters that come with a search.
CREATE INDEX recordings_sentiment_sort ON recordings (sentiment_label, sort_at DESC);
CREATE INDEX recordings_language_sort ON recordings (detected_language, sort_at DESC);
