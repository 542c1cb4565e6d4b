-- Which secret a console session was signed in with, as a SHA-256 (`API_TOKEN`'s; NULL for a
-- stored key, whose revocation ends its sessions): a session of a rotated API_TOKEN ends.
ALTER TABLE sessions ADD COLUMN credential_hash TEXT;
