-- Daily roll-ups of sales and consumer scans for the analytics API, kept up to date as events are captured
-- (AnalyticsRollupStep) and as scans are recorded (ScanRecorder), in the same transaction as what they count.
-- day: the calendar day in China Standard Time (UTC+08:00), yyyy-MM-dd; region_code: the six-digit GB/T 2260 code
-- as recorded ('' when unknown); gtin, lot, dealer_id: '' when unknown; kind: sale | scan.
CREATE TABLE analytics_daily (
    kind         TEXT NOT NULL,
    day          TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    gtin         TEXT NOT NULL,
    lot          TEXT NOT NULL,
    dealer_id    TEXT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (kind, day, region_code, gtin, lot, dealer_id)
) WITHOUT ROWID;
-- The same counts by province and product only, for the most asked question (a period by province, for a regulator or
-- a manufacturer, without lot or dealer): at most provinces x products rows a day, whatever the number of counties,
-- lots and dealers.
CREATE TABLE analytics_daily_province (
    kind      TEXT NOT NULL,
    day       TEXT NOT NULL,
    province  TEXT NOT NULL,
    gtin      TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (kind, day, province, gtin)
) WITHOUT ROWID;
CREATE INDEX ix_analytics_daily_gtin ON analytics_daily (kind, gtin, day);
CREATE INDEX ix_analytics_daily_dealer ON analytics_daily (kind, dealer_id, day);

-- The alerts inbox: an alert is open until a member marks it handled.
ALTER TABLE alerts ADD COLUMN handled_at TEXT;
ALTER TABLE alerts ADD COLUMN handled_by TEXT;
