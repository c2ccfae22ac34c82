-- The most recent run.
SELECT run_id, flow, status, "timestamp", finished_at, message
FROM lake.runs
ORDER BY "timestamp" DESC
LIMIT 1
