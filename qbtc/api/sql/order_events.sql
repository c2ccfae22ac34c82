-- Ledger events of one order, oldest first.
SELECT * EXCLUDE (month)
FROM lake.order_events
WHERE client_order_id = $client_order_id
ORDER BY "timestamp", event_id
