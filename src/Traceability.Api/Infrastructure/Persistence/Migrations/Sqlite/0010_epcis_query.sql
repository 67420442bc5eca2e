-- The standard EPCIS 2.0 interface (/epcis): the time windows and orders of its queries, eventIDs given by other systems,
-- and capture jobs.
-- event_time and record_time grow with the ledger almost in order, so these two indexes are written at the end of
-- their trees (not at random pages, the cost ADR 0006 took the event-hash index away for).
CREATE INDEX ix_events_event_time ON events (event_time, sequence);
CREATE INDEX ix_events_record_time ON events (record_time, sequence);
-- Only eventIDs that are not the event's own hash (urn:uuid:..., or an ni: hash of an earlier algorithm): an event
-- captured without eventID stores its hash there and is found through the hash instead.
CREATE INDEX ix_events_event_id ON events (event_id) WHERE event_id <> event_hash;

CREATE TABLE capture_jobs (
    id               TEXT PRIMARY KEY,
    submitter_id     TEXT NOT NULL,
    error_behaviour  TEXT NOT NULL,              -- rollback, proceed
    running          INTEGER NOT NULL,
    success          INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    finished_at      TEXT,
    event_count      INTEGER NOT NULL,
    captured         INTEGER NOT NULL DEFAULT 0, -- events appended (or found captured before)
    errors_json      TEXT NOT NULL DEFAULT '[]', -- RFC 7807 problems
    receipts_json    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX ix_capture_jobs_submitter ON capture_jobs (submitter_id, created_at);
