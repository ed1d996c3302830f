#!/usr/bin/env bats
# fp-build on small series whose cells are worked out by hand.

load helper

@test "usage: -h exits 0" {
	run fp-build -h
	[ "$status" -eq 0 ]
	[[ "$output" == *"Method."* ]]
}

# flat CSV: 61 candles of a flat price from 2020-01-01 00:00 (weight 1, more
# than four years before 2026), so that the baseline has every horizon from
# 1 to 60 minutes: 60 - t + 1 moves of 0 % at horizon t, each counted as
# both ">= +0.00%" and "<= -0.00%"
flat() {
	awk 'BEGIN { for (i = 0; i < 61; i++) printf "%d,1,1,1,100,1\n", 1577836800 + 60 * i }'
}

@test "year weights and the 1-minute row, by hand" {
	# 2025-12-31 23:50..23:59: up 0.1 % a minute (weight 4, the year before
	# the newest); 2026-01-01 00:00..00:09: down 0.1 % a minute (weight 5).
	# 1-minute moves: 9 up at weight 4; 1 down at 4 (23:59 -> 00:00); 9 down
	# at 5: 36 up and 49 down.  With the 60 flat ones (weight 1): total 145,
	# >= +0.00% = 96/145 = 66.21, <= -0.00% = 109/145 = 75.17; at 0.05 % and
	# 0.10 % only the 0.1 % moves: 36/145 = 24.83, 49/145 = 33.79; zero at
	# 0.15 %.
	{ echo "timestamp,open,high,low,close,volume"; flat; awk 'BEGIN { p = 100; t = 1767225000
		for (i = 0; i < 10; i++) { printf "%d,1,1,1,%.10f,1\n", t + 60 * i, p; if (i < 9) p *= 1.001 }
		for (j = 0; j < 10; j++) { p *= 0.999; printf "%d,1,1,1,%.10f,1\n", t + 600 + 60 * j, p } }'; } >"$BATS_TEST_TMPDIR/c.csv"
	run fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/c.csv"
	[ "$status" -eq 0 ]
	b="$BATS_TEST_TMPDIR/fp/btc_fingerprint_directional_baseline.csv"
	[ "$(sed -n 2p "$b" | cut -d, -f1-9)" = "1m TTC,66.21,75.17,24.83,33.79,24.83,33.79,0.00,0.00" ]
	# the header has the 41 thresholds 0.00..2.00, 1.70 included
	[ "$(head -n 1 "$b" | tr ',' '\n' | grep -c .)" -eq 82 ]
	head -n 1 "$b" | grep -q '>= +1.70%'
	[ "$(wc -l <"$b")" -eq 61 ]
	# 2 minutes: 8 up (w 4), 2 down (23:58, 23:59; w 4), 8 down (w 5): 32 up
	# and 48 down of 80; with 59 flat: 91/139 = 65.47, 107/139 = 76.98
	[ "$(sed -n 3p "$b" | cut -d, -f2,3)" = "65.47,76.98" ]
	# 60 minutes: the one flat move only
	[ "$(sed -n 61p "$b" | cut -d, -f1-5)" = "60m TTC,100.00,100.00,0.00,0.00" ]
	# the tables load in signal-eval
	run signal-eval -s fingerprints="$BATS_TEST_TMPDIR/fp" -n
	[ "$output" = "configuration OK: model fingerprint" ]
}

@test "momentum buckets: a steady climb lands in one bucket" {
	# +0.01 % a minute: every delta is k x 0.01 % -> momentum
	# (.30x1 + .25x2 + .20x3 + .15x4 + .05x15 + .05x30) x 0.01 % = 0.0410 % -> 4 bp
	awk 'BEGIN { p = 100; for (i = 0; i < 200; i++) { printf "%d,1,1,1,%.10f,1\n", 1767225600 + 60 * i, p; p *= 1.0001 } }' \
		>"$BATS_TEST_TMPDIR/c.csv"
	fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/c.csv"
	[ -f "$BATS_TEST_TMPDIR/fp/btc_fingerprint_directional_momentum_004.csv" ]
	# every move up: >= +0.00% is 100 in bucket 4, <= -0.00% 0; 0.01 % a minute
	# reaches 0.05 % only from 5 minutes on
	f="$BATS_TEST_TMPDIR/fp/btc_fingerprint_directional_momentum_004.csv"
	[ "$(sed -n 2p "$f" | cut -d, -f1-5)" = "1m TTC,100.00,0.00,0.00,0.00" ]
	[ "$(sed -n 6p "$f" | cut -d, -f4)" = "100.00" ]
}

@test "bad lines are reported with their line number and skipped" {
	{ printf 'timestamp,open,high,low,close,volume\n1767225600,1,1,1,100,1\nbad\n1767225660,1,1,1,-3,1\n1767225720,1,1,1,101,1\n'
		awk 'BEGIN { for (i = 0; i < 61; i++) printf "%d,1,1,1,101,1\n", 1767225780 + 60 * i }'; } >"$BATS_TEST_TMPDIR/c.csv"
	run fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/c.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *"c.csv line 3: expected 6 fields"* ]]
	[[ "$output" == *"c.csv line 4: close \"-3\" is not a positive number"* ]]
}

