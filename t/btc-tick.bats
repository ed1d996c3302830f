#!/usr/bin/env bats
# btc-tick: replay determinism, tick fields, REST polling of the simulator,
# stall detection and recovery, bad input.

load helper

# a day of one-second prices, a seeded random walk
day() {
	awk 'BEGIN { srand(11); p = 100000; t = 1795564800
		for (i = 0; i < 86400; i++) { p *= 1 + (rand() - 0.5) * 0.0004; printf "%d,%.2f\n", t + i, p } }'
}

@test "usage: -h exits 0, misuse exits 2" {
	run btc-tick -h
	[ "$status" -eq 0 ]
	run btc-tick --speed 2
	[ "$status" -eq 2 ]
	run btc-tick -d -5
	[ "$status" -eq 2 ]
}

@test "replay of a day of one-second prices is identical twice" {
	day >"$BATS_TEST_TMPDIR/day.csv"
	btc-tick -r "$BATS_TEST_TMPDIR/day.csv" >"$BATS_TEST_TMPDIR/a"
	btc-tick -r "$BATS_TEST_TMPDIR/day.csv" >"$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/a")" -eq 86400 ]
	last=$(tail -n 1 "$BATS_TEST_TMPDIR/a")
	[ "$(jq -r '[.type,.src]|join(" ")' <<<"$last")" = "tick replay" ]
	[ "$(jq '[has("d1m","d2m","d3m","d4m","d15m","d30m","mom_bp","avg1m","vol30s","vol5m","vol60m")]|all' <<<"$last")" = true ]
	[ "$(jq .ts <<<"$last")" -eq $(( (1795564800 + 86399) * 1000 )) ]
	# the first tick has no history: no deltas, no momentum
	[ "$(head -n 1 "$BATS_TEST_TMPDIR/a" | jq 'has("d1m") or has("mom_bp")')" = false ]
	# deltas appear exactly when their history exists
	[ "$(sed -n 60p "$BATS_TEST_TMPDIR/a" | jq 'has("d1m")')" = false ]
	[ "$(sed -n 61p "$BATS_TEST_TMPDIR/a" | jq 'has("d1m")')" = true ]
	# mom_bp is the weighted momentum in basis points
	jq -e 'select(.d30m) | (.mom_bp - ((.d1m*.30+.d2m*.25+.d3m*.20+.d4m*.15+.d15m*.05+.d30m*.05)*100 | round)) | fabs <= 1' \
		"$BATS_TEST_TMPDIR/a" >/dev/null
}

@test "replay of tick lines and candles; tick lines can be re-fed" {
	printf 'timestamp,open,high,low,close,volume\n1795564800,1,1,1,100000.00,5\n1795564860,1,1,1,100100.00,5\n' >"$BATS_TEST_TMPDIR/c.csv"
	run btc-tick -r "$BATS_TEST_TMPDIR/c.csv"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	# a candle's close is the price at the end of its minute
	[ "$(jq .ts <<<"${lines[0]}")" -eq 1795564860000 ]
	[ "$(jq .d1m <<<"${lines[1]}")" = 0.1 ]
	btc-tick -r "$BATS_TEST_TMPDIR/c.csv" | btc-tick -r - >"$BATS_TEST_TMPDIR/again"
	[ "$(jq -c '[.ts,.price,.d1m]' "$BATS_TEST_TMPDIR/again" | tail -n 1)" = '[1795564920000,100100,0.1]' ]
}

@test "bad lines are reported with their line number and skipped" {
	printf '1795564800,100000\nnot a price\n1795564801,abc\n1795564802,100001\n' >"$BATS_TEST_TMPDIR/bad.csv"
	run btc-tick -r "$BATS_TEST_TMPDIR/bad.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *"bad.csv line 2:"* ]]
	[[ "$output" == *"bad.csv line 3:"* ]]
	[ "$(grep -c '"type":"tick"' <<<"$output")" -eq 2 ]
}

@test "dedupe: at most one tick per second by default, all with -d 0" {
	awk 'BEGIN { for (i = 0; i < 20; i++) printf "{\"type\":\"tick\",\"ts\":%.0f,\"price\":%d}\n", 1795564800000 + i * 250, 100000 + i }' >"$BATS_TEST_TMPDIR/q"
	[ "$(btc-tick -r "$BATS_TEST_TMPDIR/q" | wc -l)" -eq 5 ]
	[ "$(btc-tick -d 0 -r "$BATS_TEST_TMPDIR/q" | wc -l)" -eq 20 ]
}

