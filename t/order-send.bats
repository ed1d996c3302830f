#!/usr/bin/env bats
# order-send against kalshi-sim: V2 placement, exactly once across
# restarts and SIGKILL, unknown outcomes settled by lookup, every risk
# limit, the kill switch, paper fills.

load helper

setup() {
	J="$BATS_TEST_TMPDIR/journal"
	export RECIO_KILL="$BATS_TEST_TMPDIR/KILL"
}

os_env() {
	export KALSHI_API_BASE="$SIM_URL/trade-api/v2" KALSHI_KEY_ID=test KALSHI_KEY_FILE="$KEY_FILE"
}

# sig ID TICKER SIDE ACTION COUNT PRICE [TTC] [EVENT]
sig() {
	printf '{"type":"signal","ts":%s,"id":"%s","intent":"%s","ticker":"%s","event_ticker":"%s","side":"%s","action":"%s","count":%s,"price":%s,"ttc":%s}\n' \
		"${TS:-1795617900000}" "$1" "$([ "$4" = buy ] && echo open || echo close)" "$2" "${8:-E}" "$3" "$4" "$5" "$6" "${7:-600}"
}

market() {   # the market at index $1 of the open ladder: ticker yes_ask no_ask yes_bid no_bid
	get '/markets?status=open' | jq -r ".markets[$1] | [.ticker, (.yes_ask_dollars,.no_ask_dollars,.yes_bid_dollars,.no_bid_dollars | tonumber*100 | round)] | join(\" \")"
}

sim_orders() {
	curl -sS "$SIM_URL/sim/orders"
}

@test "usage; refuses to trade without a key unless --paper" {
	run order-send -h
	[ "$status" -eq 0 ]
	KALSHI_KEY_ID='' run order-send -j "$J" </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"KALSHI_KEY_ID and KALSHI_KEY_FILE are needed"* ]]
	run order-send --paper -j "$J" -n
	[ "$status" -eq 0 ]
}

@test "the four YES-book rows reach the V2 endpoint as bid/ask at the YES price, and fill exactly" {
	sim_start --start 2026-11-25T14:45:00Z
	os_env
	read -r t ya na yb nb <<<"$(market 20)"
	# one netted position: +3 YES, sell 1 (+2), buy 4 NO (-2), sell 1 NO (-1)
	{
		sig s-1 "$t" yes buy 3 "$ya"
		sig s-2 "$t" yes sell 1 "$yb"
		sig s-3 "$t" no buy 4 "$na"
		sig s-4 "$t" no sell 1 "$nb"
	} >"$BATS_TEST_TMPDIR/in"
	order-send -j "$J" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(sim_orders | jq -r '.orders[] | [.client_order_id, .book_side, (.yes_price_dollars|tonumber*100|round), .fill_count_fp] | join(" ")')" = \
		"$(printf 'rs-1 bid %s 3.00\nrs-2 ask %s 1.00\nrs-3 ask %s 4.00\nrs-4 bid %s 1.00' "$ya" "$yb" $((100 - na)) $((100 - nb)))" ]
	kc GET "/portfolio/positions?ticker=$t"
	[ "$(jq -r '.market_positions[0].position_fp' <<<"$body")" = -1.00 ]
	# every line of an order's life, and the exact cost and fee
	[ "$(jq -r 'select(.client_order_id=="rs-1") | .status' "$BATS_TEST_TMPDIR/out" | tr '\n' ' ')" = "intent sent filled " ]
	f=$(jq -c 'select(.client_order_id=="rs-1" and .status=="filled")' "$BATS_TEST_TMPDIR/out")
	fee=$(awk -v p="$ya" 'BEGIN{f=7*3*p*(100-p)/10000; c=int(f); if (c<f) c++; print c*100}')
	[ "$(jq .cost_cc <<<"$f")" -eq $((3 * ya * 100)) ]
	[ "$(jq .fees_cc <<<"$f")" -eq "$fee" ]

}

