-- The event-time order of the EPCIS queries moves out of the capture's transaction (see the SQLite script of the same
-- number, and docs/adr/0019): event_times is filled in the background up to projected_to.
DROP INDEX ix_events_event_time;
CREATE TABLE event_times (
    event_time  TEXT NOT NULL,
    sequence    BIGINT NOT NULL,
    PRIMARY KEY (event_time, sequence)
);
CREATE TABLE event_times_projected (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    projected_to  BIGINT NOT NULL -- every event up to this sequence is in event_times, none after it
);
INSERT INTO event_times (event_time, sequence) SELECT event_time, sequence FROM events ORDER BY event_time, sequence;
INSERT INTO event_times_projected (id, projected_to) SELECT 1, COALESCE(MAX(sequence), 0) FROM events;
