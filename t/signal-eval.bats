#!/usr/bin/env bats
# signal-eval driven by hand-written streams: each entry and stop rule,
# the spike pause and its recovery timer, cooldown, the TTC window,
# reload on SIGHUP, determinism.
#
# The world: event E closes at C = 1795618800000 (15:00 UTC).  Strike
# 99000 is 1 % below the price of 100000 (YES side, probability ~100 %
# with the lognormal model and vol 1e-5/s); strike 100000.01 is at the
# money (~50 %).

load helper

C=1795618800000
E=KXBTCD-26NOV2510

# mkt STRIKE YES_BID YES_ASK [VOLUME] [STATUS]
mkt() {
	local s=$1 yb=$2 ya=$3 v=${4:-5000} st=${5:-active}
	printf '{"type":"market","ts":%s,"ticker":"%s-T%s","event_ticker":"%s","status":"%s","strike":%s,"close_ts":%s,"yes_bid":%s,"yes_ask":%s,"no_bid":%s,"no_ask":%s,"volume":%s}\n' \
		$((C - 3600000)) "$E" "$s" "$E" "$st" "$s" "$C" "$yb" "$ya" $((100 - ya)) $((100 - yb)) "$v"
}

# tick TTC_SECONDS PRICE MOM_BP
tick() {
	printf '{"type":"tick","ts":%s,"price":%s,"mom_bp":%s,"vol5m":0.00001}\n' $((C - $1 * 1000)) "$2" "${3:-0}"
}

ladder() {
	mkt 99000.00 95 96
	mkt 100000.01 48 52
}

se() {
	signal-eval -s auto_entry=on -s model=lognormal "$@"
}

signals() {
	jq -c 'select(.type=="signal")' "$@"
}

why() {     # why_not of strike $2 in the last strike line of $1
	jq -r "select(.type==\"strike\") | .rows[] | select(.strike==$2) | .why_not // \"\"" "$1" | tail -n 1
}

@test "usage and settings: -h exits 0, a bad setting exits 1 with its reason" {
	run signal-eval -h
	[ "$status" -eq 0 ]
	run signal-eval -s min_probability=120 -n
	[ "$status" -eq 1 ]
	[[ "$output" == *"min_probability: \"120\" is not a number of percent from 0 to 100"* ]]
	run signal-eval -s min_time=900 -s max_time=100 -n
	[ "$status" -eq 1 ]
	[[ "$output" == *"min_time 900 > max_time 100"* ]]
	run signal-eval -s nonsense=1 -n
	[ "$status" -eq 1 ]
	run signal-eval -n
	[ "$output" = "configuration OK: model lognormal" ]
}

@test "entry: one signal for the strike that passes every rule, limit at the ask" {
	{ ladder; tick 600 100000; } >"$BATS_TEST_TMPDIR/in"
	se -s position_size=3 -s multiplier=2 "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(signals "$BATS_TEST_TMPDIR/out" | wc -l)" -eq 1 ]
	s=$(signals "$BATS_TEST_TMPDIR/out")
	[ "$(jq -r '[.intent,.ticker,.side,.action,.count,.price,.ttc,.model]|join(" ")' <<<"$s")" = \
		"open $E-T99000.00 yes buy 6 96 600 lognormal" ]
	[[ "$(jq -r .id <<<"$s")" =~ ^s-[0-9a-f]{16}$ ]]
	[ "$(jq '.prob > 99.9 and .diff > 3.9' <<<"$s")" = true ]
	# the at-the-money strike says why not
	[[ "$(why "$BATS_TEST_TMPDIR/out" 100000.01)" == "prob 4"*" < 95" ]] || [[ "$(why "$BATS_TEST_TMPDIR/out" 100000.01)" == "prob 5"*" < 95" ]]
	# strike rows: active side YES below the price, NO at or above
	[ "$(jq -r 'select(.type=="strike") | [.rows[].side]|join(",")' "$BATS_TEST_TMPDIR/out")" = "yes,no" ]
}