@test "exactly once: a second run over the same signals sends nothing" {
	sim_start --start 2026-11-25T14:45:00Z
	os_env
	read -r t ya na yb nb <<<"$(market 20)"
	sig s-1 "$t" yes buy 1 "$ya" >"$BATS_TEST_TMPDIR/in"
	order-send -j "$J" <"$BATS_TEST_TMPDIR/in" >/dev/null
	run order-send -j "$J" -v <"$BATS_TEST_TMPDIR/in"
	[[ "$output" == *"rs-1: already handled"* ]]
	[ "$(grep -c '"type":"order"' <<<"$output")" -eq 0 ]
	[ "$(sim_orders | jq '.orders|length')" -eq 1 ]
	[ "$(simstate | jq .counters.duplicate_client_order_id)" -eq 0 ]
}

# TAG SECONDS OPTION... : three buys of market 20, one every SECONDS
# (order-send is idle in between), through order-send OPTION... with a
# fresh journal; its last health line in $BATS_TEST_TMPDIR/health
three_spaced() {
	local tag=$1 gap=$2 t ya
	shift 2
	read -r t ya _ <<<"$(market 20)"
	rm -f "$J"
	if [ "$gap" = 0 ]; then
		# a burst: the three lines in order-send's first read, so no idle
		# turn (where it would sign ahead again) comes between them
		for i in 1 2 3; do
			sig "$tag-$i" "$t" yes buy 1 "$ya"
		done >"$BATS_TEST_TMPDIR/burst"
		order-send -j "$J" "$@" <"$BATS_TEST_TMPDIR/burst" >"$BATS_TEST_TMPDIR/out"
	else
		{
			for i in 1 2 3; do
				sleep "$gap"
				sig "$tag-$i" "$t" yes buy 1 "$ya"
			done
		} | order-send -j "$J" "$@" >"$BATS_TEST_TMPDIR/out"
	fi
	grep '"type":"health"' "$BATS_TEST_TMPDIR/out" | tail -n 1 >"$BATS_TEST_TMPDIR/health"
}

# orders the exchange took (filled, or canceled: IOC at a moving ask)
taken() {
	jq -r 'select(.status=="filled" or .status=="canceled") | .client_order_id' "$BATS_TEST_TMPDIR/out" | wc -l
}

@test "signatures made ahead while idle: each order uses one, the exchange verifies it; --presign 0 signs each; --intent-sync after" {
	sim_start --start 2026-11-25T14:45:00Z
	os_env
	three_spaced a 0.6
	# every order went with a signature made before its signal arrived,
	# and the exchange (which verifies every signature) took all three
	# (filled, or canceled unfilled if the ask moved: an IOC order)
	[ "$(jq .presigned "$BATS_TEST_TMPDIR/health")" -eq 3 ]
	[ "$(taken)" -eq 3 ]
	[ "$(curl -sS "$SIM_URL/sim/state" | jq .counters.unauthorized)" -eq 0 ]
	# a signature is used once: a burst uses what is ready, then signs
	three_spaced b 0 --presign 1
	[ "$(jq .presigned "$BATS_TEST_TMPDIR/health")" -le 1 ]
	[ "$(taken)" -eq 3 ]
	three_spaced c 0.3 --presign 0
	[ "$(jq .presigned "$BATS_TEST_TMPDIR/health")" -eq 0 ]
	[ "$(taken)" -eq 3 ]
	# the intent synced after the send: the same orders, the same journal
	three_spaced d 0.3 --intent-sync after
	[ "$(taken)" -eq 3 ]
	[ "$(jq -r 'select(.j=="intent") | .cid' "$J" | wc -l)" -eq 3 ]
	[ "$(curl -sS "$SIM_URL/sim/state" | jq .counters.unauthorized)" -eq 0 ]
	run order-send --presign 9 -n
	[ "$status" -eq 2 ]
	[[ "$output" == *"--presign: expected a count from 0 to 8"* ]]
	run order-send --intent-sync sometimes -n
	[ "$status" -eq 2 ]
}

