-- The most recent alerts, newest first.
SELECT * EXCLUDE (month)
FROM lake.alerts
ORDER BY "timestamp" DESC, alert_id
LIMIT $limit
