-- The simulated fills of one backtest, in time order.
SELECT * EXCLUDE (bt)
FROM lake.backtest_trades
WHERE backtest_id = $backtest_id
ORDER BY "timestamp", fill_id