@test "a rejection carries the exchange's code and message" {
	sim_start --start 2026-11-25T14:45:00Z
	os_env
	sig s-1 KXBTCD-NOSUCH-T1.00 yes buy 1 50 >"$BATS_TEST_TMPDIR/in"
	order-send -j "$J" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.status=="rejected") | [.http_status,.code]|join(" ")' "$BATS_TEST_TMPDIR/out")" = "404 market_not_found" ]
	grep -q '"status":"rejected"' "$J"
}

@test "risk limits: each refusal names its rule; the kill switch refuses opens and lets closes go" {
	sim_start --start 2026-11-25T14:45:00Z
	os_env
	read -r t ya na yb nb <<<"$(market 20)"
	read -r t2 ya2 na2 _ _ <<<"$(market 21)"
	# a fresh journal for each check: no position carried from the one before
	refused() { order-send -j "$(mktemp "$BATS_TEST_TMPDIR/j.XXXXXX")" "$@" <"$BATS_TEST_TMPDIR/in" | jq -r 'select(.status=="refused") | .rule + ": " + .reason'; }
	sig p-1 "$t" yes buy 5 "$ya" >"$BATS_TEST_TMPDIR/in"
	[[ "$(refused -s max_per_market=4)" == "max_per_market: market 0 + 5 > max_per_market 4" ]]
	{ sig e-1 "$t" yes buy 2 "$ya"; sig e-2 "$t2" yes buy 2 "$ya2"; } >"$BATS_TEST_TMPDIR/in"
	[[ "$(refused -s max_per_event=3)" == "max_per_event: event 2 + 2 > max_per_event 3" ]]
	sig x-1 "$t" yes buy 10 "$ya" >"$BATS_TEST_TMPDIR/in"
	[[ "$(refused -s max_exposure=1.00)" == "max_exposure: exposure \$"*" > max_exposure \$1.0000" ]]
	sig b-1 "$t" yes buy 1 99 >"$BATS_TEST_TMPDIR/in"
	[ "$(refused)" = "max_price: price 99 > max_price 98" ]
	sig c-1 "$t" yes buy 1 "$ya" 30 >"$BATS_TEST_TMPDIR/in"
	[ "$(refused)" = "min_ttc: ttc 30 s < min_ttc 60" ]
	# these need the first order filled: a limit 10 cents through the ask
	# read at the start (the market maker moves while the test runs)
	up=$((ya + 10 > 98 ? 98 : ya + 10))
	{ sig n-1 "$t" yes buy 1 "$up"; sig n-2 "$t2" yes buy 1 "$ya2"; } >"$BATS_TEST_TMPDIR/in"
	[ "$(refused -s max_positions=1 -s max_per_event=1000)" = "max_positions: positions 1 >= max_positions 1" ]
	for i in 1 2 3; do sig r-$i "$t" yes buy 1 "$ya"; done >"$BATS_TEST_TMPDIR/in"
	[[ "$(refused -s max_orders_per_minute=2)" == "max_orders_per_minute: 2 orders in a minute >= max_orders_per_minute 2" ]]
	# daily loss: a settlement below cost
	{
		sig l-0 "$t" yes buy 1 "$up"
		printf '{"type":"settlement","ts":1795617950000,"ticker":"%s","revenue_cc":0}\n' "$t"
		TS=1795618000000 sig l-1 "$t2" yes buy 1 "$ya2"
	} >"$BATS_TEST_TMPDIR/in"
	[[ "$(refused -s daily_loss_limit=0.01)" == "daily_loss_limit: daily loss \$"*" reached daily_loss_limit" ]]
	# the kill switch: opens refused, a close still sent
	touch "$RECIO_KILL"
	{ sig k-1 "$t2" yes buy 1 "$ya2"; sig k-2 "$t" yes sell 1 "$yb"; } >"$BATS_TEST_TMPDIR/in"
	order-send -j "$J" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.client_order_id=="rk-1") | .status + " " + .rule + " " + .reason' "$BATS_TEST_TMPDIR/out")" = "refused kill_switch kill switch $RECIO_KILL" ]
	[ "$(jq -r 'select(.client_order_id=="rk-2") | .status' "$BATS_TEST_TMPDIR/out" | tail -n 1)" = filled ]
	# refusals are counted by rule: the health line at the end says so
	h=$(jq -c 'select(.type=="health" and .src=="order-send")' "$BATS_TEST_TMPDIR/out" | tail -n 1)
	[ "$(jq -r '[.status, .sent, .refused, .refused_by_rule.kill_switch, .refused_by_rule.max_price, .kill_switch] | join(" ")' <<<"$h")" = "halted 1 1 1 0 true" ]
	rm -f "$RECIO_KILL"
	{ sig m-1 "$t" yes buy 1 99; sig m-2 "$t" yes buy 1 99; sig m-3 "$t" yes buy 1 "$ya" 30; } >"$BATS_TEST_TMPDIR/in"
	h=$(order-send -j "$(mktemp "$BATS_TEST_TMPDIR/j.XXXXXX")" <"$BATS_TEST_TMPDIR/in" | jq -c 'select(.type=="health")' | tail -n 1)
	[ "$(jq -c '[.status, .sent, .refused, .refused_by_rule.max_price, .refused_by_rule.min_ttc, ([.refused_by_rule[]]|add)]' <<<"$h")" = '["ok",0,3,2,1,3]' ]
}

