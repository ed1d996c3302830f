#!/usr/bin/env bats
# The running system: recio up/status/down on a real s6-svscan tree in sim
# mode, and the chaos test (services killed with s6-svc -k for three
# simulated hours; nothing lost, nothing twice, P&L to the centi-cent).

load helper

# conf FILE [KEY=VALUE...]: a sim-mode configuration in the test's directory
conf() {
	local f=$1
	shift
	SIM_PORT=$(free_port)
	HS_PORT=$(free_port)
	{
		echo "RECIO_MODE=sim"
		echo "RECIO_STATE=$BATS_TEST_TMPDIR/state"
		echo "SIM_PORT=$SIM_PORT"
		echo "HS_PORT=$HS_PORT"
		for kv in "$@"; do echo "$kv"; done
	} >"$f"
	chmod 600 "$f"
	mkdir -p "$BATS_TEST_TMPDIR/state"
	export RECIO_CONF=$f SIM_URL="http://127.0.0.1:$SIM_PORT"
	export KALSHI_API_BASE="$SIM_URL/trade-api/v2" KALSHI_KEY_ID=recio-sim
	export KALSHI_KEY_FILE="$BATS_TEST_TMPDIR/state/private/recio-sim.key"
}

db() {
	sqlite3 "$BATS_TEST_TMPDIR/state/recio.db" "$1"
}

# every process that runs in the scan directory (services, loggers, their children)
in_scan() {
	local scan=$BATS_TEST_TMPDIR/state/run/scan p
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2>/dev/null) in "$scan"/*) echo "${p#/proc/} $(cat "$p/comm")" ;; esac
	done
}

# no service reported a sanitizer error (make check-asan) or a crash
clean_logs() {
	! grep -rE 'AddressSanitizer|runtime error:|LeakSanitizer' "$BATS_TEST_TMPDIR/state/run/log"/*/diag/
}

teardown() {
	[ -z "${SUP_PID:-}" ] || kill "$SUP_PID" 2>/dev/null || true
	[ -z "${RECIO_CONF:-}" ] || recio down >/dev/null 2>&1 || true
}

@test "recio: usage; a bad configuration is refused with its line" {
	run recio -h
	[ "$status" -eq 0 ]
	[[ "$output" == *"kill-switch"* ]]
	run recio frobnicate
	[ "$status" -eq 2 ]
	printf 'RECIO_MODE=sim\nNOPE=1\n' >"$BATS_TEST_TMPDIR/bad.conf"
	chmod 600 "$BATS_TEST_TMPDIR/bad.conf"
	run recio -c "$BATS_TEST_TMPDIR/bad.conf" status
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad.conf:2: unknown key NOPE"* ]]
	printf 'RECIO_MODE=prod\nKALSHI_KEY_ID=k\nKALSHI_KEY_FILE=/nonexistent\n' >"$BATS_TEST_TMPDIR/prod.conf"
	chmod 600 "$BATS_TEST_TMPDIR/prod.conf"
	run recio -c "$BATS_TEST_TMPDIR/prod.conf" up
	[ "$status" -eq 1 ]
	[[ "$output" == *"RECIO_PROD_CONFIRM"* ]]
	chmod 666 "$BATS_TEST_TMPDIR/bad.conf"
	run recio -c "$BATS_TEST_TMPDIR/bad.conf" status
	[[ "$output" == *"writable by others"* ]]
	# a path as a shell would write it is refused (it would be a file named
	# "$RECIO_STATE/KILL" in each service's directory: a kill switch nobody
	# reads); so is a run directory with a blank (FIFO lists are blank-separated)
	# shellcheck disable=SC2016 # the dollar sign is the point
	printf 'RECIO_MODE=sim\nRECIO_KILL=$RECIO_STATE/KILL\n' >"$BATS_TEST_TMPDIR/var.conf"
	chmod 600 "$BATS_TEST_TMPDIR/var.conf"
	run recio -c "$BATS_TEST_TMPDIR/var.conf" kill-switch on
	[ "$status" -eq 1 ]
	# shellcheck disable=SC2016 # the dollar sign is the point
	[[ "$output" == *'RECIO_KILL: "$RECIO_STATE/KILL": write the path out'* ]]
	printf 'RECIO_MODE=sim\nRECIO_RUN=%s/sp ace/run\n' "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/sp.conf"
	chmod 600 "$BATS_TEST_TMPDIR/sp.conf"
	run recio -c "$BATS_TEST_TMPDIR/sp.conf" status
	[ "$status" -eq 1 ]
	[[ "$output" == *"RECIO_RUN:"*"without blanks"* ]]
}

