-- One row per symbol and bar from clean OHLCV: price is the close, volume in base currency,
-- volatility the annualised (365-day year) close-to-close realised vol of the one-bar log
-- returns over the last 60 bars, NULL until 10 returns exist. A return is counted only
-- between adjacent bars: across a hole (a quarantined or missing bar) it would span several
-- bars and inflate the estimate.
CREATE OR REPLACE VIEW market_data AS
WITH bars AS (
    SELECT
        symbol,
        timeframe,
        "timestamp",
        close,
        volume,
        CASE timeframe
            WHEN '1m' THEN 60 WHEN '3m' THEN 180 WHEN '5m' THEN 300 WHEN '15m' THEN 900
            WHEN '30m' THEN 1800 WHEN '1h' THEN 3600 WHEN '2h' THEN 7200 WHEN '4h' THEN 14400
            WHEN '6h' THEN 21600 WHEN '8h' THEN 28800 WHEN '12h' THEN 43200 WHEN '1d' THEN 86400
        END AS bar_seconds,
        lag(close) OVER w AS previous_close,
        epoch("timestamp") - epoch(lag("timestamp") OVER w) AS seconds_since_previous
    FROM lake.ohlcv
    WINDOW w AS (PARTITION BY symbol, timeframe ORDER BY "timestamp")
),
returns AS (
    SELECT
        *,
        CASE WHEN seconds_since_previous = bar_seconds THEN ln(close / previous_close) END
            AS log_return
    FROM bars
)
SELECT
    symbol,
    close AS price,
    volume,
    CASE WHEN count(log_return) OVER v >= 10
        THEN stddev_samp(log_return) OVER v * sqrt(365.0 * 86400 / bar_seconds)
    END AS volatility,
    "timestamp",
    timeframe
FROM returns
WINDOW v AS (PARTITION BY symbol, timeframe ORDER BY "timestamp" ROWS BETWEEN 59 PRECEDING AND CURRENT ROW);
