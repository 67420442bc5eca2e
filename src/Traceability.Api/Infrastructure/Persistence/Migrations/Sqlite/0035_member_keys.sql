-- A member may hold several API keys, each revocable on its own (member_keys, SHA-256 hashes only), and a member may be
-- deactivated (deactivated_at: every key of it is refused). registered_by: the member that registered a dealer through
-- the ERP import (it alone updates that dealer's master data; null for members the operator created).
CREATE TABLE member_keys (
    id            TEXT PRIMARY KEY,
    member_id     TEXT NOT NULL,
    label         TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX ix_member_keys_member ON member_keys (member_id);

-- Each member's existing key becomes its first key in the new table, under the same hash: it keeps working.
INSERT INTO member_keys (id, member_id, label, key_hash, created_at)
    SELECT 'k_' || lower(hex(randomblob(8))), id, 'first key', api_key_hash, created_at FROM members;

-- The key hash leaves the members table. SQLite drops no UNIQUE column, so the table is rebuilt with the same columns
-- (every column added to members before this script must be listed here) less api_key_hash, plus the new ones.
CREATE TABLE members_new (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    role              TEXT NOT NULL,
    gln               TEXT,
    region_codes      TEXT NOT NULL DEFAULT '',
    address           TEXT,
    created_at        TEXT NOT NULL,
    company_prefixes  TEXT NOT NULL DEFAULT '',
    registered_by     TEXT,
    deactivated_at    TEXT
);
INSERT INTO members_new (id, name, role, gln, region_codes, address, created_at, company_prefixes)
    SELECT id, name, role, gln, region_codes, address, created_at, company_prefixes FROM members;
DROP TABLE members;
ALTER TABLE members_new RENAME TO members;
CREATE INDEX ix_members_gln ON members (gln);
