-- The W3C trace context (JSON object of traceparent / tracestate) the publisher sent with the
-- message, so the worker continues the webhook's trace. NULL: none was sent.
ALTER TABLE queue_messages ADD COLUMN trace_context TEXT;
