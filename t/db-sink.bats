#!/usr/bin/env bats
# db-sink: storage, idempotence, rejects, spool and outages.  t/run runs this
# file twice, with DBKIND=sqlite and DBKIND=pg (a real PostgreSQL server from
# t/pg, named by RECIO_TEST_PG and RECIO_TEST_PGDIR).

load helper

DBKIND=${DBKIND:-sqlite}
[ "$DBKIND" = - ] && DBKIND=sqlite

setup() {
	cd "$BATS_TEST_TMPDIR" || return
	export RECIO_SPOOL="$BATS_TEST_TMPDIR/sink.spool"
	REJECTS="$BATS_TEST_TMPDIR/sink.rejects"
	if [ "$DBKIND" = pg ]; then
		[ -n "${RECIO_TEST_PG:-}" ] || { echo "RECIO_TEST_PG is not set: no PostgreSQL server (t/run starts one)" >&2; return 1; }
		DBNAME="t_$(date +%s%N)_$$"
		psql "$RECIO_TEST_PG dbname=postgres" -Xqc "CREATE DATABASE $DBNAME" >/dev/null
		DB="$RECIO_TEST_PG dbname=$DBNAME"
		BADDB="host=$BATS_TEST_TMPDIR/nowhere user=postgres dbname=$DBNAME connect_timeout=1"
	else
		DB="sqlite:$BATS_TEST_TMPDIR/recio.db"
		BADDB="sqlite:/proc/nonexistent/recio.db"
	fi
	export RECIO_DB="$DB"
}

teardown() {
	# a PostgreSQL server process stopped to play a hung server
	[ -n "${BACKEND:-}" ] && kill -CONT "$BACKEND" 2>/dev/null
	[ -n "${SINK_PID:-}" ] && kill -9 "$SINK_PID" 2>/dev/null
	[ -n "${FEED_PID:-}" ] && kill "$FEED_PID" 2>/dev/null
	[ -n "${LOCK_PID:-}" ] && kill "$LOCK_PID" 2>/dev/null
	# a test that put the server in read-only mode and failed
	[ -n "${READ_ONLY:-}" ] && read_write
	# a test that stopped PostgreSQL and failed must not leave it down
	if [ "$DBKIND" = pg ] && ! psql "$RECIO_TEST_PG dbname=postgres" -Xqc 'select 1' >/dev/null 2>&1; then
		"$RECIO_TOP/t/pg" start "$RECIO_TEST_PGDIR" >/dev/null
	fi
	if [ "$DBKIND" = pg ] && [ -n "${DBNAME:-}" ]; then
		psql "$RECIO_TEST_PG dbname=postgres" -Xqc "DROP DATABASE IF EXISTS $DBNAME" >/dev/null 2>&1 || true
	fi
	return 0
}

# q SQL: rows as a|b|c, one per line
q() {
	sql "$DB" "$1"
}

