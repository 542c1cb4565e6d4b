-- One schema for SQLite and PostgreSQL: only types both understand, times as Unix milliseconds,
-- JSON as TEXT. (sqlx's Any driver carries bool/int/float/text/bytes only.)

CREATE TABLE recordings (
    recording_id               TEXT PRIMARY KEY,
    recorded_at                BIGINT,
    -- recorded_at when known, else created_at: the "newest first" order and the date filters.
    sort_at                    BIGINT NOT NULL,
    caller                     TEXT,
    callee                     TEXT,
    caller_name                TEXT,
    callee_name                TEXT,
    duration_seconds           BIGINT,
    participants               TEXT NOT NULL DEFAULT '[]',
    audio_url                  TEXT,
    audio_local_path           TEXT,
    audio_format               TEXT,
    audio_size_bytes           BIGINT,
    audio_sha256               TEXT,
    transcript_text            TEXT,
    transcript_vtt_path        TEXT,
    transcript_source          TEXT,
    transcript_cues            TEXT,
    has_webex_transcript       BIGINT NOT NULL DEFAULT 0,
    summary_text               TEXT,
    summary_bullet_points      TEXT NOT NULL DEFAULT '[]',
    key_topics                 TEXT NOT NULL DEFAULT '[]',
    action_items               TEXT NOT NULL DEFAULT '[]',
    summary_source             TEXT,
    sentiment_score            DOUBLE PRECISION,
    sentiment_label            TEXT,
    detected_language          TEXT,
    language_confidence        DOUBLE PRECISION,
    translated_text            TEXT,
    call_metrics               TEXT,
    processing_status          TEXT NOT NULL,
    processing_steps_completed TEXT NOT NULL DEFAULT '[]',
    processing_errors          TEXT NOT NULL DEFAULT '{}',
    quality_score              DOUBLE PRECISION,
    webex_metadata             TEXT,
    attempts                   BIGINT NOT NULL DEFAULT 0,
    -- Refreshed by the worker while it processes; a stale heartbeat means the worker died.
    processing_heartbeat_at    BIGINT,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);

CREATE INDEX recordings_sort ON recordings (sort_at DESC, recording_id);
CREATE INDEX recordings_status_sort ON recordings (processing_status, sort_at DESC);

-- The embedded durable queue (used when AMQP_URL is unset).
CREATE TABLE queue_messages (
    message_id   TEXT PRIMARY KEY,
    routing_key  TEXT NOT NULL,
    body         TEXT NOT NULL,
    -- ready | dead
    state        TEXT NOT NULL DEFAULT 'ready',
    attempts     BIGINT NOT NULL DEFAULT 0,
    available_at BIGINT NOT NULL,
    lease_token  TEXT,
    leased_until BIGINT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL
);

CREATE INDEX queue_messages_ready ON queue_messages (state, available_at, message_id);

-- OAuth tokens of the Webex integration (refresh tokens rotate; never kept in a file).
CREATE TABLE oauth_tokens (
    provider           TEXT PRIMARY KEY,
    access_token       TEXT NOT NULL,
    access_expires_at  BIGINT NOT NULL,
    refresh_token      TEXT NOT NULL,
    refresh_expires_at BIGINT,
    updated_at         BIGINT NOT NULL
);

-- Scheduled jobs: a lease so one worker runs at a time, and the reconciler's high-water mark.
CREATE TABLE job_state (
    job             TEXT PRIMARY KEY,
    high_water_mark BIGINT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_success_at BIGINT,
    last_error      TEXT,
    updated_at      BIGINT NOT NULL
);
