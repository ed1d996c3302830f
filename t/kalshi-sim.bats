#!/usr/bin/env bats
# kalshi-sim from the outside: market data, authentication, orders, the
# YES-book table, fees, settlement, rate limits, faults, determinism.

load helper

# 14:59:00 UTC: the first event closes a simulated minute after start.
START=2026-11-25T14:59:00Z

@test "usage: -h prints the synopsis and exits 0; a bad option exits 2" {
	run kalshi-sim -h
	[ "$status" -eq 0 ]
	[[ "$output" == usage:* ]]
	run kalshi-sim --no-such-option
	[ "$status" -eq 2 ]
	run kalshi-sim --speed fast
	[ "$status" -eq 2 ]
	[[ "$output" == *"--speed"* ]]
}

@test "market data is readable without auth and has the SDK's shape" {
	sim_start --start "$START"
	run get /exchange/status
	[ "$(jq -r .trading_active <<<"$output")" = true ]
	run get /series/KXBTCD
	[ "$(jq -r .series.fee_type <<<"$output")" = quadratic ]
	run get '/events?series_ticker=KXBTCD&status=open&with_nested_markets=true'
	[ "$(jq '.events|length' <<<"$output")" -eq 1 ]
	# 15:00 UTC on 2026-11-25 is 10:00 EST
	[ "$(jq -r '.events[0].event_ticker' <<<"$output")" = KXBTCD-26NOV2510 ]
	[ "$(jq '.events[0].markets|length' <<<"$output")" -eq 40 ]
	m=$(jq -c '.events[0].markets[20]' <<<"$output")
	[[ "$(jq -r .ticker <<<"$m")" =~ ^KXBTCD-26NOV2510-T[0-9]+\.99$ ]]
	[[ "$(jq -r .yes_ask_dollars <<<"$m")" =~ ^0\.[0-9]{4}$ ]]
	[[ "$(jq -r .volume_fp <<<"$m")" =~ ^[0-9]+\.[0-9]{2}$ ]]
	[ "$(jq -r .status <<<"$m")" = active ]
	[ "$(jq -r .strike_type <<<"$m")" = greater ]
	[ "$(jq -r .close_time <<<"$m")" = 2026-11-25T15:00:00Z ]
	# no legacy integer fields
	[ "$(jq '[has("yes_bid","yes_ask","no_bid","no_ask","volume","open_interest","last_price")]|any' <<<"$m")" = false ]
	# the strike is floor_strike and in the ticker
	t=$(jq -r .ticker <<<"$m"); f=$(jq -r .floor_strike <<<"$m")
	[ "${t##*-T}" = "$f" ]
}

@test "markets paginate with limit and cursor, no duplicates, none lost" {
	sim_start --start "$START"
	cursor='' all=''
	for i in $(seq 1 20); do
		page=$(get "/markets?series_ticker=KXBTCD&status=open&limit=7${cursor:+&cursor=$cursor}")
		all="$all $(jq -r '.markets[].ticker' <<<"$page")"
		cursor=$(jq -r .cursor <<<"$page")
		[ -z "$cursor" ] && break
	done
	[ "$(tr ' ' '\n' <<<"$all" | grep -c .)" -eq 40 ]
	[ "$(tr ' ' '\n' <<<"$all" | grep . | sort -u | wc -l)" -eq 40 ]
	run get '/markets?limit=0'
	[ "$(jq -r .error.code <<<"$output")" = invalid_parameters ]
}

@test "orderbook: YES and NO bids in ascending price, depth honoured" {
	sim_start --start "$START"
	t=$(get '/markets?status=open' | jq -r '.markets[20].ticker')
	ob=$(get "/markets/$t/orderbook")
	[ "$(jq '.orderbook_fp.yes_dollars|length' <<<"$ob")" -eq 3 ]
	[ "$(jq '.orderbook_fp.yes_dollars|map(.[0]|tonumber) == (map(.[0]|tonumber)|sort)' <<<"$ob")" = true ]
	[ "$(jq '.orderbook_fp.no_dollars|map(.[0]|tonumber) == (map(.[0]|tonumber)|sort)' <<<"$ob")" = true ]
	m=$(get "/markets/$t")
	# best YES bid is the market's yes_bid; best NO bid is 1 - yes_ask
	[ "$(jq -r '.orderbook_fp.yes_dollars[-1][0]' <<<"$ob")" = "$(jq -r .market.yes_bid_dollars <<<"$m")" ]
	[ "$(jq -r '.orderbook_fp.no_dollars[-1][0]' <<<"$ob")" = "$(jq -r .market.no_bid_dollars <<<"$m")" ]
	[ "$(get "/markets/$t/orderbook?depth=1" | jq '.orderbook_fp.yes_dollars|length')" -eq 1 ]
}

