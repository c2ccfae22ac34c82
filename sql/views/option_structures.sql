-- Option structure decisions per decision bar ("timestamp"): action
-- open|keep|complete|close|roll|skip|expired, legs (comma-separated option symbols) and their
-- signed quantities in coins, expiry (the nearest leg's), vega_target in USDT per vol point,
-- and the vol view behind it (view_id in vol_views, feature_snapshot); reason says why a
-- structure could not be opened, or what a lopsided one lacks.
-- order_intents.structure_id -> option_structures -> vol_views -> option_features.
CREATE OR REPLACE VIEW option_structures AS
SELECT
    structure_id,
    run_id,
    portfolio_id,
    "timestamp",
    underlying,
    action,
    legs,
    quantities,
    expiry,
    vega_target,
    vol_view,
    view_id,
    feature_snapshot,
    reason
FROM lake.option_structures;
