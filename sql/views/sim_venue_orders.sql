-- The simulated venue's own order book (kept apart from the ledger), latest state of each
-- order: compare with order_events / fills on client_order_id.
CREATE OR REPLACE VIEW sim_venue_orders AS
SELECT * EXCLUDE (month)
FROM lake.sim_venue_orders;
