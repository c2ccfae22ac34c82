-- PnL of each portfolio from the latest position snapshots, USDT (for /metrics).
WITH latest AS (
    SELECT portfolio_id, unrealized_pnl, realized_pnl, fees, funding
    FROM lake.positions
    QUALIFY row_number() OVER (PARTITION BY id ORDER BY "timestamp" DESC) = 1
)
SELECT portfolio_id,
    sum(unrealized_pnl) AS unrealized, sum(realized_pnl) AS realized,
    sum(fees) AS fees, sum(funding) AS funding
FROM latest
GROUP BY portfolio_id
ORDER BY portfolio_id
