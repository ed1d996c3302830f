#!/usr/bin/env bats
# log-follow: db-sink's input, every service's data log merged into one
# stream, whole lines only, through rotation, truncation and files that
# come late.

load helper

setup() {
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/a" "$D/b"
}

teardown() {
	[ -z "${LF:-}" ] || kill "$LF" 2>/dev/null || true
	[ -z "${HOLD:-}" ] || kill "$HOLD" 2>/dev/null || true
}

# follow FILE...: log-follow on them into $D/out until $HOLD ends
follow() {
	sleep 600 &
	HOLD=$!
	log-follow -s 0.05 -p "$HOLD" "$@" >"$D/out" 2>"$D/err" &
	LF=$!
}

# stop: end $HOLD; log-follow makes a last look and exits 0
stop() {
	kill "$HOLD"
	wait "$LF"
	LF=
}

has() {         # has N: $D/out has N lines
	[ "$(wc -l <"$D/out")" -eq "$1" ]
}

@test "usage: -h exits 0; no file, a bad -s or -p: exit 2 with the reason" {
	run log-follow -h
	[ "$status" -eq 0 ]
	[[ "$output" == *"whole lines only"* ]]
	run log-follow
	[ "$status" -eq 2 ]
	[[ "$output" == *"log-follow: no file named"* ]]
	run log-follow -s 0 x
	[ "$status" -eq 2 ]
	[[ "$output" == *"-s: seconds from 0.01 to 3600"* ]]
	run log-follow -p x x
	[ "$status" -eq 2 ]
	[[ "$output" == *"-p: a process id"* ]]
}

@test "a line written in parts waits for its end while other files' lines pass it" {
	follow "$D/a/current" "$D/b/current"
	printf '{"a":1,' >"$D/a/current"
	echo '{"b":1}' >"$D/b/current"
	wait_for 10 has 1
	sleep 0.3
	[ "$(cat "$D/out")" = '{"b":1}' ]
	printf '"more":2' >>"$D/a/current"
	echo '{"b":2}' >>"$D/b/current"
	wait_for 10 has 2
	echo '}' >>"$D/a/current"
	wait_for 10 has 3
	stop
	[ "$(cat "$D/out")" = "$(printf '%s\n' '{"b":1}' '{"b":2}' '{"a":1,"more":2}')" ]
	[ ! -s "$D/err" ]
}

@test "rotation (renamed, written to its end, created again), truncation, a file that comes late, a last line without its newline" {
	follow "$D/a/current" "$D/b/current" "$D/c/current"
	echo '{"b":1}' >"$D/b/current"
	wait_for 10 has 1
	# rotated: what the old file gets after the rename is read before the new one
	mv "$D/b/current" "$D/b/@1.s"
	echo '{"b":2}' >>"$D/b/@1.s"
	sleep 0.3
	echo '{"b":3}' >"$D/b/current"
	wait_for 10 has 3
	# cut shorter: read again from its start, and said
	echo '{"a":1}' >"$D/a/current"
	wait_for 10 has 4
	: >"$D/a/current"
	sleep 0.3
	echo '{"a":2}' >>"$D/a/current"
	wait_for 10 has 5
	grep -q 'a/current: cut to 0 bytes from 8: read again from its start' "$D/err"
	# a directory and file that were not there at the start
	mkdir "$D/c"
	echo '{"c":1}' >"$D/c/current"
	wait_for 10 has 6
	printf '{"c":2}' >>"$D/c/current"
	stop
	[ "$(cat "$D/out")" = "$(printf '%s\n' '{"b":1}' '{"b":2}' '{"b":3}' '{"a":1}' '{"a":2}' '{"c":1}' '{"c":2}')" ]
	grep -q 'c/current: 7 bytes at its end without a newline: written as a line' "$D/err"
}

# Three writers append lines of 40 bytes to 12 KB, each cut into writes at
# random places (as a reader can see a line that spans pages half written),
# one file rotated on the way.  Every line comes out whole, once.  (tail -F
# over the same files, which db-sink's run script used, cut lines.)
@test "three files written in random pieces at once, one rotated: every line once and whole" {
	follow "$D/a/current" "$D/b/current" "$D/c/current"
	mkdir -p "$D/c"
	for f in a b c; do
		python3 - "$D/$f" "$f" <<'EOF' &
import os, random, sys, time
d, name = sys.argv[1], sys.argv[2]
r = random.Random(name)
fd = os.open(d + '/current', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(400):
    if name == 'b' and i == 200:
        os.close(fd)
        os.rename(d + '/current', d + '/@1.s')
        fd = os.open(d + '/current', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    line = ('{"f":"%s","i":%d,"pad":"%s"}\n' % (name, i, 'x' * r.choice([20, 300, 3000, 12000]))).encode()
    while line:
        k = r.randint(1, len(line))
        os.write(fd, line[:k])
        line = line[k:]
        if r.random() < 0.3:
            time.sleep(0.001)
os.close(fd)
EOF
	done
	wait_for 60 has 1200
	stop
	# every line parses, and each file's lines are all there, once, in order
	jq -c . "$D/out" >/dev/null
	for f in a b c; do
		[ "$(jq -r --arg f $f 'select(.f == $f) | .i' "$D/out" | tr '\n' ' ')" = "$(seq 0 399 | tr '\n' ' ')" ]
	done
	[ ! -s "$D/err" ]
}

@test "its reader gone, it ends at once, with nothing more to write; a directory removed and made again is watched again" {
	echo '{"a":1}' >"$D/a/current"
	# -s 600: only inotify or the reader's going can wake it
	run timeout 20 sh -c "log-follow -s 600 '$D/a/current' | head -n 1"
	[ "$status" -eq 0 ]
	[ "$output" = '{"a":1}' ]
	# a watched directory removed and made again: its file is seen at once,
	# not at the next -s look
	sleep 600 &
	HOLD=$!
	log-follow -s 600 -p "$HOLD" "$D/b/current" >"$D/out" 2>"$D/err" &
	LF=$!
	echo '{"b":1}' >"$D/b/current"
	wait_for 10 has 1
	rm -r "$D/b"
	sleep 0.2
	mkdir "$D/b"
	echo '{"b":2}' >"$D/b/current"
	wait_for 10 has 2
	echo '{"b":3}' >>"$D/b/current"
	wait_for 10 has 3
}
