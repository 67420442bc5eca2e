-- Product lifecycle: the service terms of a product (JSON: inspectionIntervalDays, serviceLifeMonths,
-- pressureTestIntervalMonths), the versions of each product's control-point rules, and the service record of every
-- installed unit with its next due dates (kept by ControlPointStep in the capture's transaction).
ALTER TABLE products ADD COLUMN service_json TEXT;

-- One row per rule change: version = the sequence of the EPCIS event that recorded it (so the rules are on the ledger);
-- effective_from = that event's eventTime; rules_json = the canonical JSON whose SHA-256 the event carries.
CREATE TABLE control_rule_sets (
    gtin            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    effective_from  TEXT NOT NULL,
    rules_json      TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    member_id       TEXT NOT NULL,
    PRIMARY KEY (gtin, version)
) WITHOUT ROWID;

-- The service record of an installed unit. Times are UTC (DbTime); *_due columns NULL when the product has no such term.
CREATE TABLE service_units (
    epc                     TEXT PRIMARY KEY,
    gtin                    TEXT NOT NULL,
    lot                     TEXT,
    site_id                 TEXT,
    region_code             TEXT,
    installer_member_id     TEXT NOT NULL,
    installed_at            TEXT NOT NULL,
    installed_sequence      INTEGER NOT NULL,
    produced_at             TEXT,
    last_inspection_at      TEXT,
    last_inspection_result  TEXT,
    last_inspection_sequence INTEGER,
    last_repair_at          TEXT,
    last_repair_sequence    INTEGER,
    inspection_due          TEXT,
    pressure_test_due       TEXT,
    service_life_ends       TEXT,
    updated_at              TEXT NOT NULL
);
CREATE INDEX ix_service_units_region ON service_units (region_code);
CREATE INDEX ix_service_units_due ON service_units (inspection_due);