@test "the TTC window: outside 120-900 s nothing is entered, and it says so" {
	{ ladder; tick 1000 100000; tick 100 100000; } >"$BATS_TEST_TMPDIR/in"
	se "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(signals "$BATS_TEST_TMPDIR/out" | wc -l)" -eq 0 ]
	[ "$(jq -r 'select(.type=="strike") | .rows[0].why_not' "$BATS_TEST_TMPDIR/out")" = \
		"$(printf 'ttc 1000 s outside 120-900\nttc 100 s outside 120-900')" ]
	[ "$(jq -r 'select(.type=="status" and .what=="entry") | .state' "$BATS_TEST_TMPDIR/out")" = INACTIVE ]
}

@test "ask, volume, probability and differential limits" {
	{ mkt 99000.00 98 99; tick 600 100000; } | se >"$BATS_TEST_TMPDIR/o1"
	[ "$(why "$BATS_TEST_TMPDIR/o1" 99000)" = "ask 99 > 98" ]
	{ mkt 99000.00 95 96 800; tick 600 100000; } | se >"$BATS_TEST_TMPDIR/o2"
	[ "$(why "$BATS_TEST_TMPDIR/o2" 99000)" = "volume 800 < 1000" ]
	{ ladder; tick 600 100000; } | se -s min_differential=5 >"$BATS_TEST_TMPDIR/o3"
	[ "$(why "$BATS_TEST_TMPDIR/o3" 99000)" = "diff 4.00 < 5" ]
	[ "$(signals "$BATS_TEST_TMPDIR/o1" "$BATS_TEST_TMPDIR/o2" "$BATS_TEST_TMPDIR/o3" | wc -l)" -eq 0 ]
	{ ladder; tick 600 100000; } | signal-eval -s model=lognormal >"$BATS_TEST_TMPDIR/o4"
	[ "$(why "$BATS_TEST_TMPDIR/o4" 99000)" = "auto entry off" ]
}

@test "pending, cooldown, already open, and re-entry" {
	o() { printf '{"type":"order","ts":%s,"ticker":"%s-T99000.00","side":"yes","action":"%s","status":"%s","filled":%s}\n' $((C - $1 * 1000)) "$E" "$2" "$3" "${4:-0}"; }
	p() { printf '{"type":"position","ts":%s,"ticker":"%s-T99000.00","position":%s}\n' $((C - $1 * 1000)) "$E" "$2"; }
	{
		ladder
		tick 600 100000        # signal 1
		tick 599 100000        # pending
		o 598 buy rejected     # back to none
		tick 597 100000        # cooldown 7 s
		tick 590 100000        # signal 2 (10 s later)
		o 589 buy filled 1
		p 589 1
		tick 580 100000        # already open
		p 570 0                # closed
		tick 560 100000        # re-entry off
	} >"$BATS_TEST_TMPDIR/in"
	se "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(signals "$BATS_TEST_TMPDIR/out" | jq -r .ttc | tr '\n' ' ')" = "600 590 " ]
	[ "$(jq -r 'select(.type=="strike") | .rows[0].why_not // "-"' "$BATS_TEST_TMPDIR/out" | tr '\n' '|')" = \
		"-|order pending|cooldown 7 s|-|already open|re-entry off|" ]
	se -s allow_re_entry=on "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out2"
	[ "$(signals "$BATS_TEST_TMPDIR/out2" | jq -r .ttc | tr '\n' ' ')" = "600 590 560 " ]
}

@test "spike pause: |momentum| >= 36 pauses; 15 minutes within +-30 resumes; a relapse restarts the timer" {
	{
		ladder
		tick 2000 100000 40          # pause
		tick 1990 100000 20          # calm from here
		tick 1500 100000 33          # above 30: the timer restarts
		tick 1490 100000 10          # calm again
		tick 591 100000 0            # 14m59s calm: still paused, 1 s left
		tick 590 100000 0            # 15 minutes: resumes, enters
	} >"$BATS_TEST_TMPDIR/in"
	se "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.type=="status" and .what=="entry") | .state' "$BATS_TEST_TMPDIR/out" | tr '\n' ' ')" = \
		"PAUSED ACTIVE " ]
	[ "$(jq -r 'select(.type=="strike") | .rows[0].why_not // "-"' "$BATS_TEST_TMPDIR/out" | tr '\n' '|')" = \
		"spike pause 15m00s left|spike pause 15m00s left|spike pause 15m00s left|spike pause 15m00s left|spike pause 0m01s left|-|" ]
	[ "$(signals "$BATS_TEST_TMPDIR/out" | jq -r .ttc)" = 590 ]
	[ "$(jq -r 'select(.type=="status" and .state=="PAUSED") | .resume_ts' "$BATS_TEST_TMPDIR/out")" -eq $((C - 2000000 + 900000)) ]
}

