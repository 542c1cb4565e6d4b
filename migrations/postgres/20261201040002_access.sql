-- Access keys: only a SHA-256 of each key is kept (keys are 256-bit random values).
CREATE TABLE api_keys (
    name         TEXT PRIMARY KEY,
    role         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

-- The audit log. Ids are assigned 1, 2, 3… under a lock, and each entry stores the SHA-256 of its
-- content chained to the previous entry's hash: an edit, a removal or a reordering breaks it.
CREATE TABLE audit_log (
    id           BIGINT PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    role         TEXT,
    action       TEXT NOT NULL,
    recording_id TEXT,
    ip           TEXT,
    user_agent   TEXT,
    status       BIGINT NOT NULL,
    detail       TEXT,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_recording ON audit_log (recording_id, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Legal hold and retention.
ALTER TABLE recordings ADD COLUMN legal_hold_reason TEXT;
ALTER TABLE recordings ADD COLUMN legal_hold_by TEXT;
ALTER TABLE recordings ADD COLUMN legal_hold_at BIGINT;
ALTER TABLE recordings ADD COLUMN purged_at BIGINT;
