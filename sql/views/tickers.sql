-- The tickers dataset (latest version of each row), without the partition columns.
CREATE OR REPLACE VIEW tickers AS
SELECT * EXCLUDE (date)
FROM lake.tickers;
