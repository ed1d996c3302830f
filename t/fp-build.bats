#!/usr/bin/env bats
# fp-build on small series whose cells are worked out by hand.

load helper

@test "usage: -h exits 0" {
	run fp-build -h
	[ "$status" -eq 0 ]
	[[ "$output" == *"Method."* ]]
}

@test "year weights and the 1-minute row, by hand" {
	# 2025-12-31 23:50..23:59: up 0.1 % a minute (weight 4, the year before
	# the newest); 2026-01-01 00:00..00:09: down 0.1 % a minute (weight 5).
	# 1-minute moves: 9 up at weight 4; 1 down at 4 (23:59 -> 00:00); 9 down
	# at 5.  Total 85: >= +0.00% = 36/85 = 42.35, <= -0.00% = 49/85 = 57.65;
	# every move is 0.1 %: the same at 0.05 % and 0.10 %, zero at 0.15 %.
	awk 'BEGIN { p = 100; t = 1767225000
		print "timestamp,open,high,low,close,volume"
		for (i = 0; i < 10; i++) { printf "%d,1,1,1,%.10f,1\n", t + 60 * i, p; if (i < 9) p *= 1.001 }
		for (j = 0; j < 10; j++) { p *= 0.999; printf "%d,1,1,1,%.10f,1\n", t + 600 + 60 * j, p } }' >"$BATS_TEST_TMPDIR/c.csv"
	run fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/c.csv"
	[ "$status" -eq 0 ]
	b="$BATS_TEST_TMPDIR/fp/btc_fingerprint_directional_baseline.csv"
	[ "$(sed -n 2p "$b" | cut -d, -f1-9)" = "1m TTC,42.35,57.65,42.35,57.65,42.35,57.65,0.00,0.00" ]
	# the header has the 41 thresholds 0.00..2.00, 1.70 included
	[ "$(head -n 1 "$b" | tr ',' '\n' | grep -c .)" -eq 82 ]
	head -n 1 "$b" | grep -q '>= +1.70%'
	[ "$(wc -l <"$b")" -eq 61 ]
	# 2 minutes: 8 up (w 4), 2 down (23:58, 23:59; w 4), 8 down (w 5): 32/80
	[ "$(sed -n 3p "$b" | cut -d, -f2,3)" = "40.00,60.00" ]
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
	printf 'timestamp,open,high,low,close,volume\n1767225600,1,1,1,100,1\nbad\n1767225660,1,1,1,-3,1\n1767225720,1,1,1,101,1\n' >"$BATS_TEST_TMPDIR/c.csv"
	run fp-build -o "$BATS_TEST_TMPDIR/fp" "$BATS_TEST_TMPDIR/c.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *"c.csv line 3: expected 6 fields"* ]]
	[[ "$output" == *"c.csv line 4: close \"-3\" is not a positive number"* ]]
}
