#!/usr/bin/env bats
# The database goes away (issue 9): the whole system on PostgreSQL, whose
# server is stopped in the middle of the trading window and started again.
# Trading goes on without it, db-sink reports the outage and keeps what
# comes in its spool, and once the server is back every order, fill and
# settlement of the exchange is stored exactly once, P&L to the centi-cent.

load helper
load fault

FDB=pg

sent_orders() {
	grep -c '"status":"sent"' "$RUN/log/order-send/data/current" || true
}

more_sent_than() {
	[ "$(sent_orders)" -gt "$1" ]
}

db_sink_says() {
	health_of db-sink | tail -n 1 | jq -e --arg s "$1" '.status == $s' >/dev/null
}

health_is() {
	hs /health
	[ "$hs_code" = "$1" ]
}

@test "PostgreSQL stopped mid-run: trading goes on, db-sink and /health report it; once back every order, fill and settlement stored once, P&L to the centi-cent" {
	fconf
	recio up
	# trading has begun (an order sent), and is stored
	wait_for 120 more_sent_than 0
	# shellcheck disable=SC2016 # eval'd at each try
	wait_for 30 eval '[ "$(db "select count(*) from orders")" -gt 0 ]'
	"$RECIO_TOP/t/pg" stop "$RECIO_TEST_PGDIR"
	before=$(sent_orders)
	# db-sink says the database is down, with the error; /health says 503
	wait_for 20 db_sink_says down
	health_of db-sink | tail -n 1 | jq -e '(.error | length) > 0 and .spooled >= 0'
	wait_for 20 health_is 503
	jq -e '.database.ok == false and (.database.error | length) > 0' <<<"$hs_body"
	# (the diagnostics go through their own logger: a moment after the data line)
	wait_for 10 grep -q 'lines are kept in' "$RUN/log/db-sink/diag/current"
	# trading goes on without the database: orders still sent, and filled
	wait_for 120 more_sent_than "$before" || {
		echo "sim $(sim_sec), sent $(sent_orders) (before $before)"
		health_of order-send | tail -n 1
		grep '"type":"status"' "$RUN/log/signal-eval/data/current" | tail -n 3
		tail -n 5 "$RUN/log/order-send/diag/current" "$RUN/log/signal-eval/diag/current"
		false
	}
	during=$(($(sent_orders) - before))
	echo "# $during orders sent while the database was down" >&3
	"$RECIO_TOP/t/pg" start "$RECIO_TEST_PGDIR" >/dev/null
	# back: db-sink says so with the outage's length, /health is 200 again
	wait_for 30 db_sink_says ok
	health_of db-sink | tail -n 1 | jq -e '.down_ms > 0'
	wait_for 30 health_is 200
	# (the diagnostics go through their own logger: a moment after the data line)
	wait_for 10 grep -q 'database: back after' "$RUN/log/db-sink/diag/current"
	until_sim "$T1501"
	wind_down
	invariants
	# the orders sent during the outage are stored, with their outcome
	grep '"status":"sent"' "$RUN/log/order-send/data/current" | tail -n "$during" | jq -r .client_order_id |
		while read -r c; do
			[ "$(db "select count(*) from orders where client_order_id = '$c' and status not in ('intent','sent','error')")" -eq 1 ] ||
				{ echo "order $c sent in the outage: not stored with its outcome"; false; }
		done
	# and the outage itself is in the database, from db-sink's own lines
	[ "$(db "select count(*) from health where src = 'db-sink' and status = 'down'")" -ge 1 ]
	[ "$(db "select count(*) from health where src = 'db-sink' and status = 'ok'")" -ge 1 ]
	clean_logs
}
