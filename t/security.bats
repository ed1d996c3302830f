#!/usr/bin/env bats
# Security: no secret in a demo's logs, state, argv or environments; key and
# configuration files refused when others can read or write them; health-serve
# against slow, partial and oversized requests; security headers everywhere.

load helper

teardown() {
	if [ -n "${DEMO_PID:-}" ]; then
		kill -TERM "$DEMO_PID" 2>/dev/null || true
		wait "$DEMO_PID" 2>/dev/null || true
	fi
	if [ -n "${HS_PID:-}" ]; then
		kill -TERM "$HS_PID" 2>/dev/null || true
		wait "$HS_PID" || { echo "health-serve exited $?"; cat "$BATS_TEST_TMPDIR/hs.err"; return 1; }
	fi
}

# every process whose working directory is under DIR
procs_under() {
	local p
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2>/dev/null) in "$1"/*) echo "${p#/proc/}" ;; esac
	done
}

@test "secrets: a demo's logs, state, database, argv and environments hold neither the key nor the dashboard password" {
	out=$BATS_TEST_TMPDIR/demo.out
	recio demo -p "$(free_port)" -P "$(free_port)" -x 120 -t 120 >"$out" 2>&1 &
	DEMO_PID=$!
	for i in $(seq 1 600); do grep -q 'log in as demo, password' "$out" && break; sleep 0.1; done
	pw=$(sed -n 's/.*log in as demo, password \([0-9a-f]*\).*/\1/p' "$out")
	state=$(sed -n 's/.*state in \(.*\)$/\1/p' "$out")
	key=$(sed -n 's/.*, key \(.*\))$/\1/p' "$out")
	hs=$(sed -n 's|.*dashboard: \(http://[^/]*\)/.*|\1|p' "$out")
	sim=$(sed -n 's|^  \(http://[^ ]*\) *the simulated exchange.*|\1|p' "$out")
	[ ${#pw} -eq 24 ]
	[ -d "$state" ]
	[ -s "$key" ]
	[ -n "$hs" ]
	[ -n "$sim" ]
	# a wrong password first (its attempt is logged, the password must not be),
	# then the right one, and a manual order: order-send signs and sends it
	[ "$(curl -s -o /dev/null -w '%{http_code}' -d "{\"username\":\"demo\",\"password\":\"${pw}x\"}" "$hs/api/login")" = 401 ]
	curl -s -c "$BATS_TEST_TMPDIR/cj" -d "{\"username\":\"demo\",\"password\":\"$pw\"}" "$hs/api/login" >"$BATS_TEST_TMPDIR/login"
	csrf=$(jq -r .csrf "$BATS_TEST_TMPDIR/login")
	[ ${#csrf} -eq 64 ]
	t=$(curl -s "$sim/trade-api/v2/markets?status=open&limit=100" | jq -r '.markets[20].ticker')
	[ "$(curl -s -o /dev/null -w '%{http_code}' -b "$BATS_TEST_TMPDIR/cj" -H "X-CSRF-Token: $csrf" \
		-d "{\"ticker\":\"$t\",\"side\":\"yes\",\"action\":\"buy\",\"count\":1,\"price\":99}" "$hs/api/order")" = 200 ]
	ol=$state/run/log/order-send/data/current
	for i in $(seq 1 300); do grep -q '"type":"order".*"status":"\(resting\|executed\|filled\)"' "$ol" 2>/dev/null && break; sleep 0.1; done
	grep -q '"type":"order".*"status":"\(resting\|executed\|filled\)"' "$ol"
	grep -q 'wrong user name or password' "$state/run/log/health-serve/diag/current"
	# what must not appear: the password, every line of the key's base64
	grep -v -- '-----' "$key" >"$BATS_TEST_TMPDIR/secrets"
	echo "$pw" >>"$BATS_TEST_TMPDIR/secrets"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/secrets")" -gt 20 ]
	# every file of the state (logs, journal, settings, FIFOs aside), the key itself excepted
	find "$state" -type f ! -path "$key" >"$BATS_TEST_TMPDIR/files"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/files")" -gt 20 ]
	run xargs -d '\n' grep -laF -f "$BATS_TEST_TMPDIR/secrets" <"$BATS_TEST_TMPDIR/files"
	[ -z "$output" ] || { echo "secret in: $output"; false; }
	# the database, dumped as text
	run sh -c "sqlite3 '$state/recio.db' .dump | grep -cF -f '$BATS_TEST_TMPDIR/secrets'"
	[ "$output" = 0 ]
	sqlite3 "$state/recio.db" "select count(*) from users where username = 'demo'" | grep -qx 1
	# argv and environment of every process of the system (s6, services, loggers)
	procs_under "$state" >"$BATS_TEST_TMPDIR/pids"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/pids")" -ge 16 ]
	while read -r p; do
		for f in cmdline environ; do
			[ -r "/proc/$p/$f" ] || continue
			! grep -qaF -f "$BATS_TEST_TMPDIR/secrets" "/proc/$p/$f" || { echo "secret in /proc/$p/$f ($(cat "/proc/$p/comm"))"; false; }
		done
	done <"$BATS_TEST_TMPDIR/pids"
	# the environment names the key's file, never its contents
	grep -q "^KALSHI_KEY_FILE='$key'" "$state/run/scan/.lib/env.sh"
	[ "$(stat -c %a "$state")" = 700 ]
}

@test "keys: every tool that signs refuses a key others can read, one of another user, one behind a symlink" {
	keys_once
	k=$BATS_TEST_TMPDIR/k.key
	cp "$KEY_FILE" "$k"
	export KALSHI_API_BASE=http://127.0.0.1:9/trade-api/v2 KALSHI_KEY_ID=test
	# each tool's way of being asked to sign: it must stop at the key, naming it
	tools() {
		KALSHI_KEY_FILE=$1 kalshi-fetch GET /portfolio/balance </dev/null
		echo "rc $?"
		KALSHI_KEY_FILE=$1 order-send -j "$BATS_TEST_TMPDIR/j" </dev/null
		echo "rc $?"
		KALSHI_KEY_FILE=$1 acct-sync --once </dev/null
		echo "rc $?"
	}
	chmod 644 "$k"
	run tools "$k"
	[ "$(grep -c "k.key: mode 0644, must be 0600" <<<"$output")" -eq 3 ]
	[ "$(grep -c '^rc [1-9]' <<<"$output")" -eq 3 ]
	chmod 600 "$k"
	ln -s "$k" "$BATS_TEST_TMPDIR/link.key"
	run tools "$BATS_TEST_TMPDIR/link.key"
	[ "$(grep -c "link.key: is a symbolic link" <<<"$output")" -eq 3 ]
	[ "$(grep -c '^rc [1-9]' <<<"$output")" -eq 3 ]
	if [ "$(id -u)" -eq 0 ]; then
		chown 65534 "$k"
		run tools "$k"
		[ "$(grep -c "k.key: owned by uid 65534, not by this user" <<<"$output")" -eq 3 ]
		[ "$(grep -c '^rc [1-9]' <<<"$output")" -eq 3 ]
	fi
}

@test "configuration: refused when others can write it, when another user owns it, when a password in it is readable" {
	c=$BATS_TEST_TMPDIR/recio.conf
	printf 'RECIO_MODE=sim\nRECIO_STATE=%s\n' "$BATS_TEST_TMPDIR/state" >"$c"
	chmod 644 "$c"
	RECIO_CONF=$c run recio status
	[[ "$output" != *"$c"* ]]
	chmod 666 "$c"
	RECIO_CONF=$c run recio status
	[ "$status" -ne 0 ]
	[[ "$output" == *"recio.conf: mode 666: writable by others"* ]]
	chmod 644 "$c"
	echo 'RECIO_DB=postgresql://recio:s3cret@127.0.0.1/recio' >>"$c"
	RECIO_CONF=$c run recio status
	[ "$status" -ne 0 ]
	[[ "$output" == *"recio.conf: holds a database password: chmod 600"* ]]
	[[ "$output" != *s3cret* ]]
	printf 'RECIO_MODE=sim\nRECIO_STATE=%s\nRECIO_DB="host=/tmp password=s3cret"\n' "$BATS_TEST_TMPDIR/state" >"$c"
	RECIO_CONF=$c run recio status
	[ "$status" -ne 0 ]
	[[ "$output" == *"holds a database password"* ]]
	[[ "$output" != *s3cret* ]]
	# a tool's own configuration: order-send's risk limits, signal-eval's settings
	echo 'max_positions=1' >"$BATS_TEST_TMPDIR/risk.conf"
	chmod 664 "$BATS_TEST_TMPDIR/risk.conf"
	run order-send --paper -n -c "$BATS_TEST_TMPDIR/risk.conf" -j "$BATS_TEST_TMPDIR/j" </dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *"risk.conf: mode 0664: writable by others than its owner"* ]]
	echo 'min_probability=80' >"$BATS_TEST_TMPDIR/settings.conf"
	chmod 646 "$BATS_TEST_TMPDIR/settings.conf"
	run signal-eval -n -c "$BATS_TEST_TMPDIR/settings.conf"
	[ "$status" -ne 0 ]
	[[ "$output" == *"settings.conf: mode 0646: writable by others than its owner"* ]]
	if [ "$(id -u)" -eq 0 ]; then
		chmod 644 "$BATS_TEST_TMPDIR/risk.conf" "$c"
		chown 65534 "$BATS_TEST_TMPDIR/risk.conf" "$c"
		run order-send --paper -n -c "$BATS_TEST_TMPDIR/risk.conf" -j "$BATS_TEST_TMPDIR/j" </dev/null
		[ "$status" -ne 0 ]
		[[ "$output" == *"risk.conf: owned by uid 65534, neither this user"* ]]
		RECIO_CONF=$c run recio status
		[ "$status" -ne 0 ]
		[[ "$output" == *"owned by uid 65534, neither this user"* ]]
	fi
}

