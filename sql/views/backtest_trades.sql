-- Simulated fills of completed backtests (price, notional and fee in USDT).
CREATE OR REPLACE VIEW backtest_trades AS
SELECT * EXCLUDE (bt)
FROM lake.backtest_trades
WHERE backtest_id IN (SELECT backtest_id FROM lake.backtests WHERE status = 'completed');
