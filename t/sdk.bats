#!/usr/bin/env bats
# Conformance: the official Kalshi TypeScript SDK (kalshi-typescript from
# npm, installed into a cache directory outside the repository) talks to
# kalshi-sim with its own request signing.

load helper

SDK_VERSION=3.30.0

setup_file() {
	export SDK_DIR="${RECIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recio}/sdk-$SDK_VERSION"
	if [ ! -d "$SDK_DIR/node_modules/kalshi-typescript" ]; then
		mkdir -p "$SDK_DIR"
		npm install --prefix "$SDK_DIR" --no-audit --no-fund --loglevel=error \
			"kalshi-typescript@$SDK_VERSION" >&3 2>&1
	fi
}

@test "official SDK: markets, pagination, orderbook, balance, four V2 order rows, cancel, orders, fills, positions" {
	sim_start --start 2026-11-25T14:30:00Z --rate-limit off
	run node "$BATS_TEST_DIRNAME/sdk/conformance.js"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^ok - ' <<<"$output")" -ge 18 ]
}
