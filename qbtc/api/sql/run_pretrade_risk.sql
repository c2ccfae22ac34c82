-- The pre-trade risk rows of one run (what its checks saw), by method.
SELECT * EXCLUDE (month)
FROM lake.risk_metrics
WHERE run_id = $run_id AND phase = 'pre_trade'
ORDER BY method
