/* test_kx.c: Kalshi object decoders and the V2 side conversion. */
#include <string.h>

#include "t.h"
#include "kx.h"

static const char market[] =
    "{\"ticker\":\"KXBTCD-26NOV2510-T114749.99\",\"event_ticker\":\"KXBTCD-26NOV2510\","
    "\"status\":\"active\",\"result\":\"\",\"strike_type\":\"greater\",\"floor_strike\":114749.99,"
    "\"open_time\":\"2026-11-25T14:00:00Z\",\"close_time\":\"2026-11-25T15:00:00Z\","
    "\"updated_time\":\"2026-11-25T14:31:07.250Z\",\"yes_bid_dollars\":\"0.5500\","
    "\"yes_ask_dollars\":\"0.5800\",\"no_bid_dollars\":\"0.4200\",\"no_ask_dollars\":\"0.4500\","
    "\"last_price_dollars\":\"0.56\",\"yes_bid_size_fp\":\"120.00\",\"yes_ask_size_fp\":\"7.50\","
    "\"volume_fp\":\"1234.00\",\"open_interest_fp\":\"600.00\",\"extra\":{\"a\":[1,2]}}";

static int
decode_market_text(const char *s, struct kx_market *m, char *err)
{
	struct json j = { 0 };
	int rc = -1;

	if (json_parse(&j, s, strlen(s)) == 0)
		rc = kx_market_decode(&j, 0, m, err, KX_ERR_MAX);
	else
		snprintf(err, KX_ERR_MAX, "parse");
	json_free(&j);
	return rc;
}

/* market with one field's text replaced */
static int
mutated(const char *from, const char *to, char *err)
{
	char buf[2048];
	const char *p = strstr(market, from);
	struct kx_market m;

	if (p == NULL)
		return 99;
	snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - market), market, to, p + strlen(from));
	return decode_market_text(buf, &m, err);
}

