-- Latest snapshot of every position of the book (quantity signed: long > 0; PnL, fees and
-- funding in USDT; option Greeks per position: delta in coins, gamma per USDT, vega USDT per
-- vol point, theta USDT per day; pnl_usd the net PnL in USD, pnl_coin the net PnL of a
-- coin-settled option in its coin pnl_coin_currency, null for other instruments).
CREATE OR REPLACE VIEW positions AS
SELECT
    id,
    symbol,
    "type",
    quantity,
    entry_price,
    "timestamp",
    portfolio_id,
    side,
    mark_price,
    unrealized_pnl,
    realized_pnl,
    fees,
    funding,
    underlying,
    expiry,
    strike,
    option_type,
    delta,
    gamma,
    vega,
    theta,
    pnl_usd,
    pnl_coin,
    pnl_coin_currency
FROM lake.positions
QUALIFY row_number() OVER (PARTITION BY id ORDER BY "timestamp" DESC) = 1;
