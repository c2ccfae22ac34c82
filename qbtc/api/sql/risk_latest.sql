-- Latest risk row of every portfolio, method and phase.
SELECT * EXCLUDE (month)
FROM lake.risk_metrics
WHERE ($portfolio_id IS NULL OR portfolio_id = $portfolio_id)
  AND ($method IS NULL OR method = $method)
  AND ($phase IS NULL OR phase = $phase)
QUALIFY row_number() OVER (PARTITION BY portfolio_id, method, phase ORDER BY "timestamp" DESC) = 1
ORDER BY portfolio_id, method, phase
