-- A batch trace lists a lot's units a page at a time, in EPC order after a cursor (WHERE gtin = ? AND lot = ? AND
-- epc > ? ORDER BY epc LIMIT n). With the index on (gtin, lot) alone each page read and sorted the whole lot; with epc
-- in the index a page is one range of it. The index still serves every lookup by (gtin, lot).
DROP INDEX ix_units_lot;
CREATE INDEX ix_units_lot_epc ON units (gtin, lot, epc);
