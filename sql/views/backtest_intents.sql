-- Order intents of completed backtests: accepted, or refused with the pre-trade reason.
CREATE OR REPLACE VIEW backtest_intents AS
SELECT * EXCLUDE (bt)
FROM lake.backtest_intents
WHERE backtest_id IN (SELECT backtest_id FROM lake.backtests WHERE status = 'completed');
