#!/usr/bin/env bats
# Faults at the exchange (issue 9): the whole system on a kalshi-sim that
# answers 429, 500/503, slowly, not at all, loses the reply of an accepted
# order, answers {} to an accepted order, hides new orders for a while and
# lists fills twice.  Nothing is sent twice, nothing is lost, the P&L is the
# exchange's to the centi-cent, and the faults are reported.

load helper
load fault

# order-send's last health line: N sends of unknown outcome, none left
os_health_says() {
	[ "$(health_of order-send | tail -n 1 | jq -c '[.unknown_total, .unknown_outcome, .status]')" = "[$1,0,\"halted\"]" ]
}

# every kind of fault has happened at least once (the simulator's counters)
all_faults_seen() {
	curl -sS "$SIM_URL/sim/state" | jq -e '.counters | [.rate_limited, .fault_5xx, .fault_drop, .fault_lost,
		.fault_empty, .fault_dupfill, .fault_slow] | all(. > 0)' >/dev/null
}

@test "exchange faults at high rates: no order twice, every fill/settlement/order stored once, P&L to the centi-cent; reported in health lines, the database and /health" {
	# the spike pause is off: under faults momentum comes in jumps (see e2e.bats)
	SIM_FLAGS="--faults 429=0.15,5xx=0.15,slow=0.05:300,drop=0.1,lost=0.2,empty=0.15,lag=0.2:2,dupfill=0.2" fconf
	printf 'spike_threshold=10000\n' >>"$STATE/settings.conf"
	recio up
	until_sim "$T1501"
	# the faults are drawn at random: a slow machine (ASan) places fewer
	# orders in the hour, so trading goes on into the next one until every
	# kind has happened
	wait_for 240 all_faults_seen
	wind_down
	st=$(curl -sS "$SIM_URL/sim/state")
	echo "# faults: $(jq -c .counters <<<"$st")" >&3
	# the faults happened, each kind
	for k in rate_limited fault_5xx fault_drop fault_lost fault_empty fault_dupfill fault_slow; do
		[ "$(jq ".counters.$k" <<<"$st")" -gt 0 ] || { echo "no $k"; false; }
	done

	invariants

	# order-send: replies lost or empty made orders of unknown outcome,
	# each looked up (an "error" line, then its outcome), none left unknown
	os=$RUN/log/order-send/data/current
	nerr=$(grep '"type":"order"' "$os" | grep -c '"status":"error"')
	echo "# order-send: $nerr orders of unknown outcome" >&3
	[ "$nerr" -gt 0 ]
	grep '"type":"order"' "$os" | jq -r 'select(.status=="error") | .client_order_id' | sort -u >"$BATS_TEST_TMPDIR/unknown"
	grep '"type":"order"' "$os" | jq -r 'select(.status!="error" and .status!="intent" and .status!="sent") | .client_order_id' |
		sort -u >"$BATS_TEST_TMPDIR/known"
	for c in $(comm -23 "$BATS_TEST_TMPDIR/unknown" "$BATS_TEST_TMPDIR/known"); do
		echo "outcome never known: $c"; grep "$c" "$os" "$RUN/log/order-send/diag/current"; false
	done
	# its health lines count them (unknown_total: each send whose outcome
	# was unknown) and end with none unknown now
	wait_for 10 os_health_says "$nerr"
	# kalshi-fetch and acct-sync counted the requests their retries hid;
	# the counts only grow (in the periodic lines: acct-sync's lines about
	# one market's position, mismatch and agreeing again, carry no count)
	for src in kalshi-fetch acct-sync; do
		health_of $src | jq -s -e 'map(select(has("retries")).retries) | (.[-1] > 0) and (. == sort)' >/dev/null ||
			{ echo "$src: retries not reported"; health_of $src | tail -n 2; tail -n 40 "$RUN/log/$src/diag/current"; false; }
	done
	echo "# retries: kalshi-fetch $(health_of kalshi-fetch | tail -n 1 | jq .retries), acct-sync $(health_of acct-sync | tail -n 1 | jq .retries)" >&3
	# and they are in the database
	for src in kalshi-fetch acct-sync; do
		[ "$(db "select max(cast(json_extract(raw, '\$.retries') as integer)) from health where src='$src'")" -gt 0 ]
	done
	[ "$(db "select max(cast(json_extract(raw, '\$.unknown_total') as integer)) from health where src='order-send'")" -eq "$nerr" ]
	[ "$(db "select count(*) from orders where status='error'")" -eq 0 ]    # every outcome became known
	# /health: every service up, the database there, no market disagreeing
	hs /health
	[ "$hs_code" = 200 ] || { echo "/health $hs_code: $hs_body"; false; }
	jq -e '(.services | length) == 8 and all(.services[]; .up) and .database.ok and (.mismatches | length) == 0' <<<"$hs_body"
	# /metrics counts the unknown outcomes by order status
	curl -sS "http://127.0.0.1:$HS_PORT/metrics" | grep -E '^recio_orders_total\{status="error"\} [1-9]'
	clean_logs
}
