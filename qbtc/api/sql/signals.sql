-- Signals, newest first.
SELECT * EXCLUDE (month)
FROM lake.signals
WHERE ($symbol IS NULL OR symbol = $symbol)
  AND ($run_id IS NULL OR run_id = $run_id)
  AND ($direction IS NULL OR direction = $direction)
  AND ($since IS NULL OR "timestamp" >= $since)
