-- The equity curve of one backtest, in time order.
SELECT * EXCLUDE (bt) FROM lake.backtest_equity WHERE backtest_id = $backtest_id ORDER BY "timestamp"
