-- Tracing, custody, recall and visibility.

-- The status a unit had before its lot was put on hold, restored when an inspection marked conformant releases it.
ALTER TABLE units ADD COLUMN status_before_hold TEXT;
CREATE INDEX ix_units_holder ON units (holder_member_id);

-- Who took part in each event (submitter, owners of its locations, its source/destination parties: kind 'party'),
-- and whose products it concerns (kind 'owner'). Written by the capture pipeline; read by the visibility policy.
CREATE TABLE event_parties (
    sequence   INTEGER NOT NULL,
    member_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    PRIMARY KEY (member_id, sequence, kind)
) WITHOUT ROWID;
CREATE INDEX ix_event_parties_sequence ON event_parties (sequence);

-- Each time a unit was inside a container: from the AggregationEvent ADD to the DELETE (or the sale) that took it out,
-- by event time. Item history follows these windows upward (a case inside a pallet inside a truck).
CREATE TABLE containment (
    child_epc        TEXT NOT NULL,
    parent_epc       TEXT NOT NULL,
    add_sequence     INTEGER NOT NULL,
    add_time         TEXT NOT NULL,
    delete_sequence  INTEGER,
    delete_time      TEXT,
    PRIMARY KEY (child_epc, add_sequence, parent_epc)
) WITHOUT ROWID;
CREATE INDEX ix_containment_parent ON containment (parent_epc, delete_sequence);

-- How many units of each lot an event moved (directly, or inside the containers it named): the lot's critical tracking
-- events for the FSMA 204 export and the recall.
CREATE TABLE event_lots (
    gtin      TEXT NOT NULL,
    lot       TEXT NOT NULL,
    sequence  INTEGER NOT NULL,
    quantity  INTEGER NOT NULL,
    PRIMARY KEY (gtin, lot, sequence)
) WITHOUT ROWID;

-- TransformationEvents: which unit (and lot) was made from which.
CREATE TABLE lineage (
    output_epc  TEXT NOT NULL,
    input_epc   TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    PRIMARY KEY (output_epc, input_epc, sequence)
) WITHOUT ROWID;
CREATE TABLE lot_lineage (
    output_gtin  TEXT NOT NULL,
    output_lot   TEXT NOT NULL,
    input_gtin   TEXT NOT NULL,
    input_lot    TEXT NOT NULL,
    sequence     INTEGER NOT NULL,
    PRIMARY KEY (output_gtin, output_lot, input_gtin, input_lot, sequence)
) WITHOUT ROWID;
CREATE INDEX ix_lot_lineage_input ON lot_lineage (input_gtin, input_lot);

-- Quality holds of whole lots; the open one has no released_sequence.
CREATE TABLE lot_holds (
    gtin               TEXT NOT NULL,
    lot                TEXT NOT NULL,
    hold_sequence      INTEGER NOT NULL,
    hold_epc           TEXT,
    disposition        TEXT NOT NULL,
    released_sequence  INTEGER,
    PRIMARY KEY (gtin, lot, hold_sequence)
) WITHOUT ROWID;

CREATE TABLE recalls (
    id                    TEXT PRIMARY KEY,
    gtin                  TEXT NOT NULL,
    lot                   TEXT NOT NULL,
    reason                TEXT NOT NULL,
    requested_by          TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    first_event_sequence  INTEGER NOT NULL,
    last_event_sequence   INTEGER NOT NULL,
    units                 INTEGER NOT NULL
);
CREATE INDEX ix_recalls_lot ON recalls (gtin, lot);

-- Events captured before this migration: their submitters took part; the owners of the products they name.
INSERT INTO event_parties (sequence, member_id, kind) SELECT sequence, submitter_id, 'party' FROM events;
INSERT OR IGNORE INTO event_parties (sequence, member_id, kind)
    SELECT DISTINCT ee.sequence, p.owner_member_id, 'owner' FROM event_epcs ee
    JOIN products p ON p.gtin = substr(ee.epc, 23, 14)
    WHERE ee.epc LIKE 'https://id.gs1.org/01/%' AND p.owner_member_id IS NOT NULL;
