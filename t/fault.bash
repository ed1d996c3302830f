# fault.bash: the running system under a fault, for the t/fault-*.bats
# files (issue 9).  Load after helper: `load helper; load fault`.
#
# fconf [KEY=VALUE...]   a sim-mode configuration in the test's directory at
#   SIM_SPEED 150, starting 14:41 simulated: signal-eval's entry window is
#   14:45 to 14:58, the event closes at 15:00 and settles 5 s later, so one
#   simulated hour's trades open, stop and settle in about 8 s (the clock
#   runs from kalshi-sim's start: 4 simulated minutes leave recio up 1.6 s
#   before the window opens, and a slow start only shortens it; a wait for
#   trading allows for the next hour's window); short intervals.  KEY=VALUE items are added (a later key overrides an earlier
#   one: recio reads them in order); SIM_FLAGS adds kalshi-sim options.
#   FDB=pg: the database is a fresh PostgreSQL database on RECIO_TEST_PG.
#   Writes the trading settings and risk limits of the chaos test.
# db SQL             rows as a|b|c from the system's database
# hs PATH            curl health-serve; sets $hs_code and $hs_body
# svc_pid SERVICE    the pid of a service (s6-svstat -p)
# (wait_for SECONDS CMD...: in helper.bash)
# until_sim EPOCH    waits until the simulated clock reaches EPOCH
# health_of SRC      the health lines of SRC in its data log, one a line
# has_fill           the exchange has a fill of the account
# wind_down          waits for a fill (trading goes on into the next hour
#   when a slow machine, ASan, filled nothing in this one), then the kill
#   switch, then waits until nothing is held (the last event settled)
# invariants         what every fault test asserts, see below
# clean_logs         no sanitizer report, no crash, in any diag log

FDB=${FDB:-sqlite}

# the simulated times the files use (2026-11-25, UTC)
T1445=1795617900        # 14:45, entries open
T1500=1795618800        # 15:00, the close
T1501=1795618860        # 15:01, settled (--settle-delay 5)

fconf() {
	local f=$BATS_TEST_TMPDIR/recio.conf kv
	SIM_PORT=$(free_port)
	HS_PORT=$(free_port)
	STATE=$BATS_TEST_TMPDIR/state
	RUN=$STATE/run
	SCAN=$RUN/scan
	mkdir -p "$STATE"
	if [ "$FDB" = pg ]; then
		[ -n "${RECIO_TEST_PG:-}" ] || { echo "RECIO_TEST_PG is not set: no PostgreSQL server (t/run starts one)" >&2; return 1; }
		DBNAME="f_$(date +%s%N)_$$"
		psql "$RECIO_TEST_PG dbname=postgres" -Xqc "CREATE DATABASE $DBNAME" >/dev/null
		FDB_URL="$RECIO_TEST_PG dbname=$DBNAME"
	else
		FDB_URL="sqlite:$STATE/recio.db"
	fi
	{
		echo "RECIO_MODE=sim"
		echo "RECIO_STATE=$STATE"
		echo "RECIO_DB=$FDB_URL"
		echo "SIM_PORT=$SIM_PORT"
		echo "HS_PORT=$HS_PORT"
		echo "SIM_SPEED=150"
		echo "SIM_ARGS=--start 2026-11-25T14:41:00Z --settle-delay 5 --vol 1.5 --rate-limit off --seed 4 ${SIM_FLAGS:-}"
		echo "BTC_TICK_ARGS=-i 0.1"
		echo "KALSHI_FETCH_ARGS=-i 0.2 -H 1"
		echo "ACCT_SYNC_ARGS=-i 0.3 -H 1"
		echo "ORDER_SEND_ARGS=-H 1"
		for kv in "$@"; do echo "$kv"; done
	} >"$f"
	chmod 600 "$f"
	export RECIO_CONF=$f SIM_URL="http://127.0.0.1:$SIM_PORT"
	export KALSHI_API_BASE="$SIM_URL/trade-api/v2" KALSHI_KEY_ID=recio-sim
	export KALSHI_KEY_FILE="$STATE/private/recio-sim.key"
	printf '%s\n' auto_entry=on auto_stop=on allow_re_entry=on min_volume=0 min_probability=80 \
		min_differential=-10 stop_probability=95 min_hold=300 verify=0 cooldown=60 >"$STATE/settings.conf"
	printf '%s\n' max_positions=100 max_per_event=10000 max_orders_per_minute=256 max_exposure=900 min_ttc=0 \
		>"$STATE/risk.conf"
}

