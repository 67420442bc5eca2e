-- Capture on SQLite finds an event captured before through an in-memory map of event hashes (EventHashIndex), no
-- longer through a unique index on events.event_hash: inserting 1,000 random SHA-256 keys into that index dirtied about
-- 1,000 pages of a large ledger per capture, and writing them (commit) and copying them (checkpoint) was the largest
-- cost of a capture (scripts/bench capture: 14,885 events/s with the index, 20,595 without, one sender).
-- hash_key (the first 8 bytes of the digest, as a signed integer) and the index ordered by sequence let the map be
-- rebuilt at start-up from a small covering index instead of the whole table; rows from before this migration get
-- their hash_key on that first load. PostgreSQL keeps its unique index (several instances may share a database).
CREATE TABLE events_new (
    sequence      INTEGER PRIMARY KEY,
    event_hash    TEXT NOT NULL,
    event_id      TEXT,
    event_type    TEXT NOT NULL,
    event_time    TEXT NOT NULL,
    record_time   TEXT NOT NULL,
    biz_step      TEXT,
    disposition   TEXT,
    read_point    TEXT,
    biz_location  TEXT,
    submitter_id  TEXT NOT NULL,
    json          TEXT NOT NULL,
    hash_key      INTEGER
);
INSERT INTO events_new (sequence, event_hash, event_id, event_type, event_time, record_time, biz_step, disposition, read_point, biz_location, submitter_id, json)
SELECT sequence, event_hash, event_id, event_type, event_time, record_time, biz_step, disposition, read_point, biz_location, submitter_id, json FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX ix_events_hash_key ON events (sequence, hash_key);
