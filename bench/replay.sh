#!/bin/sh
# bench/replay.sh [SECONDS]: signal-eval's replay throughput over a
# generated day (one tick and a 40-strike ladder every second: 41 lines a
# second, 3.5 million lines for 86400 s) next to `jq -c .` over the same
# file, in the same run.  Rates are lines per second of CPU time (user +
# system, to the microsecond by bench/cputime: GNU time's hundredths are
# truncated), which a busy machine disturbs far less than wall time; the wall
# rates are in the log.  REPLAY_ROUNDS rounds (default 2), each running
# jq and then every signal-eval case once; each case's best round counts,
# so jq and signal-eval get the same number of tries at the machine's
# better moments (this VM's speed drifts by a third within minutes: the
# same signal-eval measured 0.72 and 1.14 CPU seconds over one file in
# one quarter of an hour).  A table on stderr, results through
# bench/lib.sh.
set -eu
n=${1:-86400}
rounds=${REPLAY_ROUNDS:-2}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=${RECIO_BIN:-$here/../build/bin}
cputime=$bin/../bench/cputime
dir=$(mktemp -d "${TMPDIR:-/tmp}/recio-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
awk -v n="$n" -f "$here/gen-day.awk" >"$dir/day.ndjson"
lines=$(wc -l <"$dir/day.ndjson")
bytes=$(wc -c <"$dir/day.ndjson")

# run KEY CMD...: CPU and wall seconds and max RSS of one run, kept in
# $dir/KEY when its CPU time is the best so far
run() {
	key=$1
	shift
	"$cputime" -o "$dir/t" "$@" >/dev/null
	read -r wall u s rss <"$dir/t"
	cpu=$(echo "$u + $s" | bc -l)
	if [ ! -s "$dir/$key" ] || [ "$(echo "$cpu < $(cut -d' ' -f1 "$dir/$key")" | bc -l)" = 1 ]; then
		echo "$cpu $wall $rss" >"$dir/$key"
	fi
}
se() { k=$1; shift; run "$k" "$bin/signal-eval" -s auto_entry=on -s allow_re_entry=on "$@"; }

f=$dir/day.ndjson
fp=$here/../share/fingerprints/btc
r=0
while [ "$r" -lt "$rounds" ]; do
	run jq jq -c . "$f"
	se strikes -s model=lognormal "$f"
	se nostrikes --no-strikes -s model=lognormal "$f"
	se fp -s fingerprints="$fp" "$f"
	r=$((r + 1))
done

# show KEY LABEL: the table row of the best round; sets lps (lines per CPU second)
show() {
	read -r cpu wall rss <"$dir/$1"
	lps=$(echo "$lines / $cpu" | bc)
	printf '%-44s %12.0f %12.0f %8s\n' "$2" "$lps" "$(echo "$lines / $wall" | bc -l)" "$rss" >&2
}
printf '%-44s %12s %12s %8s\n' "replay of $lines lines ($bytes bytes), best of $rounds" "lines/cpu-s" "lines/s" "max KB" >&2
show jq "jq -c ."
jq_lps=$lps
record replay "jq -c . ($lines lines)" "$jq_lps" lines/s
for c in "strikes:signal-eval (lognormal, strike lines)" "nostrikes:signal-eval (lognormal, --no-strikes)" \
	"fp:signal-eval (fingerprint, strike lines)"; do
	show "${c%%:*}" "${c#*:}"
	record replay "${c#*:}" "$lps" lines/s "jq -c ." "$jq_lps" ">= 20x"
done
