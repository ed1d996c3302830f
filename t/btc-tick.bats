#!/usr/bin/env bats
# btc-tick: replay determinism, tick fields, REST polling of the simulator,
# stall detection and recovery, bad input.

load helper

# srv_start MODE: a small feed on loopback for what the simulator does not
# do (python3), its port in FEED_PORT, one line per connection accepted in
# $SRV_LOG.  REST modes (a Coinbase-style ticker, time = now unless said):
#   future    the third answer is dated a day ahead, at 100050
#   badnum    bid "inf", ask "1e30"; the third price "1e19", the fourth "0.001"
#   stepback  dated 300 s ahead for 1.5 s, then now (a source restarted with
#             an earlier clock)
# WebSocket modes: hang (accepts, never answers the upgrade), closeimm
# (answers, then closes with 1011 at once), big (one ticker, then a 2 MiB
# message).
srv_start() {
	command -v python3 >/dev/null || { echo "no python3 (make deps installs it)" >&2; return 1; }
	SRV_LOG="$BATS_TEST_TMPDIR/srv.log"
	cat >"$BATS_TEST_TMPDIR/srv.py" <<'EOT'
import base64, datetime, hashlib, json, socket, struct, sys, threading, time
port_file, mode = sys.argv[1], sys.argv[2]
start, n, lock = time.time(), 0, threading.Lock()
def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'
def head(c):
    b = b''
    while b'\r\n\r\n' not in b:
        d = c.recv(4096)
        if not d:
            return None
        b += d
    return b
def frame(op, payload):
    k = len(payload)
    h = struct.pack('!BB', 0x80 | op, k) if k < 126 else struct.pack('!BBH', 0x80 | op, 126, k) if k < 65536 \
        else struct.pack('!BBQ', 0x80 | op, 127, k)
    return h + payload
def rest(c):
    global n
    while head(c) is not None:
        with lock:
            n += 1
            k = n
        now = time.time()
        t, price, bid, ask = now, '%.2f' % (100000 + k), '99999.99', '100100.01'
        if mode == 'future' and k == 3:
            t, price = now + 86400, '100050.00'
        if mode == 'badnum':
            bid, ask = 'inf', '1e30'
            price = {3: '1e19', 4: '0.001'}.get(k, price)
        if mode == 'stepback' and now - start < 1.5:
            t = now + 300
        body = json.dumps({'price': price, 'bid': bid, 'ask': ask, 'time': iso(t)}).encode()
        c.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
def ws(c):
    r = head(c)
    if r is None:
        return
    key = [l.split(b':', 1)[1].strip() for l in r.split(b'\r\n') if l.lower().startswith(b'sec-websocket-key')][0]
    acc = base64.b64encode(hashlib.sha1(key + b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest())
    c.sendall(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
              b'Sec-WebSocket-Accept: ' + acc + b'\r\n\r\n')
    if mode == 'closeimm':
        c.sendall(frame(8, struct.pack('!H', 1011) + b'try later'))
        time.sleep(0.2)
        return
    c.sendall(frame(1, json.dumps({'type': 'ticker', 'price': '100000.00', 'time': iso(time.time())}).encode()))
    c.sendall(frame(1, b'{"type":"x","p":"' + b'y' * (2 << 20) + b'"}'))
    while c.recv(4096):
        pass
def serve(c):
    with open(sys.argv[3], 'a') as f:
        print('accepted', file=f)
    try:
        if mode == 'hang':
            time.sleep(3600)
        elif mode in ('closeimm', 'big'):
            ws(c)
        else:
            rest(c)
    except OSError:
        pass
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0))
s.listen(64)
with open(port_file + '.tmp', 'w') as f:
    print(s.getsockname()[1], file=f)
import os
os.rename(port_file + '.tmp', port_file)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOT
	: >"$SRV_LOG"
	python3 "$BATS_TEST_TMPDIR/srv.py" "$BATS_TEST_TMPDIR/srv.port" "$1" "$SRV_LOG" &
	SRV_PID=$!
	wait_for 10 test -s "$BATS_TEST_TMPDIR/srv.port"
	FEED_PORT=$(cat "$BATS_TEST_TMPDIR/srv.port")
}

