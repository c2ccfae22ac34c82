-- The last $limit buckets of $width of one symbol's bars, oldest first.
SELECT * FROM (
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
    GROUP BY 1
    ORDER BY 1 DESC
    LIMIT $limit
)
ORDER BY 1
