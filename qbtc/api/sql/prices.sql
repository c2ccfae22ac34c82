-- Latest ticker and latest bar of every symbol (the /ws/prices snapshot).
WITH ticks AS (
    SELECT symbol, "timestamp", bid, ask, "last", mark
    FROM lake.tickers
    QUALIFY row_number() OVER (PARTITION BY symbol ORDER BY "timestamp" DESC) = 1
),
bars AS (
    SELECT symbol, max("timestamp") AS bar_timestamp, arg_max(close, "timestamp") AS close
    FROM lake.ohlcv
    GROUP BY symbol
)
SELECT
    coalesce(ticks.symbol, bars.symbol) AS symbol,
    ticks."timestamp" AS ticker_timestamp, bid, ask, "last", mark,
    bar_timestamp, close
FROM ticks FULL OUTER JOIN bars ON ticks.symbol = bars.symbol
ORDER BY symbol
