-- The quarantine dataset (latest version of each row), without the partition columns.
CREATE OR REPLACE VIEW quarantine AS
SELECT * EXCLUDE (ds)
FROM lake.quarantine;