@test "auto stop: below 40 % after the minimum hold, confirmed after the verification period" {
	p() { printf '{"type":"position","ts":%s,"ticker":"%s-T100000.01","position":%s}\n' $((C - $1 * 1000)) "$E" "$2"; }
	{
		ladder
		p 900 5                      # 5 YES held from TTC 900
		tick 880 99990               # below 50 % but held 20 s < 60
		tick 840 99990               # held 60 s: verification starts
		tick 830 100010              # recovered: verification resets
		tick 820 99990               # starts again
		tick 810 99990               # 10 s: not yet
		tick 805 99990               # 15 s: close
		tick 800 99990               # closing: nothing more
	} >"$BATS_TEST_TMPDIR/in"
	se -s auto_entry=off -s auto_stop=on "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(signals "$BATS_TEST_TMPDIR/out" | wc -l)" -eq 1 ]
	s=$(signals "$BATS_TEST_TMPDIR/out")
	[ "$(jq -r '[.intent,.side,.action,.count,.price,.ttc]|join(" ")' <<<"$s")" = "close yes sell 5 48 805" ]
	[ "$(jq '.prob < 40' <<<"$s")" = true ]
	# without verification it closes at the first tick past the hold
	se -s auto_entry=off -s auto_stop=on -s verify=0 "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out2"
	[ "$(signals "$BATS_TEST_TMPDIR/out2" | jq -r .ttc)" = 840 ]
	# auto stop off: nothing
	se -s auto_entry=off "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out3"
	[ "$(signals "$BATS_TEST_TMPDIR/out3" | wc -l)" -eq 0 ]
}

@test "spike stop-out: a down spike closes YES, an up spike closes NO, only when enabled" {
	{
		ladder
		printf '{"type":"position","ts":%s,"ticker":"%s-T99000.00","position":2}\n' $((C - 900000)) "$E"
		printf '{"type":"position","ts":%s,"ticker":"%s-T100000.01","position":-3}\n' $((C - 900000)) "$E"
		tick 800 100000 -40
		tick 790 100000 40
	} >"$BATS_TEST_TMPDIR/in"
	se -s auto_entry=off -s stop_on_spike=on "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(signals "$BATS_TEST_TMPDIR/out" | jq -r '[.ttc,.side,.count,.reason]|join(" ")')" = \
		"$(printf '800 yes 2 spike stop: momentum down\n790 no 3 spike stop: momentum up')" ]
	se -s auto_entry=off "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out2"
	[ "$(signals "$BATS_TEST_TMPDIR/out2" | wc -l)" -eq 0 ]
}

@test "SIGHUP reloads the settings; a bad file keeps the old ones and says why" {
	cfg="$BATS_TEST_TMPDIR/se.conf"
	fifo="$BATS_TEST_TMPDIR/in"
	printf 'auto_entry=on\nmodel=lognormal\n' >"$cfg"
	mkfifo "$fifo"
	signal-eval -c "$cfg" <"$fifo" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	exec 5>"$fifo"
	ladder >&5
	tick 900 100000 >&5
	for i in $(seq 1 50); do grep -q '"state":"ACTIVE"' "$BATS_TEST_TMPDIR/out" && break; sleep 0.1; done
	printf 'auto_entry=maybe\n' >"$cfg"
	kill -HUP $pid
	for i in $(seq 1 50); do grep -q 'not reloaded' "$BATS_TEST_TMPDIR/err" && break; sleep 0.1; done
	grep -q 'auto_entry: "maybe" is not on|off' "$BATS_TEST_TMPDIR/err"
	tick 899 100000 >&5
	printf 'auto_entry=off\nmodel=lognormal\n' >"$cfg"
	sleep 0.2
	kill -HUP $pid
	sleep 0.3
	tick 898 100000 >&5
	exec 5>&-
	wait $pid
	[ "$(jq -r 'select(.type=="status" and .what=="entry") | .state' "$BATS_TEST_TMPDIR/out" | tr '\n' ' ')" = \
		"ACTIVE DISABLED " ]
	[ "$(jq -r 'select(.type=="strike") | .entry' "$BATS_TEST_TMPDIR/out" | tr '\n' ' ')" = "ACTIVE ACTIVE DISABLED " ]
}

