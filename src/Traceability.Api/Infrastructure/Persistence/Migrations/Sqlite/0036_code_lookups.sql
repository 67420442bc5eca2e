-- The inspector's lookups (POST /api/v1/codes/lookup): who looked up which codes when, listed for the codes'
-- manufacturer and regulators; code_lookup_items.epc counts how often a code was looked up before (null: unreadable).
CREATE TABLE code_lookups (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id    TEXT NOT NULL,
    at           TEXT NOT NULL,
    region_code  TEXT,
    codes        INTEGER NOT NULL
);
CREATE TABLE code_lookup_items (
    lookup_id  INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    code       TEXT NOT NULL,
    epc        TEXT,
    gtin       TEXT,
    PRIMARY KEY (lookup_id, position)
) WITHOUT ROWID;
CREATE INDEX ix_code_lookup_items_epc ON code_lookup_items (epc);
CREATE INDEX ix_code_lookup_items_gtin ON code_lookup_items (gtin, lookup_id);

-- A lookup asks for the diversion alerts of up to 500 codes at once.
CREATE INDEX ix_alerts_epc ON alerts (epc, type);
