-- The option_quotes dataset (latest version of each row), without the partition columns.
CREATE OR REPLACE VIEW option_quotes AS
SELECT * EXCLUDE (und, date)
FROM lake.option_quotes;
