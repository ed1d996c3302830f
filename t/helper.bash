# helper.bash: shared set-up for the bats files.  Load with `load helper`.
#
# sim_start [kalshi-sim options...]  starts kalshi-sim on a free loopback
#   port with one generated key (KEY_ID=test, KEY_FILE), waits until it
#   listens, exports SIM_URL and SIM_PID.  sim_stop stops it (teardown does).
# kc METHOD PATH [BODY]: signed request (t/helpers/kcurl); sets $status_code
#   and $body.
# simstate: GET /sim/state.
# free_port: a loopback port nothing listens on.
# wait_for SECONDS CMD...: until CMD succeeds.

export RECIO_TOP="${RECIO_TOP:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
export PATH="${RECIO_BIN:-$RECIO_TOP/build/bin}:$BATS_TEST_DIRNAME/helpers:$PATH"

# One key pair per bats file, made once (RSA key generation is slow-ish).
keys_once() {
	KEYDIR="$BATS_FILE_TMPDIR/keys"
	if [ ! -f "$KEYDIR/test.pem" ]; then
		mkdir -p "$KEYDIR" "$BATS_FILE_TMPDIR/priv"
		chmod 700 "$BATS_FILE_TMPDIR/priv"
		kalshi-sim --keygen "$BATS_FILE_TMPDIR/priv/test.key" "$KEYDIR/test.pem" >/dev/null
	fi
	export KEY_ID=test KEY_FILE="$BATS_FILE_TMPDIR/priv/test.key" KEYDIR
}

sim_start() {
	keys_once
	local pf="$BATS_TEST_TMPDIR/sim.port" i
	rm -f "$pf"
	kalshi-sim -p 0 --port-file "$pf" -k "$KEYDIR" "$@" 2>"$BATS_TEST_TMPDIR/sim.err" &
	SIM_PID=$!
	for i in $(seq 1 200); do
		[ -s "$pf" ] && break
		kill -0 "$SIM_PID" 2>/dev/null || { cat "$BATS_TEST_TMPDIR/sim.err" >&2; return 1; }
		sleep 0.05
	done
	[ -s "$pf" ] || { echo "kalshi-sim did not start" >&2; return 1; }
	SIM_PORT=$(cat "$pf")
	export SIM_URL="http://127.0.0.1:$SIM_PORT" SIM_PID SIM_PORT
}

# Stops the simulator and fails when it did not exit 0 (a crash, or a
# sanitizer's report at exit under make check-asan).
sim_stop() {
	local rc=0
	if [ -n "${SIM_PID:-}" ]; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || rc=$?
		SIM_PID=
		if [ $rc -ne 0 ]; then
			echo "kalshi-sim exited $rc:" >&2
			cat "$BATS_TEST_TMPDIR/sim.err" >&2
			return 1
		fi
	fi
}

teardown() {
	sim_stop
}

kc() {
	local out
	out=$(kcurl "$@")
	status_code=${out##*HTTP }
	body=${out%$'\n'HTTP *}
}

get() {
	curl -sS "$SIM_URL/trade-api/v2$1"
}

simstate() {
	curl -sS "$SIM_URL/sim/state"
}

# wait_for SECONDS CMD...: until CMD succeeds (every 0.1 s), or fail saying what
wait_for() {
	local secs=$1 i n
	shift
	n=$((secs * 10))
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "wait_for: not within $secs s: $*" >&2
	return 1
}

# a loopback port nothing listens on, below the kernel's range of
# ephemeral ports: one from there could be taken meanwhile as the local end
# of a service's own connection (to the simulator, to PostgreSQL), and the
# server meant to listen on it would fail to bind until that one closed
free_port() {
	local p lo hi
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768 hi=60999
	while :; do
		if [ "$lo" -gt 12000 ]; then
			p=$((10000 + RANDOM % (lo - 10000)))
		elif [ "$hi" -lt 63000 ]; then
			p=$((hi + 1 + RANDOM % (65535 - hi)))
		else    # every port is ephemeral here
			p=$((20000 + RANDOM % 40000))
		fi
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# sql URL SQL: rows as a|b|c, one per line, from URL ("sqlite:FILE" or a
# libpq connection string)
sql() {
	case $1 in
	sqlite:*) sqlite3 "${1#sqlite:}" "$2" ;;
	*) psql "$1" -XAtq -F'|' -v ON_ERROR_STOP=1 -c "$2" ;;
	esac
}