# one line of every stored type
sample() {
	cat <<'EOF'
{"type":"tick","ts":1795617067000,"src":"rest","price":100123.45,"bid":100123.44,"ask":100123.46,"d1m":0.012,"mom_bp":2,"avg1m":100110.2,"vol30s":0.0000612}
{"type":"market","ts":1795617067000,"ticker":"KXBTCD-26NOV2510-T99999.99","event_ticker":"KXBTCD-26NOV2510","status":"active","strike":99999.99,"close_ts":1795618800000,"yes_bid":61,"yes_ask":64,"no_bid":36,"no_ask":39,"yes_bid_size":120,"yes_ask_size":85,"last":62,"volume":1450,"oi":700}
{"type":"market","ts":1795617068000,"ticker":"KXBTCD-26NOV2510-T99999.99","event_ticker":"KXBTCD-26NOV2510","status":"active","strike":99999.99,"close_ts":1795618800000,"yes_bid":62,"yes_ask":65,"no_bid":35,"no_ask":38}
{"type":"event","ts":1795618800000,"event_ticker":"KXBTCD-26NOV2511","status":"open","close_ts":1795622400000,"strikes":40,"prev_event":"KXBTCD-26NOV2510"}
{"type":"event","ts":1795618801000,"event_ticker":"KXBTCD-26NOV2510","ticker":"KXBTCD-26NOV2510-T99999.99","status":"determined","result":"yes"}
{"type":"signal","ts":1795617067000,"id":"s-5f0c2a9e","intent":"open","ticker":"KXBTCD-26NOV2510-T99999.99","side":"yes","action":"buy","count":5,"price":96,"prob":97.4,"diff":1.4,"mom_bp":2,"ttc":733,"model":"fingerprint","reason":"entry"}
{"type":"order","ts":1795617067001,"status":"intent","client_order_id":"rs-5f0c2a9e","signal_id":"s-5f0c2a9e","ticker":"KXBTCD-26NOV2510-T99999.99","side":"yes","action":"buy","count":5,"price":96}
{"type":"order","ts":1795617067002,"status":"filled","client_order_id":"rs-5f0c2a9e","signal_id":"s-5f0c2a9e","ticker":"KXBTCD-26NOV2510-T99999.99","side":"yes","action":"buy","count":5,"price":96,"order_id":"o-1","filled":5}
{"type":"order","ts":1795617067000,"status":"sent","client_order_id":"rs-5f0c2a9e","signal_id":"s-5f0c2a9e","ticker":"KXBTCD-26NOV2510-T99999.99","side":"yes","action":"buy","count":5,"price":96}
{"type":"fill","ts":1795617067100,"fill_id":"f-1","order_id":"o-1","trade_id":"t-1","ticker":"KXBTCD-26NOV2510-T99999.99","book_side":"bid","outcome_side":"yes","side":"yes","action":"buy","count":5,"yes_price_cc":9600,"fee_cc":700,"is_taker":true}
{"type":"position","ts":1795617067200,"ticker":"KXBTCD-26NOV2510-T99999.99","position":5,"exposure_cc":48000,"realized_cc":0,"fees_cc":700}
{"type":"settlement","ts":1795618830000,"key":"KXBTCD-26NOV2510-T99999.99","ticker":"KXBTCD-26NOV2510-T99999.99","event_ticker":"KXBTCD-26NOV2510","result":"yes","yes_count":5,"no_count":0,"cost_cc":48000,"revenue_cc":50000,"fee_cc":0}
{"type":"balance","ts":1795618830000,"balance_cc":1002000,"portfolio_value_cc":0}
{"type":"trade","ts":1795618830000,"key":"KXBTCD-26NOV2510-T99999.99|1795617067100","ticker":"KXBTCD-26NOV2510-T99999.99","side":"yes","status":"settled","count":5,"open_ts":1795617067100,"entry_cost_cc":48000,"exit_proceeds_cc":0,"revenue_cc":50000,"fees_cc":700,"pnl_cc":1300,"win":true}
{"type":"status","ts":1795617067000,"what":"entry","state":"PAUSED","reason":"spike","resume_ts":1795617367000}
{"type":"health","ts":1795617070000,"src":"kalshi-fetch","status":"degraded","last_ok_ts":1795617061000,"errors":3,"error":"HTTP 503"}
{"type":"strike","ts":1795617067000,"strikes":[]}
EOF
}

# N tick lines with distinct ts; prices 100000.01, 100000.02, ...
ticks() {
	awk -v n="$1" -v t0="${2:-1795600000000}" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"type\":\"tick\",\"ts\":%.0f,\"src\":\"rest\",\"price\":%d.%02d,\"mom_bp\":%d}\n",
			    t0 + i * 1000, 100000 + int(i / 100), i % 100, i % 7 - 3
	}'
}

@test "db-sink: --migrate creates the schema and is safe to run twice" {
	run db-sink --migrate
	[ "$status" -eq 0 ]
	# every NNN-name in share/sql, once whatever its dialects
	want=$(cd "$RECIO_TOP/share/sql" && printf "%s\n" * | sed -E 's/^([0-9]+-[^.]+)\..*/\1/' | sort -u)
	[[ "$output" == *"$(wc -l <<<"$want") migrations applied ($DBKIND)"* ]]
	run db-sink --migrate
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 migrations applied"* ]]
	[ "$(q 'SELECT version FROM schema_migrations ORDER BY version')" = "$want" ]
	for t in ticks market_quotes markets events signals orders fills positions settlements balances trades \
	    statuses health settings sessions users open_trades pnl_today hourly_results; do
		q "SELECT count(*) FROM $t" >/dev/null
	done
}

