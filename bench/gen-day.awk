# gen-day.awk: a synthetic day for replay benchmarks: one tick a second and
# the whole 40-strike ladder re-quoted every second (41 lines a second).
#   awk -v n=86400 -f gen-day.awk > day.ndjson
BEGIN {
	if (n == "") n = 86400
	srand(3); p = 100000; t0 = 1795564800
	for (s = 0; s < n; s++) {
		ts = t0 + s
		cl = (int(ts / 3600) + 1) * 3600
		if (s % 3600 == 0 || s == 0) center = int(p / 250 + 0.5) * 250
		p *= 1 + (rand() - 0.5) * 0.0006
		ev = sprintf("KXBTCD-E%d", cl)
		for (k = 0; k < 40; k++) {
			strike = center + (k - 20) * 250 - 0.01
			ya = int(50 + (p - strike) / 40); if (ya < 2) ya = 2; if (ya > 99) ya = 99
			yb = ya - 2
			printf "{\"type\":\"market\",\"ts\":%d000,\"ticker\":\"%s-T%.2f\",\"event_ticker\":\"%s\",\"status\":\"active\",\"strike\":%.2f,\"close_ts\":%d000,\"yes_bid\":%d,\"yes_ask\":%d,\"no_bid\":%d,\"no_ask\":%d,\"yes_bid_size\":100,\"yes_ask_size\":100,\"last\":%d,\"volume\":%d,\"oi\":500}\n", ts, ev, strike, ev, strike, cl, yb, ya, 100 - ya, 100 - yb, ya, 2000 + k
		}
		printf "{\"type\":\"tick\",\"ts\":%d000,\"src\":\"replay\",\"price\":%.2f,\"mom_bp\":%d,\"avg1m\":%.2f,\"vol5m\":0.00006}\n", ts, p, int((rand() - 0.5) * 20), p
	}
}
