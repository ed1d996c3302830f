#!/usr/bin/env bats
# Signals to the services (issue 9): order-send killed (SIGKILL) while an
# order is in flight, acct-sync killed, and every service stopped with
# SIGSTOP in turn and continued.  A stopped service is reported by
# `recio status --json` and /health (503, that service "stopped") and
# recovers with the same pid; nothing is sent twice or lost, P&L to the
# centi-cent.  (t/recio.bats's chaos test covers random SIGKILLs.)

load helper
load fault

status_of() {
	recio status --json | jq -c --arg s "$1" 'select(.service == $s)'
}

# SERVICE PID: recio status says it is up with that pid and stopped, and
# (but for health-serve itself) /health says it is stopped and answers 503
reported_stopped() {
	[ "$(status_of "$1" | jq -r '[.up, .stopped, .pid] | @tsv')" = "true	true	$2" ] || return 1
	[ "$1" = health-serve ] && return 0
	hs /health
	[ "$hs_code" = 503 ] && jq -e --arg s "$1" '.status == "unhealthy" and
		([.services[] | select(.stopped) | .name] == [$s])' <<<"$hs_body" >/dev/null
}

# SERVICE: /health says it is not stopped (health-serve: it answers again)
reported_running() {
	hs /health
	jq -e --arg s "$1" '.services[] | select(.name == $s) | .up and (.stopped | not)' <<<"$hs_body" >/dev/null
}

# the last line of order-send's data log is a "sent": an order in flight
in_flight() {
	case $(tail -n 1 "$RUN/log/order-send/data/current" 2>/dev/null) in
	*'"type":"order"'*'"status":"sent"'*) return 0 ;;
	esac
	return 1
}

new_pid() {
	local p
	p=$(svc_pid "$1")
	[ "$p" -gt 0 ] && [ "$p" != "$2" ] && [ "$(status_of "$1" | jq .ready)" = true ]
}

has_outcome() {
	grep '"type":"order"' "$RUN/log/order-send/data/current" | grep "\"client_order_id\":\"$1\"" |
		grep -Eq '"status":"(accepted|partial|filled|canceled|rejected)"'
}

@test "SIGKILL of order-send with an order in flight and of acct-sync, SIGSTOP/SIGCONT of every service: reported stopped while stopped, same pid after; no order twice, nothing lost, P&L to the centi-cent" {
	# a third of the replies held 400 ms: an order is in flight long enough to be killed in
	SIM_FLAGS="--faults slow=0.3:400" fconf
	# no spike pause: the kill below loses the hour's signals order-send had
	# read (none is sent), and this seed's momentum then pauses entries from
	# 14:47 to 19:44 simulated (300 s here) before the next fill; without the
	# pause, the next hour trades
	echo spike_threshold=10000 >>"$STATE/settings.conf"
	recio up
	# order-send killed between its send and the exchange's answer
	pid=$(svc_pid order-send)
	wait_for 120 in_flight
	kill -KILL "$pid"
	cid=$(tail -n 1 "$RUN/log/order-send/data/current" | jq -r .client_order_id)
	echo "# order-send killed with $cid in flight" >&3
	wait_for 30 new_pid order-send "$pid"
	# the new order-send finds it at the exchange (its journal says sent):
	# an outcome, never a second order
	wait_for 30 has_outcome "$cid"
	[ "$(curl -sS "$SIM_URL/sim/orders" | jq --arg c "$cid" '[.orders[] | select(.client_order_id == $c)] | length')" -le 1 ]
	# acct-sync killed: the next one reads the account again; fills once (below)
	pid=$(svc_pid acct-sync)
	kill -KILL "$pid"
	wait_for 30 new_pid acct-sync "$pid"
	# a slow machine (ASan) may have placed its hour's orders with the
	# killing above and none filled: trading goes on into the next hour
	# until one has, so that the invariants have something to keep
	wait_for 240 has_fill
	# each service stopped, then continued
	for s in order-send signal-eval btc-tick kalshi-fetch acct-sync db-sink health-serve kalshi-sim; do
		# past the close: no new entries (the next hour would have to settle too)
		sim_at "$T1501" && recio kill-switch on >/dev/null
		pid=$(svc_pid $s)
		kill -STOP "$pid"
		wait_for 20 reported_stopped $s "$pid" || { kill -CONT "$pid"; false; }
		kill -CONT "$pid"
		wait_for 20 reported_running $s
		# the same process, continued, not restarted
		[ "$(status_of $s | jq -r '[.up, .stopped, .pid] | @tsv')" = "true	false	$pid" ]
	done
	until_sim "$T1501"
	wind_down
	invariants
	# db-sink refused no line: every data log reached it in whole lines (tail -F,
	# which merged them before log-follow, cut lines; a fresh-root run of this
	# test found an order stored as sent whose filled line was in its log)
	[ ! -e "$STATE/db-sink.rejects" ] || { head -c 2000 "$STATE/db-sink.rejects"; false; }
	# every service up, not stopped, and /health agrees
	[ "$(recio status --json | jq -s '[.[] | select(.service and .service != "total" and .up and (.stopped | not))] | length')" -eq 8 ]
	hs /health
	jq -e 'all(.services[]; .up and (.stopped | not))' <<<"$hs_body"
	clean_logs
}