@test "db-sink: every type lands in its table, exactly, and a replay changes nothing" {
	sample >in
	run db-sink -r "$REJECTS" <in
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(q 'SELECT ts, src, price_cc, bid_cc, ask_cc, mom_bp FROM ticks')" = "1795617067000|rest|1001234500|1001234400|1001234600|2" ]
	[ "$(q 'SELECT count(*) FROM market_quotes')" = 2 ]
	# markets keeps the newest quote per ticker
	[ "$(q 'SELECT ts, strike_cc, yes_bid, yes_ask FROM markets')" = "1795617068000|999999900|62|65" ]
	[ "$(q 'SELECT event_ticker, strikes, prev_event FROM events WHERE status = '"'open'"'')" = "KXBTCD-26NOV2511|40|KXBTCD-26NOV2510" ]
	[ "$(q 'SELECT ticker, result FROM events WHERE status = '"'determined'"'')" = "KXBTCD-26NOV2510-T99999.99|yes" ]
	[ "$(q 'SELECT account, id, count, price, model FROM signals')" = "default|s-5f0c2a9e|5|96|fingerprint" ]
	# orders keeps the newest state: the "sent" line came last but is older
	[ "$(q 'SELECT status, order_id, filled FROM orders')" = "filled|o-1|5" ]
	[ "$(q 'SELECT fill_id, count, yes_price_cc, fee_cc, is_taker FROM fills')" = "f-1|5|9600|700|1" ]
	[ "$(q 'SELECT position, exposure_cc FROM positions')" = "5|48000" ]
	[ "$(q 'SELECT result, revenue_cc FROM settlements')" = "yes|50000" ]
	[ "$(q 'SELECT balance_cc FROM balances')" = 1002000 ]
	[ "$(q 'SELECT status, pnl_cc, win FROM trades')" = "settled|1300|1" ]
	[ "$(q 'SELECT what, state, resume_ts FROM statuses')" = "entry|PAUSED|1795617367000" ]
	[ "$(q 'SELECT src, status, error FROM health')" = "kalshi-fetch|degraded|HTTP 503" ]
	# the whole line is kept where the table has a raw column
	[ "$(q "SELECT raw FROM fills")" = "$(grep '"fill"' in)" ]
	# views
	[ "$(q 'SELECT account, trades, wins, pnl_cc FROM hourly_results')" = "default|1|1|1300" ]
	[ "$(q 'SELECT ticker, position, yes_bid FROM open_trades')" = "KXBTCD-26NOV2510-T99999.99|5|62" ]
	before=$(q 'SELECT (SELECT count(*) FROM ticks) + (SELECT count(*) FROM market_quotes) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM fills) + (SELECT count(*) FROM health) + (SELECT count(*) FROM trades) + (SELECT count(*) FROM events)')
	[ "$before" = 9 ]
	# the same lines again: nothing doubles, nothing goes back in time
	run db-sink -r "$REJECTS" <in
	[ "$status" -eq 0 ]
	[ "$(q 'SELECT (SELECT count(*) FROM ticks) + (SELECT count(*) FROM market_quotes) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM fills) + (SELECT count(*) FROM health) + (SELECT count(*) FROM trades) + (SELECT count(*) FROM events)')" = "$before" ]
	[ "$(q 'SELECT status FROM orders')" = filled ]
	[ ! -s "$REJECTS" ]
	# the spool is empty once everything is stored
	[ ! -s "$RECIO_SPOOL" ]
}

@test "db-sink: the account comes from the line, else from -a" {
	printf '%s\n' '{"type":"balance","ts":1,"balance_cc":5}' '{"type":"balance","ts":1,"balance_cc":7,"account":"alice"}' |
		db-sink -a bob
	[ "$(q 'SELECT account, balance_cc FROM balances ORDER BY account' | tr '\n' ' ')" = "alice|7 bob|5 " ]
}

@test "db-sink: malformed and unknown lines are reported with their line number, kept in the rejects file, never stored half" {
	{
		sample | head -n 1
		echo 'not json'
		echo '{"type":"tick","ts":1795617068000,"src":"rest","price":"100.5"}'
		echo '{"type":"tick","ts":1795617069000,"src":"rest","price":100.12345}'
		echo '{"type":"fill","ts":1795617069000,"fill_id":"f-9","ticker":"T"}'
		echo '{"type":"weird","ts":1}'
		echo '["type","tick"]'
		printf '{"type":"tick","ts":1795617070000,"src":"\377"}\n'
		head -c 70000 /dev/zero | tr '\0' 'x'; echo
		echo '{"type":"tick","ts":1795617071000,"src":"rest","price":100.5}'
	} >in
	run db-sink -r "$REJECTS" <in
	[ "$status" -eq 0 ]
	[[ "$output" == *"stdin line 2: not JSON"* ]]
	[[ "$output" == *'stdin line 3: tick line: field "price": not a dollar amount'* ]]
	[[ "$output" == *'stdin line 4: tick line: field "price": not a dollar amount with at most 4 decimals'* ]]
	[[ "$output" == *'stdin line 5: fill line without "count"'* ]]
	[[ "$output" == *'stdin line 6: unknown type "weird"'* ]]
	[[ "$output" == *"stdin line 7: not a JSON object"* ]]
	[[ "$output" == *"stdin line 8: not valid UTF-8"* ]]
	[[ "$output" == *"stdin line 9: longer than 65536 bytes"* ]]
	[[ "$output" == *"10 lines: 2 stored"*"7 malformed, 1 of unknown type"* ]]
	[ "$(q 'SELECT ts FROM ticks ORDER BY ts' | tr '\n' ' ')" = "1795617067000 1795617071000 " ]
	[ "$(q 'SELECT count(*) FROM fills')" = 0 ]
	[ "$(wc -l <"$REJECTS")" -eq 8 ]
	jq -se 'map(select(.line == 6))[0] | .reason == "unknown type \"weird\"" and .text == "{\"type\":\"weird\",\"ts\":1}"' "$REJECTS"
	jq -se 'map(select(.line == 8))[0] | has("text_hex")' "$REJECTS"
}

