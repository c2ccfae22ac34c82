-- Orders the risk stage decided, per decision bar ("timestamp"): status accepted or refused
-- with the reason (every failing check, joined by '; '). quantity in coins/contracts
-- (positive), side buy|sell, notional in USDT (options: quantity x limit price, the premium);
-- reduce_only legs only shrink a position; structure_id names an option leg's structure
-- (option_structures), null for perps.
CREATE OR REPLACE VIEW order_intents AS
SELECT
    client_order_id,
    run_id,
    portfolio_id,
    strategy,
    symbol,
    leg,
    "timestamp",
    side,
    quantity,
    order_type,
    limit_price,
    reduce_only,
    notional,
    status,
    reason,
    structure_id
FROM lake.order_intents;
