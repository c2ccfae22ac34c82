-- The feature row of one perp at a decision bar (the latest at or before it).
SELECT * EXCLUDE (sym, date)
FROM lake.features
WHERE sym = $key AND symbol = $symbol AND "timestamp" <= $at
ORDER BY "timestamp" DESC
LIMIT 1
