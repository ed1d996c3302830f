#!/bin/sh
# bench/ingest.sh [LINES [SWEEP]]: db-sink's ingest throughput over LINES
# generated tick lines (default 1,000,000, one a second, btc-tick's format),
# into PostgreSQL and SQLite, each next to the store's own bulk loader over
# the same rows as CSV (psql \copy, sqlite3 .import), in the same run; then
# db-sink's batch size (-n 200, 2000, 5000, 20000: INGEST_SWEEP) over SWEEP
# lines (default LINES/4).  Every load goes into a fresh database and is
# checked (row count and sum of price_cc).  Prints a table and one NDJSON line, and records
# db-sink next to each loader through bench/lib.sh (to $BENCH_OUT; the
# issue's target: at least 0.7x the loader's rows/s).
#
# PostgreSQL: a throwaway server (t/pg) unless RECIO_TEST_PG names one
# ("host=DIR user=postgres"); its databases are created and dropped here.
set -eu
n=${1:-1000000}
sw=${2:-$((n / 4))}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=${RECIO_BIN:-$here/../build/bin}
bench_tmpdir
cols=ts,src,price_cc,bid_cc,ask_cc,d1m,d2m,d3m,d4m,d15m,d30m,mom_bp,avg1m,vol30s,vol5m,vol60m

awk -v n="$n" -v csv="$dir/ticks.csv" -f "$here/gen-ticks.awk" >"$dir/ticks.ndjson"
head -n "$sw" "$dir/ticks.ndjson" >"$dir/sweep.ndjson"
want=$(awk -F, '{ s += $3 } END { printf "%d|%.0f", NR, s }' "$dir/ticks.csv")
want_sw=$(head -n "$sw" "$dir/ticks.csv" | awk -F, '{ s += $3 } END { printf "%d|%.0f", NR, s }')
mb() { echo "$(wc -c <"$1") / 1000000" | bc; }

pg_up
seq=0
newpg() { pg_newdb recio_bench; }
newlite() { seq=$((seq + 1)); url="sqlite:$dir/lite$seq.db"; }
migrate() { "$bin/db-sink" --migrate -d "$url" >"$dir/err" 2>&1 || { cat "$dir/err" >&2; exit 1; }; }
settle() {      # write out what earlier runs left dirty, so it is not billed here
	sync
	psql "$pg dbname=postgres" -qc CHECKPOINT >/dev/null
}
check() {       # check URL WANT: rows and sum(price_cc) in ticks
	q='SELECT count(*), sum(price_cc) FROM ticks'
	case $1 in
	sqlite:*) got=$(sqlite3 "${1#sqlite:}" "$q") ;;
	*) got=$(psql "$1" -Atc "$q") ;;
	esac
	[ "$got" = "$2" ] || { echo "ingest.sh: $1: count|sum $got, want $2" >&2; exit 1; }
}

