-- A recall used to overwrite a unit's status, so stock counted a unit sold before its lot's recall as its dealer's
-- again. status_before_hold now keeps the custody status under a recall; for units recalled before that, a unit with a
-- retail sale on the ledger was sold.
UPDATE units SET status_before_hold = 'sold'
WHERE status = 'recalled' AND status_before_hold IS NULL
  AND EXISTS (SELECT 1 FROM event_epcs ee JOIN events e ON e.sequence = ee.sequence
              WHERE ee.epc = units.epc AND e.biz_step = 'https://ref.gs1.org/cbv/BizStep-retail_selling');
