-- Latest book_greeks row of every portfolio, phase and underlying (Greeks and perp hedge).
SELECT * EXCLUDE (month)
FROM lake.book_greeks
WHERE ($portfolio_id IS NULL OR portfolio_id = $portfolio_id)
  AND ($phase IS NULL OR phase = $phase)
QUALIFY row_number() OVER (
    PARTITION BY portfolio_id, phase, underlying ORDER BY "timestamp" DESC
) = 1
ORDER BY portfolio_id, phase, underlying
