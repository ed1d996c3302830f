# bench/lib.sh: what the benchmarks share.  Source it (". bench/lib.sh").
#
# record BENCH CASE VALUE UNIT [REF_CASE REF [TARGET]]
#   one result: CASE measured VALUE (in UNIT), next to the reference
#   REF_CASE measured REF in the same run.  TARGET, when given, is what the
#   issue asks of VALUE: ">= 20x" (VALUE/REF at least 20), "<= 0.7x"
#   (VALUE/REF at most 0.7), "<= 2" or ">= 1000" (VALUE itself).  Writes
#   one NDJSON line to $BENCH_OUT (stdout when unset):
#   {"bench","case","value","unit","ref_case","ref","ratio","target","met"}
#   ratio is VALUE/REF; met is true, false or null (no target).
record() {
	_b=$1 _c=$2 _v=$3 _u=$4 _rc=${5:-} _r=${6:-} _t=${7:-}
	jq -nc --arg b "$_b" --arg c "$_c" --arg u "$_u" --arg rc "$_rc" --arg t "$_t" \
		--argjson v "$_v" --argjson r "${_r:-null}" '
		($t | capture("^(?<op>[<>]=) *(?<n>[0-9.]+)(?<x>x?)$")? // null) as $g
		| (if $r != null and $r != 0 then $v / $r else null end) as $ratio
		| {bench: $b, case: $c, value: $v, unit: $u,
		   ref_case: (if $rc == "" then null else $rc end), ref: $r,
		   ratio: (if $ratio == null then null else ($ratio * 1000 | round) / 1000 end),
		   target: (if $t == "" then null else $t end),
		   met: (if $g == null then null
		         else (if $g.x == "x" then $ratio else $v end) as $x
		         | ($g.n | tonumber) as $n
		         | if $x == null then null elif $g.op == ">=" then $x >= $n else $x <= $n end end)}' \
		>>"${BENCH_OUT:-/dev/stdout}"
}

# PostgreSQL for the ingest benchmarks.  pg_up: the server in $pg (a libpq
# string: RECIO_TEST_PG, else a throwaway t/pg server in $pgdir); pg_newdb
# PREFIX: a fresh database, its string in $url, its name added to $dbs;
# pg_cleanup: every such database dropped, the throwaway server stopped.
# $here is the sourcing script's directory (bench/).
pg=${RECIO_TEST_PG:-} pgdir='' dbs=''
pg_up() {
	[ -z "$pg" ] || return 0
	pgdir=$(mktemp -d "${TMPDIR:-/tmp}/rpg.XXXXXX")
	# shellcheck disable=SC2154 # here: set by the script that sources this
	pg=$("$here/../t/pg" start "$pgdir")
}
_pgseq=0
pg_newdb() {
	_pgseq=$((_pgseq + 1))
	_db=$1_$$_$_pgseq
	dbs="$dbs $_db"
	psql "$pg dbname=postgres" -qc "CREATE DATABASE $_db" >/dev/null
	# shellcheck disable=SC2034 # url: for the caller
	url="$pg dbname=$_db"
}
pg_cleanup() {
	for _db in $dbs; do psql "$pg dbname=postgres" -qc "DROP DATABASE IF EXISTS $_db" >/dev/null 2>&1 || :; done
	[ -z "$pgdir" ] || "$here/../t/pg" kill "$pgdir"
}

# bench_tmpdir: a fresh directory in $dir, removed at exit with the
# databases pg_newdb made (and the throwaway server, if any)
bench_tmpdir() {
	dir=$(mktemp -d "${TMPDIR:-/tmp}/recio-bench.XXXXXX")
	trap 'pg_cleanup; rm -rf "$dir"' EXIT
	trap 'exit 130' INT TERM
}
