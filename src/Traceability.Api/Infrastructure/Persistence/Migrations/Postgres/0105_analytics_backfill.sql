-- The roll-ups count what is captured and scanned from 0020_analytics on. AnalyticsBackfill counts, once, at start-up,
-- what was recorded before: the last event sequence and scan id recorded before 0020_analytics was applied (through_*),
-- and how far it has counted (done_*), moved in the same transaction as the counts of each batch. Deleting the row
-- together with the roll-up rows counts everything before 0020_analytics again.
CREATE TABLE analytics_backfill (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    through_event  BIGINT NOT NULL,
    through_scan   BIGINT NOT NULL,
    done_event     BIGINT NOT NULL,
    done_scan      BIGINT NOT NULL,
    started_at     TEXT NOT NULL,
    finished_at    TEXT
);