hs_start() {
	export RECIO_STATE="$BATS_TEST_TMPDIR/state" RECIO_RUN="$BATS_TEST_TMPDIR/state/run"
	export RECIO_DB="sqlite:$BATS_TEST_TMPDIR/state/recio.db" RECIO_SQL="$RECIO_TOP/share/sql"
	mkdir -p "$RECIO_RUN/log/btc-tick/data"
	echo 'a long enough password' | health-serve --user-add admin >/dev/null
	health-serve -p 0 --port-file "$BATS_TEST_TMPDIR/port" -w "$RECIO_TOP/share/www" "$@" 2>"$BATS_TEST_TMPDIR/hs.err" &
	HS_PID=$!
	for i in $(seq 1 100); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.05; done
	HP=$(cat "$BATS_TEST_TMPDIR/port")
	H="http://127.0.0.1:$HP"
}

@test "health-serve: slow and half-sent requests from one address cannot take it from the others, and are closed after --timeout" {
	hs_start --max-per-addr 8 --timeout 2
	fds=()
	for i in $(seq 1 8); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$HP"
		printf 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ' >&"$fd"
		fds+=("$fd")
	done
	sleep 0.3
	# a ninth from the same address is refused; another address is served at once
	run curl -s -m 5 -o /dev/null -w '%{http_code}' "$H/health"
	[ "$output" = 000 ]
	run curl -s -m 5 -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$H/health"
	[ "$output" = 503 ]
	# the half-sent ones are closed by the server (end of file) after the timeout
	for fd in "${fds[@]}"; do
		timeout 10 cat <&"$fd" >/dev/null
		exec {fd}<&-
	done
	[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$H/health")" = 503 ]
	grep -q '^health-serve: libmicrohttpd: .*connection limit' "$BATS_TEST_TMPDIR/hs.err"
	# oversized: 100 KB of headers, a 20 KB body, a 10 KB URL
	c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" "$H/health")
	[ "$c" -ge 400 ]
	[ "$c" -lt 500 ]
	c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --data-binary "$(head -c 20000 /dev/zero | tr '\0' a)" "$H/api/login")
	[ "$c" = 413 ]
	c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$H/$(head -c 70000 /dev/zero | tr '\0' a)")
	[ "$c" -ge 400 ]
	[ "$c" -lt 500 ]
	# and it still answers
	[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$H/api/session")" = 401 ]
}

