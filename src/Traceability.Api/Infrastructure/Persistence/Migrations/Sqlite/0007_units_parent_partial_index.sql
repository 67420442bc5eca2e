-- Only packed units have a parent; an index of the others held one entry per unit (all NULL) that every commissioning
-- wrote and no query reads (units are looked up by parent_epc = ? or IN (...), which this partial index serves).
DROP INDEX ix_units_parent;
CREATE INDEX ix_units_parent ON units (parent_epc) WHERE parent_epc IS NOT NULL;
