-- The anchoring delay promised on signed capture receipts (TRACE_MAX_ANCHOR_DELAY), from the first event sequence it
-- applied to: a receipt's deadline is its record time plus the delay in force for its sequence, so changing the setting
-- never rewrites the promises already made. A row is added at start-up when the setting differs from the last row's.
CREATE TABLE receipt_policies (
    from_sequence      BIGINT PRIMARY KEY,
    max_delay_seconds  BIGINT NOT NULL,
    since              TEXT NOT NULL
);
