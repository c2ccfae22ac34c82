-- The funding_rates dataset (latest version of each row), without the partition columns.
CREATE OR REPLACE VIEW funding_rates AS
SELECT * EXCLUDE (month)
FROM lake.funding_rates;