@test "wait-ready: waits for a service whose supervisor has not written its status yet, then for it to be ready" {
	# s6-svwait alone fails at once (111) on a service with no supervise/status
	local scan=$BATS_TEST_TMPDIR/scan lib=$RECIO_TOP/s6/.lib
	mkdir -p "$scan/dep" "$scan/user"
	printf '#!/bin/sh\nsleep 0.3\necho >&3\nexec sleep 30\n' >"$scan/dep/run"
	chmod +x "$scan/dep/run"
	echo 3 >"$scan/dep/notification-fd"
	(cd "$scan/user" && exec "$lib/wait-ready" dep 10000) &
	local w=$!
	sleep 0.3
	s6-supervise "$scan/dep" &
	SUP_PID=$!
	wait "$w"
	s6-svstat -o up,ready "$scan/dep" | grep -qx 'true true'
	s6-svc -xd "$scan/dep"
	wait "$SUP_PID"
	SUP_PID=
	# a service nobody supervises: it says so and fails
	run sh -c "cd '$scan/user' && exec '$lib/wait-ready' none 100"
	[ "$status" -ne 0 ]
	[[ "$output" == *"../none: not supervised after 100 ms"* ]]
}

@test "recio up: every service up and ready; within a minute ticks, quotes, signals and trades in the database; up twice starts no second tree; down leaves nothing" {
	conf "$BATS_TEST_TMPDIR/recio.conf" SIM_SPEED=60 "SIM_ARGS=--settle-delay 5" "BTC_TICK_ARGS=-i 0.1" \
		"KALSHI_FETCH_ARGS=-i 0.2" "ACCT_SYNC_ARGS=-i 0.5"
	printf 'auto_entry=on\nauto_stop=on\nmin_volume=0\n' >"$BATS_TEST_TMPDIR/state/settings.conf"
	recio up
	run recio status --json
	[ "$status" -eq 0 ]
	[ "$(grep -c '"up":true,"ready":true' <<<"$output")" -eq 8 ]
	grep -q '"service":"total"' <<<"$output"
	# a second up: the same tree
	pid=$(cat "$BATS_TEST_TMPDIR/state/run/svscan.pid")
	run recio up
	[ "$status" -eq 0 ]
	[[ "$output" == *"already up"* ]]
	[ "$(pgrep -c -f "s6-svscan $BATS_TEST_TMPDIR/state/run/scan" || true)" -eq 1 ]
	[ "$(cat "$BATS_TEST_TMPDIR/state/run/svscan.pid")" = "$pid" ]
	# the pid file lost: the running tree is found by looking, not doubled
	rm "$BATS_TEST_TMPDIR/state/run/svscan.pid"
	run recio up
	[ "$status" -eq 0 ]
	[[ "$output" == *"already up (s6-svscan $pid "* ]]
	[ "$(pgrep -c -f "s6-svscan $BATS_TEST_TMPDIR/state/run/scan" || true)" -eq 1 ]
	# within a minute (two on a slow machine: an IOC buy at a quote some
	# simulated seconds old can miss, and the entry window is 13 of the
	# hour's 60 simulated minutes): ticks, market quotes, signals and trades stored
	for i in $(seq 1 240); do
		[ "$(db 'select (select count(*) > 0 from ticks) + (select count(*) > 0 from market_quotes) +
			(select count(*) > 0 from signals) + (select count(*) > 0 from trades)' 2>/dev/null)" = 4 ] && break
		sleep 0.5
	done
	echo "$(db 'select count(*) from ticks') ticks, $(db 'select count(*) from market_quotes') quotes, $(db 'select count(*) from signals') signals, $(db 'select count(*) from trades') trades" >&3
	echo "orders by status: $(db "select group_concat(status || ' ' || n, ', ') from (select status, count(*) n from orders group by status)")" >&3
	[ "$(db 'select count(*) from trades')" -gt 0 ]
	[ "$(db 'select count(*) from signals')" -gt 0 ]
	# the dashboard's server is part of the tree: /health sees every service
	# (it asks s6 at most every 2 s: a tree up for less may not be seen yet)
	for i in $(seq 1 20); do
		h=$(curl -s "http://127.0.0.1:$HS_PORT/health")
		jq -e '(.services | length) == 8 and all(.services[]; .up) and .database.ok' <<<"$h" >/dev/null && break
		sleep 0.25
	done
	jq -e '(.services | length) == 8 and all(.services[]; .up) and .database.ok' <<<"$h" >/dev/null ||
		{ echo "/health: $h"; recio status; false; }
	# the table
	run recio status
	[ "$status" -eq 0 ]
	[ "$(grep -c ' up  *yes ' <<<"$output")" -eq 8 ]
	# the kill switch reaches order-send: its health line says halted
	recio kill-switch on
	[ "$(recio kill-switch status)" = on ]
	# restart: a new pid, up again
	old=$(recio status --json | jq -r 'select(.service=="signal-eval") | .pid')
	recio restart signal-eval
	for i in $(seq 1 50); do
		new=$(recio status --json | jq -r 'select(.service=="signal-eval") | select(.up) | .pid')
		[ -n "$new" ] && [ "$new" != "$old" ] && break
		sleep 0.1
	done
	[ "$new" != "$old" ]
	recio kill-switch off
	# down: no process, no FIFO, no lock
	recio down
	[ -z "$(in_scan)" ] || { in_scan; false; }
	! pgrep -f "s6-svscan $BATS_TEST_TMPDIR" >/dev/null || false
	[ ! -e "$BATS_TEST_TMPDIR/state/run/scan" ]
	[ ! -e "$BATS_TEST_TMPDIR/state/run/fifo" ]
	[ ! -e "$BATS_TEST_TMPDIR/state/run/svscan.pid" ]
	# and the logs stay: data (JSON lines) and diagnostics (timestamped)
	grep -q '"type":"tick"' "$BATS_TEST_TMPDIR/state/run/log/btc-tick/data/current"
	! grep -qv '^{' "$BATS_TEST_TMPDIR/state/run/log/btc-tick/data/current" || false
	run recio status
	[ "$status" -eq 3 ]
	clean_logs
}

@test "s6-svscan killed: its tree runs on, and recio up stops it before starting one (no second order-send); down too" {
	conf "$BATS_TEST_TMPDIR/recio.conf"
	recio up
	svscan=$(cat "$BATS_TEST_TMPDIR/state/run/svscan.pid")
	os=$(recio status --json | jq -r 'select(.service=="order-send") | .pid')
	[ -n "$os" ]
	kill -0 "$os"
	kill -KILL "$svscan"
	# its s6-supervise processes and their services run on without it
	sleep 0.5
	kill -0 "$os"
	[ "$(in_scan | grep -c ' s6-supervise$')" -ge 8 ]
	# (from a shell inside the tree: it is not taken for a part of it)
	run sh -c 'cd "$1" && recio up' sh "$BATS_TEST_TMPDIR/state/run/scan/order-send"
	[ "$status" -eq 0 ]
	[[ "$output" == *"without their s6-svscan (pids "*"): stopping them"* ]]
	[[ "$output" == *"up (sim mode)"* ]]
	# the old order-send has gone (down through s6, not killed), and one runs
	! kill -0 "$os" 2>/dev/null || false
	[ "$(in_scan | grep -c ' order-send$')" -eq 1 ]
	[ "$(in_scan | grep -c ' s6-svscan$')" -eq 0 ]
	[ "$(pgrep -c -f "s6-svscan $BATS_TEST_TMPDIR/state/run/scan" || true)" -eq 1 ]
	run recio status --json
	[ "$(grep -c '"up":true,"ready":true' <<<"$output")" -eq 8 ]
	# the same with down, the scan directory removed as well (no supervisor
	# to ask: TERM): the tree stopped all the same
	kill -KILL "$(cat "$BATS_TEST_TMPDIR/state/run/svscan.pid")"
	sleep 0.5
	rm -rf "$BATS_TEST_TMPDIR/state/run/scan"
	[ -n "$(in_scan)" ]
	run recio down
	[ "$status" -eq 0 ]
	[ -z "$(in_scan)" ] || { in_scan; false; }
	clean_logs
}

# hold_lock DIR: an flock on DIR held in the background (its pid in
# holder) until the file $BATS_TEST_TMPDIR/go is made; returns once held
hold_lock() {
	rm -f "$BATS_TEST_TMPDIR/held" "$BATS_TEST_TMPDIR/go"
	# shellcheck disable=SC2016 # $1: the inner shell's
	flock "$1" sh -c ': >"$1/held"; while [ ! -e "$1/go" ]; do sleep 0.1; done' sh "$BATS_TEST_TMPDIR" &
	holder=$!
	wait_for 10 test -e "$BATS_TEST_TMPDIR/held"
}

@test "recio up and down take turns: up waits while the lock is held and starts nothing meanwhile; two ups at once start one tree; the tree holds no lock" {
	conf "$BATS_TEST_TMPDIR/recio.conf"
	local run_dir=$BATS_TEST_TMPDIR/state/run up a b
	mkdir -p "$run_dir"
	# another up or down under way (its lock, held until the file "go" is made)
	hold_lock "$run_dir"
	recio up >"$BATS_TEST_TMPDIR/up.out" 2>&1 &
	up=$!
	wait_for 10 grep -q "another recio up or down on $run_dir is under way: waiting for it" "$BATS_TEST_TMPDIR/up.out"
	sleep 1
	kill -0 "$up"
	[ -z "$(in_scan)" ]
	[ "$(pgrep -c -f "s6-svscan $run_dir/scan" || true)" -eq 0 ]
	: >"$BATS_TEST_TMPDIR/go"
	wait "$holder"
	wait "$up"
	grep -q "up (sim mode)" "$BATS_TEST_TMPDIR/up.out"
	# the tree does not hold it: free once up has returned
	flock -n "$run_dir" true
	recio down
	# two at once: one tree, one order-send, and the other one says so
	recio up >"$BATS_TEST_TMPDIR/a.out" 2>&1 &
	a=$!
	recio up >"$BATS_TEST_TMPDIR/b.out" 2>&1 &
	b=$!
	wait "$a"
	wait "$b"
	[ "$(pgrep -c -f "s6-svscan $run_dir/scan" || true)" -eq 1 ]
	[ "$(in_scan | grep -c ' order-send$')" -eq 1 ]
	[ "$(cat "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out" | grep -c 'already up')" -eq 1 ]
	# a lock held too long: down gives up, says why, and leaves the tree
	hold_lock "$run_dir"
	RECIO_LOCK_WAIT=1 run recio down
	[ "$status" -eq 1 ]
	[[ "$output" == *"another recio up or down on $run_dir still holds its lock after 1 s"* ]]
	[ "$(in_scan | grep -c ' order-send$')" -eq 1 ]
	: >"$BATS_TEST_TMPDIR/go"
	wait "$holder"
	run recio down
	[ "$status" -eq 0 ]
	[ -z "$(in_scan)" ]
}

@test "chaos: services killed with s6-svc -k every few seconds for three simulated hours; all back up, no order twice, every fill and settlement stored once, P&L to the centi-cent" {
	conf "$BATS_TEST_TMPDIR/recio.conf" SIM_SPEED=180 \
		"SIM_ARGS=--start 2026-11-25T14:40:00Z --settle-delay 5 --vol 1.5 --rate-limit off --seed 4" \
		"BTC_TICK_ARGS=-i 0.1" "KALSHI_FETCH_ARGS=-i 0.2" "ACCT_SYNC_ARGS=-i 0.3"
	printf '%s\n' auto_entry=on auto_stop=on allow_re_entry=on min_volume=0 min_probability=80 \
		min_differential=-10 stop_probability=95 min_hold=300 verify=0 cooldown=60 >"$BATS_TEST_TMPDIR/state/settings.conf"
	printf '%s\n' max_positions=100 max_per_event=10000 max_orders_per_minute=256 max_exposure=900 min_ttc=0 \
		>"$BATS_TEST_TMPDIR/state/risk.conf"
	recio up
	scan=$BATS_TEST_TMPDIR/state/run/scan
	# 17:40 simulated: three hours; a random service killed every 1 to 3 s
	# (not kalshi-sim: the exchange keeps its state in memory)
	kills=0
	while [ "$(simstate | jq .sim_sec)" -lt 1795628400 ]; do
		set -- db-sink btc-tick kalshi-fetch signal-eval order-send acct-sync health-serve
		shift $((RANDOM % 7))
		s6-svc -k "$scan/$1"
		kills=$((kills + 1))
		sleep "$((1 + RANDOM % 3))"
	done
	echo "$kills kills" >&3
	# no new entries; what is held settles at 18:00
	recio kill-switch on
	for i in $(seq 1 200); do
		[ "$(simstate | jq '[.accounts[0].positions[]|select(.position_c100 != 0)]|length')" -eq 0 ] && break
		sleep 0.2
	done
	st=$(simstate)
	[ "$(jq '[.accounts[0].positions[]|select(.position_c100 != 0)]|length' <<<"$st")" -eq 0 ]
	kalshi-fetch --all GET '/portfolio/fills?limit=1000' | jq -r '.fills[].fill_id' | sort >"$BATS_TEST_TMPDIR/x-fills"
	kalshi-fetch --all GET '/portfolio/settlements?limit=200' | jq -r '.settlements[] | "\(.ticker) \(.revenue)"' | sort >"$BATS_TEST_TMPDIR/x-settlements"
	# the database catches up: every fill and settlement of the exchange, once
	for i in $(seq 1 150); do
		db 'select fill_id from fills order by 1' >"$BATS_TEST_TMPDIR/db-fills"
		db "select ticker || ' ' || (revenue_cc / 100) from settlements order by 1" | sort >"$BATS_TEST_TMPDIR/db-settlements"
		cmp -s "$BATS_TEST_TMPDIR/x-fills" "$BATS_TEST_TMPDIR/db-fills" &&
			cmp -s "$BATS_TEST_TMPDIR/x-settlements" "$BATS_TEST_TMPDIR/db-settlements" && break
		sleep 0.2
	done
	echo "$(wc -l <"$BATS_TEST_TMPDIR/x-fills") fills, $(wc -l <"$BATS_TEST_TMPDIR/x-settlements") settlements" >&3
	[ "$(wc -l <"$BATS_TEST_TMPDIR/x-fills")" -gt 0 ]
	diff "$BATS_TEST_TMPDIR/x-fills" "$BATS_TEST_TMPDIR/db-fills"
	diff "$BATS_TEST_TMPDIR/x-settlements" "$BATS_TEST_TMPDIR/db-settlements"
	# no order twice at the exchange
	[ "$(curl -sS "$SIM_URL/sim/orders" | jq '[.orders[].client_order_id] | length == (unique|length)')" = true ]
	# every trade has ended; their P&L is the account's, to the centi-cent
	for i in $(seq 1 100); do
		[ "$(db "select count(*) from trades where status not in ('closed','settled','canceled')")" -eq 0 ] && break
		sleep 0.2
	done
	[ "$(db "select count(*) from trades where status not in ('closed','settled','canceled')")" -eq 0 ]
	local_pnl=$(db "select coalesce(sum(pnl_cc), 0) from trades where status in ('closed','settled')")
	echo "P&L: database $local_pnl cc, exchange $(jq '.accounts[0] | .balance_cc - .deposits_cc' <<<"$st") cc" >&3
	[ "$local_pnl" -eq "$(jq '.accounts[0] | .balance_cc - .deposits_cc' <<<"$st")" ]
	# and every service is up again
	sleep 2
	[ "$(recio status --json | grep -c '"up":true')" -eq 8 ]
	clean_logs
}
