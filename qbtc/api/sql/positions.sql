-- Latest snapshot of every position; filters apply to that snapshot (NULL means any).
SELECT * FROM (
    SELECT * EXCLUDE (month)
    FROM lake.positions
    WHERE ($portfolio_id IS NULL OR portfolio_id = $portfolio_id)
    QUALIFY row_number() OVER (PARTITION BY id ORDER BY "timestamp" DESC) = 1
)
WHERE ($type IS NULL OR "type" = $type)
  AND ($include_flat OR quantity <> 0)