@test "a reply lost after the order was accepted: looked up by client_order_id, never sent twice" {
	sim_start --start 2026-11-25T14:45:00Z --faults lost=1
	os_env
	read -r t ya na yb nb <<<"$(market 20)"
	sig s-1 "$t" yes buy 2 "$ya" >"$BATS_TEST_TMPDIR/in"
	order-send -j "$J" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.type=="order") | .status' "$BATS_TEST_TMPDIR/out" | tr '\n' ' ')" = "intent sent error filled " ]
	[ "$(sim_orders | jq '.orders|length')" -eq 1 ]
	[ "$(simstate | jq .counters.duplicate_client_order_id)" -eq 0 ]
}

@test "with 20% faults (429, 5xx, drops, lost replies, read lag) every signal is placed once" {
	sim_start --start 2026-11-25T14:45:00Z --seed 3 --faults 429=0.2,5xx=0.2,drop=0.2,lost=0.2,empty=0.2,lag=0.2:2 --rate-limit off
	os_env
	get '/markets?status=open' | jq -r '.markets[] | [.ticker, (.yes_ask_dollars|tonumber*100|round)] | join(" ")' >"$BATS_TEST_TMPDIR/m"
	i=0
	while read -r t ya; do
		i=$((i + 1)); [ "$ya" -le 98 ] && sig "f-$i" "$t" yes buy 1 "$ya"
	done <"$BATS_TEST_TMPDIR/m" >"$BATS_TEST_TMPDIR/in"
	n=$(wc -l <"$BATS_TEST_TMPDIR/in")
	order-send -j "$J" -s max_positions=100 -s max_orders_per_minute=100 -s max_per_event=1000 \
		<"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	# a restart settles whatever stayed unknown
	order-send -j "$J" </dev/null >>"$BATS_TEST_TMPDIR/out" 2>>"$BATS_TEST_TMPDIR/err"
	# no client_order_id twice at the exchange
	[ "$(sim_orders | jq '[.orders[].client_order_id] | length == (unique|length)')" = true ]
	# every journalled intent is at the exchange or ended rejected/failed
	for cid in $(jq -r 'select(.j=="intent") | .cid' "$J"); do
		at=$(sim_orders | jq --arg c "$cid" '[.orders[]|select(.client_order_id==$c)]|length')
		st=$(jq -r --arg c "$cid" 'select(.j=="done" and .cid==$c) | .status' "$J" | tail -n 1)
		[ "$at" -eq 1 ] || [ "$st" = rejected ] || [ "$st" = failed ] || { echo "$cid: at $at, $st"; false; }
	done
	[ "$(jq -r 'select(.j=="intent") | .cid' "$J" | wc -l)" -eq "$n" ]
	[ "$(simstate | jq '.counters.fault_lost + .counters.fault_5xx')" -gt 0 ]
}

