-- When the last pipeline run completed (null when none has).
SELECT max(finished_at) AS finished_at
FROM lake.runs
WHERE flow = 'pipeline' AND status = 'completed'
