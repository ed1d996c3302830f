#!/usr/bin/env bats
# The BTC feed stalls and jumps (issue 9).  kalshi-sim's POST /sim/feed
# stalls only the feed (the ticker stands still: same price, same time;
# the exchange goes on) and makes the price jump.  btc-tick reports the
# stall, /health answers 503 while the feed is stale and 200 after,
# signal-eval sends nothing on a stale feed (it decides on ticks only),
# after a jump every order keeps to the risk limits, and the invariants hold.

load helper
load fault

feed() {
	curl -sS -X POST -d "$1" "$SIM_URL/sim/feed"
}

btc_tick_says() {
	[ "$(health_of btc-tick | tail -n 1 | jq -r .status)" = "$1" ]
}

health_is() {
	hs /health
	[ "$hs_code" = "$1" ]
}

count_of() {        # count_of SERVICE TYPE: lines of TYPE in its data log
	grep -c "\"type\":\"$2\"" "$RUN/log/$1/data/current" || true
}

sent_orders() {
	grep -c '"status":"sent"' "$RUN/log/order-send/data/current" || true
}

more_than() {       # more_than N CMD...: CMD's number is above N
	local n=$1
	shift
	[ "$("$@")" -gt "$n" ]
}

# signal-eval's status lines: entry paused (a momentum spike)
paused_lines() {
	grep '"type":"status"' "$RUN/log/signal-eval/data/current" | grep -c '"what":"entry","state":"PAUSED"' || true
}

@test "the feed stalls: btc-tick says stalled, /health 503 then 200, no signal on a stale feed; the price jumps: orders keep to the risk limits; invariants" {
	fconf "BTC_TICK_ARGS=-i 0.1 -s 1 -H 1" "HEALTH_SERVE_ARGS=--stale 2"
	# entries of 3 contracts, at most 4 held in a market, no buy above 95
	# cents; the spike pause (a jump is a spike) lasts a minute
	printf '%s\n' position_size=3 spike_cooldown=1 >>"$STATE/settings.conf"
	printf '%s\n' max_positions=100 max_per_event=10000 max_orders_per_minute=256 max_exposure=900 min_ttc=0 \
		max_per_market=4 max_price=95 >"$STATE/risk.conf"
	recio up
	wait_for 120 more_than 0 sent_orders
	wait_for 10 health_is 200

	# the price jumps 2 %: signal-eval pauses entries for the spike
	jump_sec=$(sim_sec)
	paused=$(paused_lines)
	feed '{"jump_pct":2}' | jq -e .price
	wait_for 20 more_than "$paused" paused_lines

	# the feed stalls (the exchange goes on)
	feed '{"stall_ms":600000}' | jq -e '.stalled == true'
	wait_for 20 btc_tick_says stalled
	health_of btc-tick | tail -n 1 | jq -e '.last_tick_ts > 0'
	# (the diagnostics go through their own logger: a moment after the data line)
	wait_for 10 grep -q 'stalled: no new price' "$RUN/log/btc-tick/diag/current"
	wait_for 20 health_is 503
	jq -e '.feed.tick_age_ms >= 2000 and .database.ok and all(.services[]; .up)' <<<"$hs_body"
	# nothing from signal-eval while the feed is stale, though the ladder
	# keeps coming and the clock runs
	signals=$(count_of signal-eval signal) ticks=$(count_of btc-tick tick) markets=$(count_of kalshi-fetch market)
	sec=$(sim_sec)
	wait_for 30 more_than $((markets + 40)) count_of kalshi-fetch market
	wait_for 30 sim_at $((sec + 120))
	[ "$(count_of btc-tick tick)" -eq "$ticks" ]
	[ "$(count_of signal-eval signal)" -eq "$signals" ]
	# the feed is back: ticks, btc-tick says ok, /health 200
	feed '{"stall_ms":0}' | jq -e '.stalled == false'
	wait_for 20 btc_tick_says ok
	wait_for 20 health_is 200
	wait_for 10 more_than "$ticks" count_of btc-tick tick

	until_sim "$T1501"
	wind_down
	invariants
	# after the jump every order kept to the limits: at the exchange no
	# market ever held more than 4 contracts, no buy above 95 cents
	kalshi-fetch --all GET '/portfolio/fills?limit=1000' |
		jq -s '[.[].fills[]] | unique_by(.fill_id) | sort_by(.ts, .fill_id)' >"$BATS_TEST_TMPDIR/fills.json"
	# (the position in YES contracts: a bid buys YES or sells NO, an ask the opposite)
	jq -c '[group_by(.ticker)[] | [foreach .[] as $f (0; . + (if $f.book_side == "bid" then 1 else -1 end) *
		($f.count_fp | tonumber); if . < 0 then -. else . end)] | max]' "$BATS_TEST_TMPDIR/fills.json" >"$BATS_TEST_TMPDIR/held"
	echo "# most held per market: $(cat "$BATS_TEST_TMPDIR/held")" >&3
	jq -e 'length > 0 and any(. >= 3) and all(. <= 4)' "$BATS_TEST_TMPDIR/held"
	grep '"type":"order"' "$RUN/log/order-send/data/current" |
		jq -s -e '[.[] | select(.status == "sent" and .action == "buy")] | length > 0 and all(.price <= 95)'
	echo "# after the jump: $(grep '"type":"order"' "$RUN/log/order-send/data/current" | jq -s --argjson t "$((jump_sec * 1000))" \
		'[.[] | select(.ts >= $t and .status == "sent")] | length') orders sent, refusals by rule: $(health_of order-send | tail -n 1 | jq -c '.refused_by_rule | with_entries(select(.value > 0))')" >&3
	clean_logs
}
