-- The ohlcv dataset (latest version of each row), without the partition columns.
CREATE OR REPLACE VIEW ohlcv AS
SELECT * EXCLUDE (sym, date)
FROM lake.ohlcv;