@test "db-sink: a line the database refuses goes to the rejects file with the reason; the rest of its batch is stored" {
	{
		ticks 5
		echo '{"type":"market","ts":1795617067000,"ticker":"T-1","yes_bid":150}'
		ticks 5 1795700000000
	} >in
	run db-sink -n 100 -r "$REJECTS" <in
	[ "$status" -eq 0 ]
	[[ "$output" == *"database refused a line"* ]]
	[[ "$output" == *"1 refused by the database"* ]]
	[ "$(q 'SELECT count(*) FROM ticks')" = 10 ]
	[ "$(q 'SELECT count(*) FROM market_quotes')" = 0 ]
	[ "$(wc -l <"$REJECTS")" -eq 1 ]
	jq -e '(.reason | test("check"; "i")) and (.text | test("T-1"))' "$REJECTS"
}

@test "db-sink: lines are stored within the flush interval while the input stays open" {
	mkfifo in.fifo
	exec 7<>in.fifo
	db-sink -t 100 -n 100000 <in.fifo 2>err 7>&- &
	SINK_PID=$!
	ticks 3 >&7
	for i in $(seq 1 100); do
		[ "$(q 'SELECT count(*) FROM ticks' 2>/dev/null)" = 3 ] && break
		sleep 0.05
	done
	[ "$(q 'SELECT count(*) FROM ticks')" = 3 ]
	exec 7>&-
	wait "$SINK_PID"
	SINK_PID=
}

@test "db-sink: a replay larger than the room under the spool: spool_full reported, what is spooled stored to make room, every line stored" {
	# 20,000 lines (1.3 MB) through a pipe at once into a spool on a 256 KiB
	# tmpfs (as after a restart: every data log from its start)
	mkdir -p room
	mount -t tmpfs -o size=256k tmpfs room 2>/dev/null || skip "cannot mount a tmpfs here"
	ticks 20000 | db-sink -s room/sink.spool -k 0 >out 2>err || { umount room; cat err; false; }
	umount room
	[ "$(q 'SELECT count(*) FROM ticks')" = 20000 ]
	# each time the disk was full: a health line and a diagnostic, never
	# a line lost or stored twice
	[ "$(grep -c '"status":"spool_full"' out)" -ge 1 ]
	grep -q 'room/sink.spool: write: No space left on device; storing the [0-9]* bytes spooled to make room' err
	[ "$(q 'SELECT count(DISTINCT ts) FROM ticks')" = 20000 ]
}

@test "db-sink: with the database unreachable lines wait in the spool, which survives a restart and drains in order" {
	ticks 50 >in
	# at end of input with the database down it keeps retrying: stop it
	db-sink -d "$BADDB" -r "$REJECTS" <in 2>err &
	SINK_PID=$!
	for i in $(seq 1 100); do
		[ "$(wc -l <"$RECIO_SPOOL" 2>/dev/null)" = 50 ] && break
		sleep 0.05
	done
	kill -TERM "$SINK_PID"
	wait "$SINK_PID"
	SINK_PID=
	grep -q 'database unreachable' err
	grep -q 'kept in' err
	[ "$(wc -l <"$RECIO_SPOOL")" -eq 50 ]
	# a second db-sink cannot use the spool while one holds it
	db-sink -d "$BADDB" </dev/null 2>err2 &
	SINK_PID=$!
	sleep 0.3
	run db-sink </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"in use by another db-sink"* ]]
	kill -TERM "$SINK_PID"; wait "$SINK_PID"; SINK_PID=
	# back: the spool is stored first, then the new input
	ticks 10 1795700000000 >in2
	run db-sink <in2
	[ "$status" -eq 0 ]
	[ "$(q 'SELECT count(*) FROM ticks')" = 60 ]
	[ "$(q 'SELECT min(price_cc), max(price_cc) FROM ticks WHERE ts < 1795700000000')" = "1000000100|1000005000" ]
	[ ! -s "$RECIO_SPOOL" ]
}