@test "the same input gives byte-identical output; bad lines are reported and skipped" {
	{
		ladder
		for t in $(seq 900 -5 100); do tick "$t" $((100000 + (t % 37) * 10 - 180)) $(( (t % 23) - 11 )); done
		echo 'not json'
		printf '{"type":"tick","price":1}\n'
	} >"$BATS_TEST_TMPDIR/in"
	se -s auto_stop=on -s allow_re_entry=on "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/a" 2>"$BATS_TEST_TMPDIR/err"
	se -s auto_stop=on -s allow_re_entry=on "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/b" 2>/dev/null
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	[ "$(grep -c '"type":"strike"' "$BATS_TEST_TMPDIR/a")" -eq 161 ]
	grep -q 'line 164: invalid literal at byte 1, skipped' "$BATS_TEST_TMPDIR/err"
	grep -q 'line 165: tick without an integer ts' "$BATS_TEST_TMPDIR/err"
}

@test "fingerprint model from the shipped tables" {
	{ ladder; tick 600 100000 5; } | se -s model=auto -s fingerprints="$RECIO_TOP/share/fingerprints/btc" >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.type=="strike") | .model' "$BATS_TEST_TMPDIR/out")" = fingerprint ]
	# 1 % below with 10 minutes left: nearly certain to stay above
	[ "$(jq 'select(.type=="strike") | .rows[0].prob > 99' "$BATS_TEST_TMPDIR/out")" = true ]
	run signal-eval -s model=fingerprint -n
	[ "$status" -eq 1 ]
	[[ "$output" == *"needs fingerprints=DIR"* ]]
}

# a stream through the close: entries at TTC 600, then ticks to the close at PRICE
through_close() {
	ladder
	for t in $(seq 600 -1 0) -1; do tick "$t" "$1"; done
}

@test "backtest: paper fills at the ask, Kalshi's fee, settlement on the recorded last minute" {
	through_close 100000 >"$BATS_TEST_TMPDIR/in"
	run signal-eval --backtest -s auto_entry=on -s model=lognormal --trades "$BATS_TEST_TMPDIR/trades" "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[[ "$output" == *"trades 1 (settled 1, stopped 0)"* ]]
	[[ "$output" == *"P&L \$0.0300, fees \$0.0100"* ]]
	# 1 YES at 96c; the fee 0.07 x 0.96 x 0.04 = $0.002688 is charged $0.01; wins $1: 400 - 100 cc
	t=$(cat "$BATS_TEST_TMPDIR/trades")
	[ "$(jq -r '[.side,.entry_price,.entry_fee_cc,.exit,.exit_price,.pnl_cc,.win]|join(" ")' <<<"$t")" = \
		"yes 96 100 settle 100 300 true" ]
	# the price ends below the strike for the last minute: the YES trade loses
	{ ladder; tick 600 100000; for t in $(seq 599 -1 0) -1; do tick "$t" 98900; done; } >"$BATS_TEST_TMPDIR/in2"
	# (entries only at TTC 600: the stale quotes would invite NO entries after the drop)
	signal-eval --backtest --json -s auto_entry=on -s model=lognormal -s min_time=600 -s max_time=600 \
		"$BATS_TEST_TMPDIR/in2" >"$BATS_TEST_TMPDIR/r"
	[ "$(jq -r '[.trades,.wins,.pnl_cc,.max_drawdown_cc]|join(" ")' "$BATS_TEST_TMPDIR/r")" = "1 0 -9700 9700" ]
}

