-- Trackers: named rules kept as the JSON the API took. `version` grows on every change; the
-- background re-evaluation has caught up when `evaluated_version` equals it. `reeval_cursor` is
-- the last recording id evaluated for `version`, so a restarted worker resumes where it stopped.
CREATE TABLE trackers (
    name              TEXT PRIMARY KEY,
    definition        TEXT NOT NULL,
    version           BIGINT NOT NULL,
    evaluated_version BIGINT NOT NULL DEFAULT 0,
    reeval_cursor     TEXT,
    reeval_evaluated  BIGINT NOT NULL DEFAULT 0,
    reeval_total      BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

-- Which recording each tracker matched, with the hits as JSON: the list's `tracker=` filter is
-- one join on this table.
CREATE TABLE tracker_matches (
    tracker      TEXT NOT NULL,
    recording_id TEXT NOT NULL,
    hits         TEXT NOT NULL,
    PRIMARY KEY (tracker, recording_id)
);

CREATE INDEX tracker_matches_recording ON tracker_matches (recording_id);

-- Alerts to deliver, written in the same transaction as the recording they are about. The id is
-- the `webhook-id` of every attempt. `state`: pending, delivered or failed.
CREATE TABLE alert_outbox (
    id              TEXT PRIMARY KEY,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    finished_at     BIGINT
);

CREATE INDEX alert_outbox_due ON alert_outbox (state, next_attempt_at);
