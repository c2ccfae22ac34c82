-- The latest quality gate result (dataset '*', check 'gate').
SELECT run_id, status, details, "timestamp"
FROM lake.quality_results
WHERE dataset = '*' AND "check" = 'gate'
ORDER BY "timestamp" DESC
LIMIT 1