@test "backtest: an auto stop exits at the bid; sweep runs a grid on all cores" {
	{ ladder; tick 600 100000; for t in $(seq 599 -1 500); do tick "$t" 98900; done; } >"$BATS_TEST_TMPDIR/in"
	signal-eval --backtest --json -s auto_entry=on -s auto_stop=on -s verify=0 -s model=lognormal -s min_time=600 -s max_time=600 \
		--trades "$BATS_TEST_TMPDIR/trades" "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/r"
	[ "$(jq -r '[.exit,.exit_price,.exit_ts]|join(" ")' "$BATS_TEST_TMPDIR/trades")" = "stop 95 $((C - 540000))" ]
	# 96 -> 95, two fees of a cent: -100 - 100 - 100
	[ "$(jq .pnl_cc "$BATS_TEST_TMPDIR/trades")" -eq -300 ]
	through_close 100000 >"$BATS_TEST_TMPDIR/in2"
	run signal-eval --sweep 'position_size=1,2,3;min_differential=0,5' -s auto_entry=on -s model=lognormal "$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 6 ]
	# best first: size 3 with entries (3 x 400 - fee 100), then size 2, size 1; diff >= 5 never enters
	[ "$(jq -r .settings <<<"${lines[0]}")" = "position_size=3 min_differential=0" ]
	[ "$(jq -r .pnl_cc <<<"${lines[0]}")" -eq 1100 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r 'select(.trades==0) | .settings' | wc -l)" -eq 3 ]
}

@test "strike rows: the nearest strikes, ties to the lower ticker, in strike order, whatever order the ladder came in" {
	local k strikes=""
	# 30 strikes 250 apart around 100000; pairs the same distance from the
	# price (99750/100250, 99500/100500) where the lower ticker wins
	# ("...-T100500" before "...-T99500")
	for k in $(seq 0 29); do strikes="$strikes $((96250 + k * 250))"; done
	{ for k in $strikes; do mkt "$k" 50 52; done; tick 600 100000; } >"$BATS_TEST_TMPDIR/sorted"
	{ for k in $strikes; do mkt "$k" 50 52; done | shuf --random-source=<(yes); tick 600 100000; } >"$BATS_TEST_TMPDIR/shuffled"
	# the same strike twice (two tickers): the order of ties counts, as before
	{ for k in $strikes; do mkt "$k" 50 52; done; mkt 100250 50 52 | sed 's/-T100250/-T100250b/'; tick 600 100000; } \
		>"$BATS_TEST_TMPDIR/twice"
	for f in sorted shuffled twice; do
		se -s strikes=4 "$BATS_TEST_TMPDIR/$f" | jq -r 'select(.type=="strike") | [.rows[].strike] | join(" ")' \
			>"$BATS_TEST_TMPDIR/$f.rows"
	done
	# 100000 itself, then 99750 and 100250 (equal: both), then of 99500 and 100500 the lower ticker
	[ "$(cat "$BATS_TEST_TMPDIR/sorted.rows")" = "99750 100000 100250 100500" ]
	[ "$(cat "$BATS_TEST_TMPDIR/shuffled.rows")" = "99750 100000 100250 100500" ]
	[ "$(cat "$BATS_TEST_TMPDIR/twice.rows")" = "99750 100000 100250 100250" ]
	# all 31 of them, every one once, in strike order
	se -s strikes=200 "$BATS_TEST_TMPDIR/twice" | jq -e 'select(.type=="strike") | [.rows[].strike] | length == 31 and . == sort' >/dev/null
}

