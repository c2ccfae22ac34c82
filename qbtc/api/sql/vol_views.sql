-- Volatility views, filtered (NULL means any).
SELECT * EXCLUDE (month)
FROM lake.vol_views
WHERE ($underlying IS NULL OR underlying = $underlying)
  AND ($run_id IS NULL OR run_id = $run_id)
  AND ($since IS NULL OR "timestamp" >= $since)
