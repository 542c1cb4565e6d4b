-- Full-text search: a `tsvector` per recording kept by a trigger, a GIN index over it.
-- `simple` (no stemming, no stop words) keeps it language-neutral for es/en/pt/fr/it/de;
-- `unaccent` plus the parser's lower-casing make it case- and accent-insensitive, and the query
-- side goes through the same two steps.
CREATE EXTENSION IF NOT EXISTS unaccent;

ALTER TABLE recordings ADD COLUMN search_vector tsvector;

-- Weights rank a hit in the people (A) above one in the analysis (B) above the spoken text (D).
-- Deleted and purged recordings get no vector, so they are never found.
CREATE FUNCTION recordings_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.processing_status IN ('deleted', 'purged') THEN
        NEW.search_vector := NULL;
    ELSE
        NEW.search_vector :=
            setweight(to_tsvector('simple', unaccent(concat_ws(' ',
                NEW.caller, NEW.callee, NEW.caller_name, NEW.callee_name))), 'A')
            || setweight(to_tsvector('simple', unaccent(concat_ws(' ', NEW.summary_text,
                (SELECT string_agg(v, ' ') FROM json_array_elements_text(NEW.summary_bullet_points::json) v),
                (SELECT string_agg(v, ' ') FROM json_array_elements_text(NEW.key_topics::json) v),
                (SELECT string_agg(v, ' ') FROM json_array_elements_text(NEW.action_items::json) v)))), 'B')
            || setweight(to_tsvector('simple', unaccent(concat_ws(' ',
                NEW.transcript_text, NEW.translated_text))), 'D');
    END IF;
    RETURN NEW;
END
$$;

-- BEFORE: the vector is written with the row, in its transaction. Only the listed columns
-- re-index, so claims and heartbeats do not.
CREATE TRIGGER recordings_search_vector
BEFORE INSERT OR UPDATE OF transcript_text, translated_text, summary_text, summary_bullet_points,
    key_topics, action_items, caller, callee, caller_name, callee_name, processing_status
ON recordings FOR EACH ROW EXECUTE FUNCTION recordings_search_vector();

UPDATE recordings SET processing_status = processing_status;

CREATE INDEX recordings_search ON recordings USING GIN (search_vector);
CREATE INDEX recordings_sentiment_sort ON recordings (sentiment_label, sort_at DESC);
CREATE INDEX recordings_language_sort ON recordings (detected_language, sort_at DESC);
