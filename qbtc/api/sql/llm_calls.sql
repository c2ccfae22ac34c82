-- LLM calls, filtered (NULL means any).
SELECT * EXCLUDE (month)
FROM lake.llm_calls
WHERE ($run_id IS NULL OR run_id = $run_id)
  AND ($status IS NULL OR status = $status)
  AND ($since IS NULL OR "timestamp" >= $since)