@test "SIGKILL at 50 random points: no client_order_id twice, every intent accounted for" {
	sim_start --start 2026-11-25T14:45:00Z --rate-limit off
	os_env
	get '/markets?status=open' | jq -r '.markets[] | [.ticker, (.yes_ask_dollars|tonumber*100|round)] | join(" ")' >"$BATS_TEST_TMPDIR/m"
	i=0
	while read -r t ya; do
		i=$((i + 1)); [ "$ya" -le 98 ] && sig "k-$i" "$t" yes buy 1 "$ya"
	done <"$BATS_TEST_TMPDIR/m" >"$BATS_TEST_TMPDIR/in"
	opts="-s max_positions=100 -s max_orders_per_minute=100 -s max_per_event=1000"
	RANDOM=5
	for k in $(seq 1 50); do
		# shellcheck disable=SC2086 # options, split on purpose
		order-send -j "$J" $opts <"$BATS_TEST_TMPDIR/in" >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -KILL $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
	done
	# shellcheck disable=SC2086 # options, split on purpose
	order-send -j "$J" $opts <"$BATS_TEST_TMPDIR/in" >/dev/null 2>"$BATS_TEST_TMPDIR/err"
	[ "$(sim_orders | jq '[.orders[].client_order_id] | length == (unique|length)')" = true ]
	[ "$(simstate | jq .counters.duplicate_client_order_id)" -eq 0 ]
	for cid in $(jq -r 'select(.j=="intent") | .cid' "$J" 2>/dev/null | sort -u); do
		at=$(sim_orders | jq --arg c "$cid" '[.orders[]|select(.client_order_id==$c)]|length')
		st=$(jq -r --arg c "$cid" 'select(.j=="done" and .cid==$c) | .status' "$J" 2>/dev/null | tail -n 1)
		[ "$at" -eq 1 ] || [ "$st" = rejected ] || [ "$st" = failed ] || { echo "$cid: at $at, $st"; false; }
	done
	# and every signal has been placed by the end
	[ "$(sim_orders | jq '.orders|length')" -eq "$(wc -l <"$BATS_TEST_TMPDIR/in")" ]
}

@test "paper mode: fills at the ask seen in the stream, with Kalshi's fee; no exchange" {
	{
		printf '{"type":"market","ts":1,"ticker":"X-T1","event_ticker":"X","yes_bid":60,"yes_ask":62,"no_bid":38,"no_ask":40}\n'
		sig s-1 X-T1 yes buy 4 63
		sig s-2 X-T1 no buy 1 39
	} >"$BATS_TEST_TMPDIR/in"
	KALSHI_API_BASE=http://127.0.0.1:1/none order-send --paper -j "$J" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	f=$(jq -c 'select(.client_order_id=="rs-1" and .status=="filled")' "$BATS_TEST_TMPDIR/out")
	# 4 at 62: fee 0.07 x 4 x 0.62 x 0.38 = $0.065968 -> $0.07
	[ "$(jq -r '[.avg_price_cc,.cost_cc,.fees_cc]|join(" ")' <<<"$f")" = "6200 24800 700" ]
	[ "$(jq -r 'select(.client_order_id=="rs-2") | .status' "$BATS_TEST_TMPDIR/out" | tail -n 1)" = canceled ]
}