teardown() {
	[ -z "${BT_PID:-}" ] || kill "$BT_PID" 2>/dev/null || true
	[ -z "${SRV_PID:-}" ] || kill "$SRV_PID" 2>/dev/null || true
	sim_stop
}

ticks() {          # ticks FILE: its tick lines
	grep -c '"type":"tick"' "$1" || true
}

at_least() {       # at_least N CMD...: CMD's number is N or more
	local n=$1
	shift
	[ "$("$@")" -ge "$n" ]
}

accepted() {
	wc -l <"$SRV_LOG"
}

# a day of one-second prices, a seeded random walk
day() {
	awk 'BEGIN { srand(11); p = 100000; t = 1795564800
		for (i = 0; i < 86400; i++) { p *= 1 + (rand() - 0.5) * 0.0004; printf "%d,%.2f\n", t + i, p } }'
}

@test "usage: -h exits 0, misuse exits 2" {
	run btc-tick -h
	[ "$status" -eq 0 ]
	run btc-tick --speed 2
	[ "$status" -eq 2 ]
	run btc-tick -d -5
	[ "$status" -eq 2 ]
}

@test "replay of a day of one-second prices is identical twice" {
	day >"$BATS_TEST_TMPDIR/day.csv"
	btc-tick -r "$BATS_TEST_TMPDIR/day.csv" >"$BATS_TEST_TMPDIR/a"
	btc-tick -r "$BATS_TEST_TMPDIR/day.csv" >"$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/a")" -eq 86400 ]
	last=$(tail -n 1 "$BATS_TEST_TMPDIR/a")
	[ "$(jq -r '[.type,.src]|join(" ")' <<<"$last")" = "tick replay" ]
	[ "$(jq '[has("d1m","d2m","d3m","d4m","d15m","d30m","mom_bp","avg1m","vol30s","vol5m","vol60m")]|all' <<<"$last")" = true ]
	[ "$(jq .ts <<<"$last")" -eq $(( (1795564800 + 86399) * 1000 )) ]
	# the first tick has no history: no deltas, no momentum
	[ "$(head -n 1 "$BATS_TEST_TMPDIR/a" | jq 'has("d1m") or has("mom_bp")')" = false ]
	# deltas appear exactly when their history exists
	[ "$(sed -n 60p "$BATS_TEST_TMPDIR/a" | jq 'has("d1m")')" = false ]
	[ "$(sed -n 61p "$BATS_TEST_TMPDIR/a" | jq 'has("d1m")')" = true ]
	# mom_bp is the weighted momentum in basis points
	jq -e 'select(.d30m) | (.mom_bp - ((.d1m*.30+.d2m*.25+.d3m*.20+.d4m*.15+.d15m*.05+.d30m*.05)*100 | round)) | fabs <= 1' \
		"$BATS_TEST_TMPDIR/a" >/dev/null
}

@test "replay of tick lines and candles; tick lines can be re-fed" {
	printf 'timestamp,open,high,low,close,volume\n1795564800,1,1,1,100000.00,5\n1795564860,1,1,1,100100.00,5\n' >"$BATS_TEST_TMPDIR/c.csv"
	run btc-tick -r "$BATS_TEST_TMPDIR/c.csv"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	# a candle's close is the price at the end of its minute
	[ "$(jq .ts <<<"${lines[0]}")" -eq 1795564860000 ]
	[ "$(jq .d1m <<<"${lines[1]}")" = 0.1 ]
	btc-tick -r "$BATS_TEST_TMPDIR/c.csv" | btc-tick -r - >"$BATS_TEST_TMPDIR/again"
	[ "$(jq -c '[.ts,.price,.d1m]' "$BATS_TEST_TMPDIR/again" | tail -n 1)" = '[1795564920000,100100,0.1]' ]
}