@test "db-sink: a line cut short in the spool by a crash is dropped, the lines before it are stored" {
	ticks 3 >"$RECIO_SPOOL"
	printf '{"type":"tick","ts":17956' >>"$RECIO_SPOOL"
	run db-sink </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"dropping 25 bytes of a line cut short"* ]]
	[ "$(q 'SELECT count(*) FROM ticks')" = 3 ]
}

@test "db-sink: the stored part of a spool that runs ahead is punched out (its blocks freed), every line stored once" {
	# 200,000 lines (15 MB) through a pipe, stored 100 a batch: one batch
	# a round while every round reads up to 64 KiB of input, so the spool
	# runs ahead for seconds; its stored part goes at the once-a-second sync.
	# A fast machine (SQLite on tmpfs) can store it all within that second:
	# then four times as many lines, after the first
	total=0 t0=1795600000000
	for n in 200000 800000; do
		ticks "$n" "$t0" | db-sink -vv -n 100 -k 0 2>err || { tail err; false; }
		total=$((total + n))
		[ "$(q 'SELECT count(*), count(DISTINCT ts) FROM ticks')" = "$total|$total" ]
		[ ! -s "$RECIO_SPOOL" ]
		! grep -q 'sink.spool: [0-9]* bytes stored, their blocks freed' err || break
		[ "$n" -lt 800000 ] || { tail err; false; }
		t0=$((t0 + n * 1000))
	done
}

@test "db-sink: an offset inside the freed part (a damaged offset file): the spool is read from the first line after the hole" {
	truncate -s 65536 "$RECIO_SPOOL"
	ticks 10 >>"$RECIO_SPOOL"
	echo 0000000000000000000 >"$RECIO_SPOOL.off"
	run db-sink </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"offset 0 is inside the part stored and freed; starting at 65536"* ]]
	[ "$(q 'SELECT count(*) FROM ticks')" = 10 ]
}

@test "db-sink: killed (SIGKILL) while the pipe holds the start of a line: the line is read whole by the next one" {
	ticks 3 >all
	mkfifo in.fifo
	exec 7<>in.fifo         # a writer that outlives the readers
	db-sink -r "$REJECTS" <in.fifo 2>err 7>&- &
	SINK_PID=$!
	{ head -n 2 all; sed -n 3p all | head -c 20; } >&7
	for i in $(seq 1 100); do
		[ "$(q 'SELECT count(*) FROM ticks')" = 2 ] && break
		sleep 0.1
	done
	sleep 0.3               # it has seen the 20 bytes
	kill -9 "$SINK_PID"
	wait "$SINK_PID" || true
	db-sink -r "$REJECTS" <in.fifo 2>>err 7>&- &
	SINK_PID=$!
	sed -n 3p all | tail -c +21 >&7
	exec 7>&-
	wait "$SINK_PID"
	SINK_PID=
	[ "$(q 'SELECT count(*) FROM ticks')" = 3 ] || { cat err; false; }
	if grep -q malformed err; then cat err; false; fi
	[ ! -e "$REJECTS" ]
}

@test "db-sink: retention deletes ticks and quotes older than -k days before the newest, keeps the rest" {
	day=86400000
	# times before the clock: one more than a day ahead would not count
	now=$(($(date +%s) * 1000))
	{
		for d in 40 35 31 29 1 0; do
			ts=$((now - d * day))
			echo "{\"type\":\"tick\",\"ts\":$ts,\"src\":\"rest\",\"price\":1.5}"
			echo "{\"type\":\"market\",\"ts\":$ts,\"ticker\":\"T\"}"
		done
		echo '{"type":"fill","ts":1000,"fill_id":"old","ticker":"T","count":1,"yes_price_cc":1,"fee_cc":0}'
	} >in
	run db-sink -k 30 <in
	[ "$status" -eq 0 ]
	[ "$(q 'SELECT count(*) FROM ticks')" = 3 ]
	[ "$(q 'SELECT count(*) FROM market_quotes')" = 3 ]
	[ "$(q 'SELECT count(*) FROM fills')" = 1 ]
}

