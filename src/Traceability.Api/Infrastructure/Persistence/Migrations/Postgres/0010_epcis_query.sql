-- The standard EPCIS 2.0 interface (/epcis): the time windows and orders of its queries, eventIDs given by other systems,
-- and capture jobs.
CREATE INDEX ix_events_event_time ON events (event_time, sequence);
CREATE INDEX ix_events_record_time ON events (record_time, sequence);
-- Only eventIDs that are not the event's own hash (urn:uuid:..., or an ni: hash of an earlier algorithm).
CREATE INDEX ix_events_event_id ON events (event_id) WHERE event_id <> event_hash;

CREATE TABLE capture_jobs (
    id               TEXT PRIMARY KEY,
    submitter_id     TEXT NOT NULL,
    error_behaviour  TEXT NOT NULL,              -- rollback, proceed
    running          BIGINT NOT NULL,
    success          BIGINT NOT NULL,
    created_at       TEXT NOT NULL,
    finished_at      TEXT,
    event_count      BIGINT NOT NULL,
    captured         BIGINT NOT NULL DEFAULT 0,
    errors_json      TEXT NOT NULL DEFAULT '[]',
    receipts_json    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX ix_capture_jobs_submitter ON capture_jobs (submitter_id, created_at);
