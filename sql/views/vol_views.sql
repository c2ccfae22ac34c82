-- Every stored volatility view (one per provider, model, option underlying, decision bar and
-- feature snapshot). vol_view in [-1, 1]: positive = options cheap (buy volatility), negative
-- = rich (sell it); confidence in [0, 1]. expiry/tenor_days name the option_features row the
-- view read (atm_iv, realised_forecast: annualised vol fractions; term_slope per year; rr_25d
-- call minus put IV); fallback_reason set when an LLM answer was replaced by rules.
CREATE OR REPLACE VIEW vol_views AS
SELECT
    view_id,
    run_id,
    underlying,
    "timestamp",
    vol_view,
    confidence,
    horizon_minutes,
    provider,
    model,
    rationale,
    feature_snapshot,
    expiry,
    tenor_days,
    atm_iv,
    realised_forecast,
    term_slope,
    rr_25d,
    fallback_reason,
    created_at
FROM lake.vol_views;
