#!/usr/bin/env bats
# kalshi-fetch against kalshi-sim: one-shot calls, pagination, errors, the
# key file rule, the ladder stream across a roll-over, faults, recovery.

load helper

fetch_env() {
	export KALSHI_API_BASE="$SIM_URL/trade-api/v2" KALSHI_KEY_ID=test KALSHI_KEY_FILE="$KEY_FILE"
}

# wait_for FILE JQ-FILTER [TRIES]: until some line of FILE matches
wait_for() {
	local i
	for i in $(seq 1 "${3:-100}"); do
		jq -e -c "select($2)" "$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	echo "timed out waiting for $2 in $1" >&2
	return 1
}

@test "usage: -h exits 0, misuse exits 2" {
	run kalshi-fetch -h
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run kalshi-fetch GET
	[ "$status" -eq 2 ]
	run kalshi-fetch FETCH /x
	[ "$status" -eq 2 ]
	run kalshi-fetch --demo --prod
	[ "$status" -eq 2 ]
}

@test "one-shot GET, signed, prints the body" {
	sim_start
	fetch_env
	run kalshi-fetch GET /portfolio/balance
	[ "$status" -eq 0 ]
	[ "$(jq .balance <<<"$output")" -eq 100000 ]
	run kalshi-fetch GET '/markets?series_ticker=KXBTCD&status=open&limit=3'
	[ "$(jq '.markets|length' <<<"$output")" -eq 3 ]
	[ -n "$(jq -r .cursor <<<"$output")" ]
}

@test "--all follows cursors and merges the pages" {
	sim_start
	fetch_env
	run kalshi-fetch --all GET '/markets?series_ticker=KXBTCD&status=open&limit=7'
	[ "$status" -eq 0 ]
	[ "$(jq '.markets|length' <<<"$output")" -eq 40 ]
	[ "$(jq '[.markets[].ticker]|unique|length' <<<"$output")" -eq 40 ]
	[ "$(jq -r .cursor <<<"$output")" = "" ]
}

@test "POST a V2 order from stdin, DELETE it; the V1 path exits 1 with Kalshi's code" {
	sim_start
	fetch_env
	t=$(kalshi-fetch GET '/markets?status=open' | jq -r '.markets[20].ticker')
	run kalshi-fetch POST /portfolio/events/orders <<<"{\"ticker\":\"$t\",\"side\":\"bid\",\"price\":\"0.01\",\"count\":\"2\",\"time_in_force\":\"good_till_canceled\",\"self_trade_prevention_type\":\"taker_at_cross\",\"client_order_id\":\"kf-1\"}"
	[ "$status" -eq 0 ]
	id=$(jq -r .order_id <<<"$output")
	run kalshi-fetch DELETE "/portfolio/events/orders/$id"
	[ "$status" -eq 0 ]
	[ "$(jq -r .reduced_by <<<"$output")" = 2.00 ]
	run kalshi-fetch POST /portfolio/orders <<<'{"ticker":"x"}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"HTTP 410"*deprecated_v1_order_endpoint* ]]
	run kalshi-fetch GET /markets/NO-SUCH-MARKET
	[ "$status" -eq 1 ]
	[[ "$output" == "kalshi-fetch: GET /markets/NO-SUCH-MARKET: HTTP 404: not_found: market not found" ]]
}

@test "a key file readable by others is refused" {
	sim_start
	fetch_env
	cp "$KEY_FILE" "$BATS_TEST_TMPDIR/open.key"
	chmod 644 "$BATS_TEST_TMPDIR/open.key"
	KALSHI_KEY_FILE="$BATS_TEST_TMPDIR/open.key" run kalshi-fetch GET /portfolio/balance
	[ "$status" -eq 1 ]
	[[ "$output" == *open.key*0644* ]]
	KALSHI_KEY_FILE="$BATS_TEST_TMPDIR/open.key" run kalshi-fetch -n
	[ "$status" -eq 1 ]
	run kalshi-fetch -n
	[ "$status" -eq 0 ]
	[[ "$output" == "configuration OK"*signed* ]]
}