# timed runs: the wall seconds in $secs, db-sink's user+sys CPU seconds in $cpu
if [ -x /usr/bin/time ]; then
	cputime() { /usr/bin/time -f '%U %S' -o "$dir/cpu" "$@"; }
	cpuread() { cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$dir/cpu"); }
else
	cputime() { "$@"; }
	cpuread() { cpu=-; }
fi
timed() {       # timed CMD...: wall time of CMD, output in $dir/err
	settle
	s=$(date +%s.%N)
	"$@" >"$dir/err" 2>&1 || { cat "$dir/err" >&2; exit 1; }
	e=$(date +%s.%N)
	secs=$(echo "$e - $s" | bc -l)
}
sinkrun() {     # sinkrun FILE ARGS...: cat FILE | db-sink ARGS
	f=$1; shift
	rm -f "$dir/s.spool" "$dir/s.spool.off" "$dir/s.rejects"
	# shellcheck disable=SC2002 # a pipe, as from btc-tick (db-sink peeks pipes with tee(2))
	cat "$f" | cputime "$bin/db-sink" -s "$dir/s.spool" "$@" || return
	[ ! -s "$dir/s.rejects" ] || { echo "ingest.sh: lines rejected:" >&2; head -n 3 "$dir/s.rejects" >&2; exit 1; }
}
sink() {        # sink FILE WANT ARGS...: a fresh database per call (url set)
	f=$1 w=$2; shift 2
	timed sinkrun "$f" -d "$url" "$@"
	cpuread
	check "$url" "$w"
}

# -k 0: no retention pass (the generated span is under 30 days anyway)
newpg;   sink "$dir/ticks.ndjson" "$want" -k 0; pg_s=$secs pg_cpu=$cpu
newpg;   migrate; timed psql "$url" -qc "\\copy ticks($cols) FROM '$dir/ticks.csv' CSV"
check "$url" "$want"; copy_s=$secs
newlite; sink "$dir/ticks.ndjson" "$want" -k 0; lite_s=$secs lite_cpu=$cpu
newlite; migrate; timed sqlite3 "${url#sqlite:}" ".import --csv $dir/ticks.csv ticks"
check "$url" "$want"; imp_s=$secs
for b in ${INGEST_SWEEP:-200 2000 5000 20000}; do     # lines "store batch seconds cpu"
	newpg;   sink "$dir/sweep.ndjson" "$want_sw" -k 0 -n "$b"; echo "PostgreSQL $b $secs $cpu" >>"$dir/sweep"
	newlite; sink "$dir/sweep.ndjson" "$want_sw" -k 0 -n "$b"; echo "SQLite $b $secs $cpu" >>"$dir/sweep"
done

pgv=$(psql "$pg dbname=postgres" -Atc 'SHOW server_version' | cut -d' ' -f1)
litev=$(sqlite3 :memory: 'SELECT sqlite_version()')
rate() { echo "$1 / $2" | bc; }       # rows seconds
row() {         # row LABEL ROWS SECS CPU REF_RATE
	r=$(rate "$2" "$3")
	printf '%-36s %9s %8.2f %8s %10s %8s\n' "$1" "$2" "$3" "$4" "$r" "$(echo "scale=1; $5 / $r" | bc)"
}
echo "ingest: $n tick lines ($(mb "$dir/ticks.ndjson") MB NDJSON, $(mb "$dir/ticks.csv") MB CSV); PostgreSQL $pgv, SQLite $litev"
printf '%-36s %9s %8s %8s %10s %8s\n' "" rows seconds "cpu s" rows/s "x loader"
copy_r=$(rate "$n" "$copy_s") imp_r=$(rate "$n" "$imp_s")
row 'psql \copy -> PostgreSQL' "$n" "$copy_s" - "$copy_r"
row 'db-sink -> PostgreSQL (-n 5000)' "$n" "$pg_s" "$pg_cpu" "$copy_r"
row 'sqlite3 .import --csv -> SQLite' "$n" "$imp_s" - "$imp_r"
row 'db-sink -> SQLite (-n 5000)' "$n" "$lite_s" "$lite_cpu" "$imp_r"
for st in PostgreSQL SQLite; do
	[ $st = SQLite ] && ref=$imp_r || ref=$copy_r
	grep "^$st " "$dir/sweep" | while read -r _ b secs cpu; do
		row "db-sink -> $st -n $b" "$sw" "$secs" "$cpu" "$ref"
	done
done
echo "(cpu s: db-sink's own user+sys; x loader: the store's bulk loader rows/s over this row's rows/s)"
sweep() { awk -v st="$1" -v n="$sw" '$1 == st { printf "%s\"%s\":%d", k++ ? "," : "", $2, n / $3 }' "$dir/sweep"; }
printf '{"bench":"ingest","lines":%s,"sweep_lines":%s,"pg_copy_rps":%s,"pg_sink_rps":%s,"sqlite_import_rps":%s,"sqlite_sink_rps":%s,"pg_sweep_rps":{%s},"sqlite_sweep_rps":{%s}}\n' \
	"$n" "$sw" "$copy_r" "$(rate "$n" "$pg_s")" "$imp_r" "$(rate "$n" "$lite_s")" "$(sweep PostgreSQL)" "$(sweep SQLite)"
record ingest "db-sink -> PostgreSQL" "$(rate "$n" "$pg_s")" rows/s 'psql \copy' "$copy_r" ">= 0.7x"
record ingest "db-sink -> SQLite" "$(rate "$n" "$lite_s")" rows/s 'sqlite3 .import' "$imp_r" ">= 0.7x"
# a backlog drains in batches of up to -n lines: each size swept
while read -r st b secs _; do
	[ "$st" = PostgreSQL ] || continue
	record ingest "db-sink -> PostgreSQL (-n $b, $sw lines)" "$(rate "$sw" "$secs")" rows/s 'psql \copy' "$copy_r"
done <"$dir/sweep"
