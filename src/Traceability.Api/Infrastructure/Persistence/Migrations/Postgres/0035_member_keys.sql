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
    SELECT 'k_' || substr(md5(random()::text || id), 1, 16), id, 'first key', api_key_hash, created_at FROM members;

ALTER TABLE members DROP COLUMN api_key_hash;
ALTER TABLE members ADD COLUMN registered_by TEXT;
ALTER TABLE members ADD COLUMN deactivated_at TEXT;
