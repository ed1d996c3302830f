/* test_json.c: the validating parser, accessors and the writer. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "f64ref.h"
#include "json.h"
#include "../fuzz/json_ref.h"

/* gen: a random JSON text into b (depth levels at most), made to cross the
 * parser's 64-byte windows anywhere: strings and numbers of 0 to 90
 * bytes, escapes, runs of whitespace */
static unsigned long rnd_state = 12345;

static void gen_string(struct buf *b);

static unsigned
rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(rnd_state >> 33) % n;
}

static void
/* NOLINTNEXTLINE(misc-no-recursion): a test's generator, depth levels at most */
gen(struct buf *b, int depth)
{
	static const char *const esc[] = { "\\n", "\\\"", "\\\\", "\\u00e9", "\\/" };
	unsigned k = depth > 0 ? rnd(7) : 2 + rnd(5), n;

	for (n = rnd(4) == 0 ? rnd(20) : 0; n > 0; n--)
		buf_putc(b, " \t\n\r"[rnd(4)]);
	switch (k) {
	case 0:
	case 1:
		buf_putc(b, k ? '[' : '{');
		for (n = rnd(6); n > 0; n--) {
			if (k == 0) {
				gen_string(b);
				buf_putc(b, ':');
			}
			gen(b, depth - 1);
			if (n > 1)
				buf_putc(b, ',');
		}
		buf_putc(b, k ? ']' : '}');
		break;
	case 2:
	case 3:
		gen_string(b);
		break;
	case 4:
		if (rnd(2))
			buf_putc(b, '-');
		buf_putc(b, (char)('1' + rnd(9)));
		for (n = rnd(40); n > 0; n--)
			buf_putc(b, (char)('0' + rnd(10)));
		if (rnd(2)) {
			buf_putc(b, '.');
			for (n = 1 + rnd(30); n > 0; n--)
				buf_putc(b, (char)('0' + rnd(10)));
		}
		if (rnd(3) == 0)
			buf_printf(b, "e%s%u", rnd(2) ? "-" : "+", rnd(300));
		break;
	case 5:
		buf_puts(b, rnd(2) ? "true" : "null");
		break;
	default:
		buf_puts(b, esc[rnd(5)] + 1);   /* a stray escape: invalid */
		break;
	}
}

static void
gen_string(struct buf *b)
{
	static const char *const esc[] = { "\\n", "\\\"", "\\\\", "\\u00e9", "\\/" };

	buf_putc(b, '"');
	for (unsigned n = rnd(90); n > 0; n--)
		if (rnd(12) == 0)
			buf_puts(b, esc[rnd(5)]);
		else
			buf_putc(b, (char)('a' + rnd(26)));
	buf_putc(b, '"');
}

/* the same tokens, field by field (not memcmp: a token's padding bytes
 * are never written) */
static bool
same_tokens(const struct json *a, const struct json *b)
{
	if (a->ntok != b->ntok)
		return false;
	for (int t = 0; t < a->ntok; t++) {
		const struct json_tok *x = &a->tok[t], *y = &b->tok[t];

		if (x->start != y->start || x->end != y->end || x->size != y->size || x->next != y->next ||
		    x->type != y->type || x->esc != y->esc)
			return false;
	}
	return true;
}

static int
parses(const char *s)
{
	struct json j = { 0 };
	int rc = json_parse(&j, s, strlen(s));

	json_free(&j);
	return rc == 0;
}

