-- Run manifests, newest first.
SELECT * EXCLUDE (month)
FROM lake.runs
WHERE ($flow IS NULL OR flow = $flow)
  AND ($status IS NULL OR status = $status)
  AND ($since IS NULL OR "timestamp" >= $since)
