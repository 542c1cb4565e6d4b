-- `duration` keeps the decimals Webex gives (180.5 s).
ALTER TABLE recordings ALTER COLUMN duration_seconds TYPE DOUBLE PRECISION;