@test "db-sink: a tick or quote far in the future (a ts in microseconds) is stored but moves no retention cutoff" {
	now=$(($(date +%s) * 1000))
	{
		for i in $(seq 0 99); do
			echo "{\"type\":\"tick\",\"ts\":$((now - i * 60000)),\"src\":\"cb\",\"price\":100000.5}"
			echo "{\"type\":\"market\",\"ticker\":\"KXBTCD-A\",\"ts\":$((now - i * 60000)),\"yes_bid\":50}"
		done
		echo "{\"type\":\"tick\",\"ts\":$((now * 1000)),\"src\":\"cb\",\"price\":100000.5}"
		echo "{\"type\":\"market\",\"ticker\":\"KXBTCD-A\",\"ts\":$((now * 1000)),\"yes_bid\":50}"
		# an hour ahead is a clock a little off: it counts
		echo "{\"type\":\"tick\",\"ts\":$((now + 3600000)),\"src\":\"cb\",\"price\":100000.5}"
	} >in
	run db-sink -k 30 -r "$REJECTS" <in
	[ "$status" -eq 0 ]
	[[ "$output" == *"stdin line 201: ts ${now}000 is more than a day ahead of the clock: stored, but retention does not count from it"* ]]
	[[ "$output" == *"2 tick and market lines with a ts more than a day ahead of the clock"* ]]
	[ "$(q 'SELECT count(*) FROM ticks')" = 102 ]
	[ "$(q 'SELECT count(*) FROM market_quotes')" = 101 ]
	[ ! -e "$REJECTS" ]
	# and so on a later start
	echo "{\"type\":\"tick\",\"ts\":$((now * 1000 + 1)),\"src\":\"cb\",\"price\":100000.5}" >in2
	run db-sink -k 30 <in2
	[ "$status" -eq 0 ]
	[ "$(q 'SELECT count(*) FROM ticks')" = 103 ]
	[ "$(q 'SELECT count(*) FROM market_quotes')" = 101 ]
}

@test "db-sink: a batch with lines the database refuses is split in halves to find them: the rest stored, few transactions" {
	# 1000 quotes, 3 of them refused (yes_bid 150), in one batch
	awk 'BEGIN { for (i = 0; i < 1000; i++)
		printf "{\"type\":\"market\",\"ts\":%.0f,\"ticker\":\"M%d\",\"yes_bid\":%d}\n", 1795600000000 + i, i % 50,
		    i == 17 || i == 500 || i == 999 ? 150 : 50 }' >in
	run db-sink -vv -n 1000 -t 3600000 -k 0 -r "$REJECTS" <in
	[ "$status" -eq 0 ]
	[[ "$output" == *"1000 lines: 997 stored"*"3 refused by the database"* ]]
	[ "$(grep -c 'database refused a line' <<<"$output")" -eq 3 ]
	[ "$(q 'SELECT count(*) FROM market_quotes')" = 997 ]
	[ "$(q 'SELECT count(*) FROM market_quotes WHERE ts IN (1795600000017, 1795600000500, 1795600000999)')" = 0 ]
	[ "$(wc -l <"$REJECTS")" -eq 3 ]
	[ "$(jq -r '.text | fromjson | .ts' "$REJECTS" | tr '\n' ' ')" = "1795600000017 1795600000500 1795600000999 " ]
	# by halves: some 2 k log2(n) transactions (k 3 refused of n 1000:
	# 60), where one per line took 1000
	txns=$(sed -n 's/.*refused batch of 1000 lines: 3 refused, found in \([0-9]*\) transactions$/\1/p' <<<"$output")
	[ -n "$txns" ] && [ "$txns" -le 60 ]
}

# hline SRC N: a health line whose error is N x's
hline() {
	printf '{"type":"health","src":"%s","ts":1,"status":"ok","error":"%s"}\n' "$1" "$(head -c "$2" /dev/zero | tr '\0' x)"
}

@test "db-sink: from a pipe, a line whose start fills the pipe's pages is read all the same (no stall)" {
	# A pipe's room is counted in pages: a write that does not fit into the
	# last page takes a new one.  The first db-sink waited for the end of
	# such a line while the writer waited for room, for ever: each case is
	# given 60 s (a stall, not a slow run, fails them).
	# C: cat writes it all at once; the first page holds line 1 and the
	# start of line 2, so taking line 1 out of the pipe frees no page
	{ hline C1 10; hline C2 70000; hline C3 10; } >in
	# shellcheck disable=SC2002 # cat: the pipe and its one write are the point
	cat in | timeout 60 db-sink -r "$REJECTS" 2>err
	grep -q 'stdin line 2: longer than 65536 bytes' err
	[ "$(wc -l <"$REJECTS")" -eq 1 ]
	# A: a 4009-byte line and a 62969-byte one in one write
	{ hline A1 3940; hline A2 62900; } >in
	# shellcheck disable=SC2002
	cat in | timeout 60 db-sink -r "$REJECTS"
	# B: 40 KB written 2100 bytes at a time (as tail -F copies a file being
	# written): a page each
	hline B 40000 >in
	dd if=in bs=2100 status=none | timeout 60 db-sink -r "$REJECTS"
	# S: 40 KB spliced 100 bytes at a time: a page each, whatever the
	# pipe's size, so its start may fill the pipe: read in parts once it
	# stops growing
	hline S 40000 >in
	python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
off, size = 0, os.fstat(fd).st_size
while off < size:
    off += os.splice(fd, 1, min(100, size - off), offset_src=off)
' in | timeout 60 db-sink -r "$REJECTS"
	[ "$(q 'SELECT src, length(error) FROM health ORDER BY src' | tr '\n' ' ')" = "A1|3940 A2|62900 B|40000 C1|10 C3|10 S|40000 " ]
	[ "$(wc -l <"$REJECTS")" -eq 1 ]
}

