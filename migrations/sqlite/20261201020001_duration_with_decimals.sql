-- `duration` keeps the decimals Webex gives (180.5 s). SQLite cannot change a column's type,
-- so the column is rebuilt as REAL under the same name.
ALTER TABLE recordings ADD COLUMN duration_seconds_real REAL;
UPDATE recordings SET duration_seconds_real = CAST(duration_seconds AS REAL);
ALTER TABLE recordings DROP COLUMN duration_seconds;
ALTER TABLE recordings RENAME COLUMN duration_seconds_real TO duration_seconds;
