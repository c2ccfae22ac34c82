-- Risk of the book over time: 99% 1-day VaR and CVaR in USDT (losses positive), Sharpe,
-- drawdown as a fraction of peak equity.
CREATE OR REPLACE VIEW risk_metrics AS
SELECT portfolio_id, var, sharpe, drawdown, "timestamp", cvar, method, run_id
FROM lake.risk_metrics;
