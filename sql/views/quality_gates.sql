-- One row per quality gate that ran: the trading gate (kind 'gate', what signals and orders
-- check) and history imports (kind 'file_import'). reasons lists why a gate failed; as_of is
-- the data clock it judged, "timestamp" when it ran.
CREATE OR REPLACE VIEW quality_gates AS
SELECT
    run_id,
    "check" AS kind,
    status = 'pass' AS passed,
    CAST(json_extract(details, '$.reasons') AS VARCHAR[]) AS reasons,
    element_count AS rows_checked,
    unexpected_count AS rows_quarantined,
    CAST(json_extract_string(details, '$.as_of') AS TIMESTAMPTZ) AS as_of,
    "timestamp"
FROM lake.quality_results
WHERE dataset = '*';
