-- 002-views (PostgreSQL): for people who open psql.  Times are UTC.

CREATE VIEW open_trades AS
SELECT p.account, p.ticker, p.position,
       CASE WHEN p.position > 0 THEN 'yes' ELSE 'no' END AS side,
       p.exposure_cc, p.fees_cc, m.yes_bid, m.yes_ask, m.close_ts,
       to_char(to_timestamp(p.ts / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS updated
  FROM positions p LEFT JOIN markets m ON m.ticker = p.ticker
 WHERE p.position <> 0;

CREATE VIEW pnl_today AS
SELECT account, count(*) AS trades, sum(win) AS wins,
       sum(pnl_cc) AS pnl_cc, sum(fees_cc) AS fees_cc
  FROM trades
 WHERE status IN ('closed', 'settled')
   AND ts >= (extract(epoch FROM date_trunc('day', now() AT TIME ZONE 'UTC')))::bigint * 1000
 GROUP BY account;

CREATE VIEW hourly_results AS
SELECT account, open_ts / 3600000 * 3600000 AS hour_ts,
       to_char(to_timestamp(open_ts / 3600000 * 3600) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS hour,
       count(*) AS trades, sum(win) AS wins,
       sum(pnl_cc) AS pnl_cc, sum(fees_cc) AS fees_cc
  FROM trades
 WHERE status IN ('closed', 'settled')
 GROUP BY account, open_ts / 3600000;