@test "a horizon the data cannot speak to: nothing is written" {
	# 30 minutes of candles: no pair 30 to 60 minutes apart.  A row of zeros
	# there would say that the price never moves that far: a sure thing.
	awk 'BEGIN { for (i = 0; i < 30; i++) printf "%d,1,1,1,%d,1\n", 1767225600 + 60 * i, 100 + i }' >"$BATS_TEST_TMPDIR/c.csv"
	run fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/c.csv"
	[ "$status" -eq 1 ]
	[[ "$output" == *"c.csv: 31 of the 60 horizons (30 to 60 minutes among them) have no pair of candles"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/fp" ] || [ -z "$(ls -A "$BATS_TEST_TMPDIR/fp")" ]
}

@test "a bucket's horizon without a candle takes the baseline's row" {
	# the flat hour (bucket 0), then 20 minutes up 0.01 % a minute: bucket 2
	# (the candles with 2 to 4 minutes behind them) has moves up to 16
	# minutes; from 17 on, the baseline's rows, not zeros (which would say
	# that the price never moves that far)
	{ flat; awk 'BEGIN { p = 100; for (i = 0; i < 20; i++) { printf "%d,1,1,1,%.10f,1\n", 1767225600 + 60 * i, p; p *= 1.0001 } }'; } \
		>"$BATS_TEST_TMPDIR/c.csv"
	run fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/c.csv"
	[ "$status" -eq 0 ]
	b="$BATS_TEST_TMPDIR/fp/btc_fingerprint_directional_baseline.csv"
	f="$BATS_TEST_TMPDIR/fp/btc_fingerprint_directional_momentum_002.csv"
	[[ "$output" == *"momentum_002.csv: 44 of 60 horizons have no candle in this bucket: the baseline's rows"* ]]
	# its own rows: every move up
	[ "$(sed -n 2p "$f" | cut -d, -f1-3)" = "1m TTC,100.00,0.00" ]
	[ "$(sed -n 17p "$f" | cut -d, -f1-3)" = "16m TTC,100.00,0.00" ]
	[ "$(sed -n 17p "$f")" != "$(sed -n 17p "$b")" ]
	# 17 minutes and over: the baseline's
	[ "$(sed -n 18,61p "$f")" = "$(sed -n 18,61p "$b")" ]
	[ "$(sed -n 61p "$f" | cut -d, -f2)" = "100.00" ]
}

@test "a table of an earlier run whose bucket has no candle now is removed" {
	awk 'BEGIN { p = 100; for (i = 0; i < 200; i++) { printf "%d,1,1,1,%.10f,1\n", 1767225600 + 60 * i, p; p *= 1.0001 } }' \
		>"$BATS_TEST_TMPDIR/climb.csv"
	fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/climb.csv"
	[ -f "$BATS_TEST_TMPDIR/fp/btc_fingerprint_directional_momentum_004.csv" ]
	flat >"$BATS_TEST_TMPDIR/flat.csv"
	run fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/flat.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *"momentum_004.csv: removed: its bucket has no candle in $BATS_TEST_TMPDIR/flat.csv"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/fp/btc_fingerprint_directional_momentum_004.csv" ]
	# the directory is this run's: the baseline and bucket 0, no temporary file
	[ "$(cd "$BATS_TEST_TMPDIR/fp" && ls)" = "btc_fingerprint_directional_baseline.csv
btc_fingerprint_directional_momentum_000.csv" ]
}

@test "a table that cannot be written leaves the directory as it was" {
	awk 'BEGIN { p = 100; for (i = 0; i < 200; i++) { printf "%d,1,1,1,%.10f,1\n", 1767225600 + 60 * i, p; p *= 1.0001 } }' \
		>"$BATS_TEST_TMPDIR/climb.csv"
	fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/climb.csv"
	(cd "$BATS_TEST_TMPDIR/fp" && md5sum ./*) >"$BATS_TEST_TMPDIR/before"
	# bucket 0's table cannot be written (a directory where its .tmp goes)
	mkdir "$BATS_TEST_TMPDIR/fp/btc_fingerprint_directional_momentum_000.csv.tmp"
	flat >"$BATS_TEST_TMPDIR/flat.csv"
	run fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/flat.csv"
	[ "$status" -eq 1 ]
	[[ "$output" == *"momentum_000.csv.tmp: cannot create"* ]]
	rmdir "$BATS_TEST_TMPDIR/fp/btc_fingerprint_directional_momentum_000.csv.tmp"
	# the old baseline and bucket 4 as they were; no .tmp left
	[ "$(cd "$BATS_TEST_TMPDIR/fp" && md5sum ./*)" = "$(cat "$BATS_TEST_TMPDIR/before")" ]
}
