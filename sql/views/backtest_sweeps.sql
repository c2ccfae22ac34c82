-- Parameter sweeps: one row per parameter set (returns and drawdown as fractions, turnover
-- in multiples of mean equity, fees and final equity in USDT).
CREATE OR REPLACE VIEW backtest_sweeps AS
SELECT * EXCLUDE (month)
FROM lake.backtest_sweeps;
