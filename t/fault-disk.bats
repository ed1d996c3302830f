#!/usr/bin/env bats
# A full disk under db-sink's spool (issue 9): the spool is on a small tmpfs
# that a filler file fills up (or, where mount is not allowed, the running
# db-sink gets a file size limit of 0 with prlimit: its writes fail with
# EFBIG, and the restart after is the room coming back).  db-sink
# reports it and stops before consuming what it could not spool; trading
# goes on; once there is room again every line lands in the database
# exactly once, P&L to the centi-cent.

load helper
load fault

sent_orders() {
	grep -c '"status":"sent"' "$RUN/log/order-send/data/current" || true
}

more_sent_than() {
	[ "$(sent_orders)" -gt "$1" ]
}

# db-sink's first spool_full health line's error into $BATS_TEST_TMPDIR/err.
# tmpfs: the room db-sink frees itself (it truncates the spool once all of
# it is stored) is taken again first, else a db-sink that keeps up could
# go on writing into its own freed pages and never meet the full disk
spool_full_reported() {
	[ "${MOUNTED:-}" = "" ] || dd if=/dev/zero of="$MOUNTED/filler.$RANDOM$RANDOM" bs=4k 2>/dev/null || true
	grep -h '"src":"db-sink","status":"spool_full"' "$RUN/log/db-sink/data/current" | head -n 1 |
		jq -r .error >"$BATS_TEST_TMPDIR/err"
	[ -s "$BATS_TEST_TMPDIR/err" ]
}

# disk_filled DIR: DIR's file system filled up (a new filler file), and
# no room left at the look
disk_filled() {
	dd if=/dev/zero of="$1/filler.$RANDOM$RANDOM" bs=4k 2>/dev/null || true
	[ "$(df --output=avail -k "$1" | tail -n 1)" -eq 0 ]
}

# every tick btc-tick wrote is in the database, once
ticks_stored() {
	[ "$(grep -c '"type":"tick"' "$RUN/log/btc-tick/data/current")" -eq "$(db 'select count(*) from ticks')" ]
}

@test "disk full under db-sink's spool: reported (health line, diag), nothing consumed that was not spooled, trading goes on; once there is room every line lands once, P&L to the centi-cent" {
	spool=$BATS_TEST_TMPDIR/spool
	mkdir -p "$spool"
	how=rlimit
	if [ "${FAULT_DISK:-tmpfs}" = tmpfs ] && mount -t tmpfs -o size=256k tmpfs "$spool" 2>/dev/null; then
		how=tmpfs
		MOUNTED=$spool
	fi
	echo "# full disk by $how" >&3
	fconf "DB_SINK_ARGS=-s $spool/db-sink.spool"
	recio up
	wait_for 120 more_sent_than 0
	# the disk fills up
	if [ $how = tmpfs ]; then
		# (again until df says so: db-sink may free what it had spooled
		# between the filling and the look)
		wait_for 10 disk_filled "$spool"
	else
		# not on s6-supervise: it writes its status file and would die of it
		prlimit --pid "$(svc_pid db-sink)" --fsize=0:unlimited
	fi
	before=$(sent_orders)
	# db-sink reports it: a health line with the error, and its diagnostics
	wait_for 30 spool_full_reported
	echo "# $(cat "$BATS_TEST_TMPDIR/err")" >&3
	grep -Eq 'db-sink.spool: write: (No space left on device|File too large)$' "$BATS_TEST_TMPDIR/err"
	grep -Eq 'db-sink: .*db-sink.spool: write: (No space left on device|File too large)' "$RUN/log/db-sink/diag/current"
	# trading goes on: db-sink is not on the trading path
	wait_for 120 more_sent_than "$before"
	n1=$(db 'select count(*) from ticks')
	# room again (rlimit: the db-sink that s6 started again has no limit)
	[ $how = rlimit ] || rm "$spool"/filler*
	# shellcheck disable=SC2016 # eval'd at each try
	wait_for 30 eval '[ "$(db "select count(*) from ticks")" -gt "$n1" ]'
	until_sim "$T1501"
	wind_down
	invariants
	# every line of the trading path's logs is stored: each tick, each order's last state
	wait_for 30 ticks_stored
	grep '"type":"order"' "$RUN/log/order-send/data/current" | jq -r .client_order_id | sort -u >"$BATS_TEST_TMPDIR/log-cids"
	db 'select client_order_id from orders order by 1' | sort >"$BATS_TEST_TMPDIR/db-cids"
	diff "$BATS_TEST_TMPDIR/log-cids" "$BATS_TEST_TMPDIR/db-cids"
	# the spool drained (a restart after the full disk dropped only a cut line)
	[ ! -s "$spool/db-sink.spool" ] || [ "$(wc -c <"$spool/db-sink.spool")" -lt 65536 ]
	echo "# db-sink restarts: $(recio status --json | jq -r 'select(.service=="db-sink") | .restarts')" >&3
	clean_logs
}

teardown() {
	[ -z "${RECIO_CONF:-}" ] || recio down >/dev/null 2>&1 || true
	[ -z "${MOUNTED:-}" ] || umount "$MOUNTED" 2>/dev/null || true
}