@test "bad lines are reported with their line number and skipped" {
	printf '1795564800,100000\nnot a price\n1795564801,abc\n1795564802,100001\n' >"$BATS_TEST_TMPDIR/bad.csv"
	run btc-tick -r "$BATS_TEST_TMPDIR/bad.csv"
	[ "$status" -eq 0 ]
	[[ "$output" == *"bad.csv line 2:"* ]]
	[[ "$output" == *"bad.csv line 3:"* ]]
	[ "$(grep -c '"type":"tick"' <<<"$output")" -eq 2 ]
}

@test "dedupe: at most one tick per second by default, all with -d 0; the last price is never held back" {
	awk 'BEGIN { for (i = 0; i < 20; i++) printf "{\"type\":\"tick\",\"ts\":%.0f,\"price\":%d}\n", 1795564800000 + i * 250, 100000 + i }' >"$BATS_TEST_TMPDIR/q"
	# a tick at 0, 1, 2, 3 and 4 s, and the last price (4.75 s), held
	# back by the window, at the end
	btc-tick -r "$BATS_TEST_TMPDIR/q" >"$BATS_TEST_TMPDIR/out"
	[ "$(jq -c '[.ts - 1795564800000, .price]' "$BATS_TEST_TMPDIR/out" | paste -sd ' ')" = \
		'[0,100000] [1000,100004] [2000,100008] [3000,100012] [4000,100016] [4750,100019]' ]
	[ "$(btc-tick -d 0 -r "$BATS_TEST_TMPDIR/q" | wc -l)" -eq 20 ]
	# a price 0.6 s after the last tick, then nothing: written at the end
	run btc-tick -r - <<<$'1795600000000,100000\n1795600000600,95000'
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq .price <<<"${lines[1]}")" = 95000 ]
}

@test "dedupe, live: a price held back is written when its window closes" {
	srv_start stepback      # (the clock confirmed, then 300 s back: no new price after)
	btc-tick -u "http://127.0.0.1:$FEED_PORT/" -i 0.2 -d 3000 -s 30 -H 100 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	BT_PID=$!
	# the first price taken is written, the ones within 3 s after it held
	# back; the feed then goes quiet (its time steps back): the last one
	# held back is written when the 3 s are over
	wait_for 15 at_least 2 ticks "$BATS_TEST_TMPDIR/out"
	kill -TERM $BT_PID
	wait $BT_PID
	BT_PID=
	jq -s -e 'map(select(.type == "tick")) | length == 2 and .[1].ts - .[0].ts < 3000 and .[1].price > .[0].price' \
		"$BATS_TEST_TMPDIR/out"
}

@test "replay: a line not after the price before it is reported with its line number, and counted" {
	# candles newest first (as Coinbase's candles endpoint gives them)
	{ echo timestamp,open,high,low,close,volume
	  for i in 4 3 2 1 0; do echo "$((1795600000 + i * 60)),1,1,1,$((100000 + i)),5"; done; } >"$BATS_TEST_TMPDIR/c.csv"
	run btc-tick -r "$BATS_TEST_TMPDIR/c.csv"
	[ "$status" -eq 0 ]
	[ "$(grep -c '"type":"tick"' <<<"$output")" -eq 1 ]
	for n in 3 4 5 6; do [[ "$output" == *"c.csv line $n: time "*" is not after the last price's"* ]]; done
	[[ "$output" == *"c.csv: 4 lines not after the price before them skipped (the first: line 3)"* ]]
	# a repeat and a step back, in a warm-up file too
	printf '1795600000000,100\n1795600000000,200\n1795599999000,300\n1795600001000,101\n' >"$BATS_TEST_TMPDIR/w.csv"
	run btc-tick -w "$BATS_TEST_TMPDIR/w.csv" -r - </dev/null
	[[ "$output" == *"w.csv line 2:"* && "$output" == *"w.csv line 3:"* ]]
	[[ "$output" == *"w.csv: 2 lines not after"* ]]
}

