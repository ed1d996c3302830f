#!/bin/sh
# bench/scaling.sh [BASE]: signal-eval's replay at 1x, 10x and 100x a base
# of BASE simulated seconds (default 1800: 73,800 lines; 100x is 7.4 million
# lines, 2.1 GB): the rate (lines per CPU second of signal-eval, to the
# microsecond by bench/cputime) should stay the same and the memory (max
# RSS) flat, i.e. cost grows linearly with the input and nothing
# accumulates.  The reference of each size is the 1x run.  A 1x run takes
# a few hundredths of a CPU second, so a round's 1x rate is that of
# SCALING_REPS1 (10) runs: their lines over their CPU time.  Each of those
# pays signal-eval's start-up (1 to 1.5 ms, about 4 % of a 1x run), which
# the larger sizes pay once: their ratios to 1x are that much higher.  SCALING_ROUNDS
# (3) rounds, each running 1x, 10x and 100x; each size's best round
# counts, so every size gets the same number of tries at the machine's
# better moments (this VM's speed drifts by a sixth from one run to the
# next: the same binary over the same 738,000 lines took 0.42 and 0.53 CPU
# seconds minutes apart).
#
# Every size is generated into a file first and read from it, as in
# bench/replay.sh: in RAM (/dev/shm, SCALING_DIR to choose) when it has
# room for the 100x file twice over, else in TMPDIR.  Not from a pipe: awk
# generates slower than signal-eval reads, so signal-eval would sleep and
# wake every few lines, and those wake-ups (half its CPU time, and varying
# from run to run) are not what grows with the input.  Not from a disk
# file larger than the page cache, whose reads would count.
# (db-sink's scaling is in bench/scaling-ingest.sh.)
set -eu
base=${1:-1800}
reps1=${SCALING_REPS1:-10}
rounds=${SCALING_ROUNDS:-3}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=${RECIO_BIN:-$here/../build/bin}
cputime=$bin/../bench/cputime
sdir=${SCALING_DIR:-}
if [ -z "$sdir" ]; then
	need=$((base * 100 * 41 * 300 / 1024))  # KB: about 300 bytes a line
	avail=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }') || avail=
	if [ -n "$avail" ] && [ "$avail" -gt $((need * 2)) ]; then sdir=/dev/shm; else sdir=${TMPDIR:-/tmp}; fi
fi
dir=$(mktemp -d "$sdir/recio-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT TERM

# gen X: the input of X times the base, in $dir/X.ndjson
gen() {
	[ -s "$dir/$1.ndjson" ] || awk -v n="$((base * $1))" -f "$here/gen-day.awk" >"$dir/$1.ndjson"
}

# replay X: one run at X times the base; sets cpu (s) and rss (KB)
replay() {
	"$cputime" -o "$dir/t" "$bin/signal-eval" -s auto_entry=on -s allow_re_entry=on -s model=lognormal \
		"$dir/$1.ndjson" >/dev/null
	read -r _ u s rss <"$dir/t"
	cpu=$(echo "$u + $s" | bc -l)
}

# best X CPU RSS: keep CPU (s, for one run's lines) as size X's best, and
# RSS as its largest
cpu1='' rss1=0
# shellcheck disable=SC2034 # read through eval (best, the table)
cpu10='' rss10=0 cpu100='' rss100=0
best() {
	eval "_c=\$cpu$1 _r=\$rss$1"
	if [ -z "$_c" ] || [ "$(echo "$2 < $_c" | bc -l)" = 1 ]; then eval "cpu$1=\$2"; fi
	[ "$3" -le "$_r" ] || eval "rss$1=\$3"
}

for x in 1 10 100; do gen "$x"; done
r=0
while [ "$r" -lt "$rounds" ]; do
	i=0 sum=0 big=0
	while [ "$i" -lt "$reps1" ]; do
		replay 1
		sum=$(echo "$sum + $cpu" | bc -l)
		[ "$rss" -le "$big" ] || big=$rss
		i=$((i + 1))
	done
	best 1 "$(echo "$sum / $reps1" | bc -l)" "$big"
	for x in 10 100; do
		replay "$x"
		best "$x" "$cpu" "$rss"
	done
	r=$((r + 1))
done

printf '%-28s %10s %12s %10s\n' "signal-eval replay, best of $rounds" lines lines/cpu-s "max KB" >&2
lines=$((base * 41))
r1=$(echo "$lines / $cpu1" | bc)
printf '%-28s %10s %12s %10s\n' "1x ($reps1 runs a round)" "$lines" "$r1" "$rss1" >&2
record scaling "replay 1x ($lines lines, $reps1 runs a round): rate" "$r1" lines/s
record scaling "replay 1x: max RSS" "$rss1" KB
for x in 10 100; do
	lines=$((base * x * 41))
	eval "cpu=\$cpu$x rss=\$rss$x"
	rate=$(echo "$lines / $cpu" | bc)
	printf '%-28s %10s %12s %10s\n' "${x}x" "$lines" "$rate" "$rss" >&2
	record scaling "replay ${x}x ($lines lines): rate" "$rate" lines/s "replay 1x" "$r1" ">= 0.8x"
	record scaling "replay ${x}x: max RSS" "$rss" KB "replay 1x" "$rss1" "<= 1.25x"
done