@test "db-sink: --db-timeout is in the usage text, and checked" {
	run db-sink -h
	[ "$status" -eq 0 ]
	[[ "$output" == *"--db-timeout MS"* ]]
	run db-sink --db-timeout -1 </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--db-timeout: not an integer in 0..3600000: -1"* ]]
}

@test "db-sink: a server that stops answering (--db-timeout) is an outage: reported, left, reconnected; SIGTERM is not held up by it" {
	[ "$DBKIND" = pg ] || skip "PostgreSQL only (SQLite has its busy timeout)"
	db-sink --migrate >/dev/null
	mkfifo in.fifo
	exec 7<>in.fifo
	db-sink --db-timeout 1000 -t 50 -k 0 -r "$REJECTS" <in.fifo 2>err 7>&- &
	SINK_PID=$!
	ticks 10 >&7
	wait_for 30 ticks_are 10
	# the server process of its connection stops, as a hung server does:
	# the connection stays open and nothing answers
	BACKEND=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'db-sink' AND datname = '$DBNAME'
	    ORDER BY backend_start DESC LIMIT 1")
	[ -n "$BACKEND" ]
	kill -STOP "$BACKEND"
	ticks 10 1795700000000 >&7
	wait_for 60 grep -q 'database: write: no answer from the server in 1000 ms; lines are kept in' err
	wait_for 60 ticks_are 20
	grep -q 'database: back after' err
	kill -CONT "$BACKEND"
	# again, and SIGTERM while it waits for the answer: it stops, the lines
	# kept in the spool for the next start
	BACKEND=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'db-sink' AND datname = '$DBNAME'
	    AND pid <> $BACKEND ORDER BY backend_start DESC LIMIT 1")
	[ -n "$BACKEND" ]
	kill -STOP "$BACKEND"
	ticks 10 1795800000000 >&7
	wait_for 30 [ -s "$RECIO_SPOOL" ]
	kill -TERM "$SINK_PID"
	wait_for 60 sink_gone
	wait "$SINK_PID"
	SINK_PID=
	kill -CONT "$BACKEND"
	BACKEND=
	grep -q 'bytes not yet stored are kept in' err
	exec 7>&-
	run db-sink </dev/null
	[ "$status" -eq 0 ]
	[ "$(q 'SELECT count(*), count(DISTINCT ts) FROM ticks')" = "30|30" ]
	[ ! -s "$RECIO_SPOOL" ]
}

# the server in read-only mode (a primary fenced in a failover) and back;
# shared by every database of the server, which this file's lock in t/run
# keeps to this file
read_only() {
	READ_ONLY=1
	psql "$RECIO_TEST_PG dbname=postgres" -Xq -c "ALTER SYSTEM SET default_transaction_read_only = on" \
		-c "SELECT pg_reload_conf()" >/dev/null
}
read_write() {
	psql "$RECIO_TEST_PG dbname=postgres" -Xq -c "SET default_transaction_read_only = off" \
		-c "ALTER SYSTEM RESET default_transaction_read_only" -c "SELECT pg_reload_conf()" >/dev/null
	READ_ONLY=
}

@test "db-sink: a database in read-only mode refuses every line alike: an outage, the lines kept, none rejected; writable again, all stored" {
	[ "$DBKIND" = pg ] || skip "PostgreSQL only (a server in read-only mode)"
	db-sink --migrate >/dev/null
	mkfifo in.fifo
	exec 7<>in.fifo
	db-sink -t 50 -k 0 -r "$REJECTS" <in.fifo 2>err 7>&- &
	SINK_PID=$!
	ticks 5 >&7
	wait_for 30 ticks_are 5
	read_only
	ticks 5 1795700000000 >&7
	# (before: each line retried alone, refused, and sent to the rejects file)
	wait_for 30 grep -q 'read-only transaction.*lines are kept in' err
	# it tries again, and a reconnect finds the schema's migrations refused
	# too: an outage still, not an exit
	sleep 1
	kill -0 "$SINK_PID"
	read_write
	wait_for 60 ticks_are 10
	[ ! -s "$REJECTS" ]
	run grep -c 'refused a line' err
	[ "$output" = 0 ]
	kill -TERM "$SINK_PID"
	wait "$SINK_PID"
	SINK_PID=
	exec 7>&-
}

