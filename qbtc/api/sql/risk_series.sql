-- VaR and CVaR of one portfolio and method over time, before (pre_trade) and after (book)
-- a cycle's orders, oldest first.
SELECT
    "timestamp",
    max(var) FILTER (WHERE phase = 'book') AS var_book,
    max(cvar) FILTER (WHERE phase = 'book') AS cvar_book,
    max(var) FILTER (WHERE phase = 'pre_trade') AS var_pre_trade,
    max(cvar) FILTER (WHERE phase = 'pre_trade') AS cvar_pre_trade
FROM lake.risk_metrics
WHERE portfolio_id = $portfolio_id AND method = $method
  AND ($since IS NULL OR "timestamp" >= $since)
  AND ($until IS NULL OR "timestamp" <= $until)
GROUP BY "timestamp"
ORDER BY "timestamp"
