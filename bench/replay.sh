#!/bin/sh
# bench/replay.sh [SECONDS]: signal-eval's replay throughput over a
# generated day (one tick and a 40-strike ladder every second: 41 lines a
# second, 3.5 million lines for 86400 s) next to `jq -c .` over the same
# file, in the same run.  Rates are lines per second of CPU time (user +
# system), which a busy machine disturbs far less than wall time; the wall
# rates are in the log.  A table on stderr, results through bench/lib.sh.
set -eu
n=${1:-86400}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=${RECIO_BIN:-$here/../build/bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/recio-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
awk -v n="$n" -f "$here/gen-day.awk" >"$dir/day.ndjson"
lines=$(wc -l <"$dir/day.ndjson")
bytes=$(wc -c <"$dir/day.ndjson")

# run LABEL CMD...: CPU and wall seconds, max RSS; sets cpu wall rss
run() {
	label=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$dir/t" "$@" >/dev/null
	read -r wall u s rss <"$dir/t"
	cpu=$(echo "$u + $s" | bc -l)
	printf '%-44s %12.0f %12.0f %8s\n' "$label" "$(echo "$lines / $cpu" | bc -l)" \
		"$(echo "$lines / $wall" | bc -l)" "$rss" >&2
}
se() { l=$1; shift; run "$l" "$bin/signal-eval" -s auto_entry=on -s allow_re_entry=on "$@"; }

printf '%-44s %12s %12s %8s\n' "replay of $lines lines ($bytes bytes)" "lines/cpu-s" "lines/s" "max KB" >&2
run "jq -c ." jq -c . "$dir/day.ndjson"
jq_cpu=$cpu
jq_lps=$(echo "$lines / $jq_cpu" | bc)
record replay "jq -c . ($lines lines)" "$jq_lps" lines/s
f=$dir/day.ndjson
se "signal-eval (lognormal, strike lines)" -s model=lognormal "$f"
record replay "signal-eval (lognormal, strike lines)" "$(echo "$lines / $cpu" | bc)" lines/s "jq -c ." "$jq_lps" ">= 20x"
se "signal-eval (lognormal, --no-strikes)" --no-strikes -s model=lognormal "$f"
record replay "signal-eval (lognormal, --no-strikes)" "$(echo "$lines / $cpu" | bc)" lines/s "jq -c ." "$jq_lps" ">= 20x"
se "signal-eval (fingerprint, strike lines)" -s fingerprints="$here/../share/fingerprints/btc" "$f"
record replay "signal-eval (fingerprint, strike lines)" "$(echo "$lines / $cpu" | bc)" lines/s "jq -c ." "$jq_lps" ">= 20x"