@test "a position mismatch from acct-sync halts opening orders until they agree; closes still go" {
	{
		printf '{"type":"market","ts":1,"ticker":"X-T1","event_ticker":"X","yes_bid":60,"yes_ask":62,"no_bid":38,"no_ask":40}\n'
		printf '{"type":"health","ts":2,"src":"acct-sync","status":"mismatch","ticker":"X-T9","local":0,"exchange":2}\n'
		sig s-1 X-T1 yes buy 1 63
		sig s-2 X-T1 yes sell 1 59
		printf '{"type":"health","ts":3,"src":"acct-sync","status":"ok","ticker":"X-T9"}\n'
		sig s-3 X-T1 yes buy 1 63
	} >"$BATS_TEST_TMPDIR/in"
	order-send --paper -j "$J" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	[ "$(jq -r 'select(.client_order_id=="rs-1") | .rule + ": " + .reason' "$BATS_TEST_TMPDIR/out")" = "mismatch: positions disagree with the exchange on X-T9" ]
	[ "$(jq -r 'select(.client_order_id=="rs-2") | .status' "$BATS_TEST_TMPDIR/out" | tail -n 1)" != refused ]
	[ "$(jq -r 'select(.client_order_id=="rs-3") | .status' "$BATS_TEST_TMPDIR/out" | tail -n 1)" = filled ]
	grep -q 'opening orders halted' "$BATS_TEST_TMPDIR/err"
}

