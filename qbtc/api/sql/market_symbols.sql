-- Every symbol with bars or tickers (for 404 suggestions).
SELECT DISTINCT symbol FROM lake.ohlcv
UNION
SELECT DISTINCT symbol FROM lake.tickers
ORDER BY symbol
