-- Where redaction replaced card or personal data: a JSON list of {kind, start, end}
-- (seconds into the call), never the values found.
ALTER TABLE recordings ADD COLUMN redactions TEXT;
