-- Consumer side: the codes issued by POST /api/v1/codes/generate (so "never issued" can be told), and every consumer scan.
CREATE TABLE codes (
    epc              TEXT PRIMARY KEY,      -- canonical Digital Link (https://id.gs1.org/01/{gtin}/21/{serial}), as in event_epcs
    gtin             TEXT NOT NULL,
    lot              TEXT NOT NULL,
    serial           TEXT NOT NULL,
    sgtin            TEXT NOT NULL,         -- the EPC URN
    issued_by        TEXT NOT NULL,
    issued_at        TEXT NOT NULL
);
CREATE INDEX ix_codes_lot ON codes (gtin, lot, issued_at);

CREATE TABLE scans (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    epc          TEXT NOT NULL,             -- canonical Digital Link of the scanned code
    at           TEXT NOT NULL,
    ip_hash      TEXT NOT NULL,             -- HMAC-SHA256 of the client address with the secret scan salt
    region_code  TEXT,                      -- ?region= (GB/T 2260), when the client sent one
    ua_family    TEXT NOT NULL              -- Chrome, Safari, Firefox, WeChat, Other
);
CREATE INDEX ix_scans_epc_at ON scans (epc, at);
