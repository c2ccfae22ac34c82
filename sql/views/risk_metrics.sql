-- Risk of the book over time, one row per VaR method and phase: pre_trade is the book a
-- cycle's pre-trade checks saw (before its orders), book the book as held (after the cycle's
-- orders, and every risk-monitor run). VaR and CVaR in USDT (losses positive)
-- at `confidence` over `horizon_days` (99%, 1 day); method monte_carlo (full revaluation, the
-- figure limits use, with its standard error mc_stderr), delta_gamma_mc (same scenarios,
-- delta-gamma approximation), delta_normal and delta_gamma_cf (analytic, Cornish-Fisher),
-- historical (the book fully revalued on past bar moves scaled to the horizon; recorded once
-- the cycle's price history holds 100 returns).
-- Sharpe/Sortino annualised from daily equity; drawdown a fraction of peak equity; Greeks in
-- USDT (delta per 100% move, gamma per 1% move, vega per vol point, theta per day).
CREATE OR REPLACE VIEW risk_metrics AS
SELECT
    portfolio_id,
    var,
    sharpe,
    drawdown,
    "timestamp",
    cvar,
    method,
    phase,
    run_id,
    sortino,
    equity,
    gross_notional,
    net_notional,
    leverage,
    delta_usd,
    gamma_usd,
    vega_usd,
    theta_usd,
    mc_stderr,
    confidence,
    horizon_days
FROM lake.risk_metrics;
