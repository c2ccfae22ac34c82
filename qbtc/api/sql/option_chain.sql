-- Latest quote of every live option of one underlying: quotes at most $max_age older than the
-- newest quote of the chain, expiring after it.
WITH quotes AS (
    SELECT
        symbol, "timestamp", expiry, strike, option_type, settlement, bid, ask, mark,
        bid_iv, ask_iv, mark_iv, underlying_price, open_interest, bid_size, ask_size
    FROM lake.option_quotes
    WHERE underlying = $underlying
),
newest AS (SELECT max("timestamp") AS t FROM quotes)
SELECT quotes.*
FROM quotes, newest
WHERE quotes."timestamp" >= newest.t - $max_age
  AND quotes.expiry > newest.t
  AND ($expiry IS NULL OR CAST(quotes.expiry AS DATE) = $expiry)
  AND ($option_type IS NULL OR quotes.option_type = $option_type)
QUALIFY row_number() OVER (PARTITION BY quotes.symbol ORDER BY quotes."timestamp" DESC) = 1
ORDER BY expiry, strike, option_type