@test "replay: a time outside 1970..2100 is malformed (one mistyped time does not end the replay)" {
	{ for i in $(seq 0 4); do echo "$((1795600000 + i)),100000"; done
	  echo "17956000050,100000"     # one digit too many: the year 2539
	  for i in $(seq 6 99); do echo "$((1795600000 + i)),100000"; done
	  echo "9223372036854775807,1,1,1,100000,1"; } >"$BATS_TEST_TMPDIR/a.csv"
	run btc-tick -r "$BATS_TEST_TMPDIR/a.csv"
	[ "$status" -eq 0 ]
	[ "$(grep -c '"type":"tick"' <<<"$output")" -eq 99 ]
	[[ "$output" == *"a.csv line 6: the time is not from 1970 to 2100, skipped"* ]]
	[[ "$output" == *"a.csv line 101: the time is not from 1970 to 2100, skipped"* ]]
	[ "$(grep '"type":"tick"' <<<"$output" | tail -n 1 | jq .ts)" -eq 1795600099000 ]
}

@test "implausible prices are malformed input: reported and skipped; no null, momentum bounded" {
	printf '%s\n' 1795600000,100000 1795600001,1e-300 1795600002,1e300 1795600003,0.001 1795600004,1e19 \
		1795600005,inf 1795600006,nan 1795600007,100001 >"$BATS_TEST_TMPDIR/p.csv"
	run btc-tick -d 0 -r "$BATS_TEST_TMPDIR/p.csv"
	for n in 2 3 4 5 6 7; do [[ "$output" == *"p.csv line $n: the price is not from 0.01 to 1e8, skipped"* ]]; done
	[ "$(grep -c '"type":"tick"' <<<"$output")" -eq 2 ]
	# tick lines: a bad price skipped, a bad quote left out
	printf '%s\n' '{"type":"tick","ts":1795600000000,"price":100000,"bid":1e30,"ask":100000.5}' \
		'{"type":"tick","ts":1795600001000,"price":1e19}' >"$BATS_TEST_TMPDIR/t.ndjson"
	run btc-tick -r "$BATS_TEST_TMPDIR/t.ndjson"
	[[ "$output" == *"t.ndjson line 1: bid not a price from 0.01 to 1e8, left out"* ]]
	[[ "$output" == *"t.ndjson line 2: price 1e+19 is not a price from 0.01 to 1e8, skipped"* ]]
	[ "$(grep '"type":"tick"' <<<"$output" | jq -c '[has("bid"), .ask]')" = '[false,100000.5]' ]
	# the widest move there can be: mom_bp clamped, every number a number
	run btc-tick -r - <<<$'1795600000,0.01\n1795600060,100000000'
	[ "$(tail -n 1 <<<"$output" | jq -c '[.mom_bp, ([.[] | select(. == null)] | length)]')" = '[100000,0]' ]
}

@test "REST: bid and ask checked as the price is; a bad price reported and skipped" {
	srv_start badnum
	btc-tick -u "http://127.0.0.1:$FEED_PORT/" -i 0.2 -d 0 -H 100 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	BT_PID=$!
	wait_for 15 at_least 4 ticks "$BATS_TEST_TMPDIR/out"
	kill -TERM $BT_PID
	wait $BT_PID
	BT_PID=
	# answers 3 (1e19) and 4 (0.001) are not ticks; no bid, no ask, no null
	jq -s -e 'map(select(.type == "tick")) | (map(.price) | .[0:3] == [100001, 100002, 100005]) and
		all(has("bid") or has("ask") | not) and all(.[]; . != null)' "$BATS_TEST_TMPDIR/out"
	grep -q 'price: missing or not a decimal string from 0.01 to 1e8' "$BATS_TEST_TMPDIR/err"
	grep -q 'bid: not a decimal string from 0.01 to 1e8, left out' "$BATS_TEST_TMPDIR/err"
}

@test "REST: a price dated a day ahead is refused, and the prices after it are taken" {
	srv_start future
	btc-tick -u "http://127.0.0.1:$FEED_PORT/" -i 0.2 -d 0 -s 30 -H 100 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	BT_PID=$!
	wait_for 15 at_least 6 ticks "$BATS_TEST_TMPDIR/out"
	kill -TERM $BT_PID
	wait $BT_PID
	BT_PID=
	now=$(date +%s)
	jq -s -e --argjson now "$now" 'map(select(.type == "tick")) | all(.ts < ($now + 3600) * 1000) and
		all(.price != 100050) and (map(.price) | .[0:3] == [100001, 100002, 100004])' "$BATS_TEST_TMPDIR/out"
	grep -q 's ahead of the local clock, skipped' "$BATS_TEST_TMPDIR/err"
}

