-- Risk rows over time, newest first.
SELECT * EXCLUDE (month)
FROM lake.risk_metrics
WHERE ($portfolio_id IS NULL OR portfolio_id = $portfolio_id)
  AND ($method IS NULL OR method = $method)
  AND ($phase IS NULL OR phase = $phase)
  AND ($since IS NULL OR "timestamp" >= $since)
  AND ($until IS NULL OR "timestamp" <= $until)
