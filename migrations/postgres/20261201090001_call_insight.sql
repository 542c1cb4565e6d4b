-- Call insight. `roles` ({agent, customer}), `sentiment_by_speaker` ({agent, customer} of
-- {score, label}), `sentiment_by_quarter` (four scores) and `insights` (question key -> answer)
-- are JSON text like the other structured fields; `per_role` and `non_talk` live inside the
-- `call_metrics` JSON. `sentiment_end` is a plain column because the list filters on it.
ALTER TABLE recordings ADD COLUMN roles TEXT;
ALTER TABLE recordings ADD COLUMN sentiment_by_speaker TEXT;
ALTER TABLE recordings ADD COLUMN sentiment_by_quarter TEXT;
ALTER TABLE recordings ADD COLUMN sentiment_end TEXT;
ALTER TABLE recordings ADD COLUMN insights TEXT;
CREATE INDEX recordings_sentiment_end_sort ON recordings (sentiment_end, sort_at DESC);
