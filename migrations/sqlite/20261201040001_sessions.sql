-- Console sessions and pending OAuth logins. Only SHA-256 hashes of the random values are kept:
-- a copy of the database does not let anyone act as a signed-in user.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- A `state` handed out by /auth/login, usable once, by the browser holding the binding cookie.
CREATE TABLE oauth_states (
    state_hash   TEXT PRIMARY KEY,
    binding_hash TEXT NOT NULL,
    actor        TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX oauth_states_actor ON oauth_states (actor, created_at);

-- One row that /readyz rewrites: ready means the database takes a write, not only a read.
CREATE TABLE readiness_probe (
    id         BIGINT PRIMARY KEY,
    checked_at BIGINT NOT NULL
);
