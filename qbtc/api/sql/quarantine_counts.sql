-- Rows the quality gate refused, per dataset: in all, and in the run of the latest gate.
SELECT
    dataset,
    count(*) AS rows,
    count(*) FILTER (WHERE run_id = $run_id) AS last_gate_rows,
    max("timestamp") AS newest
FROM lake.quarantine
GROUP BY dataset
ORDER BY dataset
