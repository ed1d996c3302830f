#!/bin/sh
# bench/scaling-ingest.sh [BASE]: db-sink at 1x, 10x and 100x BASE generated
# tick lines (default 20,000, so 2,000,000 at 100x), into PostgreSQL and
# SQLite, each into a fresh database, fed through a pipe as in bench/ingest.sh
# (-n 5000, the default).  Per size: rows/s and db-sink's maximum resident
# set (/usr/bin/time %M).  Linear cost shows as the same rows/s at every
# size, flat memory as the same RSS.  Prints a table and records each size
# next to the 1x run through bench/lib.sh (to $BENCH_OUT): rows/s at least
# 0.8x and RSS at most 1.5x of 1x's.
#
# PostgreSQL: a throwaway server (t/pg) unless RECIO_TEST_PG names one.
set -eu
base=${1:-20000}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=${RECIO_BIN:-$here/../build/bin}
bench_tmpdir
[ -x /usr/bin/time ] || { echo "scaling-ingest.sh: needs /usr/bin/time (GNU time)" >&2; exit 1; }

awk -v n=$((base * 100)) -v csv=/dev/null -f "$here/gen-ticks.awk" >"$dir/all.ndjson"
pg_up
seq=0
fresh() {       # fresh pg|sqlite: a new database, its URL in $url
	seq=$((seq + 1))
	if [ "$1" = pg ]; then
		pg_newdb recio_scale
	else
		url="sqlite:$dir/lite$seq.db"
	fi
	"$bin/db-sink" --migrate -d "$url" >/dev/null
}
count() {
	case $url in
	sqlite:*) sqlite3 "${url#sqlite:}" 'SELECT count(*) FROM ticks' ;;
	*) psql "$url" -Atc 'SELECT count(*) FROM ticks' ;;
	esac
}
run() {         # run KIND LINES: rows/s in $rps, max RSS (KB) in $rss
	head -n "$2" "$dir/all.ndjson" >"$dir/in.ndjson"
	fresh "$1"
	rm -f "$dir/s.spool" "$dir/s.spool.off" "$dir/s.rejects"
	sync
	psql "$pg dbname=postgres" -qc CHECKPOINT >/dev/null
	s=$(date +%s.%N)
	# shellcheck disable=SC2002 # a pipe, as from btc-tick
	cat "$dir/in.ndjson" | /usr/bin/time -f %M -o "$dir/rss" "$bin/db-sink" -s "$dir/s.spool" -d "$url" -k 0 \
		>"$dir/err" 2>&1 || { cat "$dir/err" >&2; exit 1; }
	e=$(date +%s.%N)
	[ "$(count)" = "$2" ] || { echo "scaling-ingest.sh: $1: $(count) rows stored, want $2" >&2; exit 1; }
	rps=$(echo "$2 / ($e - $s)" | bc)
	rss=$(tail -n 1 "$dir/rss")
	rm -f "$dir/in.ndjson"
}

printf '%-12s %9s %10s %10s %12s %10s\n' store lines rows/s "x 1x" "max RSS KB" "x 1x"
for kind in pg sqlite; do
	[ $kind = pg ] && name=PostgreSQL || name=SQLite
	r1='' m1=''
	for x in 1 10 100; do
		n=$((base * x))
		run $kind "$n"
		[ -n "$r1" ] || { r1=$rps m1=$rss; }
		printf '%-12s %9s %10s %10s %12s %10s\n' "$name" "$n" "$rps" "$(echo "scale=2; $rps / $r1" | bc)" \
			"$rss" "$(echo "scale=2; $rss / $m1" | bc)"
		if [ $x = 1 ]; then
			record ingest-scaling "db-sink -> $name, ${n} lines" "$rps" rows/s
			record ingest-scaling "db-sink -> $name max RSS, ${n} lines" "$rss" KB
		else
			record ingest-scaling "db-sink -> $name, ${n} lines (${x}x)" "$rps" rows/s "${base} lines" "$r1" ">= 0.8x"
			record ingest-scaling "db-sink -> $name max RSS, ${n} lines (${x}x)" "$rss" KB "${base} lines" "$m1" "<= 1.5x"
		fi
	done
done
