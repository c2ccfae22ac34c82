-- Metrics of completed backtests, one row per metric with its unit.
CREATE OR REPLACE VIEW backtest_metrics AS
SELECT * EXCLUDE (bt)
FROM lake.backtest_metrics
WHERE backtest_id IN (SELECT backtest_id FROM lake.backtests WHERE status = 'completed');
