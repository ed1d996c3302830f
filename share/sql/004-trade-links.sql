-- 004-trade-links: a trade's entry order's client_order_id ("r" + the
-- signal id), so history can show the signal's probability and
-- differential at entry.
ALTER TABLE trades ADD COLUMN entry_client_order_id TEXT;
