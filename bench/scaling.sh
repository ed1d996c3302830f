#!/bin/sh
# bench/scaling.sh [BASE]: signal-eval's replay at 1x, 10x and 100x a base
# of BASE simulated seconds (default 1800: 73,800 lines; 100x is 7.4 million
# lines, 2.1 GB, generated into a pipe, never on disk): the rate (lines per
# CPU second of signal-eval) should stay the same and
# the memory (max RSS) flat, i.e. cost grows linearly with the input and
# nothing accumulates.  The reference of each size is the 1x run.  (db-sink's
# scaling is in bench/ingest.sh.)
set -eu
base=${1:-1800}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=${RECIO_BIN:-$here/../build/bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/recio-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
printf '%-28s %10s %12s %10s\n' "signal-eval replay" lines lines/cpu-s "max KB" >&2
for x in 1 10 100; do
	lines=$((base * x * 41))
	awk -v n="$((base * x))" -f "$here/gen-day.awk" |
		/usr/bin/time -f '%U %S %M' -o "$dir/t" "$bin/signal-eval" -s auto_entry=on -s allow_re_entry=on \
			-s model=lognormal >/dev/null
	read -r u s rss <"$dir/t"
	rate=$(echo "$lines / ($u + $s)" | bc)
	printf '%-28s %10s %12s %10s\n' "${x}x" "$lines" "$rate" "$rss" >&2
	if [ "$x" = 1 ]; then
		r1=$rate m1=$rss
		record scaling "replay 1x ($lines lines): rate" "$rate" lines/s
		record scaling "replay 1x: max RSS" "$rss" KB
	else
		record scaling "replay ${x}x ($lines lines): rate" "$rate" lines/s "replay 1x" "$r1" ">= 0.8x"
		record scaling "replay ${x}x: max RSS" "$rss" KB "replay 1x" "$m1" "<= 1.25x"
	fi
done
