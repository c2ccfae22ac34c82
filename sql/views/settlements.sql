-- Option expiries settled by the venue (a ledger event, not a fill): quantity the signed
-- position settled (coins), delivery_price the underlying's delivery price (USD),
-- settlement_price what one contract was worth at expiry (USD per coin, the book's units,
-- also for coin-settled options), fee the delivery fee in fee_currency;
-- value = quantity x settlement_price (USD).
CREATE OR REPLACE VIEW settlements AS
SELECT
    * EXCLUDE (month),
    quantity * settlement_price AS value
FROM lake.settlements;
