# gen-ticks.awk: synthetic btc-tick lines for the ingest benchmark, one a
# second (unique ts), in btc-tick's exact format on stdout, and the same rows
# as CSV in the column order of the ticks table (price in centi-cents) into
# the file named by csv.  Deterministic.
#   awk -v n=1000000 -v csv=ticks.csv -f gen-ticks.awk > ticks.ndjson
BEGIN {
	if (n == "") n = 1000000
	if (csv == "") csv = "/dev/null"
	srand(5); c = 10000000; t0 = 1795564800    # price in cents
	for (i = 0; i < n; i++) {
		c += int((rand() - 0.5) * 40)
		ts = t0 + i
		px = sprintf("%d.%02d", int(c / 100), c % 100)
		bd = sprintf("%d.%02d", int((c - 1) / 100), (c - 1) % 100)
		ak = sprintf("%d.%02d", int((c + 1) / 100), (c + 1) % 100)
		d1 = sprintf("%.6f", (rand() - 0.5) * 0.1)
		d2 = sprintf("%.6f", (rand() - 0.5) * 0.1)
		d3 = sprintf("%.6f", (rand() - 0.5) * 0.1)
		d4 = sprintf("%.6f", (rand() - 0.5) * 0.1)
		d15 = sprintf("%.6f", (rand() - 0.5) * 0.2)
		d30 = sprintf("%.6f", (rand() - 0.5) * 0.2)
		mb = int((rand() - 0.5) * 20)
		av = sprintf("%.2f", c / 100 - (rand() - 0.5) * 20)
		v30 = sprintf("%.10f", 0.00005 + rand() * 0.00002)
		v5 = sprintf("%.10f", 0.00005 + rand() * 0.00002)
		v60 = sprintf("%.10f", 0.00005 + rand() * 0.00002)
		printf "{\"type\":\"tick\",\"ts\":%d000,\"src\":\"rest\",\"price\":%s,\"bid\":%s,\"ask\":%s,\"d1m\":%s,\"d2m\":%s,\"d3m\":%s,\"d4m\":%s,\"d15m\":%s,\"d30m\":%s,\"mom_bp\":%d,\"avg1m\":%s,\"vol30s\":%s,\"vol5m\":%s,\"vol60m\":%s}\n", ts, px, bd, ak, d1, d2, d3, d4, d15, d30, mb, av, v30, v5, v60
		printf "%d000,rest,%d00,%d00,%d00,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s\n", ts, c, c - 1, c + 1, d1, d2, d3, d4, d15, d30, mb, av, v30, v5, v60 > csv
	}
}
