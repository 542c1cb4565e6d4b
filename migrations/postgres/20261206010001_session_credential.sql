-- Which secret a console session was signed in with, as a SHA-256 (`API_TOKEN`'s; NULL for a
-- stored key, whose revocation ends its sessions): a session of a rotated API_TOKEN ends.
ALTER TABLE sessions ADD COLUMN credential_hash TEXT;

-- Sessions signed in with API_TOKEN before this column existed cannot be checked against it:
-- they end now (their holder signs in again once).
DELETE FROM sessions WHERE actor = 'api-token';
