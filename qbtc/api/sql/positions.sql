-- Latest snapshot of every position; filters apply to that snapshot (NULL means any).
-- structure_id: the option structure of the latest accepted intent on the symbol.
WITH structures AS (
    SELECT portfolio_id, symbol, arg_max(structure_id, "timestamp") AS structure_id
    FROM lake.order_intents
    WHERE structure_id IS NOT NULL AND status = 'accepted'
    GROUP BY portfolio_id, symbol
)
SELECT latest.*, structures.structure_id
FROM (
    SELECT * EXCLUDE (month)
    FROM lake.positions
    WHERE ($portfolio_id IS NULL OR portfolio_id = $portfolio_id)
    QUALIFY row_number() OVER (PARTITION BY id ORDER BY "timestamp" DESC) = 1
) AS latest
LEFT JOIN structures USING (portfolio_id, symbol)
WHERE ($type IS NULL OR latest."type" = $type)
  AND ($include_flat OR latest.quantity <> 0)