@test "REST: a source whose clock steps back is followed after the stall, momentum starting again" {
	srv_start stepback
	btc-tick -u "http://127.0.0.1:$FEED_PORT/" -i 0.2 -d 0 -s 1 -H 100 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	BT_PID=$!
	# a clock 300 s ahead of ours, confirmed by the next price, is followed
	wait_for 15 grep -q "the source's clock runs" "$BATS_TEST_TMPDIR/err"
	# then it steps back: a stall, then the earlier time is taken
	wait_for 15 grep -q 'after the stall the source.s time steps back 29[0-9] s' "$BATS_TEST_TMPDIR/err"
	first=$(grep -m 1 '"type":"tick"' "$BATS_TEST_TMPDIR/out" | jq .ts)
	back() { jq -s --argjson f "$first" '[.[] | select(.type == "tick" and .ts < $f - 200000)] | length' "$BATS_TEST_TMPDIR/out"; }
	wait_for 15 at_least 3 back
	kill -TERM $BT_PID
	wait $BT_PID
	BT_PID=
	# momentum starts again: the first tick after the step has no history
	jq -s -e --argjson f "$first" '[.[] | select(.type == "tick" and .ts < $f - 200000)][0] |
		(has("vol30s") or has("d1m")) | not' "$BATS_TEST_TMPDIR/out"
	grep -q '"status":"stalled"' "$BATS_TEST_TMPDIR/out"
}

@test "a gap over a minute is not filled: no delta starts in it; a warm-up hours old is said" {
	awk 'BEGIN { for (i = 0; i < 1800; i++) printf "%d,100000\n", 1795600000 + i }' >"$BATS_TEST_TMPDIR/warm.csv"
	# 20 minutes after the warm-up: only d30m reaches back before the gap
	run btc-tick -w "$BATS_TEST_TMPDIR/warm.csv" -r - <<<"$((1795600000 + 1800 + 1200)),102000"
	[ "$(grep '"type":"tick"' <<<"$output" | jq -c '[has("d1m","d2m","d3m","d4m","d15m","vol30s"), .d30m, .mom_bp, .avg1m]')" = \
		'[false,false,false,false,false,false,2,200,102000]' ]
	[[ "$output" == *"warm.csv: the warm-up ends 1201 s before the first price"* ]]
	# three hours after it: nothing of it is left
	run btc-tick -w "$BATS_TEST_TMPDIR/warm.csv" -r - <<<"$((1795600000 + 1800 + 10800)),102000"
	[ "$(grep '"type":"tick"' <<<"$output" | jq -c 'del(.ts)')" = '{"type":"tick","src":"replay","price":102000,"avg1m":102000}' ]
	[[ "$output" == *"warm.csv: the warm-up ends 10801 s before the first price"* ]]
}


@test "--warmup gives momentum at once" {
	day | head -n 1900 >"$BATS_TEST_TMPDIR/warm.csv"
	day | sed -n 1901,1905p >"$BATS_TEST_TMPDIR/live.csv"
	run btc-tick -w "$BATS_TEST_TMPDIR/warm.csv" -r "$BATS_TEST_TMPDIR/live.csv"
	[ "${#lines[@]}" -eq 5 ]
	[ "$(jq 'has("d30m") and has("mom_bp")' <<<"${lines[0]}")" = true ]
}