@test "stream: the whole ladder, then changes, an event roll-over and the results" {
	sim_start --start 2026-11-25T14:59:40Z --speed 20 --settle-delay 10
	fetch_env
	out="$BATS_TEST_TMPDIR/stream"
	kalshi-fetch -i 0.1 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for "$out" '.type=="event" and .status=="open" and .prev_event=="KXBTCD-26NOV2510"' 100
	wait_for "$out" '.type=="event" and .status=="determined" and .event_ticker=="KXBTCD-26NOV2510"' 100
	kill -TERM $pid; wait $pid
	first=$(head -n 1 "$out")
	[ "$(jq -r .type <<<"$first")" = event ]
	[ "$(jq -r .event_ticker <<<"$first")" = KXBTCD-26NOV2510 ]
	[ "$(jq .strikes <<<"$first")" -eq 40 ]
	# the first poll is the whole ladder, 40 market lines with cents and counts
	[ "$(sed -n 2,41p "$out" | jq -r .type | sort -u)" = market ]
	[ "$(sed -n 2,41p "$out" | jq -r .ticker | sort -u | wc -l)" -eq 40 ]
	m=$(sed -n 21p "$out")
	[ "$(jq '[.yes_bid,.yes_ask,.volume,.close_ts,.strike]|map(type)|unique' -c <<<"$m")" = '["number"]' ]
	[ "$(jq '.yes_ask + .no_bid' <<<"$m")" -eq 100 ]
	# every determined market says its result, and closed came before determined
	jq -c 'select(.type=="event" and .ticker != null)' "$out" >"$BATS_TEST_TMPDIR/st"
	[ "$(jq -r 'select(.status=="closed") | .ticker' "$BATS_TEST_TMPDIR/st" | wc -l)" -eq 40 ]
	[ "$(jq -r 'select(.status=="determined") | .result' "$BATS_TEST_TMPDIR/st" | grep -c -E '^(yes|no)$')" -eq 40 ]
	# the new event's ladder follows
	[ "$(jq -r 'select(.type=="market") | .event_ticker' "$out" | sort -u | wc -l)" -eq 2 ]
	[ "$(jq -r 'select(.type=="health") | .status' "$out" | sort -u)" = ok ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "429 faults: reads are retried with back-off; a bound gives up with a clear error" {
	sim_start --faults 429=0.3
	fetch_env
	for i in 1 2 3 4 5; do
		run kalshi-fetch GET /exchange/status
		[ "$status" -eq 0 ]
	done
	[ "$(simstate | jq .counters.rate_limited)" -gt 0 ]
	sim_stop
	sim_start --faults 429=1
	fetch_env
	run kalshi-fetch GET /exchange/status
	[ "$status" -eq 1 ]
	[[ "$output" == *"HTTP 429"*too_many_requests* ]]
	# 1 + 5 retries
	[ "$(simstate | jq .counters.rate_limited)" -eq 6 ]
}

@test "stream survives the simulator being killed and restarted" {
	sim_start
	fetch_env
	port=$SIM_PORT
	out="$BATS_TEST_TMPDIR/stream"
	kalshi-fetch -i 0.2 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for "$out" '.type=="market"'
	kill -KILL "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=
	wait_for "$out" '.type=="health" and .status=="degraded"' 100
	n=$(wc -l <"$out")
	kalshi-sim -p "$port" -k "$KEYDIR" 2>/dev/null &
	SIM_PID=$!
	for i in $(seq 1 150); do
		[ "$(tail -n +"$n" "$out" | jq -c 'select(.type=="health" and .status=="ok")' | wc -l)" -gt 0 ] && break
		sleep 0.1
	done
	kill -TERM $pid; wait $pid
	tail -n +"$n" "$out" | jq -e -c 'select(.type=="health" and .status=="ok")' >/dev/null
	grep -q 'in a row' "$BATS_TEST_TMPDIR/err"
}

@test "--doctor checks every endpoint, the clock and the key" {
	sim_start
	fetch_env
	run kalshi-fetch --doctor
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c ' pass ' <<<"$output")" -ge 12 ]
	! grep -q ' FAIL ' <<<"$output" || false
	KALSHI_KEY_ID=other run kalshi-fetch --doctor
	[ "$status" -eq 1 ]
	grep -q '^signature + balance *FAIL.*401' <<<"$output"
}

@test "-w: quotes over the WebSocket ticker channel, signed, resubscribed after a drop" {
	sim_start --speed 5 --ws-ping 200
	fetch_env
	out="$BATS_TEST_TMPDIR/stream"
	kalshi-fetch -w --ws-poll 60 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for i in $(seq 1 50); do [ "$(simstate | jq .counters.ws_subscribes)" -ge 1 ] && break; sleep 0.1; done
	sleep 1
	n1=$(grep -c '"type":"market"' "$out")
	# one REST read of the ladder (40 lines), the rest came over the socket
	[ "$n1" -gt 40 ]
	[ "$(simstate | jq .counters.ws_pongs)" -gt 0 ]          # pings answered
	curl -sS -X POST "$SIM_URL/sim/ws/drop" >/dev/null
	for i in $(seq 1 50); do [ "$(simstate | jq .counters.ws_subscribes)" -ge 2 ] && break; sleep 0.1; done
	[ "$(simstate | jq .counters.ws_subscribes)" -ge 2 ]    # reconnected and subscribed again
	sleep 1
	kill -TERM $pid; wait $pid
	[ "$(grep -c '"type":"market"' "$out")" -gt "$n1" ]
	grep -q 'polling until it is back' "$BATS_TEST_TMPDIR/err"
	# quotes from the socket are the market lines' cents
	[ "$(jq -c 'select(.type=="market") | (.yes_ask + .no_bid)' "$out" | sort -u)" = 100 ]
}

@test "-w: with no socket the ladder still streams by polling" {
	sim_start
	fetch_env
	out="$BATS_TEST_TMPDIR/stream"
	kalshi-fetch -w --ws-url ws://127.0.0.1:1/trade-api/ws/v2 -i 0.2 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	sleep 2
	kill -TERM $pid; wait $pid
	[ "$(grep -c '"type":"market"' "$out")" -ge 40 ]
	grep -q 'socket: .*polling until it is back' "$BATS_TEST_TMPDIR/err"
	[ "$(simstate | jq .counters.requests)" -ge 5 ]         # REST at -i while the socket is down
}

@test "the simulator's socket refuses an Origin header (403) and an unsigned upgrade (401)" {
	sim_start
	up=(-H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==")
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${up[@]}" -H 'Origin: http://example' "$SIM_URL/trade-api/ws/v2")" = 403 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${up[@]}" "$SIM_URL/trade-api/ws/v2")" = 401 ]
}

@test "a ladder of 200 strikes: bodies take more tokens than an NDJSON line may hold" {
	sim_start --strikes 200
	fetch_env
	run kalshi-fetch --all GET '/markets?series_ticker=KXBTCD&status=open&limit=1000'
	[ "$status" -eq 0 ]
	[ "$(jq '.markets|length' <<<"$output")" -eq 200 ]
	out="$BATS_TEST_TMPDIR/stream"
	kalshi-fetch -i 0.2 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for "$out" '.type=="event" and .status=="open" and .strikes==200' 100
	for i in $(seq 1 100); do
		[ "$(jq -r 'select(.type=="market") | .ticker' "$out" | sort -u | wc -l)" -eq 200 ] && break
		sleep 0.1
	done
	kill -TERM $pid; wait $pid
	[ "$(jq -r 'select(.type=="market") | .ticker' "$out" | sort -u | wc -l)" -eq 200 ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "stream: an exchange that stops answering: a health line on time, SIGTERM acted on at once" {
	sim_start --rate-limit off
	fetch_env
	out="$BATS_TEST_TMPDIR/stream"
	kalshi-fetch -i 0.5 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_for "$out" '.type=="market"'
	kill -STOP "$SIM_PID"
	n=$(wc -l <"$out")
	# (before: one poll was 6 attempts x 10 s: no line for over a minute)
	for i in $(seq 1 150); do
		tail -n +"$((n + 1))" "$out" | jq -c 'select(.type=="health" and (.status=="stalled" or .status=="degraded"))' \
		    2>/dev/null | grep -q . && break
		sleep 0.1
	done
	kill -TERM $pid
	for i in $(seq 1 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	if kill -0 $pid 2>/dev/null; then kill -CONT "$SIM_PID"; wait $pid; echo "SIGTERM not acted on within 5 s"; false; fi
	wait $pid
	kill -CONT "$SIM_PID"
	tail -n +"$((n + 1))" "$out" | jq -c 'select(.type=="health" and (.status=="stalled" or .status=="degraded"))' | grep -q .
}

@test "a POST whose reply is lost: outcome unknown, exit 3, never 'rejected'" {
	sim_start --faults lost=1 --rate-limit off
	fetch_env
	t=$(KALSHI_KEY_ID='' KALSHI_KEY_FILE='' kalshi-fetch GET '/markets?status=open&limit=40' | jq -r '.markets[20].ticker')
	run kalshi-fetch POST /portfolio/events/orders <<<"{\"ticker\":\"$t\",\"side\":\"bid\",\"price\":\"0.01\",\"count\":\"1\",\"time_in_force\":\"good_till_canceled\",\"self_trade_prevention_type\":\"taker_at_cross\",\"client_order_id\":\"kf-lost-1\"}"
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == "kalshi-fetch: POST /portfolio/events/orders: outcome unknown: "*"list /portfolio/orders"* ]]
	# the order is there: the message told the truth
	[ "$(curl -sS "$SIM_URL/sim/orders" | jq "[.orders[]? | select(.ticker==\"$t\")] | length")" -eq 1 ]
}

@test "--all cut short by SIGTERM prints nothing and exits 1" {
	sim_start --faults slow=1:700 --rate-limit off
	fetch_env
	kalshi-fetch --all GET '/markets?series_ticker=KXBTCD&status=open&limit=5' >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	sleep 1.5               # 8 pages of 0.7 s: a third of the way
	kill -TERM $pid
	rc=0; wait $pid || rc=$?
	cat "$BATS_TEST_TMPDIR/err"
	[ "$rc" -eq 1 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	grep -q 'interrupted.*nothing printed' "$BATS_TEST_TMPDIR/err"
}

@test "-w: a socket that goes silent is closed and REST polls at -i; the health line says so" {
	sim_start --rate-limit off --ws-ping 200
	fetch_env
	out="$BATS_TEST_TMPDIR/stream"
	kalshi-fetch -w --ws-poll 60 -i 0.5 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for i in $(seq 1 50); do [ "$(simstate | jq .counters.ws_subscribes)" -ge 1 ] && break; sleep 0.1; done
	wait_for "$out" '.type=="health" and .socket=="open"' 50
	kill -STOP "$SIM_PID"           # the socket goes silent, its connection stays up
	n=$(wc -l <"$out")
	# 25 s without a message (2.5 of Kalshi's 10 s pings): stalled
	for i in $(seq 1 450); do grep -q 'socket: no message for' "$BATS_TEST_TMPDIR/err" && break; sleep 0.1; done
	sleep 1.5
	kill -TERM $pid
	kill -CONT "$SIM_PID"
	wait $pid
	cat "$BATS_TEST_TMPDIR/err"
	grep -q 'socket: no message for 2[5-9] s: stalled; closing it, polling every 0.5 s' "$BATS_TEST_TMPDIR/err"
	tail -n +"$((n + 1))" "$out" | jq -c 'select(.type=="health" and .status=="degraded" and (.socket=="stalled" or .socket=="down"))' |
	    grep -q .
}
