-- The runs dataset (latest version of each row), without the partition columns.
CREATE OR REPLACE VIEW runs AS
SELECT * EXCLUDE (month)
FROM lake.runs;
