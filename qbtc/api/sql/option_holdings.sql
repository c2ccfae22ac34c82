-- Every option one portfolio holds (latest snapshot, quantity signed in coins, not 0): what
-- the state of its option structures is judged on.
SELECT symbol, quantity
FROM positions
WHERE portfolio_id = $portfolio_id AND "type" = 'option' AND quantity <> 0
