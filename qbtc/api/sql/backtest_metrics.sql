-- Every metric of one backtest.
SELECT * EXCLUDE (bt) FROM lake.backtest_metrics WHERE backtest_id = $backtest_id ORDER BY metric
