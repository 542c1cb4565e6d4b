-- Where a run is about to store a file, noted before its first byte. The record names its files
-- only once the run ends, so a worker killed in between would leave a file nothing points to;
-- a deletion or purge removes the files noted here too. Notes the record now names are dropped
-- when it is stored.
CREATE TABLE noted_files (
    recording_id TEXT NOT NULL,
    location     TEXT NOT NULL,
    noted_at     BIGINT NOT NULL,
    PRIMARY KEY (recording_id, location)
);
