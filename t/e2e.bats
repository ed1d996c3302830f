#!/usr/bin/env bats
# The trading path end to end on the simulator: btc-tick and kalshi-fetch
# into signal-eval into order-send, acct-sync beside them, for three
# simulated hours; then every trade's P&L and the total must equal the
# exchange's own account to the centi-cent.

load helper

# three_hours [KINDS] [kalshi-sim options]: KINDS "all" also requires a
# stopped and a settled trade (the plain run); "any" one trade at least.
# SE_EXTRA: more signal-eval options.
three_hours() {
	local kinds=$1
	shift
	sim_start --start 2026-11-25T14:40:00Z --speed 600 --vol 1.5 --settle-delay 5 --rate-limit off --seed 4 "$@"
	export KALSHI_API_BASE="$SIM_URL/trade-api/v2" KALSHI_KEY_ID=test KALSHI_KEY_FILE="$KEY_FILE"
	export RECIO_KILL="$BATS_TEST_TMPDIR/KILL" RECIO_JOURNAL="$BATS_TEST_TMPDIR/journal"
	d=$BATS_TEST_TMPDIR
	# order-send's lines go back into signal-eval through a FIFO, so that
	# it knows what is pending, open and closed.  A stop needs 300 s held:
	# entries late in the hour settle, early ones below 95 % are stopped.
	mkfifo "$d/feedback"
	setsid sh -c "
		{ btc-tick -u '$SIM_URL/products/BTC-USD/ticker' -i 0.05 & kalshi-fetch -i 0.05 & cat '$d/feedback' & wait; } |
		signal-eval -s auto_entry=on -s auto_stop=on -s allow_re_entry=on -s min_volume=0 \
			-s min_probability=80 -s min_differential=-10 -s stop_probability=95 -s min_hold=300 -s verify=0 \
			-s cooldown=60 -s fingerprints='$RECIO_TOP/share/fingerprints/btc' ${SE_EXTRA:-} |
		order-send -s max_positions=100 -s max_per_event=10000 -s max_orders_per_minute=256 -s max_exposure=900 \
			-s min_ttc=0 2>'$d/order-send.err' | tee '$d/orders' >'$d/feedback'
	" 2>"$d/pipeline.err" &
	pipe=$!
	acct-sync -i 0.3 >"$d/acct" 2>"$d/acct.err" &
	acct=$!
	# 17:40 simulated: three hours of trading, and on until the exchange
	# holds a fill (at most to 20:40): faults drawn at random can leave three
	# hours without one (a fresh-root run: 58 orders sent, none filled).
	# KINDS "all" goes on (as far) until a stop has filled and a position
	# has been settled too: the quotes move with real time, and fresh-root
	# runs' three hours held only trades that settled (one) or only one
	# trade, stopped (another, under ASan: 13 orders, 11 of them canceled).
	for i in $(seq 1 800); do
		st=$(simstate)
		sec=$(jq .sim_sec <<<"$st")
		if [ "$sec" -ge 1795639200 ] || { [ "$sec" -ge 1795628400 ] && [ "$(jq '.accounts[0].fills' <<<"$st")" -gt 0 ] &&
			{ [ "$kinds" != all ] || { [ "$(jq '.accounts[0].settlements' <<<"$st")" -gt 0 ] &&
				jq -e 'select(.type=="order" and .action=="sell" and .filled > 0)' "$d/orders" >/dev/null 2>&1; }; }; }; then
			break
		fi
		sleep 0.1
	done
	kill -TERM -- -"$pipe" 2>/dev/null || true
	wait "$pipe" 2>/dev/null || true
	# past the 18:00 settlement: nothing held any more
	for i in $(seq 1 100); do
		[ "$(simstate | jq '[.accounts[0].positions[]|select(.position_c100 != 0)]|length')" -eq 0 ] && break
		sleep 0.1
	done
	kill -TERM "$acct"; wait "$acct"

	st=$(simstate)
	[ "$(jq '[.accounts[0].positions[]|select(.position_c100 != 0)]|length' <<<"$st")" -eq 0 ]
	# the account from scratch: every trade from the exchange's fills and settlements
	acct-sync --once >"$d/final"
	grep -v 'btc-tick: GET' "$d/pipeline.err" "$d/order-send.err" | head -5 >&3
	echo "orders: $(jq -r 'select(.type=="order") | .status' "$d/orders" | sort | uniq -c | tr '\n' ' ')" >&3
	# a trade line per state change: the last one of each key is the trade
	jq -c -s 'reduce (.[]|select(.type=="trade")) as $t ({}; .[$t.key] = $t) | .[]' "$d/final" >"$d/trades"
	echo "trades: $(jq -r .status "$d/trades" | sort | uniq -c | tr '\n' ' ')" >&3
	[ "$(jq -r 'select(.status!="canceled") | .key' "$d/trades" | wc -l)" -ge 1 ]                 # opened
	if [ "$kinds" = all ]; then
		[ "$(jq -r 'select(.status=="closed") | .key' "$d/trades" | wc -l)" -ge 1 ]           # stopped
		[ "$(jq -r 'select(.status=="settled") | .key' "$d/trades" | wc -l)" -ge 1 ]          # settled
	fi
	# every market settled: no trade is left pending, open, closing or expired
	[ "$(jq -r 'select(.status!="closed" and .status!="settled" and .status!="canceled") | .key' "$d/trades" | wc -l)" -eq 0 ]
	# every trade is linked, by the exchange's order_id, to an order order-send placed
	jq -r 'select(.type=="order") | .client_order_id' "$d/orders" | sort -u >"$d/cids"
	jq -r '.entry_client_order_id // "none"' "$d/trades" | sort -u >"$d/trade-cids"
	[ -z "$(comm -23 "$d/trade-cids" "$d/cids")" ] || { comm -23 "$d/trade-cids" "$d/cids"; false; }
	# total: the sum of the trades = balance - deposits
	total=$(jq -s '[.[]|.pnl_cc // 0]|add' "$d/trades")
	echo "P&L: local $total cc, exchange $(jq '.accounts[0] | .balance_cc - .deposits_cc' <<<"$st") cc" >&3
	[ "$total" -eq "$(jq '.accounts[0] | .balance_cc - .deposits_cc' <<<"$st")" ]
	# each market: its trades = the exchange's realised P&L there
	jq -r '.accounts[0].positions[] | "\(.ticker) \(.realized_cc)"' <<<"$st" | while read -r t r; do
		l=$(jq -s --arg t "$t" '[.[]|select(.ticker==$t)|.pnl_cc // 0]|add // 0' "$d/trades")
		[ "$l" -eq "$r" ] || { echo "$t: local $l, exchange $r"; false; }
	done
	# the live acct-sync agreed with the exchange all along
	! grep -q '"status":"mismatch"' "$d/acct"
	# and order-send never sent an order twice
	[ "$(curl -sS "$SIM_URL/sim/orders" | jq '[.orders[].client_order_id] | length == (unique|length)')" = true ]
}

@test "three simulated hours: trades opened, stopped and settled; local P&L = the exchange's, to the centi-cent" {
	three_hours all
}

# Under faults btc-tick's ticks come minutes (simulated) apart, so momentum
# jumps from tick to tick and the spike pause (a safety rule with its own
# tests) can hold entries off for the whole run: it is switched off here,
# where the exchange's faults are what is tested.
@test "the same with 20% faults at the exchange (429, 5xx, drops, lost and empty replies, read lag, duplicated fills)" {
	SE_EXTRA="-s spike_threshold=10000" three_hours any --faults 429=0.2,5xx=0.2,drop=0.2,lost=0.2,empty=0.2,lag=0.2:2,dupfill=0.2
	[ "$(simstate | jq '.counters.fault_lost + .counters.fault_5xx + .counters.fault_dupfill')" -gt 0 ]
}
