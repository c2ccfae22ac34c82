-- Fills of one order, oldest first.
SELECT * EXCLUDE (month)
FROM lake.fills
WHERE client_order_id = $client_order_id
ORDER BY "timestamp", fill_id