@test "auth: missing headers, wrong signature, stale timestamp, unknown key: 401" {
	sim_start
	run get /portfolio/balance
	[ "$(jq -r .error.code <<<"$output")" = authentication_error ]
	kc GET /portfolio/balance
	[ "$status_code" = 200 ]
	[ "$(jq -r .balance <<<"$body")" = 100000 ]
	[ "$(jq -r .balance_dollars <<<"$body")" = 1000.0000 ]
	KCURL_SIG=$(printf 'x%.0s' $(seq 1 344)) kc GET /portfolio/balance
	[ "$status_code" = 401 ]
	# a valid signature for another path does not verify
	sig=$(printf '%s%s%s' 1 GET /trade-api/v2/portfolio/fills | openssl dgst -sha256 \
		-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sign "$KEY_FILE" | base64 -w0)
	KCURL_SIG=$sig kc GET /portfolio/balance
	[ "$status_code" = 401 ]
	KCURL_TS=$(( $(date +%s%3N) - 120000 )) kc GET /portfolio/balance
	[ "$status_code" = 401 ]
	[[ "$(jq -r .error.message <<<"$body")" == *timestamp* ]]
	KEY_ID=nobody kc GET /portfolio/balance
	[ "$status_code" = 401 ]
	[ "$(jq -r .error.message <<<"$body")" = "unknown API key" ]
	# the query string is not signed
	kc GET '/portfolio/fills?limit=5'
	[ "$status_code" = 200 ]
	[ "$(simstate | jq .counters.unauthorized)" -eq 5 ]
}

@test "the retired V1 order endpoint answers 410 deprecated_v1_order_endpoint" {
	sim_start
	kc POST /portfolio/orders '{"ticker":"X","action":"buy","side":"yes","count":1,"type":"limit","yes_price":50}'
	[ "$status_code" = 410 ]
	[ "$(jq -r .error.code <<<"$body")" = deprecated_v1_order_endpoint ]
	[ "$(simstate | jq '.accounts[0].orders')" -eq 0 ]
}

# order TICKER SIDE PRICE COUNT TIF [extra json]
order() {
	kc POST /portfolio/events/orders "{\"ticker\":\"$1\",\"side\":\"$2\",\"price\":\"$3\",\"count\":\"$4\",\"time_in_force\":\"$5\",\"self_trade_prevention_type\":\"taker_at_cross\"${6:+,$6}}"
}

@test "a taker buy fills at the ask and costs price + fee, exactly" {
	sim_start --start "$START"
	m=$(get '/markets?status=open' | jq -c '.markets[20]')
	t=$(jq -r .ticker <<<"$m"); ask=$(jq -r .yes_ask_dollars <<<"$m")
	order "$t" bid "$ask" 10.00 immediate_or_cancel '"client_order_id":"c1"'
	[ "$status_code" = 201 ]
	[ "$(jq -r .fill_count <<<"$body")" = 10.00 ]
	[ "$(jq -r .remaining_count <<<"$body")" = 0.00 ]
	p=$(awk -v a="$ask" 'BEGIN{printf "%d", a*100+0.5}')
	# fee = ceil to the cent of 0.07 * 10 * P * (1-P)
	fee=$(awk -v p="$p" 'BEGIN{f=7*10*p*(100-p)/10000; c=int(f); if (c<f) c++; printf "%d", c}')
	kc GET /portfolio/balance
	[ "$(jq -r .balance <<<"$body")" -eq $((100000 - 10 * p - fee)) ]
	kc GET "/portfolio/fills?ticker=$t"
	[ "$(jq '.fills|length' <<<"$body")" -ge 1 ]
	[ "$(jq -r '.fills[0].book_side' <<<"$body")" = bid ]
	[ "$(jq -r '.fills[0].outcome_side' <<<"$body")" = yes ]
	[ "$(jq '[.fills[].fee_cost|tonumber]|add*100|round' <<<"$body")" -eq "$fee" ]
	kc GET "/portfolio/positions?ticker=$t"
	[ "$(jq -r '.market_positions[0].position_fp' <<<"$body")" = 10.00 ]
}

