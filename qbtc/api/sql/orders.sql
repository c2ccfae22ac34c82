-- Order intents with the latest state of each in the order ledger.
WITH ledger AS (
    SELECT
        client_order_id,
        arg_max(event, "timestamp") AS last_event,
        max("timestamp") AS last_event_at,
        max(filled_quantity) AS filled_quantity,
        arg_max(price, "timestamp") AS last_price,
        max(venue_order_id) AS venue_order_id
    FROM lake.order_events
    GROUP BY client_order_id
)
SELECT intents.* EXCLUDE (month), ledger.* EXCLUDE (client_order_id)
FROM lake.order_intents AS intents
LEFT JOIN ledger USING (client_order_id)
WHERE ($symbol IS NULL OR intents.symbol = $symbol)
  AND ($run_id IS NULL OR intents.run_id = $run_id)
  AND ($status IS NULL OR intents.status = $status)
  AND ($since IS NULL OR intents."timestamp" >= $since)
