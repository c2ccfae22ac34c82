-- The quality_results dataset (latest version of each row), without the partition columns.
CREATE OR REPLACE VIEW quality_results AS
SELECT * EXCLUDE (month)
FROM lake.quality_results;