ticks_are() {
	[ "$(q 'SELECT count(*) FROM ticks')" = "$1" ]
}

sink_gone() {
	! kill -0 "$SINK_PID" 2>/dev/null
}

# The outage tests: a stream of 100,000 lines at a steady pace; the database
# goes away in the middle for OUTAGE seconds (PostgreSQL: the server is
# stopped; SQLite: another process holds an exclusive lock) and comes back.
# RECIO_TEST_OUTAGE overrides the length (make check-asan shortens it).
outage_len() {
	if [ "$DBKIND" = sqlite ]; then echo 8     # well past db-sink's 2 s busy timeout
	else echo "${RECIO_TEST_OUTAGE:-30}"
	fi
}

outage_begin() {
	if [ "$DBKIND" = pg ]; then
		"$RECIO_TOP/t/pg" stop "$RECIO_TEST_PGDIR"
	else
		mkfifo lock.fifo
		sqlite3 "${DB#sqlite:}" <lock.fifo >/dev/null 2>&1 7>&- &
		LOCK_PID=$!
		exec 8>lock.fifo
		# wait for db-sink's transaction, if one is under way, rather than
		# fail "database is locked" (the CLI's default; seen under ASan)
		echo '.timeout 10000' >&8
		echo 'BEGIN EXCLUSIVE;' >&8
		echo 'INSERT INTO settings VALUES ("x", "lock", "1", 0);' >&8
	fi
}

outage_end() {
	if [ "$DBKIND" = pg ]; then
		"$RECIO_TOP/t/pg" start "$RECIO_TEST_PGDIR" >/dev/null
	else
		echo 'ROLLBACK;' >&8
		exec 8>&-
		wait "$LOCK_PID"
		LOCK_PID=
	fi
}

# feed FILE SECONDS: 40 slices at a steady pace over SECONDS into in.fifo
feed() {
	local pause
	pause=$(awk -v s="$2" 'BEGIN { printf "%.3f", s / 40 }')
	split -n l/40 "$1" slice.
	(for f in slice.*; do cat "$f"; sleep "$pause"; done >in.fifo) 7>&- &
	FEED_PID=$!
}

outage_run() {
	local kill_in_outage=$1 len
	BATS_TEST_TIMEOUT=400
	len=$(outage_len)
	cd "$BATS_TEST_TMPDIR" || return
	db-sink --migrate >/dev/null
	ticks 100000 >all
	expect=$(awk -F'"price":' '{ split($2, a, ","); gsub(/\./, "", a[1]); s += a[1] } END { printf "%.0f", s * 100 }' all)
	mkfifo in.fifo
	# the holder keeps the FIFO open, so a killed reader loses nothing to
	# SIGPIPE and the next one finds the unread data still in the pipe
	exec 7<>in.fifo
	db-sink -r "$REJECTS" <in.fifo 2>err 7>&- &
	SINK_PID=$!
	# the stream runs before, through and after the outage
	feed all $((len + 10))
	sleep 3
	outage_begin
	sleep $((len / 2))
	if [ "$kill_in_outage" = 1 ]; then
		kill -9 "$SINK_PID"
		wait "$SINK_PID" || true
		db-sink -r "$REJECTS" <in.fifo 2>>err 7>&- 8>&- &
		SINK_PID=$!
	fi
	sleep $((len - len / 2))
	outage_end
	wait "$FEED_PID"
	FEED_PID=
	exec 7>&-
	wait "$SINK_PID"
	SINK_PID=
	cat err >&2
	grep -q 'lines are kept in' err
	[ "$(q 'SELECT count(*) FROM ticks')" = 100000 ]
	[ "$(q 'SELECT count(DISTINCT ts) FROM ticks')" = 100000 ]
	[ "$(q 'SELECT sum(price_cc) FROM ticks')" = "$expect" ]
	[ ! -s "$RECIO_SPOOL" ]
	[ ! -e "$REJECTS" ]
}

@test "db-sink: outage in the middle of 100,000 lines: every line stored exactly once" {
	outage_run 0
}

@test "db-sink: outage with db-sink killed (SIGKILL) during it: every line stored exactly once" {
	outage_run 1
}