@test "a repeated client_order_id is rejected and never makes a second order" {
	sim_start --start "$START"
	t=$(get '/markets?status=open' | jq -r '.markets[20].ticker')
	order "$t" bid 0.01 1.00 good_till_canceled '"client_order_id":"same"'
	[ "$status_code" = 201 ]
	order "$t" bid 0.01 1.00 good_till_canceled '"client_order_id":"same"'
	[ "$status_code" = 409 ]
	[ "$(jq -r .error.code <<<"$body")" = order_already_exists ]
	[ "$(curl -sS "$SIM_URL/sim/orders" | jq '[.orders[]|select(.client_order_id=="same")]|length')" -eq 1 ]
}

@test "a count past 1,000,000 contracts is refused: its cost wrapped 64 bits and passed the balance check" {
	sim_start --start "$START"
	t=$(get '/markets?status=open' | jq -r '.markets[20].ticker')
	order "$t" bid 0.63 1000000000000000.00 immediate_or_cancel
	[ "$status_code" = 400 ]
	[ "$(jq -r .error.message <<<"$body")" = "count: at most 1000000 contracts" ]
	[ "$(curl -sS "$SIM_URL/sim/orders" | jq '.orders | length')" -eq 0 ]
	# within the bound, more than the balance covers: refused for that
	order "$t" bid 0.63 1000000.00 immediate_or_cancel
	[ "$status_code" = 400 ]
	[ "$(jq -r .error.code <<<"$body")" = insufficient_balance ]
}

@test "the YES-book table: buy YES, sell YES, buy NO, sell NO" {
	sim_start --start "$START"
	m=$(get '/markets?status=open' | jq -c '.markets[20]')
	t=$(jq -r .ticker <<<"$m")
	# at any price: the orders take what the book has (the market maker
	# moves fast near the close; quotes read first would be stale by the
	# time the orders go on a loaded machine)
	ya=0.99 yb=0.01
	pos() { kc GET "/portfolio/positions?ticker=$t"; jq -r '.market_positions[0].position_fp' <<<"$body"; }
	# buy 3 YES: a bid
	order "$t" bid "$ya" 3 immediate_or_cancel
	[ "$(pos)" = 3.00 ]
	# sell 2 YES: an ask
	order "$t" ask "$yb" 2 immediate_or_cancel
	[ "$(pos)" = 1.00 ]
	# buy 5 NO at q = 1 - yes_bid: ask at 1 - q (= yes_bid); nets to 4 NO
	order "$t" ask "$yb" 5 immediate_or_cancel
	[ "$(pos)" = -4.00 ]
	kc GET "/portfolio/fills?ticker=$t&limit=1"
	[ "$(jq -r '.fills[0].outcome_side' <<<"$body")" = no ]
	[ "$(jq -r '.fills[0].book_side' <<<"$body")" = ask ]
	# sell 4 NO at q = 1 - yes_ask: bid at 1 - q (= yes_ask), reduce_only
	order "$t" bid "$ya" 9 immediate_or_cancel '"reduce_only":true'
	[ "$status_code" = 201 ]
	[ "$(jq -r .fill_count <<<"$body")" = 4.00 ]
	[ "$(pos)" = 0.00 ]
	# the account adds up
	s=$(simstate | jq '.accounts[0]')
	[ "$(jq '.balance_cc == .deposits_cc + .trade_cash_cc - .fees_cc + .revenue_cc' <<<"$s")" = true ]
}