@test "--warmup gives momentum at once" {
	day | head -n 1900 >"$BATS_TEST_TMPDIR/warm.csv"
	day | sed -n 1901,1905p >"$BATS_TEST_TMPDIR/live.csv"
	run btc-tick -w "$BATS_TEST_TMPDIR/warm.csv" -r "$BATS_TEST_TMPDIR/live.csv"
	[ "${#lines[@]}" -eq 5 ]
	[ "$(jq 'has("d30m") and has("mom_bp")' <<<"${lines[0]}")" = true ]
}

@test "polls the simulator's ticker; a stall is reported and recovered from" {
	sim_start
	out="$BATS_TEST_TMPDIR/ticks"
	btc-tick -u "$SIM_URL/products/BTC-USD/ticker" -i 0.2 -s 1 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for i in $(seq 1 50); do grep -q '"type":"tick"' "$out" && break; sleep 0.1; done
	kill -STOP "$SIM_PID"
	for i in $(seq 1 60); do grep -q '"status":"stalled"' "$out" && break; sleep 0.1; done
	kill -CONT "$SIM_PID"
	n=$(wc -l <"$out")
	for i in $(seq 1 60); do [ "$(tail -n +"$n" "$out" | grep -c '"type":"tick"')" -gt 0 ] && break; sleep 0.1; done
	kill -TERM $pid; wait $pid
	grep -q '"status":"stalled"' "$out"
	[ "$(tail -n +"$n" "$out" | grep -c '"type":"tick"')" -gt 0 ]
	grep -q 'stalled: no new price' "$BATS_TEST_TMPDIR/err"
	[ "$(jq -r 'select(.type=="tick") | .src' "$out" | sort -u)" = rest ]
}

@test "WebSocket feeds: Coinbase's ticker channel and Kalshi's cfbenchmarks_value" {
	sim_start --speed 5
	timeout 3 btc-tick -W "ws://127.0.0.1:$SIM_PORT/ws-feed" -d 0 >"$BATS_TEST_TMPDIR/cb" || [ $? -eq 124 ]
	[ "$(jq -r 'select(.type=="tick") | .src' "$BATS_TEST_TMPDIR/cb" | sort -u)" = ws ]
	[ "$(grep -c '"type":"tick"' "$BATS_TEST_TMPDIR/cb")" -ge 5 ]
	jq -e 'select(.type=="tick") | .bid < .price and .price < .ask' "$BATS_TEST_TMPDIR/cb" >/dev/null
	KALSHI_KEY_ID=test KALSHI_KEY_FILE="$KEY_FILE" timeout 3 btc-tick -K "ws://127.0.0.1:$SIM_PORT/trade-api/ws/v2" -d 0 \
		>"$BATS_TEST_TMPDIR/cfb" || [ $? -eq 124 ]
	[ "$(jq -r 'select(.type=="tick") | .src' "$BATS_TEST_TMPDIR/cfb" | sort -u)" = cfb ]
	[ "$(grep -c '"type":"tick"' "$BATS_TEST_TMPDIR/cfb")" -ge 5 ]
	run btc-tick -K "ws://127.0.0.1:$SIM_PORT/trade-api/ws/v2"
	[ "$status" -eq 1 ]
	[[ "$output" == *"needs KALSHI_KEY_ID and KALSHI_KEY_FILE"* ]]
}

@test "WebSocket feed: a stalled socket is reported and rebuilt" {
	sim_start --speed 5
	out="$BATS_TEST_TMPDIR/ticks"
	btc-tick -W "ws://127.0.0.1:$SIM_PORT/ws-feed" -s 1 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for i in $(seq 1 50); do grep -q '"type":"tick"' "$out" && break; sleep 0.1; done
	kill -STOP "$SIM_PID"
	for i in $(seq 1 60); do grep -q '"status":"stalled"' "$out" && break; sleep 0.1; done
	kill -CONT "$SIM_PID"
	n=$(wc -l <"$out")
	for i in $(seq 1 80); do [ "$(tail -n +"$n" "$out" | grep -c '"type":"tick"')" -gt 0 ] && break; sleep 0.1; done
	kill -TERM $pid; wait $pid
	grep -q '"status":"stalled"' "$out"
	[ "$(tail -n +"$n" "$out" | grep -c '"type":"tick"')" -gt 0 ]
	[ "$(simstate | jq .counters.ws_opened)" -ge 2 ]
}