@test "polls the simulator's ticker; a stall is reported and recovered from" {
	sim_start
	out="$BATS_TEST_TMPDIR/ticks"
	btc-tick -u "$SIM_URL/products/BTC-USD/ticker" -i 0.2 -s 1 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for i in $(seq 1 50); do grep -q '"type":"tick"' "$out" && break; sleep 0.1; done
	kill -STOP "$SIM_PID"
	for i in $(seq 1 60); do grep -q '"status":"stalled"' "$out" && break; sleep 0.1; done
	kill -CONT "$SIM_PID"
	n=$(wc -l <"$out")
	for i in $(seq 1 60); do [ "$(tail -n +"$n" "$out" | grep -c '"type":"tick"')" -gt 0 ] && break; sleep 0.1; done
	kill -TERM $pid; wait $pid
	grep -q '"status":"stalled"' "$out"
	[ "$(tail -n +"$n" "$out" | grep -c '"type":"tick"')" -gt 0 ]
	grep -q 'stalled: no new price' "$BATS_TEST_TMPDIR/err"
	[ "$(jq -r 'select(.type=="tick") | .src' "$out" | sort -u)" = rest ]
}

@test "WebSocket feeds: Coinbase's ticker channel and Kalshi's cfbenchmarks_value" {
	sim_start --speed 5
	timeout 3 btc-tick -W "ws://127.0.0.1:$SIM_PORT/ws-feed" -d 0 >"$BATS_TEST_TMPDIR/cb" || [ $? -eq 124 ]
	[ "$(jq -r 'select(.type=="tick") | .src' "$BATS_TEST_TMPDIR/cb" | sort -u)" = ws ]
	[ "$(grep -c '"type":"tick"' "$BATS_TEST_TMPDIR/cb")" -ge 5 ]
	jq -e 'select(.type=="tick") | .bid < .price and .price < .ask' "$BATS_TEST_TMPDIR/cb" >/dev/null
	KALSHI_KEY_ID=test KALSHI_KEY_FILE="$KEY_FILE" timeout 3 btc-tick -K "ws://127.0.0.1:$SIM_PORT/trade-api/ws/v2" -d 0 \
		>"$BATS_TEST_TMPDIR/cfb" || [ $? -eq 124 ]
	[ "$(jq -r 'select(.type=="tick") | .src' "$BATS_TEST_TMPDIR/cfb" | sort -u)" = cfb ]
	[ "$(grep -c '"type":"tick"' "$BATS_TEST_TMPDIR/cfb")" -ge 5 ]
	run btc-tick -K "ws://127.0.0.1:$SIM_PORT/trade-api/ws/v2"
	[ "$status" -eq 1 ]
	[[ "$output" == *"needs KALSHI_KEY_ID and KALSHI_KEY_FILE"* ]]
}

@test "WebSocket feed: a stalled socket is reported and rebuilt" {
	sim_start --speed 5
	out="$BATS_TEST_TMPDIR/ticks"
	btc-tick -W "ws://127.0.0.1:$SIM_PORT/ws-feed" -s 1 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for i in $(seq 1 50); do grep -q '"type":"tick"' "$out" && break; sleep 0.1; done
	kill -STOP "$SIM_PID"
	for i in $(seq 1 60); do grep -q '"status":"stalled"' "$out" && break; sleep 0.1; done
	kill -CONT "$SIM_PID"
	n=$(wc -l <"$out")
	for i in $(seq 1 80); do [ "$(tail -n +"$n" "$out" | grep -c '"type":"tick"')" -gt 0 ] && break; sleep 0.1; done
	kill -TERM $pid; wait $pid
	grep -q '"status":"stalled"' "$out"
	[ "$(tail -n +"$n" "$out" | grep -c '"type":"tick"')" -gt 0 ]
	[ "$(simstate | jq .counters.ws_opened)" -ge 2 ]
}

@test "WebSocket: an upgrade never answered is given up and tried again, with back-off" {
	srv_start hang
	btc-tick -W "ws://127.0.0.1:$FEED_PORT/ws-feed" -s 1 -H 1 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	BT_PID=$!
	# attempts at 0, 2 and 5 s (a stall period each, then 1 s, 2 s of back-off)
	wait_for 20 at_least 3 accepted
	kill -TERM $BT_PID
	wait $BT_PID
	BT_PID=
	grep -q 'no new price for 1 s (no answer to the upgrade); reconnecting in 1 s' "$BATS_TEST_TMPDIR/err"
	grep -q '(no answer to the upgrade); reconnecting in 2 s' "$BATS_TEST_TMPDIR/err"
	grep -q '"status":"stalled"' "$BATS_TEST_TMPDIR/out"
}