@test "fill_or_kill, post_only, reduce_only, resting orders and cancel" {
	sim_start --start "$START"
	m=$(get '/markets?status=open' | jq -c '.markets[20]')
	t=$(jq -r .ticker <<<"$m"); ya=$(jq -r .yes_ask_dollars <<<"$m")
	order "$t" bid "$ya" 400 fill_or_kill
	[ "$status_code" = 201 ]
	[ "$(jq -r .fill_count <<<"$body")" = 0.00 ]
	id=$(jq -r .order_id <<<"$body")
	kc GET "/portfolio/orders/$id"
	[ "$(jq -r .order.status <<<"$body")" = canceled ]
	order "$t" bid "$ya" 1 good_till_canceled '"post_only":true'
	[ "$status_code" = 400 ]
	[ "$(jq -r .error.code <<<"$body")" = post_only_cross ]
	order "$t" ask 0.50 1 immediate_or_cancel '"reduce_only":true'
	[ "$status_code" = 400 ]
	order "$t" bid 0.01 7 good_till_canceled '"post_only":true'
	[ "$status_code" = 201 ]
	id=$(jq -r .order_id <<<"$body")
	kc GET "/portfolio/orders?status=resting"
	[ "$(jq -r '.orders[0].order_id' <<<"$body")" = "$id" ]
	[ "$(jq -r '.orders[0].remaining_count_fp' <<<"$body")" = 7.00 ]
	kc DELETE "/portfolio/events/orders/$id"
	[ "$status_code" = 200 ]
	[ "$(jq -r .reduced_by <<<"$body")" = 7.00 ]
	kc DELETE "/portfolio/events/orders/$id"
	[ "$status_code" = 400 ]
	order "$t" bid 0.5 1 immediate_or_cancel
	[ "$status_code" = 201 ]
	order "$t" bid 0.505 1 immediate_or_cancel
	[ "$status_code" = 400 ]
	order "$t" bid 0.50 1 sometimes
	[ "$status_code" = 400 ]
	[[ "$(jq -r .error.message <<<"$body")" == time_in_force* ]]
}

@test "resting orders fill by price, then time: a newer, better bid before an older, worse one" {
	sim_start --start "$START" --rate-limit off
	m=$(get '/markets?status=open' | jq -c '[.markets[] | select((.yes_bid_dollars|tonumber) > 0.3 and (.yes_bid_dollars|tonumber) < 0.7)][0]')
	t=$(jq -r .ticker <<<"$m"); yb=$(jq -r .yes_bid_dollars <<<"$m")
	lo=$(awk -v b="$yb" 'BEGIN { printf "%.2f", b + 0.01 }'); hi=$(awk -v b="$yb" 'BEGIN { printf "%.2f", b + 0.02 }')
	order "$t" bid "$lo" 600 good_till_canceled '"client_order_id":"older-worse"'
	[ "$status_code" = 201 ]
	order "$t" bid "$hi" 600 good_till_canceled '"client_order_id":"newer-better"'
	[ "$status_code" = 201 ]
	# the price falls: the market maker's asks come down through both bids
	curl -sS -X POST -d '{"jump_pct":-3}' "$SIM_URL/sim/feed" >/dev/null
	for i in $(seq 1 100); do
		kc GET "/portfolio/orders?ticker=$t"
		[ "$(jq '[.orders[] | (.fill_count_fp|tonumber)] | add' <<<"$body")" != 0 ] && break
		sleep 0.1
	done
	better=$(jq -r '.orders[] | select(.client_order_id=="newer-better") | .fill_count_fp|tonumber' <<<"$body")
	worse=$(jq -r '.orders[] | select(.client_order_id=="older-worse") | .fill_count_fp|tonumber' <<<"$body")
	echo "better $better worse $worse"
	# whatever filled went to the better price first
	[ "$better" -gt 0 ]
	[ "$worse" -eq 0 ] || [ "$better" -eq 600 ]
}

