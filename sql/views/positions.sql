-- Latest snapshot of every position of the book (quantity signed: long > 0).
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
    realized_pnl
FROM lake.positions
QUALIFY row_number() OVER (PARTITION BY id ORDER BY "timestamp" DESC) = 1;
