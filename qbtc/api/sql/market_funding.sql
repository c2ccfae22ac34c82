-- Latest funding rate of one symbol.
SELECT "timestamp", funding_rate
FROM lake.funding_rates
WHERE symbol = $symbol
ORDER BY "timestamp" DESC
LIMIT 1