@test "a sale brings in the price of the side sold (the exchange's fill cost is the other side's): the daily loss limit sees the round trip's loss" {
	sim_start --start 2026-11-25T14:45:00Z
	os_env
	read -r t ya na yb nb <<<"$(market 20)"
	up=$((ya + 10 > 98 ? 98 : ya + 10))
	{
		sig s-1 "$t" yes buy 3 "$up"
		TS=1795617901000 sig s-2 "$t" yes sell 3 1
		TS=1795617902000 sig s-3 "$t" yes buy 1 "$up"
	} >"$BATS_TEST_TMPDIR/in"
	order-send -j "$J" -s daily_loss_limit=0.01 <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	# the sale's line: what it brought in, at the YES price it filled at
	px=$(sim_orders | jq -r '.orders[] | select(.client_order_id=="rs-2") | .taker_fill_cost_dollars as $c
		| (.fill_count_fp | tonumber) as $n | (($n - ($c | tonumber)) / $n * 100 | round)')
	[ "$(jq -r 'select(.client_order_id=="rs-2" and .status=="filled") | [.filled, .avg_price_cc, .cost_cc] | join(" ")' "$BATS_TEST_TMPDIR/out")" = \
		"3 $((px * 100)) $((3 * px * 100))" ]
	# bought at the ask, sold at the bid, two fees: the loss the exchange books
	kc GET "/portfolio/positions?ticker=$t"
	loss=$(jq -r '.market_positions[0].realized_pnl_dollars | tonumber | -. * 100 | round' <<<"$body")
	[ "$loss" -gt 0 ]
	[ "$(jq -r 'select(.client_order_id=="rs-3") | .rule + ": " + .reason' "$BATS_TEST_TMPDIR/out")" = \
		"daily_loss_limit: daily loss \$$(printf '%d.%02d00' $((loss / 100)) $((loss % 100))) reached daily_loss_limit" ]
}

@test "a restart keeps the day's realised loss and forgets settled positions (journalled); a line from yesterday resets nothing; a torn last record is cut" {
	mk() { printf '{"type":"market","ts":1795617000000,"ticker":"X-T%s","event_ticker":"X","yes_bid":60,"yes_ask":62,"no_bid":38,"no_ask":40}\n' "$1"; }
	paper() { KALSHI_API_BASE=http://127.0.0.1:1/none order-send --paper -j "$J" "$@"; }
	# one bought, settled at nothing (the settlement told twice: counted once)
	{
		mk 1
		sig s-1 X-T1 yes buy 1 63
		printf '{"type":"settlement","ts":1795617950000,"ticker":"X-T1","revenue_cc":0}\n'
		printf '{"type":"settlement","ts":1795617960000,"ticker":"X-T1","revenue_cc":0}\n'
	} | paper >/dev/null
	[ "$(grep -c '"j":"settled"' "$J")" -eq 1 ]
	# restarted, the same day: a line dated yesterday, then a buy: still over the limit
	{
		mk 2
		printf '{"type":"position","ts":1795500000000,"ticker":"X-T9","position":0}\n'
		TS=1795618000000 sig s-2 X-T2 yes buy 1 63
	} | paper -s daily_loss_limit=0.01 >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.client_order_id=="rs-2") | .rule + ": " + .reason' "$BATS_TEST_TMPDIR/out")" = \
		"daily_loss_limit: daily loss \$0.6400 reached daily_loss_limit" ]
	# the settled market is not held again: one position allowed, X-T2 opens
	{ mk 2; TS=1795618001000 sig s-3 X-T2 yes buy 1 63; } | paper -s max_positions=1 >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.client_order_id=="rs-3") | .status' "$BATS_TEST_TMPDIR/out" | tail -n 1)" = filled ]
	# the next day: the limit starts over
	{ mk 3; TS=$((1795618000000 + 86400000)) sig s-4 X-T3 yes buy 1 63; } | paper -s daily_loss_limit=0.01 >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.client_order_id=="rs-4") | .status' "$BATS_TEST_TMPDIR/out" | tail -n 1)" = filled ]
	# a record cut short (the disk filled mid-write): removed at the next start, said so
	printf '{"j":"intent","cid":"rs-9","sig' >>"$J"
	{ mk 4; sig s-5 X-T4 yes buy 1 63; } | paper 2>"$BATS_TEST_TMPDIR/err" >/dev/null
	grep -q "its last record is cut short (31 bytes" "$BATS_TEST_TMPDIR/err"
	[ "$(grep -c 'rs-9' "$J")" -eq 0 ]
	# and what came after it stands: the order is known
	{ mk 4; sig s-5 X-T4 yes buy 1 63; } | paper -v >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	grep -q "rs-5: already handled" "$BATS_TEST_TMPDIR/err"
	[ "$(grep -c '"client_order_id":"rs-5"' "$BATS_TEST_TMPDIR/out")" -eq 0 ]
}

@test "max_orders_per_minute counts the orders sent before a restart (journalled)" {
	mk() { printf '{"type":"market","ts":1795617000000,"ticker":"X-T%s","event_ticker":"X","yes_bid":60,"yes_ask":62,"no_bid":38,"no_ask":40}\n' "$1"; }
	paper() { KALSHI_API_BASE=http://127.0.0.1:1/none order-send --paper -j "$J" -s max_orders_per_minute=2 "$@"; }
	{ mk 1; mk 2; TS=1795617900000 sig s-1 X-T1 yes buy 1 63; TS=1795617910000 sig s-2 X-T2 yes buy 1 63; } |
		paper >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.status == "filled") | .client_order_id' "$BATS_TEST_TMPDIR/out" | sort | tr '\n' ' ')" = "rs-1 rs-2 " ]
	# restarted within that minute: the third is one too many
	{ mk 3; TS=1795617950000 sig s-3 X-T3 yes buy 1 63; } | paper >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.client_order_id == "rs-3") | .rule + ": " + .reason' "$BATS_TEST_TMPDIR/out")" = \
		"max_orders_per_minute: 2 orders in a minute >= max_orders_per_minute 2" ]
	# a minute after the first, one place is free again
	{ mk 3; TS=1795617960000 sig s-4 X-T3 yes buy 1 63; } | paper >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.client_order_id == "rs-4") | .status' "$BATS_TEST_TMPDIR/out" | tail -n 1)" = filled ]
}

