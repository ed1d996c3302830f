#!/bin/sh
# bench/replay.sh [SECONDS]: signal-eval's replay throughput over a
# generated day (one tick and a 40-strike ladder every second: 41 lines a
# second, 3.5 million lines for 86400 s) next to `jq -c .` over the same
# file, in the same run.  Prints a table and one NDJSON line.
set -eu
n=${1:-86400}
here=$(cd "$(dirname "$0")" && pwd)
bin=${RECIO_BIN:-$here/../build/bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/recio-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
awk -v n="$n" -f "$here/gen-day.awk" >"$dir/day.ndjson"
lines=$(wc -l <"$dir/day.ndjson")
bytes=$(wc -c <"$dir/day.ndjson")

t() {   # seconds of wall time of "$@", output discarded
	s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
	echo "$e - $s" | bc -l
}
jq_s=$(t jq -c . "$dir/day.ndjson")
se_s=$(t "$bin/signal-eval" -s auto_entry=on -s allow_re_entry=on -s model=lognormal "$dir/day.ndjson")
sen_s=$(t "$bin/signal-eval" --no-strikes -s auto_entry=on -s allow_re_entry=on -s model=lognormal "$dir/day.ndjson")
fp_s=$(t "$bin/signal-eval" -s auto_entry=on -s allow_re_entry=on -s fingerprints="$here/../share/fingerprints/btc" "$dir/day.ndjson")
rate() { echo "$lines / $1" | bc; }
printf '%-44s %12s %12s\n' "replay of $lines lines ($bytes bytes)" "lines/s" "vs jq"
printf '%-44s %12s %12s\n' "jq -c ." "$(rate "$jq_s")" "1.0"
printf '%-44s %12s %12.1f\n' "signal-eval (lognormal, strike lines)" "$(rate "$se_s")" "$(echo "$jq_s / $se_s" | bc -l)"
printf '%-44s %12s %12.1f\n' "signal-eval (lognormal, --no-strikes)" "$(rate "$sen_s")" "$(echo "$jq_s / $sen_s" | bc -l)"
printf '%-44s %12s %12.1f\n' "signal-eval (fingerprint, strike lines)" "$(rate "$fp_s")" "$(echo "$jq_s / $fp_s" | bc -l)"
printf '{"bench":"replay","lines":%s,"jq_lps":%s,"signal_eval_lps":%s,"signal_eval_nostrikes_lps":%s,"signal_eval_fp_lps":%s}\n' \
	"$lines" "$(rate "$jq_s")" "$(rate "$se_s")" "$(rate "$sen_s")" "$(rate "$fp_s")"