@test "strike rows and watchlist: each row's ticker and strike as last said, escaped; the tick's why_not on every row; the watchlist by probability, ties in row order" {
	local q
	q=$(printf '"%.0s' $(seq 100))    # a ticker of 100 quotes: 200 bytes escaped
	{
		mkt 95000.00 95 96; mkt 96000.00 95 96; mkt 100000.01 48 52; mkt 104000 3 5
		mkt 98000 70 75 | jq -c --arg t "$E-T\"98000" '.ticker=$t'
		mkt 99000 80 85 | jq -c --arg t "$E-T$q" '.ticker=$t'
		tick 1000 100000
		# the same market, its strike moved
		mkt 96000.00 95 96 | sed 's/"strike":96000.00/"strike":97000.5/'
		tick 999 100000
	} >"$BATS_TEST_TMPDIR/in"
	se -s min_probability=50 "$BATS_TEST_TMPDIR/in" | jq -c 'select(.type=="strike")' >"$BATS_TEST_TMPDIR/out"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 2 ]
	# rows in strike order, the first tick's strikes, then the moved one
	[ "$(jq -r '[.rows[] | "\(.ticker | sub("^'"$E"'-T"; "") | .[0:8]) \(.strike)"] | join(",")' "$BATS_TEST_TMPDIR/out")" = \
		"$(printf '%s\n' '95000.00 95000,96000.00 96000,"98000 98000,"""""""" 99000,100000.0 100000.01,104000 104000' \
			'95000.00 95000,96000.00 97000.5,"98000 98000,"""""""" 99000,100000.0 100000.01,104000 104000')" ]
	jq -e --arg t "$E-T$q" '.rows[3].ticker == $t and .watchlist[3] == $t' "$BATS_TEST_TMPDIR/out" >/dev/null
	# outside the window: every row says so
	[ "$(jq -r '[.rows[].why_not] | unique | join("|")' "$BATS_TEST_TMPDIR/out")" = \
		"$(printf '%s\n' 'ttc 1000 s outside 120-900' 'ttc 999 s outside 120-900')" ]
	# 100 % for all but the one at the money (50.02 %): 104000 (NO) before it,
	# the rest in row order
	[ "$(jq -r '[.watchlist[] | sub("^'"$E"'-T"; "") | .[0:8]] | join(",")' "$BATS_TEST_TMPDIR/out" | sort -u)" = \
		'95000.00,96000.00,"98000,"""""""",104000,100000.0' ]
}

# pos TTC TICKER POSITION; ord TTC TICKER SIDE ACTION STATUS [FILLED]
pos() { printf '{"type":"position","ts":%s,"ticker":"%s","position":%s}\n' $((C - $1 * 1000)) "$2" "$3"; }
ord() {
	printf '{"type":"order","ts":%s,"ticker":"%s","side":"%s","action":"%s","status":"%s","filled":%s}\n' \
		$((C - $1 * 1000)) "$2" "$3" "$4" "$5" "${6:-0}"
}
stops() { se -s auto_stop=on -s verify=0 --no-strikes "$@" | jq -r 'select(.type=="signal" and .intent=="close") | "\(.ttc) \(.count) \(.price)"' | tr '\n' ' '; }

@test "a close that filled in part: the rest is held and stopped again; a late position line changes nothing newer" {
	T=$E-T100000.01
	# 5 YES held; the stop sells 2 (IOC: "partial"), 3 are left and stop again
	{
		ladder; pos 900 "$T" 5
		tick 840 99990
		ord 839 "$T" yes sell partial 2
		pos 845 "$T" 5          # acct-sync's line from before the sale, late
		for t in 830 825; do tick "$t" 99900; done
	} >"$BATS_TEST_TMPDIR/in"
	[ "$(stops "$BATS_TEST_TMPDIR/in")" = "840 5 48 830 3 48 " ]
	# an old "position 0" after a newer fill does not flatten what is held:
	# no entry again while 1 is held
	T=$E-T99000.00
	{
		ladder
		tick 700 100000; ord 699 "$T" yes buy filled 1; pos 699 "$T" 1
		ord 650 "$T" yes sell filled 1
		tick 640 100000; ord 639 "$T" yes buy filled 1
		pos 650 "$T" 0
		tick 630 100000
	} >"$BATS_TEST_TMPDIR/in2"
	se -s allow_re_entry=on "$BATS_TEST_TMPDIR/in2" >"$BATS_TEST_TMPDIR/out"
	[ "$(signals "$BATS_TEST_TMPDIR/out" | jq -r .ttc | tr '\n' ' ')" = "700 640 " ]
	[ "$(why "$BATS_TEST_TMPDIR/out" 99000)" = "already open" ]
}

