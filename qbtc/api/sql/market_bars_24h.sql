-- 24h statistics of one symbol from its bars: the window ends at the symbol's last bar.
WITH bars AS (
    SELECT "timestamp", open, high, low, close, volume
    FROM lake.ohlcv
    WHERE sym = $key AND symbol = $symbol AND timeframe = $timeframe
),
last_bar AS (SELECT max("timestamp") AS t FROM bars),
day AS (
    SELECT bars.*, ln(close / lag(close) OVER (ORDER BY "timestamp")) AS log_return
    FROM bars, last_bar
    WHERE bars."timestamp" > last_bar.t - INTERVAL 1 DAY
)
SELECT
    max("timestamp") AS bar_timestamp,
    arg_min(open, "timestamp") AS open_24h,
    max(high) AS high_24h,
    min(low) AS low_24h,
    arg_max(close, "timestamp") AS close,
    sum(volume) AS volume_24h,
    count(*) AS bars_24h,
    stddev_samp(log_return) AS log_return_stddev,
    count(log_return) AS returns_24h
FROM day
