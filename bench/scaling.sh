#!/bin/sh
# bench/scaling.sh [BASE]: signal-eval's replay at 1x, 10x and 100x a base
# of BASE simulated seconds (default 1800: 73,800 lines; 100x is 7.4 million
# lines, 2.1 GB, generated into a pipe, never on disk): the rate (lines per
# CPU second of signal-eval) should stay the same and
# the memory (max RSS) flat, i.e. cost grows linearly with the input and
# nothing accumulates.  The reference of each size is the 1x run.  A 1x run
# takes about a tenth of a CPU second, which time(1) gives in hundredths,
# so the 1x rate is that of SCALING_REPS1 (10) runs, half before the larger
# sizes and half after them (this VM's speed drifts within minutes): their
# lines over their CPU time.  Every size reads from a pipe fed by awk as it
# generates, the same way.  (db-sink's scaling is in bench/ingest.sh.)
set -eu
base=${1:-1800}
reps1=${SCALING_REPS1:-10}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=${RECIO_BIN:-$here/../build/bin}
dir=$(mktemp -d "${TMPDIR:-/tmp}/recio-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

# replay X: one run at X times the base; sets cpu (s) and rss (KB)
replay() {
	awk -v n="$((base * $1))" -f "$here/gen-day.awk" |
		/usr/bin/time -f '%U %S %M' -o "$dir/t" "$bin/signal-eval" -s auto_entry=on -s allow_re_entry=on \
			-s model=lognormal >/dev/null
	read -r u s rss <"$dir/t"
	cpu=$(echo "$u + $s" | bc -l)
}

# ones N: N runs at 1x, their CPU added to cpu1, the largest RSS in rss1
cpu1=0 rss1=0 runs1=0
ones() {
	i=0
	while [ "$i" -lt "$1" ]; do
		replay 1
		cpu1=$(echo "$cpu1 + $cpu" | bc -l)
		[ "$rss" -le "$rss1" ] || rss1=$rss
		runs1=$((runs1 + 1))
		i=$((i + 1))
	done
}

ones $((reps1 - reps1 / 2))
for x in 10 100; do
	replay "$x"
	eval "cpu$x=\$cpu rss$x=\$rss"
done
ones $((reps1 / 2))

printf '%-28s %10s %12s %10s\n' "signal-eval replay" lines lines/cpu-s "max KB" >&2
lines=$((base * 41))
r1=$(echo "$lines * $runs1 / $cpu1" | bc)
printf '%-28s %10s %12s %10s\n' "1x ($runs1 runs)" "$lines" "$r1" "$rss1" >&2
record scaling "replay 1x ($lines lines, $runs1 runs): rate" "$r1" lines/s
record scaling "replay 1x: max RSS" "$rss1" KB
for x in 10 100; do
	lines=$((base * x * 41))
	eval "cpu=\$cpu$x rss=\$rss$x"
	rate=$(echo "$lines / $cpu" | bc)
	printf '%-28s %10s %12s %10s\n' "${x}x" "$lines" "$rate" "$rss" >&2
	record scaling "replay ${x}x ($lines lines): rate" "$rate" lines/s "replay 1x" "$r1" ">= 0.8x"
	record scaling "replay ${x}x: max RSS" "$rss" KB "replay 1x" "$rss1" "<= 1.25x"
done
