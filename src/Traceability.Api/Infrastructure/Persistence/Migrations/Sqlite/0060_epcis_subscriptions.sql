-- Named queries and webhook subscriptions of the EPCIS 2.0 interface (/epcis/queries), and webhook subscriptions to
-- alerts (/epcis/alerts/subscriptions). A subscription's position (delivered_through: the last event sequence, or alert
-- id, delivered or passed over) moves in the same statement that records a delivery the receiver acknowledged.
CREATE TABLE epcis_queries (
    member_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    query_json  TEXT NOT NULL,               -- the query parameters, as the binding's query schema writes them
    created_at  TEXT NOT NULL,
    PRIMARY KEY (member_id, name)
);

CREATE TABLE subscriptions (
    id                  TEXT PRIMARY KEY,
    member_id           TEXT NOT NULL,       -- the subscriber: deliveries show what it may see
    query_name          TEXT,                -- a named query's subscription; NULL for an alert subscription
    alert_types         TEXT,                -- an alert subscription's types, comma-separated
    dest                TEXT NOT NULL,
    signature_token     TEXT,                -- the subscriber's secret: GS1-Signature is HMAC-SHA256 of each body with it
    stream              INTEGER NOT NULL,
    schedule_json       TEXT,
    report_if_empty     INTEGER NOT NULL,
    epc_format          TEXT NOT NULL,
    initial_record_time TEXT,
    delivered_through   INTEGER NOT NULL,
    batch_limit         INTEGER NOT NULL,    -- events per POST; halved when the receiver answers 413
    created_at          TEXT NOT NULL,
    last_notified_at    TEXT,
    delivered           INTEGER NOT NULL DEFAULT 0,
    next_due_at         TEXT,                -- a schedule's next run
    failures            INTEGER NOT NULL DEFAULT 0, -- consecutive failed attempts
    total_failures      INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    next_attempt_at     TEXT,                -- after a failure, not before this
    lease_until         TEXT                 -- a dispatcher is delivering (PostgreSQL: one instance at a time)
);
CREATE INDEX ix_subscriptions_member ON subscriptions (member_id, query_name);
