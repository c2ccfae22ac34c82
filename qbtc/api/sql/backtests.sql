-- Completed backtests with their headline metrics (fractions; Sharpe annualised).
SELECT
    b.* EXCLUDE (month),
    b."timestamp" AS created_at,
    b.provider AS strategy,
    '/api/backtests/' || b.backtest_id || '/tear-sheet' AS tear_sheet_url,
    m.total_return,
    m.annual_return,
    m.sharpe,
    m.max_drawdown
FROM lake.backtests AS b
LEFT JOIN (
    SELECT
        backtest_id,
        max(value) FILTER (WHERE metric = 'total_return') AS total_return,
        max(value) FILTER (WHERE metric = 'annual_return') AS annual_return,
        max(value) FILTER (WHERE metric = 'sharpe') AS sharpe,
        max(value) FILTER (WHERE metric = 'max_drawdown') AS max_drawdown
    FROM lake.backtest_metrics
    GROUP BY backtest_id
) AS m USING (backtest_id)
WHERE b.status = 'completed'
  AND ($backtest_id IS NULL OR b.backtest_id = $backtest_id)
  AND ($provider IS NULL OR b.provider = $provider)
  AND ($sweep_id IS NULL OR b.sweep_id = $sweep_id)
  AND ($since IS NULL OR b."timestamp" >= $since)
