#!/bin/sh
# bench/latency.sh [ORDERS]: tick-to-order latency through the real
# pipeline, wired as in production (s6/*/run): tickfeed | btc-tick -r - ->
# FIFO -> signal-eval -> FIFO -> order-send -> HTTP (signed, RSA-PSS) ->
# kalshi-sim, with order-send's order lines back into signal-eval's FIFO.
# Latency is the real time (CLOCK_REALTIME) from just before a tick line
# is written into btc-tick's stdin to the moment kalshi-sim reads the
# headers of the order request it caused (arrived_us in GET /sim/orders);
# each order maps to its tick by order-send's "intent" line (ts = the
# tick's ts, client_order_id).  Every tick triggers one order: the ladder
# is the simulator's own (kalshi-fetch), with asks set to 1 cent so that
# every IOC buy is canceled unfilled and its strike is free again for the
# next tick; settings and risk limits let everything through; ticks are
# 250 ms apart in tick time (order-send's max_orders_per_minute is at most
# 256 by message time) and written one at a time, after the previous
# order's outcome plus GAP_US (default 2000) of real time, so that each is
# timed unqueued.  References measured in the same run: a loopback HTTP
# round trip (keep-alive GET /exchange/status through recio's HTTP client)
# and the original system's budget, three one-second polling loops in
# series (3000 ms); and the disk's floor under the intent: a 400-byte line
# appended to a file beside the journal and fsync'd, FSYNC_N (3000) times,
# idle GAP_US + 1000 us between them as order-send is between orders
# (tickfeed -F), with the floor of the whole default path: that p99 plus
# the round trip's.  Table on stderr, NDJSON via record (bench/lib.sh).
#
# Three configurations of order-send, each on a fresh simulator and
# pipeline: the default (an order's intent fsync'd before it is sent, a
# signature made ahead while idle: --presign 4), over ORDERS; then, over
# LAT_ORDERS_ALT (default 3000) each: --intent-sync after (the fsync once
# the exchange answered) and --presign 0 (an RSA signature between the
# signal and the request).
set -eu
n=${1:-${LAT_ORDERS:-10100}}
n_alt=${LAT_ORDERS_ALT:-3000}
warm=${LAT_WARMUP:-200}
gap=${GAP_US:-2000}
here=$(cd "$(dirname "$0")" && pwd)
bin=${RECIO_BIN:-$here/../build/bin}
tf=$bin/../bench/tickfeed
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
[ -x "$tf" ] || { echo "latency.sh: $tf missing: run make" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/recio-lat.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	for p in $pids; do wait "$p" 2>/dev/null || :; done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# measure NAME COUNT ORDER-SEND-OPTION...: COUNT orders through a fresh
# simulator and pipeline; latencies (us, sorted) in $dir/lat.NAME
measure() {
	name=$1 cnt=$2
	shift 2
	d=$dir/$name
	mkdir -p "$d"
	# the exchange: an event that has just opened (59 minutes to its close)
	mkdir -p "$d/keys"
	"$bin/kalshi-sim" --keygen "$d/bench.key" "$d/keys/bench.pem" >/dev/null
	now=$(date +%s)
	start=$((now - now % 3600 + 5))
	"$bin/kalshi-sim" -k "$d/keys" -p 0 --port-file "$d/port" --rate-limit off --balance 100000000 \
		--start "$start" 2>"$d/sim.err" &
	pids="$pids $!"
	i=0
	while [ ! -s "$d/port" ]; do i=$((i + 1)); [ $i -lt 100 ] || { cat "$d/sim.err" >&2; exit 1; }; sleep 0.05; done
	port=$(cat "$d/port")
	export KALSHI_API_BASE="http://127.0.0.1:$port/trade-api/v2" KALSHI_KEY_ID=bench KALSHI_KEY_FILE="$d/bench.key"
	export RECIO_KILL="$d/KILL" RECIO_JOURNAL="${LAT_JOURNAL_DIR:-$d}/order-send.journal.$$"

	# the ladder, once, from kalshi-fetch; asks at 1 cent (see above)
	"$bin/kalshi-fetch" -i 1 >"$d/ladder.raw" 2>"$d/fetch.err" &
	fp=$!
	i=0
	while [ "$(grep -c '"type":"market"' "$d/ladder.raw" || :)" -lt 40 ]; do
		i=$((i + 1)); [ $i -lt 200 ] || { cat "$d/fetch.err" >&2; exit 1; }; sleep 0.05
	done
	kill "$fp"; wait "$fp" 2>/dev/null || :
	jq -c 'select(.type == "market" or .type == "event")
		| if .type == "market" then .yes_ask = 1 | .no_ask = 1 else . end' "$d/ladder.raw" >"$d/ladder"

	# the pipeline, as s6/*/run wire it
	mkfifo "$d/signal-eval.in" "$d/order-send.in" "$d/orders"
	RECIO_OUT="- $d/order-send.in=signal" "$bin/signal-eval" \
		-s fingerprints="$here/../share/fingerprints/btc" -s auto_entry=on -s allow_re_entry=on -s cooldown=0 \
		-s min_probability=0 -s min_differential=-100 -s min_volume=0 -s max_ask=99 -s min_time=0 -s max_time=3600 \
		-s strikes=1 -s spike_threshold=10000 \
		0<>"$d/signal-eval.in" >"$d/signal-eval.out" 2>"$d/signal-eval.err" &
	pids="$pids $!"
	RECIO_OUT="- $d/signal-eval.in=order" "$bin/order-send" -H 3600 --rate-limit "${LAT_RATE_LIMIT:-off}" "$@" \
		-s max_per_market=1000000 -s max_per_event=10000000 -s max_exposure=100000000 -s max_orders_per_minute=256 \
		-s daily_loss_limit=100000000 -s max_price=99 -s min_ttc=0 -s max_positions=100000 \
		0<>"$d/order-send.in" 1<>"$d/orders" 2>"$d/order-send.err" &
	pids="$pids $!"
	cat "$d/ladder" >"$d/signal-eval.in"

	# reference: the loopback round trip, same run
	[ "$name" != main ] || "$tf" -R 5000 -u "$KALSHI_API_BASE" >"$dir/rtt"

	ts0=$(((start + 5) * 1000))
	"$tf" -n "$cnt" -W "$warm" -t "$ts0" -s 250 -g "$gap" -o "$d/orders" -w 500 -l "$d/feed.log" 2>"$d/feed.err" |
		RECIO_OUT="$d/signal-eval.in" "$bin/btc-tick" -r - -d 0 2>"$d/btc-tick.err"
	cat "$d/feed.err" >&2
	[ "$name" != main ] || "$tf" -R 5000 -u "$KALSHI_API_BASE" >>"$dir/rtt"

	curl -sf "http://127.0.0.1:$port/sim/orders" |
		jq -r '.orders[] | "a \(.client_order_id) \(.arrived_us)"' >"$d/arrived"
	# latency of every order of a measured (not warm-up) tick, in us
	cat "$d/feed.log" "$d/arrived" | awk '
		$1 == "t" { w[$2] = $3 }
		$1 == "o" { tk[$2] = $3 }
		$1 == "a" && ($2 in tk) && (tk[$2] in w) { print $3 - w[tk[$2]] }' | sort -n >"$dir/lat.$name"
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	for p in $pids; do wait "$p" 2>/dev/null || :; done
	pids=
}

measure main "$n" --presign 4 --intent-sync before
measure sync-after "$n_alt" --presign 4 --intent-sync after
measure presign-0 "$n_alt" --presign 0 --intent-sync before
awk '{ print $2 }' "$dir/rtt" | sort -n >"$dir/rtt.sorted"
# the disk's floor: fsync of an appended line after the same idle time
"$tf" -F "${FSYNC_N:-3000}" -f "${LAT_JOURNAL_DIR:-$dir}/fsync-floor.$$" -g $((gap + 1000)) |
	awk '{ print $2 }' | sort -n >"$dir/fsync.sorted"
rm -f "${LAT_JOURNAL_DIR:-$dir}/fsync-floor.$$"

# pct FILE P: the P-th percentile (nearest rank) of a sorted column, in ms
pct() { awk -v p="$2" '{ v[NR] = $1 } END { k = int(NR * p / 100 + 0.999999); if (k < 1) k = 1; printf "%.3f\n", v[k] / 1000 }' "$1"; }
count=$(wc -l <"$dir/lat.main")
[ "$count" -gt 0 ] || { echo "latency.sh: no order measured" >&2; tail "$dir"/*/*.err >&2; exit 1; }
p50=$(pct "$dir/lat.main" 50) p99=$(pct "$dir/lat.main" 99) max=$(pct "$dir/lat.main" 100)
r50=$(pct "$dir/rtt.sorted" 50) r99=$(pct "$dir/rtt.sorted" 99) rmax=$(pct "$dir/rtt.sorted" 100)
a50=$(pct "$dir/lat.sync-after" 50) a99=$(pct "$dir/lat.sync-after" 99) amax=$(pct "$dir/lat.sync-after" 100)
s50=$(pct "$dir/lat.presign-0" 50) s99=$(pct "$dir/lat.presign-0" 99) smax=$(pct "$dir/lat.presign-0" 100)
f50=$(pct "$dir/fsync.sorted" 50) f99=$(pct "$dir/fsync.sorted" 99) fmax=$(pct "$dir/fsync.sorted" 100)
floor99=$(echo "$f99 + $r99" | bc -l | sed 's/^\./0./')
budget=3000

{
	printf '%-48s %10s %10s %10s\n' "tick-to-order (ms)" p50 p99 max
	printf '%-48s %10s %10s %10s\n' "default, $count orders" "$p50" "$p99" "$max"
	printf '%-48s %10s %10s %10s\n' "--intent-sync after, $(wc -l <"$dir/lat.sync-after") orders" "$a50" "$a99" "$amax"
	printf '%-48s %10s %10s %10s\n' "--presign 0, $(wc -l <"$dir/lat.presign-0") orders" "$s50" "$s99" "$smax"
	printf '%-48s %10s %10s %10s\n' "loopback HTTP RTT, $(wc -l <"$dir/rtt.sorted") GETs" "$r50" "$r99" "$rmax"
	printf '%-48s %10s %10s %10s\n' "fsync of a line after $((gap + 1000)) us idle, $(wc -l <"$dir/fsync.sorted")" "$f50" "$f99" "$fmax"
	printf '%-48s %10s %10s\n' "floor of the default: fsync + RTT" "" "$floor99"
	printf '%-48s %10s\n' "original design: 3 x 1 s polling loops" "$budget"
} >&2
record latency "tick-to-order p50" "$p50" ms "loopback HTTP RTT p50" "$r50"
record latency "tick-to-order p99" "$p99" ms "loopback HTTP RTT p99" "$r99" "<= 2"
record latency "tick-to-order max" "$max" ms "loopback HTTP RTT max" "$rmax"
record latency "tick-to-order p50" "$p50" ms "fsync of a 400-byte line after $((gap + 1000)) us idle, p50" "$f50"
record latency "tick-to-order p99" "$p99" ms "floor: fsync p99 + loopback HTTP RTT p99" "$floor99"
record latency "orders measured" "$count" orders "" "" ">= 10000"
record latency "tick-to-order p99" "$p99" ms "original design budget (3 x 1 s polling loops)" "$budget"
record latency "p50, --intent-sync after" "$a50" ms "loopback HTTP RTT p50" "$r50"
record latency "p99, --intent-sync after" "$a99" ms "loopback HTTP RTT p99" "$r99" "<= 2"
record latency "p50, --presign 0 (signed on the hot path)" "$s50" ms "loopback HTTP RTT p50" "$r50"
record latency "p99, --presign 0 (signed on the hot path)" "$s99" ms "loopback HTTP RTT p99" "$r99"
