-- Alerts: risk limit breaches (kind risk-breach), kill switch trips (kill-switch), failed
-- quality gates and stages; severity info|warning|critical; details is JSON.
CREATE OR REPLACE VIEW alerts AS
SELECT
    alert_id,
    run_id,
    "timestamp",
    kind,
    severity,
    message,
    details
FROM lake.alerts;
