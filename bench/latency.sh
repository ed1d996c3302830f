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
# series (3000 ms).  Table on stderr, NDJSON via record (bench/lib.sh).
set -eu
n=${1:-${LAT_ORDERS:-10100}}
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

# the exchange: an event that has just opened (59 minutes to its close)
mkdir -p "$dir/keys"
"$bin/kalshi-sim" --keygen "$dir/bench.key" "$dir/keys/bench.pem" >/dev/null
now=$(date +%s)
start=$((now - now % 3600 + 5))
"$bin/kalshi-sim" -k "$dir/keys" -p 0 --port-file "$dir/port" --rate-limit off --balance 100000000 \
	--start "$start" 2>"$dir/sim.err" &
pids="$pids $!"
i=0
while [ ! -s "$dir/port" ]; do i=$((i + 1)); [ $i -lt 100 ] || { cat "$dir/sim.err" >&2; exit 1; }; sleep 0.05; done
port=$(cat "$dir/port")
export KALSHI_API_BASE="http://127.0.0.1:$port/trade-api/v2" KALSHI_KEY_ID=bench KALSHI_KEY_FILE="$dir/bench.key"
export RECIO_KILL="$dir/KILL" RECIO_JOURNAL="${LAT_JOURNAL_DIR:-$dir}/order-send.journal.$$"

# the ladder, once, from kalshi-fetch; asks at 1 cent (see above)
"$bin/kalshi-fetch" -i 1 >"$dir/ladder.raw" 2>"$dir/fetch.err" &
fp=$!
i=0
while [ "$(grep -c '"type":"market"' "$dir/ladder.raw" || :)" -lt 40 ]; do
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$dir/fetch.err" >&2; exit 1; }; sleep 0.05
done
kill "$fp"; wait "$fp" 2>/dev/null || :
jq -c 'select(.type == "market" or .type == "event")
	| if .type == "market" then .yes_ask = 1 | .no_ask = 1 else . end' "$dir/ladder.raw" >"$dir/ladder"

# the pipeline, as s6/*/run wire it
mkfifo "$dir/signal-eval.in" "$dir/order-send.in" "$dir/orders"
RECIO_OUT="- $dir/order-send.in=signal" "$bin/signal-eval" \
	-s fingerprints="$here/../share/fingerprints/btc" -s auto_entry=on -s allow_re_entry=on -s cooldown=0 \
	-s min_probability=0 -s min_differential=-100 -s min_volume=0 -s max_ask=99 -s min_time=0 -s max_time=3600 \
	-s strikes=1 -s spike_threshold=10000 \
	0<>"$dir/signal-eval.in" >"$dir/signal-eval.out" 2>"$dir/signal-eval.err" &
pids="$pids $!"
RECIO_OUT="- $dir/signal-eval.in=order" "$bin/order-send" -H 3600 --rate-limit "${LAT_RATE_LIMIT:-off}" \
	-s max_per_market=1000000 -s max_per_event=10000000 -s max_exposure=100000000 -s max_orders_per_minute=256 \
	-s daily_loss_limit=100000000 -s max_price=99 -s min_ttc=0 -s max_positions=100000 \
	0<>"$dir/order-send.in" 1<>"$dir/orders" 2>"$dir/order-send.err" &
pids="$pids $!"
cat "$dir/ladder" >"$dir/signal-eval.in"

# reference: the loopback round trip, same run
"$tf" -R 5000 -u "$KALSHI_API_BASE" >"$dir/rtt"

ts0=$(((start + 5) * 1000))
"$tf" -n "$n" -W "$warm" -t "$ts0" -s 250 -g "$gap" -o "$dir/orders" -w 500 -l "$dir/feed.log" 2>"$dir/feed.err" |
	RECIO_OUT="$dir/signal-eval.in" "$bin/btc-tick" -r - -d 0 2>"$dir/btc-tick.err"
cat "$dir/feed.err" >&2
"$tf" -R 5000 -u "$KALSHI_API_BASE" >>"$dir/rtt"

curl -sf "http://127.0.0.1:$port/sim/orders" |
	jq -r '.orders[] | "a \(.client_order_id) \(.arrived_us)"' >"$dir/arrived"
# latency of every order of a measured (not warm-up) tick, in us
cat "$dir/feed.log" "$dir/arrived" | awk '
	$1 == "t" { w[$2] = $3 }
	$1 == "o" { tk[$2] = $3 }
	$1 == "a" && ($2 in tk) && (tk[$2] in w) { print $3 - w[tk[$2]] }' | sort -n >"$dir/lat"
awk '{ print $2 }' "$dir/rtt" | sort -n >"$dir/rtt.sorted"

# pct FILE P: the P-th percentile (nearest rank) of a sorted column, in ms
pct() { awk -v p="$2" '{ v[NR] = $1 } END { k = int(NR * p / 100 + 0.999999); if (k < 1) k = 1; printf "%.3f\n", v[k] / 1000 }' "$1"; }
count=$(wc -l <"$dir/lat")
[ "$count" -gt 0 ] || { echo "latency.sh: no order measured" >&2; tail "$dir"/*.err >&2; exit 1; }
p50=$(pct "$dir/lat" 50) p99=$(pct "$dir/lat" 99) max=$(pct "$dir/lat" 100)
r50=$(pct "$dir/rtt.sorted" 50) r99=$(pct "$dir/rtt.sorted" 99) rmax=$(pct "$dir/rtt.sorted" 100)
budget=3000

{
	printf '%-44s %10s %10s %10s\n' "tick-to-order, $count orders (ms)" p50 p99 max
	printf '%-44s %10s %10s %10s\n' "btc-tick > signal-eval > order-send > sim" "$p50" "$p99" "$max"
	printf '%-44s %10s %10s %10s\n' "loopback HTTP RTT, $(wc -l <"$dir/rtt.sorted") GETs" "$r50" "$r99" "$rmax"
	printf '%-44s %10s\n' "original design: 3 x 1 s polling loops" "$budget"
} >&2
record latency "tick-to-order p50" "$p50" ms "loopback HTTP RTT p50" "$r50"
record latency "tick-to-order p99" "$p99" ms "loopback HTTP RTT p99" "$r99" "<= 2"
record latency "tick-to-order max" "$max" ms "loopback HTTP RTT max" "$rmax"
record latency "orders measured" "$count" orders "" "" ">= 10000"
record latency "tick-to-order p99" "$p99" ms "original design budget (3 x 1 s polling loops)" "$budget"