@test "no entry on the side opposite a held or pending one (Kalshi nets YES against NO); re-entry off counts either side" {
	T=$E-T99000.00
	{
		ladder
		tick 700 100000; ord 699 "$T" yes buy filled 1; pos 699 "$T" 1
		mkt 99000.00 4 5        # the price falls below the strike: NO is the side now
		tick 600 98000
	} >"$BATS_TEST_TMPDIR/in"
	se "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(signals "$BATS_TEST_TMPDIR/out" | jq -r --arg t "$T" 'select(.ticker == $t) | "\(.ttc) \(.side)"' | tr '\n' ' ')" = "700 yes " ]
	[ "$(why "$BATS_TEST_TMPDIR/out" 99000)" = "yes held" ]
	# the YES position closed: with re-entry off, NO is not entered either
	{ cat "$BATS_TEST_TMPDIR/in"; pos 590 "$T" 0; tick 580 98000; } >"$BATS_TEST_TMPDIR/in2"
	se "$BATS_TEST_TMPDIR/in2" >"$BATS_TEST_TMPDIR/out"
	[ "$(why "$BATS_TEST_TMPDIR/out" 99000)" = "re-entry off" ]
}

@test "stops: none past the close, none into an empty bid (a backtest books none either), the verification starts over with a new position" {
	T=$E-T100000.01
	# past close_ts, before the market's "closed" line: no close
	{ ladder; pos 900 "$T" 5; tick 100 100005; tick -1 99990; tick -2 99990; } >"$BATS_TEST_TMPDIR/in"
	[ "$(stops -s min_hold=0 "$BATS_TEST_TMPDIR/in")" = "" ]
	# no bid: held; a bid back: sold at it
	{ ladder; pos 900 "$T" 5; mkt 100000.01 0 52; tick 840 99900; tick 835 99900; mkt 100000.01 30 52; tick 830 99900; } \
		>"$BATS_TEST_TMPDIR/in2"
	[ "$(stops "$BATS_TEST_TMPDIR/in2")" = "830 5 30 " ]
	# a backtest whose bid empties holds on to settlement (it wins here)
	{
		mkt 99000.00 95 96; tick 600 100000
		mkt 99000.00 0 3 | jq -c '.ts+=1'
		for t in $(seq 599 -1 590); do tick "$t" 98800; done
		mkt 99000.00 95 96 | jq -c '.ts+=2'
		for t in $(seq 589 -1 0) -1; do tick "$t" 100000; done
	} >"$BATS_TEST_TMPDIR/in3"
	signal-eval --backtest -s auto_entry=on -s auto_stop=on -s verify=0 -s min_hold=0 -s model=lognormal \
		-s min_time=600 -s max_time=600 --trades "$BATS_TEST_TMPDIR/trades" "$BATS_TEST_TMPDIR/in3" >/dev/null
	[ "$(jq -r '[.exit,.exit_price,.pnl_cc]|join(" ")' "$BATS_TEST_TMPDIR/trades")" = "settle 100 300" ]
	# a verification begun on a position closed by hand does not carry over to the next one
	{
		ladder; pos 900 "$T" 5; tick 840 99990; pos 835 "$T" 0; pos 700 "$T" 3
		for t in 640 635 630 625 620; do tick "$t" 99990; done
	} >"$BATS_TEST_TMPDIR/in4"
	[ "$(se -s auto_stop=on -s verify=15 --no-strikes "$BATS_TEST_TMPDIR/in4" | jq -r 'select(.type=="signal" and .intent=="close") | .ttc')" = 625 ]
}

@test "SIGHUP while busy is not lost; a setting taken out of the file is its default again" {
	cfg="$BATS_TEST_TMPDIR/se.conf"
	fifo="$BATS_TEST_TMPDIR/in"
	printf 'auto_entry=on\nmodel=lognormal\n' >"$cfg"
	mkfifo "$fifo"
	# stdout through a pipe nobody reads for 3 s: signal-eval blocks in write, not in read
	sh -c 'echo $$ >"$0"; exec signal-eval -v -c "$1" <"$2" 2>"$3"' "$BATS_TEST_TMPDIR/pid" "$cfg" "$fifo" \
		"$BATS_TEST_TMPDIR/err" | { sleep 3; cat; } >"$BATS_TEST_TMPDIR/out" &
	exec 5>"$fifo"
	{ ladder; for t in $(seq 900 -1 500); do tick "$t" 100000; done; } >&5
	sleep 1
	printf '#auto_entry=on\nmodel=lognormal\n' >"$cfg"
	kill -HUP "$(cat "$BATS_TEST_TMPDIR/pid")"
	wait_for 10 grep -q 'settings reloaded' "$BATS_TEST_TMPDIR/err"
	tick 400 100000 >&5
	exec 5>&-
	wait
	[ "$(grep -c 'settings reloaded' "$BATS_TEST_TMPDIR/err")" -eq 1 ]
	[ "$(jq -r 'select(.type=="strike") | .entry' "$BATS_TEST_TMPDIR/out" | tail -n 1)" = DISABLED ]
}

