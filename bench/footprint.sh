#!/bin/sh
# bench/footprint.sh [SPEED]: the whole system on the simulator (recio up,
# sim mode, trading on): how long `recio up` takes until every service says
# it is ready (s6 readiness), then the memory of every service and of the
# whole tree (PSS: shared pages counted once) after an hour of simulated
# trading (at SPEED, default 120: 30 s).  Start-up: the first start (which
# also makes the simulator's key and the database), then the median of three
# starts of the same state.  The reference is the supervision
# tree itself (s6-svscan, s6-supervise, s6-log), measured in the same run.
set -eu
speed=${1:-120}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=${RECIO_BIN:-$here/../build/bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/recio-bench.XXXXXX")
export RECIO_CONF="$dir/recio.conf"
trap '"$bin/recio" down >/dev/null 2>&1 || :; rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
# port: a loopback port nothing listens on (curl cannot connect), below
# the kernel's ephemeral ports (one of those can be taken meanwhile by a
# service's own connection, and the server could not bind it)
port() {
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "$lo" -gt 12000 ] || lo=32768
	p=$(awk -v s="$$$1" -v lo="$lo" 'BEGIN { srand(s); print 10000 + int(rand() * (lo - 10000)) }')
	while curl -s -o /dev/null "http://127.0.0.1:$p/" 2>/dev/null || [ $? -ne 7 ]; do p=$((p + 1)); done
	echo "$p"
}
cat >"$RECIO_CONF" <<EOT
RECIO_MODE=sim
RECIO_STATE=$dir/state
SIM_PORT=$(port 1)
HS_PORT=$(port 2)
SIM_SPEED=$speed
SIM_ARGS=--settle-delay 5
BTC_TICK_ARGS=-i 0.1
KALSHI_FETCH_ARGS=-i 0.2
ACCT_SYNC_ARGS=-i 0.5
EOT
chmod 600 "$RECIO_CONF"
mkdir -p "$dir/state"
printf 'auto_entry=on\nauto_stop=on\nmin_volume=0\n' >"$dir/state/settings.conf"

# timed_up: `recio up` until every service is ready, its seconds in $up_s
timed_up() {
	s=$(date +%s.%N)
	"$bin/recio" up >"$dir/up" 2>&1 || { cat "$dir/up" >&2; exit 1; }
	e=$(date +%s.%N)
	up_s=$(echo "$e - $s" | bc -l)
}
# the first start also makes the simulator's key (RSA, a random prime
# search), the database and its schema; then three starts of what is there
timed_up
first=$up_s
for _ in 1 2 3; do
	"$bin/recio" down >/dev/null 2>&1
	timed_up
	echo "$up_s" >>"$dir/ups"
done
med=$(sort -n "$dir/ups" | sed -n 2p)
echo "recio up: every service ready in $(printf '%.3f' "$first") s (first start), then $(sort -n "$dir/ups" | tr '\n' ' ')s" >&2
record footprint "recio up to every service ready, first start (key, database made)" "$(printf '%.3f' "$first")" s
record footprint "recio up to every service ready (median of 3 starts)" "$(printf '%.3f' "$med")" s "" "" "<= 1"
sleep "$(echo "3600 / $speed" | bc)"
"$bin/recio" status --json >"$dir/status"
orders=$(sqlite3 "$dir/state/recio.db" 'select count(*) from orders' 2>/dev/null || echo '?')
echo "after an hour of simulated trading ($orders orders):" >&2
jq -r 'select(.service != "total") | "\(.service) \(.pss_kb) \(.rss_kb)"' "$dir/status" |
	while read -r svc pss rss; do
		printf '  %-14s PSS %6s KB  RSS %6s KB\n' "$svc" "$pss" "$rss" >&2
		record footprint "$svc PSS" "$pss" KB
	done
total=$(jq 'select(.service == "total") | .pss_kb' "$dir/status")
sup=$(jq 'select(.service == "total") | .supervision_pss_kb' "$dir/status")
printf '  whole tree     PSS %6s KB (supervision %s KB)\n' "$total" "$sup" >&2
record footprint "whole tree PSS after an hour of simulated trading ($orders orders)" "$total" KB \
	"s6 supervision alone" "$sup" "<= 51200"
