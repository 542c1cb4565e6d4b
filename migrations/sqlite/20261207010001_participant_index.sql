-- The participant filter finds a part of caller, callee or their names in any case and with or
-- without accents ("garcia" finds "GARCÍA"). SQLite's LIKE and LOWER fold ASCII letters only, so
-- a trigram index does it: a quoted string matches where its trigrams stand in sequence, that is
-- as a substring, folded as the tokenizer folds. Fewer than 3 characters cannot use trigrams; the
-- filter then falls back to LIKE. Keyed by `recording_search_docs.doc_id`, like `recordings_fts`.
CREATE VIRTUAL TABLE recordings_people USING fts5(
    people,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram case_sensitive 0 remove_diacritics 1'
);

-- The fields are joined with a unit separator (char 31) so a match cannot span two of them.
-- INSERT OR REPLACE: a contentless-delete table replaces a row by its rowid in one statement.
CREATE TRIGGER recordings_people_insert AFTER INSERT ON recordings
BEGIN
    INSERT OR IGNORE INTO recording_search_docs (recording_id) VALUES (new.recording_id);
    INSERT OR REPLACE INTO recordings_people (rowid, people)
    SELECT doc_id, concat_ws(char(31), new.caller, new.callee, new.caller_name, new.callee_name)
    FROM recording_search_docs WHERE recording_id = new.recording_id;
END;

CREATE TRIGGER recordings_people_update AFTER UPDATE OF caller, callee, caller_name, callee_name
ON recordings
BEGIN
    INSERT OR REPLACE INTO recordings_people (rowid, people)
    SELECT doc_id, concat_ws(char(31), new.caller, new.callee, new.caller_name, new.callee_name)
    FROM recording_search_docs WHERE recording_id = new.recording_id;
END;

-- BEFORE: the search index's AFTER DELETE trigger drops the doc id this needs.
CREATE TRIGGER recordings_people_delete BEFORE DELETE ON recordings
BEGIN
    DELETE FROM recordings_people
    WHERE rowid = (SELECT doc_id FROM recording_search_docs WHERE recording_id = old.recording_id);
END;

INSERT OR IGNORE INTO recording_search_docs (recording_id) SELECT recording_id FROM recordings;
INSERT INTO recordings_people (rowid, people)
SELECT d.doc_id, concat_ws(char(31), r.caller, r.callee, r.caller_name, r.callee_name)
FROM recordings r JOIN recording_search_docs d ON d.recording_id = r.recording_id;
