-- One row per symbol and bar from clean OHLCV: price is the close, volume in base currency,
-- volatility the annualised close-to-close realised vol over the last 60 bars (NULL until
-- 10 returns exist).
CREATE OR REPLACE VIEW market_data AS
WITH bars AS (
    SELECT
        symbol,
        timeframe,
        "timestamp",
        close,
        volume,
        ln(close / lag(close) OVER w) AS log_return,
        CASE timeframe
            WHEN '1m' THEN 60 WHEN '3m' THEN 180 WHEN '5m' THEN 300 WHEN '15m' THEN 900
            WHEN '30m' THEN 1800 WHEN '1h' THEN 3600 WHEN '4h' THEN 14400 WHEN '1d' THEN 86400
        END AS bar_seconds
    FROM lake.ohlcv
    WINDOW w AS (PARTITION BY symbol, timeframe ORDER BY "timestamp")
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
FROM bars
WINDOW v AS (PARTITION BY symbol, timeframe ORDER BY "timestamp" ROWS BETWEEN 59 PRECEDING AND CURRENT ROW);
