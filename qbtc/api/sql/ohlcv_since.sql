-- Bars of one symbol aggregated into buckets of $width, from the bucket holding $since.
SELECT
    time_bucket($width, "timestamp") AS "timestamp",
    arg_min(open, "timestamp") AS open,
    max(high) AS high,
    min(low) AS low,
    arg_max(close, "timestamp") AS close,
    sum(volume) AS volume,
    count(*) AS bars
FROM lake.ohlcv
WHERE sym = $key AND symbol = $symbol AND timeframe = $base
  AND "timestamp" >= time_bucket($width, CAST($since AS TIMESTAMPTZ))
GROUP BY 1
ORDER BY 1
LIMIT $limit
