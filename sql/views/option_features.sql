-- Option-surface features per underlying, expiry and chain snapshot: forward (USDT),
-- tenor_days (ACT/365 days), atm_iv, 25-delta risk reversal (call - put IV) and butterfly,
-- term_slope (ATM IV change per year of tenor), iv_minus_rv (ATM IV - 1-day realised vol of
-- the perp). All vols annualised fractions.
CREATE OR REPLACE VIEW option_features AS
SELECT * EXCLUDE (und, date)
FROM lake.option_features;
