/*
 * migrate_data.c: the data moves of MLflow's trace analytics (75868b020152)
 * and issue contract (8b6ad64cb8f5) migrations, as set-based SQL on the
 * upgrade's connection (see migrate_data.h). MLflow's migrations convert
 * values with Python's rules (Decimal and float parsing, str.strip and
 * str.lower, json.loads); the mlflowd_* SQL functions here reproduce
 * those rules so the rows come out as stock `mlflow db upgrade` writes
 * them.
 */
#include "migrate_data.h"
#include "schema.h"
#include "traces.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

/* The lengths 75868b020152 cuts its promoted strings to. */
#define TRACE_NAME_MAX_CHARS 4096
#define SESSION_ID_MAX_CHARS 250
#define MODEL_DIMENSION_MAX_CHARS 500
/* Longest number text the Python conversions are reproduced for. */
#define NUMBER_TEXT_MAX 512
/* Longest category (bytes) hashed; longer ones are refused. */
#define CATEGORY_MAX_BYTES 65536

/* ---- SHA-256 (FIPS 180-4) ---- */

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

/* hex: 65 bytes, the lowercase hex digest and a NUL. */
static void sha256_hex(const unsigned char *data, size_t len, char *hex)
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	size_t off = 0;
	for (; len - off >= 64; off += 64)
		sha256_block(h, data + off);
	unsigned char last[128] = {0};
	size_t rest = len - off;
	memcpy(last, data + off, rest);
	last[rest] = 0x80;
	size_t total = rest + 9 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		last[total - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_block(h, last);
	if (total == 128)
		sha256_block(h, last + 64);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 8 * i, 9, "%08x", h[i]);
}

/* ---- Python's str rules on UTF-8 text ---- */

/* The next code point of s (len bytes) at *i, or -1 on bad UTF-8. */
static long utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	int extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
	if (extra < 0 || *i + (size_t)extra >= len + (extra ? 0 : 1))
		return -1;
	long cp = extra == 0 ? c : c & (0x3f >> extra);
	for (int k = 1; k <= extra; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	static const long min_of[4] = {0, 0x80, 0x800, 0x10000};
	if (cp < min_of[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += (size_t)extra + 1;
	return cp;
}

static size_t utf8_put(long cp, char *out)
{
	if (cp < 0x80)
		return out[0] = (char)cp, 1;
	if (cp < 0x800)
		return out[0] = (char)(0xc0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3f)), 2;
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12), out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18), out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* str.isspace() */
static int py_space(long cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	       cp == 0x3000;
}

/* Decodes s into cps (room for len), stripped as str.strip() strips.
 * The count, or -1 on bad UTF-8. */
static long py_strip(const unsigned char *s, size_t len, long *cps)
{
	long n = 0;
	for (size_t i = 0; i < len;) {
		long cp = utf8_next(s, len, &i);
		if (cp < 0)
			return -1;
		cps[n++] = cp;
	}
	long a = 0, b = n;
	while (a < b && py_space(cps[a]))
		a++;
	while (b > a && py_space(cps[b - 1]))
		b--;
	memmove(cps, cps + a, (size_t)(b - a) * sizeof *cps);
	return b - a;
}

/* Text of v stripped to ASCII in buf (NUL-ended); 0 when v is not such text. */
static int ascii_stripped(sqlite3_value *v, char *buf, size_t size)
{
	const unsigned char *s = sqlite3_value_text(v);
	size_t len = (size_t)sqlite3_value_bytes(v);
	if (!s || len >= size)
		return 0;
	long cps[NUMBER_TEXT_MAX];
	long n = py_strip(s, len, cps);
	if (n < 0)
		return 0;
	for (long i = 0; i < n; i++) {
		if (cps[i] >= 0x80)
			return 0; /* Python takes other scripts' digits too; treated as not a number */
		buf[i] = (char)cps[i];
	}
	buf[n] = 0;
	return 1;
}

/* ---- Python's number rules ---- */

static int non_finite_word(const char *p)
{
	return !strcasecmp(p, "inf") || !strcasecmp(p, "infinity") || !strncasecmp(p, "nan", 3) ||
	       !strncasecmp(p, "snan", 4);
}

