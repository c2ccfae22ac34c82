-- Alerts, filtered (NULL means any).
SELECT * EXCLUDE (month)
FROM lake.alerts
WHERE ($severity IS NULL OR severity = $severity)
  AND ($kind IS NULL OR kind = $kind)
  AND ($since IS NULL OR "timestamp" >= $since)
