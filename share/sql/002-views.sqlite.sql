-- 002-views (SQLite): for people who open sqlite3.  Times are UTC.

-- positions held now, with the latest quote of their market
CREATE VIEW open_trades AS
SELECT p.account, p.ticker, p.position,
       CASE WHEN p.position > 0 THEN 'yes' ELSE 'no' END AS side,
       p.exposure_cc, p.fees_cc, m.yes_bid, m.yes_ask, m.close_ts,
       datetime(p.ts / 1000, 'unixepoch') AS updated
  FROM positions p LEFT JOIN markets m ON m.ticker = p.ticker
 WHERE p.position <> 0;

-- trades ended today (UTC)
CREATE VIEW pnl_today AS
SELECT account, count(*) AS trades, sum(win) AS wins,
       sum(pnl_cc) AS pnl_cc, sum(fees_cc) AS fees_cc
  FROM trades
 WHERE status IN ('closed', 'settled')
   AND ts >= CAST(strftime('%s', 'now', 'start of day') AS INTEGER) * 1000
 GROUP BY account;

-- trades by the hour they were opened in
CREATE VIEW hourly_results AS
SELECT account, open_ts / 3600000 * 3600000 AS hour_ts,
       datetime(open_ts / 3600000 * 3600, 'unixepoch') AS hour,
       count(*) AS trades, sum(win) AS wins,
       sum(pnl_cc) AS pnl_cc, sum(fees_cc) AS fees_cc
  FROM trades
 WHERE status IN ('closed', 'settled')
 GROUP BY account, open_ts / 3600000;
