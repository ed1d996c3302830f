#!/usr/bin/env bats
# The dashboard in a real headless Chromium (Debian's chromium, driven by
# playwright-core from npm, installed into a cache directory outside the
# repository) against the whole system on the simulator under s6.
# Screenshots: t/artifacts/.

load helper

# the last playwright-core that runs on Debian 12's Node.js 18 (1.62 wants 20)
PW_VERSION=1.60.0

setup_file() {
	export PW_DIR="${RECIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recio}/playwright-core-$PW_VERSION"
	if [ ! -d "$PW_DIR/node_modules/playwright-core" ]; then
		mkdir -p "$PW_DIR"
		PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$PW_DIR" --no-audit --no-fund --loglevel=error \
			"playwright-core@$PW_VERSION" >&3 2>&1
	fi
}

teardown() {
	[ -z "${RECIO_CONF:-}" ] || recio down >/dev/null 2>&1 || true
}

@test "dashboard in Chromium: log in, live price and strike table, auto entry toggle, history; screenshots" {
	command -v chromium >/dev/null || skip "no chromium (make deps installs it)"
	HS_PORT=$(free_port)
	export RECIO_CONF="$BATS_TEST_TMPDIR/recio.conf"
	mkdir -p "$BATS_TEST_TMPDIR/state"
	cat >"$RECIO_CONF" <<EOT
RECIO_STATE=$BATS_TEST_TMPDIR/state
SIM_PORT=$(free_port)
HS_PORT=$HS_PORT
SIM_SPEED=30
SIM_ARGS=--settle-delay 5
BTC_TICK_ARGS=-i 0.2
KALSHI_FETCH_ARGS=-i 0.3
EOT
	chmod 600 "$RECIO_CONF"
	printf 'auto_entry=off\nmin_volume=0\n' >"$BATS_TEST_TMPDIR/state/settings.conf"
	echo 'browser test 123' | recio user add tester
	recio up
	export ARTIFACTS="$RECIO_TOP/t/artifacts"
	mkdir -p "$ARTIFACTS"
	DASH_URL="http://127.0.0.1:$HS_PORT" DASH_USER=tester DASH_PASS='browser test 123' \
		run timeout 150 node "$BATS_TEST_DIRNAME/browser/dashboard.js"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^ok ' <<<"$output")" -eq 26 ]
	for f in desktop-login desktop-monitor desktop-history desktop-system phone-monitor phone-history; do
		[ -s "$ARTIFACTS/$f.png" ]
	done
}
