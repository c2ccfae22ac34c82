-- Order intents by status and ledger events by kind (for /metrics).
SELECT 'intent' AS kind, status AS label, count(*) AS n FROM lake.order_intents GROUP BY status
UNION ALL
SELECT 'event' AS kind, event AS label, count(*) AS n FROM lake.order_events GROUP BY event
