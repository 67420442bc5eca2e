-- Alerts (counterfeit, diversion, recall, hold, tamper) and the current state of each serialized unit.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT NOT NULL,
    epc         TEXT,
    gtin        TEXT,
    lot         TEXT,
    at          TEXT NOT NULL,
    detail      TEXT NOT NULL,
    dedupe_key  TEXT UNIQUE
);
CREATE INDEX ix_alerts_at ON alerts (at);
CREATE INDEX ix_alerts_gtin_at ON alerts (gtin, at);

CREATE TABLE units (
    epc                    TEXT PRIMARY KEY,
    gtin                   TEXT,
    lot                    TEXT,
    serial                 TEXT,
    status                 TEXT NOT NULL,
    holder_member_id       TEXT,
    location_id            TEXT,
    region_code            TEXT,
    parent_epc             TEXT,
    shipped_to_member_id   TEXT,
    commissioned_sequence  INTEGER,
    last_event_sequence    INTEGER NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX ix_units_lot ON units (gtin, lot);
CREATE INDEX ix_units_parent ON units (parent_epc);