/* Decimal(text): 1 and *out when the value is finite, integral and fits
 * a signed 64-bit integer (token_count_or_none), else 0. */
static int decimal_int64(const char *text, sqlite3_int64 *out)
{
	char s[NUMBER_TEXT_MAX];
	size_t n = 0;
	for (const char *p = text; *p; p++)
		if (*p != '_') /* Decimal drops underscores anywhere */
			s[n++] = *p;
	s[n] = 0;
	const char *p = s;
	int neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if (non_finite_word(p))
		return 0;
	char digits[NUMBER_TEXT_MAX];
	size_t nd = 0;
	long frac = 0;
	int seen_point = 0, any = 0;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			any = 1;
			if (nd || *p != '0')
				digits[nd++] = *p;
			if (seen_point)
				frac++;
		} else if (*p == '.' && !seen_point) {
			seen_point = 1;
		} else {
			break;
		}
	}
	if (!any)
		return 0;
	long exp = 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		int eneg = *p == '-';
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		for (; *p >= '0' && *p <= '9'; p++)
			if (exp < 1000000000L)
				exp = exp * 10 + (*p - '0');
		if (eneg)
			exp = -exp;
	}
	if (*p)
		return 0;
	if (!nd) {
		*out = 0;
		return 1;
	}
	long e = exp - frac;
	if (e < 0) {
		if ((size_t)-e >= nd)
			return 0;
		for (size_t k = nd - (size_t)-e; k < nd; k++)
			if (digits[k] != '0')
				return 0;
		nd -= (size_t)-e;
		e = 0;
	}
	if ((long)nd + e > 19)
		return 0;
	uint64_t mag = 0;
	for (size_t k = 0; k < nd; k++)
		mag = mag * 10 + (uint64_t)(digits[k] - '0');
	for (long k = 0; k < e; k++)
		mag *= 10;
	if ((long)nd + e == 19 && mag > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return 0;
	*out = neg ? (sqlite3_int64)(0 - mag) : (sqlite3_int64)mag;
	return 1;
}

/* float(text): 1 and *out when text is a float literal Python takes (with
 * underscores only between digits) and its value is finite, else 0. */
static int python_float(const char *text, double *out)
{
	char s[NUMBER_TEXT_MAX];
	size_t n = 0;
	const char *p = text;
	if (*p == '-' || *p == '+')
		s[n++] = *p++;
	if (non_finite_word(p))
		return 0;
	int digits = 0, point = 0, expo = 0;
	for (; *p; p++) {
		char c = *p;
		if (c >= '0' && c <= '9') {
			digits++;
		} else if (c == '_') {
			if (p == text || !(p[-1] >= '0' && p[-1] <= '9') || !(p[1] >= '0' && p[1] <= '9'))
				return 0;
			continue;
		} else if (c == '.' && !point && !expo) {
			point = 1;
		} else if ((c == 'e' || c == 'E') && digits && !expo) {
			expo = 1;
			s[n++] = c;
			if (p[1] == '-' || p[1] == '+')
				s[n++] = *++p;
			if (!(p[1] >= '0' && p[1] <= '9'))
				return 0;
			continue;
		} else {
			return 0;
		}
		s[n++] = c;
	}
	s[n] = 0;
	if (!digits)
		return 0;
	char *end = NULL;
	double d = strtod(s, &end);
	if (*end || !isfinite(d))
		return 0;
	*out = d;
	return 1;
}

