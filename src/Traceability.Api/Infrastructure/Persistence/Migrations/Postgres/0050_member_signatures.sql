-- Member addresses and member-signed capture (docs/consortium.md).
-- An address a member proved it holds, as registered on chain (registerMember) and, once revoked, until when.
CREATE TABLE member_addresses (
    address           TEXT PRIMARY KEY,           -- EIP-55 checksummed
    member_id         TEXT NOT NULL,
    registered_at     TEXT NOT NULL,
    registered_tx     TEXT NOT NULL,
    registered_block  BIGINT NOT NULL,
    revoked_at        TEXT,
    revoked_tx        TEXT,
    revoked_block     BIGINT
);
CREATE INDEX ix_member_addresses_member ON member_addresses (member_id);

-- One signed capture document: who signed which eventsRoot over how many events, in which EIP-712 domain.
CREATE TABLE signed_documents (
    id            BIGSERIAL PRIMARY KEY,
    member_id     TEXT NOT NULL,
    signer        TEXT NOT NULL,
    events_root   TEXT NOT NULL,                  -- 0x + 64 hex digits
    event_count   BIGINT NOT NULL,
    signature     TEXT NOT NULL,                  -- 0x + 130 hex digits (r, s, v)
    chain_id      BIGINT NOT NULL,
    contract      TEXT NOT NULL,
    record_time   TEXT NOT NULL
);

-- Each event appended from a signed document: the document, and the event's proof in the signed tree (32-byte nodes, concatenated).
CREATE TABLE event_signatures (
    sequence      BIGINT PRIMARY KEY,
    document_id   BIGINT NOT NULL,
    proof         BYTEA NOT NULL
);
