#!/bin/sh
# bench/http.sh: health-serve over HTTP next to nginx, in the same run.
#
# wrk (-t1, HTTP_CONNS (50) connections, HTTP_SECONDS (5) a run, the best
# of HTTP_ROUNDS (2) runs taken in turn with nginx's) on health-serve's
# /health (a fresh tick written first, so it answers 200), a static file
# (/app.js), and two authenticated API calls (/api/state from memory,
# /api/trades from the database, with the session cookie); each next to
# nginx serving a static file of the same body size.  health-serve runs
# with one thread answering (--threads 1) and nginx with one worker
# (worker_processes 1), to compare like with like; nginx with
# worker_processes auto on the static file is shown too, without a target.
# Then SSE, health-serve restarted with its default two threads:
# 1,000 streams on /events (sse-clients,
# 50 from each of 20 source addresses 127.0.0.x, since health-serve takes
# at most 64 from one address by default), 200 tick lines written into
# btc-tick's data log at 20 a second, each stream's copy timed from the
# line's write to its arrival in the client's socket (the kernel's receive
# stamp: the delivery, the target's row) and to its read by sse-clients
# (which reads all 1,000 streams from one thread, so the last is read
# after 999 others: rows without a target); p50, p99, max and
# delivered/expected; and per line, how soon its first stream read it (the
# server noticing the line) and how long after that its last one did (the
# fan-out, one send per stream).
# The reference for SSE: the same clients and lines on sse-floor, a minimal
# C server that sends each line to every stream with one send() and does
# nothing else (no HTTP library, no session, no ring), sending from as many
# threads (-T 2): the cost of the kernel's loopback TCP and of the clients,
# on this machine, in this run.
# Results through bench/lib.sh's record (NDJSON on stdout or $BENCH_OUT),
# what wrk and sse-clients said on stderr.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${RECIO_BIN:-$here/../build/bin}
sse=${SSE_CLIENTS:-$bin/../bench/sse-clients}
floor=$bin/../bench/sse-floor
secs=${HTTP_SECONDS:-5}
rounds=${HTTP_ROUNDS:-2}
conns=${HTTP_CONNS:-50}
nsse=${SSE_CLIENTS_N:-1000}
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
for t in wrk nginx curl jq; do
	command -v "$t" >/dev/null || { echo "http.sh: $t is not installed (make bench-deps)" >&2; exit 1; }
