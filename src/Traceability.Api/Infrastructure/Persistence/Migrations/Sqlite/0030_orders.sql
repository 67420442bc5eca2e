-- Shipping orders (outbound, transfer, return) that an outbound scanner works through, and the codes scanned against
-- them. An order's number is unique per issuing member (the ERP's key). status: open | in_progress | completed | cancelled.
CREATE TABLE orders (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id         TEXT NOT NULL,
    number            TEXT NOT NULL,
    type              TEXT NOT NULL,
    ship_to           TEXT NOT NULL,
    ship_to_location  TEXT,
    status            TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (member_id, number)
);
CREATE INDEX ix_orders_ship_to ON orders (ship_to, status);
CREATE INDEX ix_orders_status ON orders (status, id);

-- lot: '' when any lot of the product fulfils the line. scanned: units shipped against the line; received: of those,
-- units the consignee received against the order.
CREATE TABLE order_lines (
    order_id  INTEGER NOT NULL,
    line_no   INTEGER NOT NULL,
    gtin      TEXT NOT NULL,
    lot       TEXT NOT NULL,
    quantity  BIGINT NOT NULL,
    scanned   BIGINT NOT NULL DEFAULT 0,
    received  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;

-- One row per unit shipped against an order: the code as scanned, the container it was counted through (an SSCC), the
-- shipping event's sequence, and the receiving event's once the consignee receives it.
CREATE TABLE order_units (
    order_id            INTEGER NOT NULL,
    epc                 TEXT NOT NULL,
    line_no             INTEGER NOT NULL,
    code                TEXT NOT NULL,
    container_epc       TEXT,
    shipped_sequence    INTEGER NOT NULL,
    shipped_at          TEXT NOT NULL,
    received_sequence   INTEGER,
    received_at         TEXT,
    PRIMARY KEY (order_id, epc)
) WITHOUT ROWID;
CREATE INDEX ix_order_units_epc ON order_units (epc);