@test "settlement: YES only when the 60-second average is strictly above the strike" {
	# a constant price of exactly 100249.99: T100249.99 is not above -> NO,
	# T99999.99 -> YES
	f="$BATS_TEST_TMPDIR/prices.csv"
	# (from 14:40: two real seconds before the close at speed 600)
	awk 'BEGIN{for (t=1795617600; t<1795626000; t++) printf "%d,100249.99\n", t}' >"$f"
	sim_start --prices "$f" --speed 600 --settle-delay 5
	e=$(get '/events?status=open' | jq -r '.events[0].event_ticker')
	kc POST /portfolio/events/orders "{\"ticker\":\"$e-T100249.99\",\"side\":\"bid\",\"price\":\"0.99\",\"count\":\"2\",\"time_in_force\":\"immediate_or_cancel\",\"self_trade_prevention_type\":\"taker_at_cross\"}"
	[ "$(jq -r .fill_count <<<"$body")" = 2.00 ]
	for i in $(seq 1 100); do
		[ "$(get "/markets/$e-T100249.99" | jq -r .market.status)" = determined ] && break
		sleep 0.1
	done
	[ "$(get "/markets/$e-T100249.99" | jq -r .market.result)" = no ]
	[ "$(get "/markets/$e-T99999.99" | jq -r .market.result)" = yes ]
	kc GET /portfolio/settlements
	[ "$(jq -r '.settlements[0].market_result' <<<"$body")" = no ]
	[ "$(jq -r '.settlements[0].revenue' <<<"$body")" = 0 ]
	[ "$(jq -r '.settlements[0].yes_count_fp' <<<"$body")" = 2.00 ]
	[ "$(get '/events?status=open' | jq -r '.events[0].event_ticker')" != "$e" ]
}

@test "rate limit: Basic tier answers 429 with an error body and no Retry-After" {
	sim_start
	urls=()
	for i in $(seq 1 60); do urls+=(-o /dev/null "$SIM_URL/trade-api/v2/exchange/status"); done
	codes=$(curl -s -w '%{http_code}\n' "${urls[@]}")
	[ "$(grep -c '^200$' <<<"$codes")" -ge 20 ]
	[ "$(grep -c '^429$' <<<"$codes")" -ge 10 ]
	h=$(for i in $(seq 1 30); do curl -s -D - -o /dev/null "$SIM_URL/trade-api/v2/exchange/status"; done)
	[[ "$h" == *"429"* ]] || skip "refilled too fast to observe"
	! grep -qi '^retry-after' <<<"$h" || false
	sim_stop
	sim_start --rate-limit off
	urls=()
	for i in $(seq 1 60); do urls+=(-o /dev/null "$SIM_URL/trade-api/v2/exchange/status"); done
	codes=$(curl -s -w '%{http_code}\n' "${urls[@]}")
	[ "$(grep -c '^200$' <<<"$codes")" -eq 60 ]
}

@test "faults: 429, 5xx and dropped connections, deterministic for a seed" {
	sim_start --faults 429=1
	run get /exchange/status
	[ "$(jq -r .error.code <<<"$output")" = too_many_requests ]
	sim_stop
	sim_start --faults 5xx=1 --rate-limit off
	code=$(curl -s -o /dev/null -w '%{http_code}' "$SIM_URL/trade-api/v2/exchange/status")
	[[ "$code" == 50[03] ]]
	sim_stop
	sim_start --faults drop=1
	run curl -sS "$SIM_URL/trade-api/v2/exchange/status"
	[ "$status" -ne 0 ]
	sim_stop
	seq1() {
		sim_start --seed 7 --faults 429=0.3,5xx=0.3 --rate-limit off
		for i in $(seq 1 40); do curl -s -o /dev/null -w '%{http_code} ' "$SIM_URL/trade-api/v2/exchange/status"; done
		sim_stop
	}
	a=$(seq1); b=$(seq1)
	[ "$a" = "$b" ]
	[[ "$a" == *200* && "$a" == *429* && "$a" == *50* ]]
}

@test "lost reply: the order exists although the client saw no answer" {
	sim_start --start "$START" --faults lost=1
	t=$(get '/markets?status=open' | jq -r '.markets[20].ticker')
	run kcurl POST /portfolio/events/orders "{\"ticker\":\"$t\",\"side\":\"bid\",\"price\":\"0.01\",\"count\":\"1\",\"time_in_force\":\"good_till_canceled\",\"self_trade_prevention_type\":\"taker_at_cross\",\"client_order_id\":\"lost-1\"}"
	[ "$status" -ne 0 ]
	[ "$(curl -sS "$SIM_URL/sim/orders" | jq -r '.orders[0].client_order_id')" = lost-1 ]
}