int
main(void)
{
	static const char *good[] = {
		"{}", "[]", "{\"a\":1}", " {\"a\" : [1, 2.5, -0.5e-3, true, false, null, \"x\"]} ",
		"{\"a\":{\"b\":{\"c\":[]}}}", "\"str\"", "0", "-0", "1E+2", "{\"e\":\"\\u00e9\\n\\\"\"}",
		"{\"\\ud83d\\ude00\":1}", "[[[[]]]]",
	};
	static const char *bad[] = {
		"", " ", "{", "}", "{\"a\":1", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\":1 \"b\":2}",
		"{a:1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":tru}",
		"{\"a\":nul}", "{\"a\":True}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"tab\there\"}",
		"{\"a\":1}x", "{} {}", "[1]]", "{\"a\"}", "{,}", "[,1]", "{\"a\"::1}", "{1:2}", "[\"a\":1]",
	};
	struct json j = { 0 };
	struct buf b = { 0 };
	char s[64];
	int64_t i;
	double d;
	bool v;
	int t;

	for (size_t k = 0; k < sizeof good / sizeof good[0]; k++)
		CHECK(parses(good[k]), "valid JSON refused: %s", good[k]);
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
		CHECK(!parses(bad[k]), "invalid JSON accepted: %s", bad[k]);

	/* errors say what and where (bytes from 1); a text that stops inside
	 * a value is truncated */
	{
		static const char *const why[][2] = {
			{ "{\"a\":1 \"b\":2}", "expected ',' or '}' at byte 8" },
			{ "[1 2]", "expected ',' or ']' at byte 4" },
			{ "{\"a\":1,}", "trailing ',' at byte 8" },
			{ "[1,]", "trailing ',' at byte 4" },
			{ "{\"a\":}", "expected a value at byte 6" },
			{ "[1, ]", "trailing ',' at byte 5" },
			{ "{a:1}", "expected a string key at byte 2" },
			{ "{\"a\" 1}", "expected ':' at byte 6" },
			{ "{\"a\":01}", "invalid number at byte 7" },
			{ "{\"a\":1.x}", "invalid number at byte 8" },
			{ "{\"a\":12a}", "invalid number at byte 8" },
			{ "{\"a\":tru}", "invalid literal at byte 6" },
			{ "{\"a\":nullx}", "invalid literal at byte 6" },
			{ "{\"a\":\"\\x\"}", "invalid escape at byte 8" },
			{ "{\"a\":\"\\u12g4\"}", "invalid \\u escape at byte 11" },
			{ "{\"a\":\"tab\there\"}", "control byte in a string at byte 10" },
			{ "{\"a\":1}x", "trailing characters after the JSON value at byte 8" },
			{ "not json", "invalid literal at byte 1" },
			{ "{\"a\":[1,2", "truncated JSON" },
			{ "{\"a\":\"abc", "truncated JSON" },
			{ "{\"a\":tr", "truncated JSON" },
			{ "{\"a\":-", "truncated JSON" },
			{ "  ", "no JSON value" },
		};

		for (size_t k = 0; k < sizeof why / sizeof why[0]; k++)
			CHECK(json_parse(&j, why[k][0], strlen(why[k][0])) < 0 && strcmp(j.err, why[k][1]) == 0,
			    "%s: \"%s\", want \"%s\"", why[k][0], j.err, why[k][1]);
	}
	/* json_parse_z (a NUL after the text, as ndjson's lines have): the
	 * verdict, error and tokens of json_parse, for every prefix of texts
	 * that take each path (a prefix ends a text at every place where the
	 * NUL then has to be told from a byte); and json_parse reads nothing
	 * past its text (a '1' or a '}' there changes nothing) */
	{
		static const char *const texts[] = {
			"{\"type\":\"market\",\"ts\":1795564800000,\"strike\":94999.99,\"yes_bid\":97,\"ok\":true,\"n\":null}",
			" { \"a\" : [ 1 , -2.5e+3 , \"x\\\"y\" , false , { } , [ ] ] } ",
			"[-0,0.5E-7,1e9,\"\\u00e9\",[[[]]],{\"\":{}}]", "{\"a\":1 \"b\":2}", "[1,]", "{\"a\"::1}",
			"{\"a\":01}", "[1.x]", "[tru]", "\"abc\"", "-12", "{\"a\"  :  1  }",
		};
		static const char after[] = { '\0', '1', '}' };
		struct json z = { 0 };
		char buf[160];

		for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++)
			for (size_t n = 0; n <= strlen(texts[k]); n++)
				for (size_t a = 0; a < sizeof after; a++) {
					int rc, rz;

					memcpy(buf, texts[k], n);
					buf[n] = '\0';
					rc = json_parse(&j, buf, n);
					buf[n] = after[a];
					rz = after[a] == '\0' ? json_parse_z(&z, buf, n) : json_parse(&z, buf, n);
					CHECK(rc == rz && strcmp(j.err, z.err) == 0 && j.ntok == z.ntok && same_tokens(&j, &z),
					    "\"%.*s\" then byte %d: %d \"%s\", then %d \"%s\"", (int)n, buf, after[a], rc, j.err, rz,
					    z.err);
				}
		json_free(&z);
	}
	/* a string token says whether it has an escape, and json_str decodes
	 * only that one */
	{
		static const char text[] = "[\"plain\",\"a\\nb\",\"0123456789abcdefghij\",\"\\u0041\"]";

		CHECK(json_parse(&j, text, strlen(text)) == 0 &&
		    !j.tok[1].esc && j.tok[2].esc && !j.tok[3].esc && j.tok[4].esc && !j.tok[0].esc, "escape flags");
		CHECK(json_str(&j, 2, s, sizeof s) == 0 && strcmp(s, "a\nb") == 0 && json_str(&j, 3, s, sizeof s) == 0 &&
		    strcmp(s, "0123456789abcdefghij") == 0 && json_str(&j, 4, s, sizeof s) == 0 && strcmp(s, "A") == 0,
		    "json_str with and without escapes");
	}
	/* 20,000 random texts, whole, cut short, or with a byte changed:
	 * json_parse and json_parse_z against the jsmn-based reader the
	 * parser replaced (the same verdict and the same tokens), and against
	 * each other (the same error too) */
	for (int k = 0; k < 20000; k++) {
		struct buf g = { 0 };
		struct ref_json r = { 0 };
		struct json z = { 0 };
		int rc, rr, rz;
		bool same = true;

		gen(&g, 4);
		if (k % 3 == 1 && g.len > 0)
			g.len = rnd((unsigned)g.len);
		else if (k % 3 == 2 && g.len > 0)
			g.p[rnd((unsigned)g.len)] = "\"\\,:{}[]0a. \x01"[rnd(13)];
		g.p[g.len] = '\0';
		rc = json_parse(&j, g.p, g.len);
		rz = json_parse_z(&z, g.p, g.len);
		rr = memchr(g.p, 0, g.len) ? rc : ref_parse(&r, g.p, g.len);
		if (rc == 0 && rr == 0 && memchr(g.p, 0, g.len) == NULL) {
			same = r.ntok == j.ntok;
			for (int q = 0; same && q < j.ntok; q++)
				same = r.tok[q].start == j.tok[q].start && r.tok[q].end == j.tok[q].end &&
				    r.tok[q].size == j.tok[q].size;
		}
		CHECK((rc == 0) == (rr == 0) && same && rc == rz && strcmp(j.err, z.err) == 0 && j.ntok == z.ntok,
		    "text %d (%zu bytes): json_parse %d \"%s\", jsmn reader %d, json_parse_z %d \"%s\": %s", k, g.len, rc,
		    j.err, rr, rz, z.err, g.p);
		free(r.tok);
		json_free(&z);
		buf_free(&g);
	}
	/* 512 containers deep is allowed, 513 is not */
	for (int deep = 512; deep <= 513; deep++) {
		struct buf nest = { 0 };

		for (int k = 0; k < deep; k++)
			buf_putc(&nest, '[');
		for (int k = 0; k < deep; k++)
			buf_putc(&nest, ']');
		t = json_parse(&j, nest.p, nest.len);
		CHECK(deep == 512 ? t == 0 && j.ntok == 512 : t < 0 && strcmp(j.err, "nesting too deep at byte 513") == 0,
		    "%d deep: %s", deep, j.err);
		buf_free(&nest);
	}
	/* strings long enough for the eight-bytes-at-a-time scan, with the byte
	 * that ends it at every position of a word */
	for (size_t at = 0; at < 40; at++) {
		char doc[64];
		int n;

		/* (words of eight, and of sixteen where SSE2 is there) */
		for (int end = 0; end < 4; end++) {
			memset(doc, 0, sizeof doc);
			n = snprintf(doc, sizeof doc, "[\"%.*s%s\",1]", (int)at, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
			    end == 0 ? "" : end == 1 ? "\\n" : end == 2 ? "\x01" : "\xc3\xa9");
			t = json_parse(&j, doc, (size_t)n);
			CHECK(end != 2 ? t == 0 && (size_t)(j.tok[1].end - j.tok[1].start) == at + (end ? 2 : 0) :
			    t < 0 && j.err[0] == 'c', "string of %zu bytes, end %d: %s", at, end, j.err);
		}
	}
	/* numbers of every length (digits eight at a time), then what ends them */
	for (int nd = 1; nd < 30; nd++) {
		static const char *const tail[] = { "", ".5", ".125e3", "e-7", "x", ".", "1.2.3" };
		char doc[96];

		for (size_t k = 0; k < sizeof tail / sizeof tail[0]; k++) {
			int n = snprintf(doc, sizeof doc, "[%.*s%s,1]", nd, "98765432109876543210987654321", tail[k]);
			bool ok = k < 4;

			t = json_parse(&j, doc, (size_t)n);
			CHECK(ok ? t == 0 && j.tok[1].type == JSON_NUMBER && j.tok[1].end - j.tok[1].start ==
			    nd + (int)strlen(tail[k]) : t < 0 && strstr(j.err, "invalid number") != NULL,
			    "number of %d digits then \"%s\": %s", nd, tail[k], j.err);
		}
	}
	/* integers: eight digits at a time, then one by one; exact to 18
	 * digits, strtoll past them; a fraction or exponent is no integer */
	{
		static const struct { const char *num; int rc; int64_t want; } iv[] = {
			{ "0", 0, 0 }, { "-0", 0, 0 }, { "7", 0, 7 }, { "12345678", 0, 12345678 },
			{ "-87654321", 0, -87654321 }, { "1795568400000", 0, 1795568400000LL },
			{ "123456789012345678", 0, 123456789012345678LL }, { "-999999999999999999", 0, -999999999999999999LL },
			{ "9223372036854775807", 0, INT64_MAX }, { "-9223372036854775808", 0, INT64_MIN },
			{ "9223372036854775808", -1, 0 }, { "12345678.5", -1, 0 }, { "1234567.5", -1, 0 },
			{ "1234567e10", -1, 0 }, { "123456789E1", -1, 0 }, { "1.0", -1, 0 },
		};
		/* and each one far enough into the text to be read as words from its end */
		static const char *const pre[] = { "", "[\"eight b\",", "[\"sixteen bytes in\"," };

		for (size_t p = 0; p < sizeof pre / sizeof pre[0]; p++)
			for (size_t k = 0; k < sizeof iv / sizeof iv[0]; k++) {
				char doc[64];
				int64_t got = -42;
				int rc;

				snprintf(doc, sizeof doc, "%s%s%s", pre[p], iv[k].num, p ? "]" : "");
				rc = json_parse(&j, doc, strlen(doc)) == 0 ? json_i64(&j, p ? 2 : 0, &got) : -2;
				CHECK(rc == iv[k].rc && (rc < 0 || got == iv[k].want), "json_i64(%s): rc %d, %lld", doc, rc,
				    (long long)got);
			}
	}
	/* json_skip: past a subtree, whatever is nested in it */
	{
		const char *doc = "[{\"a\":[1,{\"b\":[]}],\"c\":\"}\"},2,[[],[3]],\"x\"]";

		CHECK(json_parse(&j, doc, strlen(doc)) == 0, "nested parses: %s", j.err);
		CHECK(json_skip(&j, 0) == j.ntok && json_skip(&j, 1) == 10 && json_skip(&j, 3) == 8 &&
		    json_skip(&j, 10) == 11 && json_skip(&j, 11) == 15 && json_skip(&j, 15) == 16,
		    "skips: %d %d %d %d %d %d", json_skip(&j, 0), json_skip(&j, 1), json_skip(&j, 3),
		    json_skip(&j, 10), json_skip(&j, 11), json_skip(&j, 15));
		CHECK(json_size(&j, 0) == 4 && json_size(&j, 1) == 2 && json_size(&j, 11) == 2, "sizes");
	}

	/* accessors */
	{
		const char *doc = "{\"n\":-42,\"big\":9007199254740993,\"f\":2.5,\"t\":true,\"s\":\"a\\\"b\\u00e9\","
		    "\"arr\":[{\"x\":1},{\"x\":2},[3,4]],\"o\":{\"n\":7},\"nul\":null,\"last\":\"end\"}";

		CHECK(json_parse(&j, doc, strlen(doc)) == 0, "doc parses: %s", j.err);
		CHECK(json_get_i64(&j, 0, "n", &i) == 0 && i == -42, "i64");
		CHECK(json_get_i64(&j, 0, "big", &i) == 0 && i == 9007199254740993LL, "i64 beyond 2^53 exact");
		CHECK(json_get_i64(&j, 0, "f", &i) == -1, "a fraction is not an integer");
		CHECK(json_get_f64(&j, 0, "f", &d) == 0 && d == 2.5, "f64");
		CHECK(json_get_bool(&j, 0, "t", &v) == 0 && v, "bool");
		CHECK(json_get_bool(&j, 0, "n", &v) == -1, "a number is not a bool");
		CHECK(json_get_str(&j, 0, "s", s, sizeof s) == 0 && strcmp(s, "a\"b\xc3\xa9") == 0, "unescape: %s", s);
		CHECK(json_get_str(&j, 0, "s", s, 4) == -1, "too small a buffer is an error");
		CHECK(json_get_str(&j, 0, "n", s, sizeof s) == -1, "a number is not a string");
		CHECK(json_get(&j, 0, "missing") == -1, "absent key");
		CHECK(json_get_i64(&j, json_get(&j, 0, "o"), "n", &i) == 0 && i == 7, "nested object");
		t = json_get(&j, 0, "arr");
		CHECK(json_size(&j, t) == 3, "array size");
		CHECK(json_get_i64(&j, json_at(&j, t, 1), "x", &i) == 0 && i == 2, "array element");
		CHECK(json_type(&j, json_at(&j, t, 2)) == JSON_ARRAY && json_at(&j, t, 3) == -1, "element types, bounds");
		CHECK(json_type(&j, json_get(&j, 0, "nul")) == JSON_NULL, "null");
		CHECK(json_get_str(&j, 0, "last", s, sizeof s) == 0 && strcmp(s, "end") == 0, "key after a nested array");
		CHECK(json_streq(&j, json_get(&j, 0, "last"), "end") && !json_streq(&j, json_get(&j, 0, "last"), "en"),
		    "streq");
	}
	/* json_getv: the same tokens as json_get, key by key, whatever the order
	 * of the keys asked and of the members: nested keys are not members,
	 * of duplicates the first counts, a key of no length matches none */
	{
		const char *doc = "{\"a\":1,\"o\":{\"b\":2,\"z\":[{\"c\":0}]},\"b\":3,\"c\":4,\"a\":5,\"\":6}";
		const char *const keys[][6] = {
			{ "a", "o", "b", "c", "", "zz" }, { "zz", "c", "b", "o", "a", "" }, { "c", "zz", "a", "z", "o", "b" },
		};
		size_t klen[6];
		int out[6];

		CHECK(json_parse(&j, doc, strlen(doc)) == 0, "getv doc parses: %s", j.err);
		for (size_t q = 0; q < sizeof keys / sizeof keys[0]; q++) {
			for (int k = 0; k < 6; k++)
				klen[k] = *keys[q][k] ? strlen(keys[q][k]) : SIZE_MAX;
			json_getv(&j, 0, 6, keys[q], klen, out);
			for (int k = 0; k < 6; k++)
				CHECK(out[k] == (*keys[q][k] ? json_get(&j, 0, keys[q][k]) : -1),
				    "json_getv set %zu key \"%s\": %d, json_get %d", q, keys[q][k], out[k],
				    json_get(&j, 0, keys[q][k]));
		}
		json_getv(&j, 0, 6, keys[0], klen, out);
		CHECK(json_get_i64(&j, 0, "a", &i) == 0 && i == 1 && out[0] == json_get(&j, 0, "a"), "first of duplicates");
		json_getv(&j, json_get(&j, 0, "c"), 6, keys[0], klen, out);
		CHECK(out[0] == -1 && out[3] == -1, "json_getv of a non-object: every key absent");
	}
	/* \u0000 and lone surrogates are refused when unescaping */
	{
		const char *e = "[\"\\u0000\",\"\\udc00\",\"\\ud800x\"]";

		CHECK(json_parse(&j, e, strlen(e)) == 0, "escapes tokenise: %s", j.err);
	}
	CHECK(json_str(&j, json_at(&j, 0, 0), s, sizeof s) == -1, "NUL refused");
	CHECK(json_str(&j, json_at(&j, 0, 1), s, sizeof s) == -1, "lone low surrogate refused");
	CHECK(json_str(&j, json_at(&j, 0, 2), s, sizeof s) == -1, "lone high surrogate refused");

	/* writer: separators, escapes, numbers */
	jw_obj(&b);
	jw_kstr(&b, "type", "tick");
	jw_ki64(&b, "ts", -5);
	jw_kstr(&b, "esc", "q\"\\\n\t\x01");
	jw_kf64(&b, "p", 100000.50, 2);
	jw_kf64(&b, "z", -0.0001, 2);
	jw_kf64(&b, "nan", 0.0 / 0.0, 2);
	jw_key(&b, "a");
	jw_arr(&b);
	jw_i64(&b, 1);
	jw_obj(&b);
	jw_obj_end(&b);
	jw_str(&b, NULL);
	jw_arr_end(&b);
	jw_kbool(&b, "b", false);
	jw_obj_end(&b);
	CHECK(strcmp(b.p, "{\"type\":\"tick\",\"ts\":-5,\"esc\":\"q\\\"\\\\\\n\\t\\u0001\",\"p\":100000.5,"
	    "\"z\":0,\"nan\":null,\"a\":[1,{},null],\"b\":false}") == 0, "writer: %s", b.p);
	CHECK(json_parse(&j, b.p, b.len) == 0, "writer output parses");
	CHECK(json_get_str(&j, 0, "esc", s, sizeof s) == 0 && strcmp(s, "q\"\\\n\t\x01") == 0, "escape round trip");

	/* numbers written without printf: byte for byte what "%.*f" (then the
	 * trimming of trailing zeros) and "%lld" write, ties and edges included */
	{
		static const int64_t iv[] = { 0, 1, -1, 9, 10, -10, 123456789, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
		static const double fv[] = { 0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, 1.005, 2.675, 99999.995,
			1e14, 999999999999999.0, 1e15, 1e300, -1e-300, 5e-324, 0.1, 0.2, 0.3, 100003.685 };
		uint64_t r = 88172645463325252ULL;
		int nbad = 0, n = 0;
		char want[400];

		for (size_t x = 0; x < sizeof iv / sizeof iv[0]; x++) {
			buf_reset(&b);
			jw_i64(&b, iv[x]);
			snprintf(want, sizeof want, "%lld", (long long)iv[x]);
			CHECK(strcmp(b.p, want) == 0, "jw_i64 %s: %s", want, b.p);
		}
		/* every digit count: 10^k - 1, 10^k, 10^k + 1 and their negatives */
		for (int k = 0, nd = 0; k <= 19; k++) {
			uint64_t p = 1;

			for (int q = 0; q < k; q++)
				p *= 10;
			for (int dv = -1; dv <= 1; dv++) {
				uint64_t u = p + (uint64_t)(int64_t)dv;

				if (u > (uint64_t)INT64_MAX)
					continue;
				for (int neg = 0; neg <= 1; neg++) {
					int64_t x = neg ? -(int64_t)u : (int64_t)u;

					buf_reset(&b);
					jw_arr(&b);
					jw_i64(&b, 7);
					jw_i64(&b, x);
					jw_arr_end(&b);
					snprintf(want, sizeof want, "[7,%lld]", (long long)x);
					nd += strcmp(b.p, want) != 0;
					if (strcmp(b.p, want) != 0)
						CHECK(0, "jw_i64 in an array: %s, want %s", b.p, want);
				}
			}
			if (k == 19)
				CHECK(nd == 0, "jw_i64 at every digit count, after a ','");
		}
		/* decimals beyond the fast way's 9: printf's digits while they fit
		 * in 63 bytes, then null; after a ',' either way */
		{
			static const struct {
				double v;
				int d;
				const char *want;
			} fw[] = {
				{ 1.25, 12, "[1,1.25]" },
				{ -0.000000000001, 12, "[1,-0.000000000001]" },
				{ 1e18, 20, "[1,1000000000000000000]" },
				{ 123.5, 40, "[1,123.5]" },
				{ 1e18, 43, "[1,1000000000000000000]" },
				{ 1e18, 44, "[1,null]" },
				{ 0.5, 400, "[1,null]" },
			};

			for (size_t x = 0; x < sizeof fw / sizeof fw[0]; x++) {
				buf_reset(&b);
				jw_arr(&b);
				jw_i64(&b, 1);
				jw_f64(&b, fw[x].v, fw[x].d);
				jw_arr_end(&b);
				CHECK(strcmp(b.p, fw[x].want) == 0, "jw_f64(%g, %d): %s, want %s", fw[x].v, fw[x].d, b.p,
				    fw[x].want);
			}
		}
		for (int k = 0; k < 300000; k++) {
			double fx;
			int dd = k % 10;

			if (k < (int)(sizeof fv / sizeof fv[0]) * 10)
				fx = fv[k / 10];
			else {  /* xorshift: every magnitude, and decimal ties on purpose */
				r ^= r << 13, r ^= r >> 7, r ^= r << 17;
				fx = (double)(r >> 11) / (double)(1ULL << 53) * pow(10, (double)(r % 19) - 6);
				if (r % 7 == 0)
					fx = (double)(int64_t)(fx * 1000) / 1000 + 0.0005;
				if (r % 3 == 0)
					fx = -fx;
			}
			if (!isfinite(fx) || fabs(fx) > 1e18)
				continue;
			buf_reset(&b);
			jw_f64(&b, fx, dd);
			f64_printf_ref(want, sizeof want, fx, dd);
			n++;
			if (strcmp(b.p, want) != 0 && nbad++ < 5)
				CHECK(0, "jw_f64(%.17g, %d): %s, printf %s", fx, dd, b.p, want);
		}
		CHECK(nbad == 0 && n > 280000, "jw_f64 = printf over %d values (%d differ)", n, nbad);
	}
	/* numbers read without strtod/strtoll where one IEEE operation is
	 * exact: the same double, bit for bit, and the same integer */
	{
		static const char *nv[] = { "0", "-0", "0.0", "-0.0e+5", "1e22", "1e23", "9007199254740992",
			"9007199254740993", "0.1", "123456789012345678", "1234567890123456789", "-9223372036854775808",
			"9223372036854775808", "94999.99", "0.00006", "1.7976931348623157e308", "4.9e-324",
			"1e-22", "1e-23", "12345678901234567890e-5", "2.2250738585072014E-308", "1e0009" };
		uint64_t r = 0x9e3779b97f4a7c15ULL;
		int nbad = 0, n = 0;

		for (int k = 0; k < 200000 + (int)(sizeof nv / sizeof nv[0]); k++) {
			char doc[96], num[64], *end;
			int64_t iv2;
			long long want_i;
			double want, got;
			int rc_i, l = 0;

			if (k < (int)(sizeof nv / sizeof nv[0]))
				snprintf(num, sizeof num, "%s", nv[k]);
			else {  /* xorshift: up to 20 digits, a point anywhere, an exponent now and then */
				int nd, point;

				r ^= r << 13, r ^= r >> 7, r ^= r << 17;
				nd = 1 + (int)(r % 20);
				point = (int)((r >> 8) % (uint64_t)(nd + 1));
				if (r & (1 << 20))
					num[l++] = '-';
				for (int dg = 0; dg < nd; dg++) {
					r ^= r << 13, r ^= r >> 7, r ^= r << 17;
					if (dg == point && dg > 0)
						num[l++] = '.';
					num[l++] = (char)('0' + ((dg == 0 && nd > 1 && point != 1) ? 1 + r % 9 : r % 10));
				}
				num[l] = '\0';
				if (r % 5 == 0)
					snprintf(num + l, sizeof num - (size_t)l, "e%d", (int)(r >> 40) % 60 - 30);
			}
			snprintf(doc, sizeof doc, "[%s]", num);
			if (json_parse(&j, doc, strlen(doc)) != 0)
				continue;       /* a leading zero made it invalid: skip */
			n++;
			want = strtod(num, &end);
			if (json_f64(&j, 1, &got) != (isfinite(want) ? 0 : -1) ||
			    (isfinite(want) && (got != want || signbit(got) != signbit(want)))) {
				if (nbad++ < 5)
					CHECK(0, "json_f64(%s): %.17g, strtod %.17g", num, got, want);
			}
			errno = 0;
			want_i = strtoll(num, &end, 10);
			rc_i = json_i64(&j, 1, &iv2);
			if ((*end || errno) ? rc_i != -1 : (rc_i != 0 || iv2 != want_i)) {
				if (nbad++ < 5)
					CHECK(0, "json_i64(%s): %d %lld, strtoll %lld", num, rc_i, (long long)iv2, want_i);
			}
			/* the same number 16 bytes or more into the text: read as
			 * words back from its end (the bytes before it masked) */
			snprintf(doc, sizeof doc, "{\"sixteen bytes in\":%s}", num);
			if (json_parse(&j, doc, strlen(doc)) != 0 || (rc_i = json_i64(&j, 2, &iv2),
			    (*end || errno) ? rc_i != -1 : (rc_i != 0 || iv2 != want_i))) {
				if (nbad++ < 5)
					CHECK(0, "json_i64(%s) in an object: %d %lld, strtoll %lld", num, rc_i, (long long)iv2,
					    want_i);
			}
		}
		CHECK(nbad == 0 && n > 150000, "json_f64 = strtod, json_i64 = strtoll over %d numbers (%d differ)", n, nbad);
	}
	/* the token cap per struct: 0 is an NDJSON line's, tok_max another */
	{
		struct json jt = { 0 };
		struct buf doc_t = { 0 };
		int n = 16384;  /* RECIO_JSON_TOK_MAX; + the array: one more than a line may hold */

		buf_puts(&doc_t, "[");
		for (int k = 0; k < n; k++)
			buf_puts(&doc_t, k ? ",1" : "1");
		buf_puts(&doc_t, "]");
		CHECK(json_parse(&jt, doc_t.p, doc_t.len) == -1 && strstr(jt.err, "more than 16384 tokens") != NULL,
		    "default cap: %s", jt.err);
		json_free(&jt);
		jt.tok_max = 4 * n;
		CHECK(json_parse(&jt, doc_t.p, doc_t.len) == 0 && json_size(&jt, 0) == n, "tok_max: %d tokens read", n + 1);
		json_free(&jt);
		jt.tok_max = 1000;
		CHECK(json_parse(&jt, doc_t.p, doc_t.len) == -1 && strcmp(jt.err, "more than 1000 tokens") == 0,
		    "a smaller tok_max: %s", jt.err);
		json_free(&jt);
		buf_free(&doc_t);
	}
	buf_free(&b);
	json_free(&j);
	return T_DONE();
}
