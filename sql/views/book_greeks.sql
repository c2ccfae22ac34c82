-- The book's Greeks per underlying ("timestamp", phase pre_trade|book as in risk_metrics):
-- delta_coin = option_delta_coin + perp_delta_coin (coins of the underlying), delta_usd,
-- gamma_usd (USDT per 1% move), vega_usd (USDT per vol point), theta_usd (USDT per day), spot
-- USDT. Pre-trade rows hold the planned hedge: hedge_perp, its directional_coin target, the
-- hedge_options_delta_coin it offsets (after the cycle's option legs) and band_usd.
CREATE OR REPLACE VIEW book_greeks AS
SELECT
    portfolio_id,
    run_id,
    "timestamp",
    phase,
    underlying,
    spot,
    delta_coin,
    option_delta_coin,
    perp_delta_coin,
    delta_usd,
    gamma_usd,
    vega_usd,
    theta_usd,
    hedge_perp,
    directional_coin,
    hedge_options_delta_coin,
    band_usd
FROM lake.book_greeks;