done
for x in "$sse" "$floor"; do
	[ -x "$x" ] || { echo "http.sh: no $x (make)" >&2; exit 1; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/recio-bench-http.XXXXXX")
hs_pid='' ng_pid='' fl_pid=''
cleanup() {
	[ -z "$hs_pid" ] || { kill "$hs_pid" 2>/dev/null || :; wait "$hs_pid" 2>/dev/null || :; }
	[ -z "$fl_pid" ] || { kill "$fl_pid" 2>/dev/null || :; wait "$fl_pid" 2>/dev/null || :; }
	[ -z "$ng_pid" ] || kill "$ng_pid" 2>/dev/null || :
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# health-serve: a fresh SQLite database with one user, its own run directory
export RECIO_STATE="$dir/state" RECIO_RUN="$dir/state/run"
export RECIO_DB="sqlite:$dir/state/recio.db" RECIO_SQL="$here/../share/sql"
log="$RECIO_RUN/log/btc-tick/data/current"
mkdir -p "$RECIO_RUN/log/btc-tick/data" "$RECIO_RUN/fifo"
: >"$log"
pass='bench password 1'
echo "$pass" | "$bin/health-serve" --user-add bench >/dev/null
hs_start() {    # hs_start [options]: health-serve on a free port, logged in: $H, $cookie
	[ -z "$hs_pid" ] || { kill "$hs_pid"; wait "$hs_pid" 2>/dev/null || :; hs_pid=''; }
	rm -f "$dir/port"
	"$bin/health-serve" -p 0 --port-file "$dir/port" -w "$here/../share/www" "$@" 2>"$dir/hs.err" &
	hs_pid=$!
	i=0
	while [ ! -s "$dir/port" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$dir/hs.err" >&2; exit 1; }
		sleep 0.05
	done
	H="http://127.0.0.1:$(cat "$dir/port")"
	curl -sf -c "$dir/cj" -H 'Content-Type: application/json' \
		-d "{\"username\":\"bench\",\"password\":\"$pass\"}" "$H/api/login" >/dev/null
	cookie="__Host-recio_session=$(awk '$6 == "__Host-recio_session" { print $7 }' "$dir/cj")"
	[ ${#cookie} -gt 20 ] || { echo "http.sh: no session cookie" >&2; exit 1; }
}
hs_start --threads 1
tick() { printf '{"type":"tick","ts":%s,"src":"rest","price":100000.00,"mom_bp":3}\n' "$(date +%s%3N)" >>"$log"; }

# nginx: a throwaway instance in $dir (as root its worker runs as nobody)
mkdir -p "$dir/www" "$dir/ng"
chmod 755 "$dir" "$dir/www"
ng_start() {    # ng_start WORKERS: nginx on a free port, its URL in $N
	[ -z "$ng_pid" ] || { kill "$ng_pid"; while kill -0 "$ng_pid" 2>/dev/null; do sleep 0.05; done; ng_pid=''; }
	p=$(( $(cat "$dir/port") + 1 ))
	while :; do
		cat >"$dir/ng/nginx.conf" <<-EOF
		worker_processes $1;
		pid $dir/ng/nginx.pid;
		error_log $dir/ng/error.log;
		events { worker_connections 1024; }
		http {
			access_log off;
			client_body_temp_path $dir/ng/body;
			proxy_temp_path $dir/ng/proxy;
			fastcgi_temp_path $dir/ng/fastcgi;
			sendfile on;
			tcp_nopush on;
			keepalive_requests 1000000;
			default_type application/octet-stream;
			server { listen 127.0.0.1:$p; root $dir/www; }
		}
		EOF
		if nginx -e "$dir/ng/error.log" -p "$dir/ng" -c "$dir/ng/nginx.conf" 2>"$dir/ng/start.err"; then
			break
		fi
		grep -q 'Address already in use' "$dir/ng/start.err" || { cat "$dir/ng/start.err" >&2; exit 1; }
		p=$((p + 1))
	done
	ng_pid=$(cat "$dir/ng/nginx.pid")
	N="http://127.0.0.1:$p"
}

# bench_wrk URL [wrk args]: requests/s of 2xx answers in $rps (wrk's
# non-2xx are taken out, and said), the whole output in the log
bench_wrk() {
	u=$1
	shift
	wrk -t1 -c"$conns" -d"${secs}s" "$@" "$u" >"$dir/wrk.out"
	echo "== wrk -t1 -c$conns -d${secs}s $* $u" >&2
	cat "$dir/wrk.out" >&2
	total=$(awk '/requests in/ { print $1 }' "$dir/wrk.out")
	took=$(awk '/requests in/ { sub(/s,$/, "", $4); print $4 }' "$dir/wrk.out")
	bad=$(awk '/Non-2xx/ { print $NF }' "$dir/wrk.out")
	rps=$(echo "(${total:-0} - ${bad:-0}) / $took" | bc -l | awk '{ printf "%.0f", $1 }')
	[ -z "$bad" ] || echo "http.sh: $u: $bad answers not 2xx, not counted" >&2
}

# same_size NAME URL [curl args]: a file in nginx's root as big as URL's body
same_size() {
	f=$1
	shift
	sz=$(curl -s -o /dev/null -w '%{size_download}' "$@")
	[ "$sz" -gt 0 ] || { echo "http.sh: $*: an empty answer" >&2; exit 1; }
	head -c "$sz" /dev/zero | tr '\0' 'x' >"$dir/www/$f"
	echo "$f: $sz bytes" >&2
}

tick
same_size health.json "$H/health"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$H/health")" = 200 ] || { curl -s "$H/health" >&2; exit 1; }
cp "$here/../share/www/app.js" "$dir/www/app.js"
same_size state.json "$H/api/state" -H "Cookie: $cookie"
same_size trades.json "$H/api/trades" -H "Cookie: $cookie"
ng_start 1
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///'), worker_processes 1; wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')" >&2

# pair HS_PATH NG_PATH [wrk args for health-serve]: the best of $rounds
# runs each, in turn (the machine is shared: a busy moment hits one run,
# not one server), in $hs and $ng
pair() {
	hp=$1 np=$2
	shift 2
	hs=0 ng=0
	r=0
	while [ $r -lt "$rounds" ]; do
		tick            # /health stays 200 (a tick younger than 30 s)
		bench_wrk "$H$hp" "$@"
		[ "$rps" -le "$hs" ] || hs=$rps
		bench_wrk "$N$np"
		[ "$rps" -le "$ng" ] || ng=$rps
		r=$((r + 1))
	done
}

pair /health /health.json
record http "health-serve /health (req/s)" "$hs" req/s "nginx, 1 worker, same size" "$ng" ">= 0.5x"
pair /app.js /app.js
ng_app=$ng
record http "health-serve /app.js (req/s)" "$hs" req/s "nginx, 1 worker, same file" "$ng" ">= 0.5x"
pair /api/state /state.json -H "Cookie: $cookie"
record http "health-serve /api/state, logged in (req/s)" "$hs" req/s "nginx, 1 worker, same size" "$ng" ">= 0.5x"
pair /api/trades /trades.json -H "Cookie: $cookie"
record http "health-serve /api/trades, logged in (req/s)" "$hs" req/s "nginx, 1 worker, same size" "$ng" ">= 0.5x"
ng_start auto
bench_wrk "$N/app.js"; nga=$rps
record http "nginx /app.js, worker_processes auto ($(nproc) cores; req/s)" "$nga" req/s "nginx, 1 worker" "$ng_app"
kill "$ng_pid"
ng_pid=''

# SSE: 1,000 streams, 200 lines at 20/s, health-serve as it runs by default
hs_start
"$sse" -p "$(cat "$dir/port")" -f "$log" -n "$nsse" -a 50 -e 200 -r 20 -c "$cookie" >"$dir/sse.json"
echo "== sse-clients -n $nsse -a 50 -e 200 -r 20" >&2
cat "$dir/sse.json" >&2
# the floor: the same clients and lines on sse-floor
: >"$dir/floor.log"
"$floor" -f "$dir/floor.log" -P "$dir/floor.port" -T 2 2>"$dir/floor.err" &
fl_pid=$!
i=0
while [ ! -s "$dir/floor.port" ]; do i=$((i + 1)); [ $i -lt 100 ] || { cat "$dir/floor.err" >&2; exit 1; }; sleep 0.05; done
"$sse" -p "$(cat "$dir/floor.port")" -f "$dir/floor.log" -n "$nsse" -a 50 -e 200 -r 20 >"$dir/floor.json"
kill "$fl_pid"; wait "$fl_pid" 2>/dev/null || :; fl_pid=''
echo "== the same on sse-floor -T 2 (one send() per stream, nothing else, two threads)" >&2
cat "$dir/floor.json" >&2
j() { jq -r "$1" "$dir/sse.json"; }
f() { jq -r "$1" "$dir/floor.json"; }
record http "SSE delivery (arrival) p50, $nsse clients" "$(j .arrive_p50_ms)" ms "sse-floor, 2 threads, p50" "$(f .arrive_p50_ms)"
record http "SSE delivery (arrival) p99, $nsse clients" "$(j .arrive_p99_ms)" ms "sse-floor, 2 threads, p99" "$(f .arrive_p99_ms)" "<= 10"
record http "SSE delivery (arrival) max, $nsse clients" "$(j .arrive_max_ms)" ms "sse-floor, 2 threads, max" "$(f .arrive_max_ms)"
record http "SSE read by one client thread, p50" "$(j .p50_ms)" ms "sse-floor, 2 threads, p50" "$(f .p50_ms)"
record http "SSE read by one client thread, p99" "$(j .p99_ms)" ms "sse-floor, 2 threads, p99" "$(f .p99_ms)"
record http "SSE line to its first stream, p50" "$(j .first_p50_ms)" ms
record http "SSE fan-out (last stream less first), p50" "$(j .fanout_p50_ms)" ms "sse-floor, 2 threads" "$(f .fanout_p50_ms)"
record http "SSE events delivered" "$(j .delivered)" events "expected ($nsse clients x 200)" "$(j .expected)" ">= 1x"
[ "$(j .stamped)" = "$(j .delivered)" ] || echo "http.sh: $(j .stamped) of $(j .delivered) events had the kernel's receive stamp (the rest counted at their read)" >&2
[ "$(j .complete_clients)" = "$nsse" ] || echo "http.sh: only $(j .complete_clients) of $nsse clients got every event in order" >&2
