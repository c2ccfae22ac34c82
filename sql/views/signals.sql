-- Every stored signal (one per provider, model, symbol, decision bar and feature snapshot).
-- direction long|short|flat; strength in [-1, 1] (target exposure as a fraction of the
-- per-symbol risk budget); confidence in [0, 1]; fallback_reason set when an LLM answer was
-- replaced by the rules provider.
CREATE OR REPLACE VIEW signals AS
SELECT
    signal_id,
    run_id,
    symbol,
    "timestamp",
    direction,
    strength,
    confidence,
    horizon_minutes,
    provider,
    model,
    rationale,
    feature_snapshot,
    fallback_reason,
    created_at
FROM lake.signals;
