-- Latest ticker of one symbol.
SELECT "timestamp", bid, ask, "last", mark, "index", volume_24h, quote_volume_24h, open_interest
FROM lake.tickers
WHERE symbol = $symbol
ORDER BY "timestamp" DESC
LIMIT 1
