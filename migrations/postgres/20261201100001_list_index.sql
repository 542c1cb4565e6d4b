-- The calls list, newest first (read backwards), and the date-bounded counts, from this index
-- alone: the status is in it, because in the row it sits after the transcript, and checking it
-- there reads every transcript. It replaces recordings_sort (sort_at DESC, recording_id), whose
-- mixed directions could not serve "newest first, then id descending".
DROP INDEX recordings_sort;
CREATE INDEX recordings_list ON recordings (sort_at, recording_id, processing_status);
