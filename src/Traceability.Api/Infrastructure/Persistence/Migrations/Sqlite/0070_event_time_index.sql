-- The event-time order of the EPCIS queries moves out of the capture's transaction. ix_events_event_time was written on
-- every capture at the place of each event's time: events of one document are spread over the whole index when their
-- times are not the latest (a document of yesterday's events, or of many days), so a capture of 1,000 events dirtied
-- hundreds of index pages, each written to the WAL at commit. event_times holds the same (event_time, sequence) pairs;
-- the service fills it in the background, sorted, many captures at once (EventTimeIndex), up to projected_to. The
-- queries read it for the events up to projected_to and the events table for the few after (docs/adr/0019).
DROP INDEX ix_events_event_time;
CREATE TABLE event_times (
    event_time  TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    PRIMARY KEY (event_time, sequence)
) WITHOUT ROWID;
CREATE TABLE event_times_projected (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    projected_to  INTEGER NOT NULL -- every event up to this sequence is in event_times, none after it
);
INSERT INTO event_times (event_time, sequence) SELECT event_time, sequence FROM events ORDER BY event_time, sequence;
INSERT INTO event_times_projected (id, projected_to) SELECT 1, COALESCE(MAX(sequence), 0) FROM events;
