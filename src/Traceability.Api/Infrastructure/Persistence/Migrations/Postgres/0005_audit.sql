-- Self-audit: one row per run, one row per mismatch it found.
-- A finding makes the events first_event_sequence..last_event_sequence untrusted (an event finding: that event; an
-- anchor finding: the anchor's whole range; a ledger-wide finding: none, both null).
CREATE TABLE audit_runs (
    id                BIGSERIAL PRIMARY KEY,
    started_at        TEXT NOT NULL,
    finished_at       TEXT,
    status            TEXT NOT NULL,              -- running, ok, failed, error
    trigger_source    TEXT NOT NULL,              -- schedule, api
    anchors           BIGINT NOT NULL DEFAULT 0,
    anchors_on_chain  BIGINT NOT NULL DEFAULT 0,
    events            BIGINT NOT NULL DEFAULT 0, -- the run covered events 1..events
    events_checked    BIGINT NOT NULL DEFAULT 0,
    mismatches        BIGINT NOT NULL DEFAULT 0, -- all mismatches, including any beyond the stored findings
    summary           TEXT
);
CREATE INDEX ix_audit_runs_finished ON audit_runs (status, id);

CREATE TABLE audit_findings (
    id                    BIGSERIAL PRIMARY KEY,
    run_id                BIGINT NOT NULL REFERENCES audit_runs (id),
    anchor_sequence       BIGINT,
    event_sequence        BIGINT,
    kind                  TEXT NOT NULL,
    detail                TEXT NOT NULL,
    first_event_sequence  BIGINT,
    last_event_sequence   BIGINT
);
CREATE INDEX ix_audit_findings_run_range ON audit_findings (run_id, first_event_sequence, last_event_sequence);