@test "orders of unknown outcome count in the event's and the exposure's limits as if filled" {
	sim_start --start 2026-11-25T14:45:00Z --faults lost=1
	os_env
	read -r t1 ya1 _ <<<"$(market 20)"
	read -r t2 ya2 _ <<<"$(market 21)"
	{ sig s-1 "$t1" yes buy 5 $((ya1 + 10 > 98 ? 98 : ya1 + 10)); sig s-2 "$t2" yes buy 5 $((ya2 + 10 > 98 ? 98 : ya2 + 10)); } >"$BATS_TEST_TMPDIR/in"
	order-send -j "$J" -s max_per_event=5 <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	jq -c 'select(.type=="order") | [.client_order_id, .status, .rule]' "$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.client_order_id=="rs-2") | .rule + ": " + .reason' "$BATS_TEST_TMPDIR/out")" = "max_per_event: event 5 + 5 > max_per_event 5" ]
	[ "$(sim_orders | jq '.orders | length')" -eq 1 ]
}

@test "an order that never reached the exchange is not sent again once the kill switch is on" {
	keys_once
	port=$(free_port)
	export KALSHI_API_BASE="http://127.0.0.1:$port/trade-api/v2" KALSHI_KEY_ID=test KALSHI_KEY_FILE="$KEY_FILE"
	# the exchange is down when the order goes: its outcome is unknown
	{ sig s-1 KXBTCD-26NOV2515-T99999.99 yes buy 1 50; sleep 25; } |
		order-send -j "$J" --rate-limit off -H 60 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	os=$!
	wait_for 10 grep -q '"status":"error"' "$BATS_TEST_TMPDIR/out"
	touch "$RECIO_KILL"
	sim_start --start 2026-11-25T14:45:00Z -p "$port"
	wait_for 20 grep -q '"status":"rejected"' "$BATS_TEST_TMPDIR/out"
	kill "$os" 2>/dev/null || true
	wait "$os" || true
	[ "$(jq -r 'select(.status=="rejected") | .code + ": " + .message' "$BATS_TEST_TMPDIR/out")" = \
		"not_at_exchange: never reached the exchange; not sent again: opening orders are halted" ]
	[ "$(sim_orders | jq '.orders | length')" -eq 0 ]
}

@test "input: a negative ttc is refused (min_ttc); a signal without event_ticker counts in its market's event; a line without an integer ts is reported" {
	mk() { printf '{"type":"market","ts":1795617000000,"ticker":"X-T%s","event_ticker":"X","yes_bid":60,"yes_ask":62,"no_bid":38,"no_ask":40}\n' "$1"; }
	noev() { printf '{"type":"signal","ts":1795617900000,"id":"%s","ticker":"%s","side":"yes","action":"buy","count":2,"price":63,"ttc":600}\n' "$1" "$2"; }
	{
		mk 1
		mk 2
		noev e-1 X-T1
		noev e-2 X-T2
		sig t-1 X-T1 yes buy 1 63 -5
		printf '{"type":"signal","ts":1795617900000.5,"id":"f-1","ticker":"X-T1","side":"yes","action":"buy","count":1,"price":63}\n'
	} | KALSHI_API_BASE=http://127.0.0.1:1/none order-send --paper -j "$J" -s max_per_event=3 \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	[ "$(jq -r 'select(.status=="refused") | .client_order_id + " " + .rule + ": " + .reason' "$BATS_TEST_TMPDIR/out")" = \
		"$(printf 're-2 max_per_event: event 2 + 2 > max_per_event 3\nrt-1 min_ttc: ttc -5 s < min_ttc 60')" ]
	grep -q 'stdin line 6: signal without an integer ts, skipped' "$BATS_TEST_TMPDIR/err"
}