/* mlflowd_token_count(x): token_count_or_none of a number or text. */
static void fn_token_count(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_value *v = argv[0];
	char buf[NUMBER_TEXT_MAX];
	sqlite3_int64 i;
	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER: sqlite3_result_int64(ctx, sqlite3_value_int64(v)); return;
	case SQLITE_FLOAT: {
		double d = sqlite3_value_double(v);
		if (isfinite(d) && floor(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
			sqlite3_result_int64(ctx, (sqlite3_int64)d);
		else
			sqlite3_result_null(ctx);
		return;
	}
	case SQLITE_TEXT:
		if (ascii_stripped(v, buf, sizeof buf) && decimal_int64(buf, &i))
			sqlite3_result_int64(ctx, i);
		else
			sqlite3_result_null(ctx);
		return;
	default: sqlite3_result_null(ctx);
	}
}

/* mlflowd_finite_float(x): finite_float_or_none of a number or text. */
static void fn_finite_float(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_value *v = argv[0];
	char buf[NUMBER_TEXT_MAX];
	double d;
	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER: sqlite3_result_double(ctx, (double)sqlite3_value_int64(v)); return;
	case SQLITE_FLOAT:
		d = sqlite3_value_double(v);
		if (isfinite(d))
			sqlite3_result_double(ctx, d);
		else
			sqlite3_result_null(ctx);
		return;
	case SQLITE_TEXT:
		if (ascii_stripped(v, buf, sizeof buf) && python_float(buf, &d))
			sqlite3_result_double(ctx, d);
		else
			sqlite3_result_null(ctx);
		return;
	default: sqlite3_result_null(ctx);
	}
}

/* mlflowd_yes_no(text): 1.0 for "yes", 0.0 for "no" (after strip() and
 * lower()), else NULL: an assessment's text value as an aggregate. */
static void fn_yes_no(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	char buf[NUMBER_TEXT_MAX];
	if (sqlite3_value_type(argv[0]) == SQLITE_TEXT && ascii_stripped(argv[0], buf, sizeof buf) &&
	    (!strcasecmp(buf, "yes") || !strcasecmp(buf, "no")))
		sqlite3_result_double(ctx, !strcasecmp(buf, "yes") ? 1.0 : 0.0);
	else
		sqlite3_result_null(ctx);
}

static locale_t utf8_locale(void)
{
	static locale_t loc;
	if (!loc)
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	return loc;
}

#define CAPITAL_SIGMA 0x3a3
#define CAPITAL_I_DOT 0x130

/* category.strip().lower() as UTF-8 in out (room for 3 * len + 1 bytes);
 * its length, or -1 where mlflowd cannot lower as Python does (bad UTF-8,
 * a capital sigma, whose lower case depends on its neighbours; no UTF-8
 * locale). */
static long category_key(const unsigned char *s, size_t len, char *out)
{
	locale_t loc = utf8_locale();
	long *cps = malloc((len + 1) * sizeof *cps);
	if (!cps || !loc) {
		free(cps);
		return -1;
	}
	long n = py_strip(s, len, cps), o = 0;
	for (long i = 0; i < n; i++) {
		long cp = cps[i];
		if (cp == CAPITAL_SIGMA) {
			o = -1;
			break;
		}
		if (cp == CAPITAL_I_DOT) { /* its full lower case is two code points */
			out[o++] = 'i';
			o += (long)utf8_put(0x307, out + o);
			continue;
		}
		o += (long)utf8_put(
		    cp < 0x80 ? (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp) : (long)towlower_l((wint_t)cp, loc), out + o);
	}
	free(cps);
	return n < 0 ? -1 : o;
}

/* mlflowd_category_hash(text): sha256(category.strip().lower()) in hex;
 * an error where category_key cannot say. */
static void fn_category_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	int text = sqlite3_value_type(argv[0]) == SQLITE_TEXT;
	const unsigned char *s = text ? sqlite3_value_text(argv[0]) : NULL;
	size_t len = (size_t)sqlite3_value_bytes(argv[0]);
	char *key = s && len <= CATEGORY_MAX_BYTES ? malloc(3 * len + 1) : NULL;
	long klen = key ? category_key(s, len, key) : -1;
	if (klen < 0) {
		free(key);
		sqlite3_result_error(ctx, "an issue category mlflowd cannot hash as MLflow does", -1);
		return;
	}
	char hex[65];
	sha256_hex((const unsigned char *)key, (size_t)klen, hex);
	free(key);
	sqlite3_result_text(ctx, hex, 64, SQLITE_TRANSIENT);
}

/* mlflowd_category_ok(text): 1 when mlflowd_category_hash takes it. */
static void fn_category_ok(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	int text = sqlite3_value_type(argv[0]) == SQLITE_TEXT;
	const unsigned char *s = text ? sqlite3_value_text(argv[0]) : NULL;
	size_t len = (size_t)sqlite3_value_bytes(argv[0]);
	char *key = s && len <= CATEGORY_MAX_BYTES ? malloc(3 * len + 1) : NULL;
	int ok = key && category_key(s, len, key) >= 0;
	free(key);
	sqlite3_result_int(ctx, ok);
}

