-- The append-only order ledger: one row per event (intent, submitted, acknowledged,
-- partially_filled, filled, cancelled, rejected, reconciled), keyed by client_order_id.
CREATE OR REPLACE VIEW order_events AS
SELECT * EXCLUDE (month)
FROM lake.order_events;
