-- Traceability schema v1 (SQLite)
CREATE TABLE members (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    gln           TEXT,
    region_codes  TEXT NOT NULL DEFAULT '',
    address       TEXT,
    api_key_hash  TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL
);
CREATE INDEX ix_members_gln ON members (gln);

CREATE TABLE products (
    gtin             TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    description      TEXT,
    attributes_json  TEXT,
    owner_member_id  TEXT,
    created_at       TEXT NOT NULL
);

CREATE TABLE locations (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    member_id    TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE events (
    sequence      INTEGER PRIMARY KEY,
    event_hash    TEXT NOT NULL UNIQUE,
    event_id      TEXT,
    event_type    TEXT NOT NULL,
    event_time    TEXT NOT NULL,
    record_time   TEXT NOT NULL,
    biz_step      TEXT,
    disposition   TEXT,
    read_point    TEXT,
    biz_location  TEXT,
    submitter_id  TEXT NOT NULL,
    json          TEXT NOT NULL
);

CREATE TABLE event_epcs (
    epc       TEXT NOT NULL,
    sequence  INTEGER NOT NULL,
    role      TEXT NOT NULL,
    PRIMARY KEY (epc, sequence, role)
) WITHOUT ROWID;

CREATE TABLE anchors (
    sequence              INTEGER PRIMARY KEY,
    root                  TEXT NOT NULL,
    first_event_sequence  INTEGER NOT NULL,
    last_event_sequence   INTEGER NOT NULL,
    status                TEXT NOT NULL,
    tx_hash               TEXT,
    block_number          INTEGER,
    chain_id              INTEGER NOT NULL,
    contract              TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    submitted_at          TEXT,
    confirmed_at          TEXT,
    attempts              INTEGER NOT NULL DEFAULT 0,
    last_error            TEXT
);
CREATE INDEX ix_anchors_last_event ON anchors (last_event_sequence);