int mlf_migrate_register(sqlite3 *db)
{
	static const struct {
		const char *name;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} fns[] = {
	    {"mlflowd_token_count", fn_token_count}, {"mlflowd_finite_float", fn_finite_float},
	    {"mlflowd_yes_no", fn_yes_no},           {"mlflowd_category_hash", fn_category_hash},
	    {"mlflowd_category_ok", fn_category_ok},
	};
	for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
		if (sqlite3_create_function(db, fns[i].name, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, fns[i].fn,
		                            NULL, NULL) != SQLITE_OK)
			return -1;
	return 0;
}

/* ---- the steps ---- */

static int has_row(sqlite3 *db, const char *query)
{
	sqlite3_stmt *st = NULL;
	int row = sqlite3_prepare_v2(db, query, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return row;
}

/* Each a query that returns a row where MLflow's migration raises. A
 * query on a table or column the store does not have yet does not
 * prepare and returns nothing: then there is nothing to stop on. */
static const char *const trace_refusals[] = {
    "SELECT 1 FROM spans s LEFT JOIN trace_info t ON t.request_id = s.trace_id WHERE t.request_id IS NULL LIMIT 1",
    "SELECT 1 FROM assessments a LEFT JOIN trace_info t ON t.request_id = a.trace_id WHERE t.request_id IS NULL "
    "LIMIT 1",
    "SELECT 1 FROM spans WHERE dimension_attributes IS NOT NULL AND CASE WHEN NOT json_valid(dimension_attributes) "
    "THEN 1 WHEN json_type(dimension_attributes) = 'null' THEN 0 WHEN json_type(dimension_attributes) != 'object' "
    "THEN 1 ELSE EXISTS (SELECT 1 FROM json_each(spans.dimension_attributes) j WHERE j.key NOT IN "
    "('mlflow.llm.model', 'mlflow.llm.provider') OR j.type NOT IN ('text', 'null')) END LIMIT 1",
};

int mlf_trace_analytics_refuse(sqlite3 *db)
{
	for (size_t i = 0; i < sizeof trace_refusals / sizeof *trace_refusals; i++)
		if (has_row(db, trace_refusals[i]))
			return 1;
	return 0;
}

int mlf_trace_analytics_before(sqlite3 *db, char *msg, size_t n)
{
	if (mlf_schema_exec(db,
	                    "CREATE TEMP TABLE mlflowd_span_dims (trace_id TEXT, span_id TEXT, model_name TEXT, "
	                    "model_provider TEXT, PRIMARY KEY (trace_id, span_id))",
	                    msg, n, "keeping the spans' models"))
		return -1;
	if (!has_row(db, "SELECT 1 FROM pragma_table_info('spans') WHERE name = 'dimension_attributes'"))
		return 0;
	char *sql = sqlite3_mprintf(
	    "INSERT INTO temp.mlflowd_span_dims SELECT trace_id, span_id, "
	    "CASE json_type(dimension_attributes, '$.\"mlflow.llm.model\"') WHEN 'text' THEN "
	    "substr(json_extract(dimension_attributes, '$.\"mlflow.llm.model\"'), 1, %d) END, "
	    "CASE json_type(dimension_attributes, '$.\"mlflow.llm.provider\"') WHEN 'text' THEN "
	    "substr(json_extract(dimension_attributes, '$.\"mlflow.llm.provider\"'), 1, %d) END "
	    "FROM spans WHERE CASE WHEN json_valid(dimension_attributes) THEN json_type(dimension_attributes) = "
	    "'object' END",
	    MODEL_DIMENSION_MAX_CHARS, MODEL_DIMENSION_MAX_CHARS);
	int r = mlf_schema_exec(db, sql, msg, n, "keeping the spans' models");
	sqlite3_free(sql);
	return r;
}

/* Appends to *sql (sqlite3_mprintf'd, replaced); 0 or -1 out of memory. */
static int append(char **sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *more = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	char *next = more ? sqlite3_mprintf("%s%s", *sql ? *sql : "", more) : NULL;
	sqlite3_free(more);
	sqlite3_free(*sql);
	*sql = next;
	return next ? 0 : -1;
}

/* The value of a key of a trace's metadata JSON object, converted by
 * conv: NULL where the metadata is missing, not a JSON object, or the
 * key's value is not a number or a string (json_object and the
 * converters of MLflow's backfill). */
#define META_JSON_VALUE                                                                                             \
	"(SELECT CASE WHEN json_valid(value) THEN CASE WHEN json_type(value) = 'object' THEN CASE WHEN "            \
	"json_type(value, '$.\"%w\"') IN ('integer', 'real', 'text') THEN %s(json_extract(value, '$.\"%w\"')) END " \
	"END END FROM trace_request_metadata g WHERE g.request_id = trace_info.request_id AND g.\"key\" = '%w')"

int mlf_trace_analytics_after(sqlite3 *db, char *msg, size_t n)
{
	char *sql = NULL;
	int r =
	    append(&sql,
	           "UPDATE trace_info SET trace_name = (SELECT CASE WHEN typeof(value) = 'text' THEN substr(value, 1, "
	           "%d) END FROM trace_tags g WHERE g.request_id = trace_info.request_id AND g.\"key\" = "
	           "'mlflow.traceName'), session_id = (SELECT CASE WHEN typeof(value) = 'text' THEN substr(value, 1, "
	           "%d) END FROM trace_request_metadata g WHERE g.request_id = trace_info.request_id AND g.\"key\" = "
	           "'mlflow.trace.session')",
	           TRACE_NAME_MAX_CHARS, SESSION_ID_MAX_CHARS);
	/* a token count from trace_metrics wins over the tokenUsage metadata,
	 * even when it converts to nothing */
	for (size_t i = 0; i < MLF_TRACE_NTOKENS && !r; i++)
		r = append(&sql,
		           ", \"%w\" = CASE WHEN EXISTS (SELECT 1 FROM trace_metrics m WHERE m.request_id = "
		           "trace_info.request_id AND m.\"key\" = '%w') THEN (SELECT mlflowd_token_count(value) FROM "
		           "trace_metrics m WHERE m.request_id = trace_info.request_id AND m.\"key\" = '%w') "
		           "ELSE " META_JSON_VALUE " END",
		           mlf_trace_token_keys[i], mlf_trace_token_keys[i], mlf_trace_token_keys[i],
		           mlf_trace_token_keys[i], "mlflowd_token_count", mlf_trace_token_keys[i],
		           "mlflow.trace.tokenUsage");
	for (size_t i = 0; i < MLF_TRACE_NCOSTS && !r; i++)
		r = append(&sql, ", \"%w\" = " META_JSON_VALUE, mlf_trace_cost_keys[i], mlf_trace_cost_keys[i],
		           "mlflowd_finite_float", mlf_trace_cost_keys[i], "mlflow.trace.cost");
	/* spans: costs from span_metrics, model and provider kept before the rebuild */
	if (!r)
		r = append(&sql, ";\nUPDATE spans SET ");
	for (size_t i = 0; i < MLF_TRACE_NCOSTS && !r; i++)
		r = append(&sql,
		           "\"%w\" = (SELECT mlflowd_finite_float(value) FROM span_metrics m WHERE m.trace_id = "
		           "spans.trace_id AND m.span_id = spans.span_id AND m.\"key\" = '%w'), ",
		           mlf_trace_cost_keys[i], mlf_trace_cost_keys[i]);
	if (!r)
		r = append(
		    &sql,
		    "model_name = (SELECT model_name FROM temp.mlflowd_span_dims d WHERE d.trace_id = spans.trace_id "
		    "AND d.span_id = spans.span_id), model_provider = (SELECT model_provider FROM "
		    "temp.mlflowd_span_dims d WHERE d.trace_id = spans.trace_id AND d.span_id = spans.span_id);\n"
		    /* a gateway trace without a cost of its own: its spans' */
		    "UPDATE trace_info SET total_cost = (SELECT sum(total_cost) FROM spans s WHERE s.trace_id = "
		    "trace_info.request_id) WHERE total_cost IS NULL AND (SELECT sum(total_cost) FROM spans s WHERE "
		    "s.trace_id = trace_info.request_id) IS NOT NULL AND EXISTS (SELECT 1 FROM trace_request_metadata "
		    "g WHERE g.request_id = trace_info.request_id AND g.\"key\" = 'mlflow.gateway.endpointId');\n"
		    /* assessments: their trace's experiment and time, and the value as a number */
		    "UPDATE assessments SET experiment_id = t.experiment_id, trace_timestamp_ms = t.timestamp_ms, "
		    "aggregate_value = CASE WHEN assessments.value IS NULL THEN NULL WHEN "
		    "json_valid(assessments.value) "
		    "THEN CASE json_type(assessments.value) WHEN 'true' THEN 1.0 WHEN 'false' THEN 0.0 WHEN 'integer' "
		    "THEN mlflowd_finite_float(json_extract(assessments.value, '$')) WHEN 'real' THEN "
		    "mlflowd_finite_float(json_extract(assessments.value, '$')) WHEN 'text' THEN "
		    "mlflowd_yes_no(json_extract(assessments.value, '$')) END ELSE mlflowd_yes_no(assessments.value) "
		    "END, is_numeric_value = CASE WHEN json_valid(assessments.value) THEN CASE WHEN "
		    "json_type(assessments.value) IN ('integer', 'real') THEN "
		    "mlflowd_finite_float(json_extract(assessments.value, '$')) IS NOT NULL ELSE 0 END ELSE 0 END FROM "
		    "trace_info t WHERE t.request_id = assessments.trace_id;\n"
		    /* the rows the promoted columns came from */
		    "DELETE FROM trace_tags WHERE \"key\" = 'mlflow.traceName';\n"
		    "DELETE FROM trace_request_metadata WHERE \"key\" IN ('mlflow.trace.session', "
		    "'mlflow.trace.tokenUsage', 'mlflow.trace.cost');\n"
		    "DELETE FROM trace_metrics WHERE \"key\" IN ('input_tokens', 'output_tokens', 'total_tokens', "
		    "'cache_read_input_tokens', 'cache_creation_input_tokens', "
		    "'cache_creation_input_tokens_above_1hr');\n"
		    "DELETE FROM span_metrics WHERE \"key\" IN ('input_cost', 'output_cost', 'total_cost');\n"
		    "DROP TABLE temp.mlflowd_span_dims;");
	if (r) {
		sqlite3_free(sql);
		snprintf(msg, n, "out of memory");
		return -1;
	}
	r = mlf_schema_exec(db, sql, msg, n, "moving the traces' analytics");
	sqlite3_free(sql);
	return r;
}

int mlf_issue_categories_refuse(sqlite3 *db)
{
	return has_row(
	    db, "SELECT 1 FROM issues WHERE categories IS NOT NULL AND CASE WHEN NOT json_valid(categories) THEN 1 "
	        "WHEN json_type(categories) != 'array' THEN 1 ELSE EXISTS (SELECT 1 FROM "
	        "json_each(issues.categories) j WHERE j.type != 'text' OR NOT mlflowd_category_ok(j.value)) "
	        "END LIMIT 1");
}

int mlf_issue_categories_after(sqlite3 *db, char *msg, size_t n)
{
	/* MLflow keeps one category per hash: the last one written, in the
	 * place of the first */
	return mlf_schema_exec(
	    db,
	    "WITH c AS (SELECT i.rowid AS irow, i.issue_id, j.\"key\" AS idx, j.value AS category, "
	    "mlflowd_category_hash(j.value) AS h FROM issues i, json_each(i.categories) j WHERE i.categories IS "
	    "NOT NULL), g AS (SELECT irow, issue_id, h, min(idx) AS first, max(idx) AS last FROM c GROUP BY "
	    "irow, issue_id, h) INSERT INTO issue_categories (issue_id, category_hash, category) SELECT "
	    "g.issue_id, g.h, c.category FROM g JOIN c ON c.irow = g.irow AND c.idx = g.last ORDER BY g.irow, "
	    "g.first",
	    msg, n, "indexing the issues' categories");
}