@test "with every place of the market table taken, a market holding a position is never the one forgotten" {
	T=$E-T100000.01
	{
		mkt 100000.01 48 52; pos 900 "$T" 5
		awk -v c=$((C + 3600000)) -v e=KXBTCD-26NOV2511 'BEGIN { for (i = 1; i <= 4096; i++)
			printf "{\"type\":\"market\",\"ts\":%.0f,\"ticker\":\"%s-T%d\",\"event_ticker\":\"%s\",\"status\":\"active\",\"strike\":%d,\"close_ts\":%.0f,\"yes_bid\":50,\"yes_ask\":52,\"no_bid\":48,\"no_ask\":50,\"volume\":5000}\n",
			c - 7200000, e, 50000 + i, e, 50000 + i, c }'
		tick 800 99900
	} >"$BATS_TEST_TMPDIR/in"
	[ "$(stops "$BATS_TEST_TMPDIR/in")" = "800 5 48 " ]
}

@test "stale quotes: no entry while kalshi-fetch's health puts its last good read past max_quote_age; fresh again, the entry is made" {
	# hl TS STATUS LAST_OK_TS [SRC]: a health line
	hl() {
		printf '{"type":"health","ts":%s,"src":"%s","status":"%s","last_ok_ts":%s,"errors":3}\n' \
			"$1" "${4:-kalshi-fetch}" "$2" "$3"
	}
	n=$((C - 600000))
	{
		ladder
		hl "$n" stalled $((n - 45000))
		tick 600 100000
		hl "$n" ok "$n" btc-tick          # another tool's health: no matter
		tick 595 100000
		hl "$n" ok "$n"                   # kalshi-fetch reads again
		tick 590 100000
	} >"$BATS_TEST_TMPDIR/in"
	se "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -r 'select(.type=="strike") | .rows[0].why_not // "-"' "$BATS_TEST_TMPDIR/out" | tr '\n' '|')" = \
		"quotes 45s old|quotes 45s old|-|" ]
	[ "$(jq -r 'select(.type=="status" and .what=="entry") | [.state, .reason] | join(": ")' "$BATS_TEST_TMPDIR/out" |
		tr '\n' '|')" = "PAUSED: quotes 45s old (kalshi-fetch)|ACTIVE: trading|" ]
	[ "$(signals "$BATS_TEST_TMPDIR/out" | jq -r .ttc)" = 590 ]
	# within max_quote_age, or with it off (0), the entry is made at once
	{ ladder; hl "$n" degraded $((n - 20000)); tick 600 100000; } >"$BATS_TEST_TMPDIR/in2"
	[ "$(se "$BATS_TEST_TMPDIR/in2" | signals | jq -r .ttc)" = 600 ]
	[ "$(se -s max_quote_age=10 "$BATS_TEST_TMPDIR/in2" | signals | wc -l)" -eq 0 ]
	[ "$(se -s max_quote_age=0 "$BATS_TEST_TMPDIR/in" | signals | jq -r .ttc)" = 600 ]
	# never read whole (no last_ok_ts): stale
	{ ladder; printf '{"type":"health","ts":%s,"src":"kalshi-fetch","status":"stalled","errors":9}\n' "$n"; tick 600 100000; } \
		>"$BATS_TEST_TMPDIR/in3"
	[ "$(se "$BATS_TEST_TMPDIR/in3" | signals | wc -l)" -eq 0 ]
}
