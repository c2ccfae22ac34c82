-- Executions of the book (fee in fee_currency, positive = paid), keyed by client_order_id;
-- liquidity 'reconciled' marks a position repaired from the venue; underlying_price the USD
-- price a coin-settled option's coin premium and fee were converted at (null otherwise).
CREATE OR REPLACE VIEW fills AS
SELECT
    * EXCLUDE (month),
    quantity * price AS notional
FROM lake.fills;