@test "the same seed gives the same price path and settlement" {
	avg() {
		sim_start --seed 42 --start "$START" --speed 2000 --settle-delay 1
		for i in $(seq 1 100); do
			a=$(simstate | jq -r '.events[0].average_cents // empty')
			[ -n "$a" ] && break
			sleep 0.05
		done
		sim_stop
		echo "$a"
	}
	a=$(avg); b=$(avg)
	[ -n "$a" ]
	[ "$a" = "$b" ]
}

@test "a simulated hour of random orders: balance = deposits - costs - fees + revenue, to the centi-cent" {
	sim_start --start "$START" --speed 400 --settle-delay 2 --rate-limit off
	sides=(bid ask)
	tifs=(immediate_or_cancel good_till_canceled fill_or_kill)
	RANDOM=1
	# at least 12 s (a simulated hour and more: a settlement) and at least
	# 60 orders (a loaded machine places fewer in 12 s), at most 60 s
	end=$(( $(date +%s) + 12 )) last=$(( $(date +%s) + 60 ))
	n=0
	while { [ "$(date +%s)" -lt "$end" ] || [ $n -lt 60 ]; } && [ "$(date +%s)" -lt "$last" ]; do
		m=$(get '/markets?status=open' | jq -c ".markets[$((RANDOM % 16 + 12))]")
		t=$(jq -r .ticker <<<"$m")
		[ "$t" = null ] && continue
		s=${sides[$((RANDOM % 2))]}
		p=$(( $(jq -r '.yes_ask_dollars|tonumber*100|round' <<<"$m") + RANDOM % 7 - 3 ))
		[ $p -lt 1 ] && p=1; [ $p -gt 99 ] && p=99
		kc POST /portfolio/events/orders "{\"ticker\":\"$t\",\"side\":\"$s\",\"price\":\"0.$(printf %02d $p)\",\"count\":\"$((RANDOM % 20 + 1))\",\"time_in_force\":\"${tifs[$((RANDOM % 3))]}\",\"self_trade_prevention_type\":\"taker_at_cross\"}"
		n=$((n + 1))
	done
	# no fill may land between the reads below: cancel what still rests
	for id in $(kcurl GET '/portfolio/orders?status=resting&limit=200' | sed '$d' | jq -r '.orders[].order_id'); do
		kcurl DELETE "/portfolio/events/orders/$id" >/dev/null
	done
	[ "$n" -ge 50 ]
	st=$(simstate)
	[ "$(jq '.accounts[0].settlements' <<<"$st")" -ge 1 ]
	[ "$(jq '.accounts[0].fills' <<<"$st")" -ge 20 ]
	# Recompute the balance from the exchange's own fills and settlements
	# (netted YES book: a bid closes NO before it opens YES, an ask the reverse).
	fills=$(kcurl GET '/portfolio/fills?limit=1000' | sed '$d')
	[ "$(jq '.cursor' <<<"$fills")" = '""' ]
	sets=$(kcurl GET '/portfolio/settlements?limit=200' | sed '$d')
	bal=$(kcurl GET /portfolio/balance | sed '$d')
	calc=$(jq -n --argjson f "$fills" --argjson s "$sets" '
		reduce ($f.fills | reverse | .[]) as $x ({pos: {}, cash: 0, fees: 0};
			($x.count_fp | tonumber * 100 | round) as $n |
			($x.yes_price_dollars | tonumber * 100 | round) as $p |
			(.pos[$x.ticker] // 0) as $q |
			if $x.book_side == "bid" then
				([$n, ([0, -$q] | max)] | min) as $c |
				.cash += $c * (100 - $p) - ($n - $c) * $p | .pos[$x.ticker] = $q + $n
			else
				([$n, ([0, $q] | max)] | min) as $c |
				.cash += $c * $p - ($n - $c) * (100 - $p) | .pos[$x.ticker] = $q - $n
			end
			| .fees += ($x.fee_cost | tonumber * 10000 | round))
		| 10000000 + .cash - .fees + ([$s.settlements[].revenue] | add // 0) * 100')
	api=$(jq '.balance_dollars | tonumber * 10000 | round' <<<"$bal")
	echo "recomputed $calc, api $api" >&3
	[ "$calc" -eq "$api" ]
	[ "$(jq '.accounts[0] | .balance_cc == .deposits_cc + .trade_cash_cc - .fees_cc + .revenue_cc' <<<"$st")" = true ]
}