@test "health-serve: every kind of answer carries CSP without inline script, nosniff and frame denial" {
	hs_start
	curl -s -c "$BATS_TEST_TMPDIR/cj" -d '{"username":"admin","password":"a long enough password"}' "$H/api/login" >/dev/null
	n=0
	for a in "/health" "/metrics" "/api/state" "/api/nope" "/nope.html" "/" "/app.js" "/login.html" \
		"-b $BATS_TEST_TMPDIR/cj /api/state" "-b $BATS_TEST_TMPDIR/cj /api/trades?sort=bogus" \
		"-d {} /api/login" "-X PUT /api/settings" "-m 1 /events" "-m 1 -b $BATS_TEST_TMPDIR/cj /events"; do
		# shellcheck disable=SC2086 # curl options and a path, split on purpose
		set -- $a
		p=${*: -1}
		curl -s -o /dev/null -D "$BATS_TEST_TMPDIR/h" "${@:1:$#-1}" "$H$p" || true
		code=$(head -n 1 "$BATS_TEST_TMPDIR/h" | cut -d' ' -f2)
		[ -n "$code" ] || { echo "$a: no answer"; false; }
		grep -qi '^X-Content-Type-Options: nosniff' "$BATS_TEST_TMPDIR/h" || { echo "$a ($code): no nosniff"; false; }
		grep -qi '^X-Frame-Options: DENY' "$BATS_TEST_TMPDIR/h" || { echo "$a ($code): no frame denial"; false; }
		csp=$(grep -i '^Content-Security-Policy:' "$BATS_TEST_TMPDIR/h") || { echo "$a ($code): no CSP"; false; }
		[[ "$csp" == *"script-src 'self'"* && "$csp" != *unsafe-inline* && "$csp" == *"frame-ancestors 'none'"* ]]
		n=$((n + 1))
	done
	[ "$n" -eq 14 ]
	# the dashboard's pages hold no inline script for the CSP to have to allow
	! grep -il '<script>[^<]' "$RECIO_TOP"/share/www/*.html || false
	! grep -il ' on[a-z]*="' "$RECIO_TOP"/share/www/*.html || false
}