@test "WebSocket: a server that accepts and closes at once: back-off grows, the feed is stalled" {
	srv_start closeimm
	btc-tick -W "ws://127.0.0.1:$FEED_PORT/ws-feed" -s 1 -H 1 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	BT_PID=$!
	wait_for 20 grep -q 'closed by the peer; reconnecting in 4 s' "$BATS_TEST_TMPDIR/err"
	wait_for 10 grep -q '"status":"stalled"' "$BATS_TEST_TMPDIR/out"
	kill -TERM $BT_PID
	wait $BT_PID
	BT_PID=
	[ "$(grep -o 'reconnecting in [0-9]* s' "$BATS_TEST_TMPDIR/err" | head -n 3 | paste -sd ' ')" = \
		'reconnecting in 1 s reconnecting in 2 s reconnecting in 4 s' ]
	[ "$(accepted)" -le 4 ]
}

@test "WebSocket: a socket that opens but carries no price is rebuilt each stall period" {
	sim_start --speed 5
	out="$BATS_TEST_TMPDIR/ticks"
	btc-tick -W "ws://127.0.0.1:$SIM_PORT/ws-feed" -s 1 -H 1 >"$out" 2>"$BATS_TEST_TMPDIR/err" &
	BT_PID=$!
	wait_for 10 grep -q '"type":"tick"' "$out"
	# the feed stands still, the socket stays up: rebuilt after 1 s, and
	# again 1 s after each new one opened (with 1 s, then 2 s of back-off)
	curl -sS -X POST -d '{"stall_ms":60000}' "$SIM_URL/sim/feed" | jq -e .stalled
	opened() { simstate | jq .counters.ws_opened; }
	wait_for 20 at_least 3 opened
	grep -q 'socket: no new price for 1 s; reconnecting in 1 s' "$BATS_TEST_TMPDIR/err"
	curl -sS -X POST -d '{"stall_ms":0}' "$SIM_URL/sim/feed" | jq -e '.stalled == false'
	n=$(wc -l <"$out")
	after() { tail -n +"$n" "$out" | grep -c '"type":"tick"' || true; }
	wait_for 20 at_least 1 after
	kill -TERM $BT_PID
	wait $BT_PID
	BT_PID=
}

@test "WebSocket: a socket we drop says why (a message over 1 MiB)" {
	srv_start big
	btc-tick -W "ws://127.0.0.1:$FEED_PORT/ws-feed" -s 30 -H 100 >/dev/null 2>"$BATS_TEST_TMPDIR/err2" &
	BT_PID=$!
	wait_for 10 grep -q 'reconnecting in' "$BATS_TEST_TMPDIR/err2"
	grep -q 'socket: message longer than 1048576 bytes; reconnecting in 1 s' "$BATS_TEST_TMPDIR/err2"
	run grep -q "socket: ;" "$BATS_TEST_TMPDIR/err2"
	[ "$status" -eq 1 ]
}

@test "SIGTERM while the reader takes no more lines: exit 0 at once" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	exec 7<>"$BATS_TEST_TMPDIR/fifo"        # a reader that never reads
	day >"$BATS_TEST_TMPDIR/day.csv"
	btc-tick -d 0 -r "$BATS_TEST_TMPDIR/day.csv" >"$BATS_TEST_TMPDIR/fifo" 2>"$BATS_TEST_TMPDIR/err" &
	BT_PID=$!
	# (blocked in write: the pipe is full)
	blocked() { grep -q pipe_write "/proc/$BT_PID/wchan"; }
	wait_for 10 blocked
	kill -TERM $BT_PID
	gone() { ! kill -0 "$BT_PID" 2>/dev/null; }
	wait_for 10 gone
	wait $BT_PID
	BT_PID=
	exec 7>&-
	grep -q 'stdout: a tick line not written: stopping, and the reader is not taking lines' "$BATS_TEST_TMPDIR/err"
}
