-- Per-perp features at each 1-minute bar (timestamp = bar open time; values known at its
-- close; no look-ahead). Returns are log returns over N bars; rv_* and ewma_vol annualised
-- fractions from 1m bars (x 525,600 bars/year); atr_14 in USDT; rsi_14 in [0, 100];
-- momentum_240 the 240-bar return in units of its own volatility; zscore_240 / volume_z_60
-- z-scores; funding_rate per 8 h (fraction) and basis_annualized (mark / index - 1) x 1095
-- from the latest funding / ticker stamped at or before the bar close; rank_* cross-sectional
-- ranks in [0, 1] at that bar. NULL during warm-up, across missing bars or on stale inputs.
CREATE OR REPLACE VIEW features AS
SELECT * EXCLUDE (sym, date)
FROM lake.features;
