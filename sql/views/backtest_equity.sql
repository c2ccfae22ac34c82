-- Equity curve of completed backtests: equity, notionals, fees, funding and VaR in USDT,
-- drawdown as a fraction of the peak equity.
CREATE OR REPLACE VIEW backtest_equity AS
SELECT * EXCLUDE (bt)
FROM lake.backtest_equity
WHERE backtest_id IN (SELECT backtest_id FROM lake.backtests WHERE status = 'completed');