int
main(void)
{
	struct kx_market m = { 0 };     /* CHECK goes on after a failed decode */
	char err[KX_ERR_MAX];
	const char *side;
	int64_t yp;

	CHECK(decode_market_text(market, &m, err) == 0, "market decodes: %s", err);
	CHECK(strcmp(m.ticker, "KXBTCD-26NOV2510-T114749.99") == 0, "ticker %s", m.ticker);
	CHECK(m.floor_strike_c == 11474999, "floor_strike %lld", (long long)m.floor_strike_c);
	CHECK(m.yes_bid == 5500 && m.yes_ask == 5800 && m.no_bid == 4200 && m.no_ask == 4500,
	    "prices %lld %lld", (long long)m.yes_bid, (long long)m.yes_ask);
	CHECK(m.last == 5600, "last %lld", (long long)m.last);
	CHECK(m.yes_ask_size == 750 && m.volume == 123400 && m.oi == 60000, "counts");
	CHECK(m.close_ms == 1795618800000LL, "close %lld", (long long)m.close_ms);
	CHECK(m.updated_ms == 1795617067250LL, "updated %lld", (long long)m.updated_ms);

	/* drift: a removed or re-typed field is an error that names it */
	CHECK(mutated("\"yes_ask_dollars\":\"0.5800\",", "", err) == -1 &&
	    strcmp(err, "market.yes_ask_dollars: missing") == 0, "missing field: %s", err);
	CHECK(mutated("\"yes_ask_dollars\":\"0.5800\"", "\"yes_ask_dollars\":58", err) == -1 &&
	    strstr(err, "yes_ask_dollars") != NULL, "integer instead of dollar string: %s", err);
	CHECK(mutated("\"volume_fp\":\"1234.00\"", "\"volume\":1234", err) == -1 &&
	    strcmp(err, "market.volume_fp: missing") == 0, "legacy volume only: %s", err);
	CHECK(mutated("\"close_time\":\"2026-11-25T15:00:00Z\"", "\"close_time\":\"soon\"", err) == -1 &&
	    strstr(err, "close_time") != NULL, "bad time: %s", err);
	CHECK(mutated("\"yes_bid_dollars\":\"0.5500\"", "\"yes_bid_dollars\":\"0.55001\"", err) == -1,
	    "sub-centi-cent price refused");
	CHECK(mutated("\"floor_strike\":114749.99", "\"floor_strike\":114749.995", err) == -1 &&
	    strstr(err, "floor_strike") != NULL, "strike with 3 decimals refused: %s", err);

	/* a fill: created_time or the legacy ts */
	{
		const char *s = "{\"fill_id\":\"f1\",\"trade_id\":\"t1\",\"order_id\":\"o1\",\"ticker\":\"X\","
		    "\"outcome_side\":\"no\",\"book_side\":\"ask\",\"count_fp\":\"3.00\",\"yes_price_dollars\":\"0.4000\","
		    "\"no_price_dollars\":\"0.6000\",\"is_taker\":true,\"fee_cost\":\"0.0600\",\"ts\":1795617000}";
		struct json j = { 0 };
		struct kx_fill f;

		CHECK(json_parse(&j, s, strlen(s)) == 0, "fill parses");
		CHECK(kx_fill_decode(&j, 0, &f, err, sizeof err) == 0, "fill decodes: %s", err);
		CHECK(f.count == 300 && f.yes_price == 4000 && f.fee == 600 && f.is_taker, "fill fields");
		CHECK(f.ts_ms == 1795617000000LL, "fill ts %lld", (long long)f.ts_ms);
		json_free(&j);
	}
	/* a settlement keeps revenue in cents */
	{
		const char *s = "{\"ticker\":\"X\",\"event_ticker\":\"E\",\"market_result\":\"yes\",\"yes_count_fp\":\"2.00\","
		    "\"no_count_fp\":\"0.00\",\"yes_total_cost_dollars\":\"1.9000\",\"no_total_cost_dollars\":\"0.0000\","
		    "\"revenue\":200,\"settled_time\":\"2026-11-25T15:00:30Z\",\"fee_cost\":\"0.0000\",\"value\":100}";
		struct json j = { 0 };
		struct kx_settlement st;

		CHECK(json_parse(&j, s, strlen(s)) == 0, "settlement parses");
		CHECK(kx_settlement_decode(&j, 0, &st, err, sizeof err) == 0, "settlement decodes: %s", err);
		CHECK(st.revenue_cents == 200 && st.yes_cost == 19000 && st.value_cents == 100, "settlement fields");
		json_free(&j);
	}
	/* error bodies */
	{
		const char *s = "{\"error\":{\"code\":\"deprecated_v1_order_endpoint\",\"message\":\"gone\"}}";
		struct json j = { 0 };
		char code[64], msg[64];

		CHECK(json_parse(&j, s, strlen(s)) == 0 && kx_error_decode(&j, code, sizeof code, msg, sizeof msg) == 0 &&
		    strcmp(code, "deprecated_v1_order_endpoint") == 0 && strcmp(msg, "gone") == 0, "error body");
		json_free(&j);
		/* Kalshi's order errors: the reason in "details"; a body it cannot
		 * parse: code and message at the top level */
		s = "{\"error\":{\"code\":\"invalid_order\",\"message\":\"invalid order\",\"details\":\"post only cross\"}}";
		CHECK(json_parse(&j, s, strlen(s)) == 0 && kx_error_decode(&j, code, sizeof code, msg, sizeof msg) == 0 &&
		    strcmp(code, "invalid_order") == 0 && strcmp(msg, "invalid order: post only cross") == 0, "details: %s", msg);
		s = "{\"code\":\"bad_request\",\"message\":\"could not parse the body\"}";
		CHECK(json_parse(&j, s, strlen(s)) == 0 && kx_error_decode(&j, code, sizeof code, msg, sizeof msg) == 0 &&
		    strcmp(code, "bad_request") == 0 && strcmp(msg, "could not parse the body") == 0, "top level: %s", code);
		s = "{\"message\":\"no code\"}";
		CHECK(json_parse(&j, s, strlen(s)) == 0 && kx_error_decode(&j, code, sizeof code, msg, sizeof msg) == -1 &&
		    code[0] == '\0', "no code: not an error body");
		json_free(&j);
	}

	/* the YES-book table, each row */
	CHECK(kx_v2_side(true, true, 56, &side, &yp) == 0 && strcmp(side, "bid") == 0 && yp == 56, "buy YES 56 = bid 56");
	CHECK(kx_v2_side(false, true, 56, &side, &yp) == 0 && strcmp(side, "ask") == 0 && yp == 56, "sell YES 56 = ask 56");
	CHECK(kx_v2_side(true, false, 30, &side, &yp) == 0 && strcmp(side, "ask") == 0 && yp == 70, "buy NO 30 = ask 70");
	CHECK(kx_v2_side(false, false, 30, &side, &yp) == 0 && strcmp(side, "bid") == 0 && yp == 70, "sell NO 30 = bid 70");
	CHECK(kx_v2_side(true, true, 0, &side, &yp) == -1 && kx_v2_side(true, false, 100, &side, &yp) == -1,
	    "prices outside 1..99 refused");
	return T_DONE();
}
