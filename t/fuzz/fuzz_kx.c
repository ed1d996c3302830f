/* fuzz_kx: every Kalshi response decoder over any JSON (the exchange's
 * bodies are the input recio trusts least): market, event, order, fill,
 * position, settlement, balance, error, and a page's cursor, at the top
 * level and in every nested object. */
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "kx.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json j;
	char err[KX_ERR_MAX], cursor[256], code[64], msg[256];

	if (json_parse(&j, (const char *)data, size) != 0)
		return 0;
	for (int t = 0; t < j.ntok; t++) {
		struct kx_market m;
		struct kx_event e;
		struct kx_order o;
		struct kx_fill f;
		struct kx_position p;
		struct kx_settlement s;
		struct kx_balance b;

		if (json_type(&j, t) != JSON_OBJECT)
			continue;
		kx_market_decode(&j, t, &m, err, sizeof err);
		kx_event_decode(&j, t, &e, err, sizeof err);
		kx_order_decode(&j, t, &o, err, sizeof err);
		kx_fill_decode(&j, t, &f, err, sizeof err);
		kx_position_decode(&j, t, &p, err, sizeof err);
		kx_settlement_decode(&j, t, &s, err, sizeof err);
		kx_balance_decode(&j, t, &b, err, sizeof err);
	}
	kx_page(&j, "markets", cursor, sizeof cursor, err, sizeof err);
	kx_page(&j, "fills", cursor, sizeof cursor, err, sizeof err);
	kx_error_decode(&j, code, sizeof code, msg, sizeof msg);
	return 0;
}
