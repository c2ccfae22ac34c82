-- Completed backtests: parameters (JSON), seed, code version, SHA-256 of the market data read,
-- initial and final equity in USDT, fee rate as a fraction, slippage in basis points.
CREATE OR REPLACE VIEW backtests AS
SELECT * EXCLUDE (month)
FROM lake.backtests
WHERE status = 'completed';