db() {
	sql "$FDB_URL" "$1"
}

hs() {
	local out
	out=$(curl -sS -w '\n%{http_code}' "http://127.0.0.1:$HS_PORT$1")
	hs_code=${out##*$'\n'}
	hs_body=${out%$'\n'*}
}

svc_pid() {
	s6-svstat -p "$SCAN/$1"
}

sim_sec() {
	curl -sS "$SIM_URL/sim/state" | jq .sim_sec
}

sim_at() {
	[ "$(sim_sec)" -ge "$1" ]
}

until_sim() {
	wait_for "${2:-120}" sim_at "$1"
}

health_of() {
	grep -h '"type":"health"' "$RUN/log/$1/data/current" | grep "\"src\":\"$1\""
}

flat() {
	[ "$(curl -sS "$SIM_URL/sim/state" | jq '[.accounts[0].positions[]|select(.position_c100 != 0)]|length')" -eq 0 ]
}

# order-send's last health line: no order of unknown outcome left
os_settled() {
	[ "$(health_of order-send | tail -n 1 | jq .unknown_outcome)" = 0 ]
}

has_fill() {
	[ "$(kalshi-fetch GET '/portfolio/fills?limit=1' | jq '.fills | length')" -gt 0 ]
}

# A fill (the invariants need something to keep), the kill switch, then
# the next close and its settlement: nothing held, and every order's
# outcome known (a lookup that finds nothing waits 10 s
# for the exchange's read lag, see order-send(1)).
wind_down() {
	wait_for 240 has_fill
	recio kill-switch on
	wait_for 90 flat
	wait_for 60 os_settled
}

db_caught_up() {
	db 'select fill_id from fills order by 1' >"$BATS_TEST_TMPDIR/db-fills" || return 1
	db "select ticker || ' ' || (revenue_cc / 100) from settlements order by 1" | sort >"$BATS_TEST_TMPDIR/db-settlements" || return 1
	db "select client_order_id || ' ' || coalesce(order_id, '-') from orders where order_id is not null order by 1" |
		LC_ALL=C sort >"$BATS_TEST_TMPDIR/db-orders" || return 1
	cmp -s "$BATS_TEST_TMPDIR/x-fills" "$BATS_TEST_TMPDIR/db-fills" &&
		cmp -s "$BATS_TEST_TMPDIR/x-settlements" "$BATS_TEST_TMPDIR/db-settlements" &&
		cmp -s "$BATS_TEST_TMPDIR/x-orders" "$BATS_TEST_TMPDIR/db-orders"
}

trades_ended() {
	[ "$(db "select count(*) from trades where status not in ('closed','settled','canceled')")" -eq 0 ]
}

# The invariants, once nothing is held (wind_down):
# - no client_order_id twice at the exchange;
# - every fill and settlement of the exchange in the database, exactly once
#   (by key: a fill_id, a ticker with its revenue), and every order the
#   exchange has, with the exchange's order_id;
# - every trade ended, and the sum of the trades' P&L is the exchange's
#   account P&L (balance - deposits) to the centi-cent;
# - the exchange's own books add up.
# MIN_FILLS (default 1): at least that many fills, so that there was
# something to keep.
invariants() {
	local d=$BATS_TEST_TMPDIR st local_pnl x_pnl
	st=$(curl -sS "$SIM_URL/sim/state")
	[ "$(jq '[.accounts[0].positions[]|select(.position_c100 != 0)]|length' <<<"$st")" -eq 0 ]
	[ "$(jq '.accounts[0] | .balance_cc == .deposits_cc + .trade_cash_cc - .fees_cc + .revenue_cc' <<<"$st")" = true ]
	curl -sS "$SIM_URL/sim/orders" >"$d/x-sim-orders"
	[ "$(jq '[.orders[].client_order_id] | length == (unique|length)' "$d/x-sim-orders")" = true ] || {
		jq -r '.orders[].client_order_id' "$d/x-sim-orders" | sort | uniq -d
		false
	}
	jq -r '.orders[] | "\(.client_order_id) \(.order_id)"' "$d/x-sim-orders" | LC_ALL=C sort >"$d/x-orders"
	kalshi-fetch --all GET '/portfolio/fills?limit=1000' | jq -r '.fills[].fill_id' | sort >"$d/x-fills"
	kalshi-fetch --all GET '/portfolio/settlements?limit=200' | jq -r '.settlements[] | "\(.ticker) \(.revenue)"' | sort >"$d/x-settlements"
	# the exchange lists each fill once (dupfill repeats a fill in a page:
	# the same fill_id, which must not count twice)
	sort -u "$d/x-fills" -o "$d/x-fills"
	wait_for 60 db_caught_up || true
	echo "# $(wc -l <"$d/x-orders") orders, $(wc -l <"$d/x-fills") fills, $(wc -l <"$d/x-settlements") settlements" >&3
	[ "$(wc -l <"$d/x-fills")" -ge "${MIN_FILLS:-1}" ]
	diff "$d/x-fills" "$d/db-fills"
	diff "$d/x-settlements" "$d/db-settlements"
	diff "$d/x-orders" "$d/db-orders" || {
		for c in $(comm -23 "$d/x-orders" "$d/db-orders" | cut -d' ' -f1); do
			echo "-- $c: database:"; db "select status, order_id, code, message from orders where client_order_id = '$c'"
			echo "-- exchange:"; jq -c --arg c "$c" '.orders[] | select(.client_order_id == $c)' "$d/x-sim-orders"
			echo "-- order-send:"; grep -h "$c" "$RUN/log/order-send/data/current" "$RUN/log/order-send/diag/current"
		done
		false
	}
	# and no fill or settlement stored twice under another key
	[ "$(db 'select count(*) from fills')" -eq "$(wc -l <"$d/x-fills")" ]
	[ "$(db 'select count(*) from settlements')" -eq "$(wc -l <"$d/x-settlements")" ]
	wait_for 30 trades_ended
	[ "$(db "select count(*) from trades where status in ('closed','settled')")" -ge 1 ]
	local_pnl=$(db "select coalesce(sum(pnl_cc), 0) from trades where status in ('closed','settled')")
	x_pnl=$(jq '.accounts[0] | .balance_cc - .deposits_cc' <<<"$st")
	echo "# P&L: database $local_pnl cc, exchange $x_pnl cc" >&3
	[ "$local_pnl" -eq "$x_pnl" ]
}

clean_logs() {
	! grep -rE 'AddressSanitizer|runtime error:|LeakSanitizer|Segmentation|core dumped' "$RUN/log"/*/diag/
}

teardown() {
	[ -z "${RECIO_CONF:-}" ] || recio down >/dev/null 2>&1 || true
	if [ "$FDB" = pg ]; then
		# a test that stopped PostgreSQL and failed must not leave it down
		if ! psql "$RECIO_TEST_PG dbname=postgres" -Xqc 'select 1' >/dev/null 2>&1; then
			"$RECIO_TOP/t/pg" start "$RECIO_TEST_PGDIR" >/dev/null
		fi
		[ -z "${DBNAME:-}" ] || psql "$RECIO_TEST_PG dbname=postgres" -Xqc "DROP DATABASE IF EXISTS $DBNAME" >/dev/null 2>&1 || true
	fi
	return 0
}
