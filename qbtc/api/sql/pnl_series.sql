-- Equity and PnL of one portfolio over time, oldest first.
-- PnL at t sums the latest snapshot of every position at or before t: each snapshot adds its
-- change from the previous snapshot of the same position, and a running sum adds them up
-- (cost linear in snapshots, however many positions). Equity comes from risk rows (phase book).
WITH pos AS (
    SELECT id, "timestamp",
        coalesce(realized_pnl, 0) AS realized_pnl, coalesce(unrealized_pnl, 0) AS unrealized_pnl,
        coalesce(fees, 0) AS fees, coalesce(funding, 0) AS funding
    FROM lake.positions
    WHERE portfolio_id = $portfolio_id
),
changes AS (
    SELECT "timestamp",
        realized_pnl - coalesce(lag(realized_pnl) OVER w, 0) AS realized_pnl,
        unrealized_pnl - coalesce(lag(unrealized_pnl) OVER w, 0) AS unrealized_pnl,
        fees - coalesce(lag(fees) OVER w, 0) AS fees,
        funding - coalesce(lag(funding) OVER w, 0) AS funding
    FROM pos
    WINDOW w AS (PARTITION BY id ORDER BY "timestamp")
),
steps AS (
    SELECT "timestamp", sum(realized_pnl) AS realized_pnl, sum(unrealized_pnl) AS unrealized_pnl,
        sum(fees) AS fees, sum(funding) AS funding
    FROM changes
    GROUP BY "timestamp"
),
book AS (
    SELECT "timestamp",
        sum(realized_pnl) OVER w AS realized_pnl, sum(unrealized_pnl) OVER w AS unrealized_pnl,
        sum(fees) OVER w AS fees, sum(funding) OVER w AS funding
    FROM steps
    WINDOW w AS (ORDER BY "timestamp" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
equity AS (
    SELECT "timestamp", max(equity) AS equity, max(drawdown) AS drawdown
    FROM lake.risk_metrics
    WHERE portfolio_id = $portfolio_id AND phase = 'book'
    GROUP BY "timestamp"
),
times AS (
    SELECT "timestamp" FROM book
    UNION
    SELECT "timestamp" FROM equity
)
SELECT
    times."timestamp",
    equity.equity,
    equity.drawdown,
    coalesce(book.realized_pnl, 0) AS realized_pnl,
    coalesce(book.unrealized_pnl, 0) AS unrealized_pnl,
    coalesce(book.fees, 0) AS fees,
    coalesce(book.funding, 0) AS funding
FROM times
LEFT JOIN equity ON equity."timestamp" = times."timestamp"
ASOF LEFT JOIN book ON times."timestamp" >= book."timestamp"
WHERE ($since IS NULL OR times."timestamp" >= $since)
  AND ($until IS NULL OR times."timestamp" <= $until)
ORDER BY times."timestamp"
