/*
 * json.c: the response JSON writer. See json.h.
 */
#include "json.h"

#include "../storage/pool.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sep(struct mlf_json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth > 0) {
		if (!j->first[j->depth - 1])
			mlf_buf_putc(&j->buf, ',');
		j->first[j->depth - 1] = 0;
	}
}

static void open_container(struct mlf_json *j, char c)
{
	sep(j);
	mlf_buf_putc(&j->buf, c);
	if (j->depth < MLF_JSON_MAX_DEPTH)
		j->first[j->depth] = 1;
	j->depth++;
}

static void close_container(struct mlf_json *j, char c)
{
	j->depth--;
	mlf_buf_putc(&j->buf, c);
}

void mlf_json_obj_begin(struct mlf_json *j)
{
	open_container(j, '{');
}
void mlf_json_obj_end(struct mlf_json *j)
{
	close_container(j, '}');
}
void mlf_json_arr_begin(struct mlf_json *j)
{
	open_container(j, '[');
}
void mlf_json_arr_end(struct mlf_json *j)
{
	close_container(j, ']');
}

void mlf_json_escape(struct mlf_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t plain = 0;
	while (plain < n && (unsigned char)s[plain] >= 0x20 && s[plain] != '"' && s[plain] != '\\')
		plain++;
	if (plain == n) { /* nothing to escape: the common case, one copy */
		mlf_buf_putc(b, '"');
		mlf_buf_append(b, s, n);
		mlf_buf_putc(b, '"');
		return;
	}
	mlf_buf_putc(b, '"');
	size_t start = 0;
	for (size_t i = plain; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		mlf_buf_append(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': mlf_buf_puts(b, "\\\""); break;
		case '\\': mlf_buf_puts(b, "\\\\"); break;
		case '\n': mlf_buf_puts(b, "\\n"); break;
		case '\r': mlf_buf_puts(b, "\\r"); break;
		case '\t': mlf_buf_puts(b, "\\t"); break;
		case '\b': mlf_buf_puts(b, "\\b"); break;
		case '\f': mlf_buf_puts(b, "\\f"); break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			mlf_buf_append(b, u, 6);
		}
		}
	}
	mlf_buf_append(b, s + start, n - start);
	mlf_buf_putc(b, '"');
}

void mlf_json_key(struct mlf_json *j, const char *key)
{
	sep(j);
	mlf_json_escape(&j->buf, key, strlen(key));
	mlf_buf_putc(&j->buf, ':');
	j->after_key = 1;
}

void mlf_json_strn(struct mlf_json *j, const char *s, size_t n)
{
	sep(j);
	mlf_json_escape(&j->buf, s, n);
}

void mlf_json_str(struct mlf_json *j, const char *s)
{
	if (!s) {
		mlf_json_null(j);
		return;
	}
	mlf_json_strn(j, s, strlen(s));
}

void mlf_json_int(struct mlf_json *j, int64_t v)
{
	sep(j);
	mlf_buf_put_i64(&j->buf, v);
}

/* ---- doubles ----
 *
 * MLflow's server writes floats as Python's repr does: the shortest
 * decimal that reads back as the same double (the closest one when
 * several are that short), in fixed notation for decimal exponents -4..15
 * and as d.ddde+XX otherwise. The digits come from exact integer
 * arithmetic when the numbers involved fit in 128 bits (every double from
 * about 1e-5 to 1e17, which covers nearly all metric values) and from
 * printf/strtod, digit count by digit count, for the rest. */

#define SHORTEST_MAX_DIGITS 17 /* 17 significant digits always read back */
#define FAST_NUM_MAX_BITS 124  /* bound on the scaled value's numerator */
#define FAST_DEN_MAX_BITS 70   /* bound on its denominator */

static const uint64_t POW10[20] = {1ULL,
                                   10ULL,
                                   100ULL,
                                   1000ULL,
                                   10000ULL,
                                   100000ULL,
                                   1000000ULL,
                                   10000000ULL,
                                   100000000ULL,
                                   1000000000ULL,
                                   10000000000ULL,
                                   100000000000ULL,
                                   1000000000000ULL,
                                   10000000000000ULL,
                                   100000000000000ULL,
                                   1000000000000000ULL,
                                   10000000000000000ULL,
                                   100000000000000000ULL,
                                   1000000000000000000ULL,
                                   10000000000000000000ULL};

typedef unsigned __int128 u128;

static u128 pow10_u128(int k) /* k <= 38 */
{
	return k < 20 ? (u128)POW10[k] : (u128)POW10[k - 19] * POW10[19];
}

/* The scaled value X = v * 10^k = (f + r / den) with f its 17-digit
 * integer part, and what deciding on a candidate needs. */
struct scaled {
	uint64_t f;
	u128 r, den, unit; /* one ulp of v is unit / den in X's units */
	u128 num;          /* X * den = f * den + r */
	int odd_m, lower_closer;
};

/* X rounded half-even to a multiple of p = 10^(17-n), n significant digits,
 * when that reads back as v, else 0. It reads back when its distance to X
 * is below half an ulp (a quarter below a power of two, whose lower
 * neighbour is closer), or exactly half with an even mantissa. */
static inline __attribute__((always_inline)) uint64_t candidate_p(const struct scaled *x, uint64_t p)
{
	uint64_t q = x->f / p, t = x->f % p, half = p / 2;
	if (p > 1 && (t > half || (t == half && (x->r > 0 || (q & 1)))))
		q++;
	else if (p == 1 && (2 * x->r > x->den || (2 * x->r == x->den && (q & 1))))
		q++;
	/* c - X in units of 1/den: (q * 10^j - f) * den - r */
	u128 cden = (u128)(q * p) * x->den;
	int above = cden >= x->num;
	u128 diff = above ? cden - x->num : x->num - cden;
	u128 twice = (above || !x->lower_closer ? 2 : 4) * diff; /* vs one ulp */
	return twice < x->unit || (twice == x->unit && !x->odd_m) ? q : 0;
}

/* The same for any n (a division by a table value), and for the 17, 16
 * and 15 digits nearly every measured value needs, whose constant divisors
 * the compiler turns into multiplications. */
static uint64_t candidate(const struct scaled *x, int n)
{
	return candidate_p(x, POW10[SHORTEST_MAX_DIGITS - n]);
}
#define CANDIDATE_17(x) candidate_p(x, 1)
#define CANDIDATE_16(x) candidate_p(x, 10)
#define CANDIDATE_15(x) candidate_p(x, 100)

/* Shortest digits of v > 0 (finite) by exact integer arithmetic: writes
 * the digits (no trailing zeros) to d, the decimal exponent of the first
 * digit to *exp10 and returns the digit count, or 0 when the numbers do
 * not fit and the caller must use shortest_slow. */
static int shortest_fast(double v, char d[SHORTEST_MAX_DIGITS + 1], int *exp10)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	int be = (int)(bits >> 52 & 0x7ff);
	uint64_t frac = bits & ((1ULL << 52) - 1);
	if (be == 0)
		return 0; /* subnormal: far outside the fast range */
	uint64_t m = frac | 1ULL << 52;
	int e = be - 1075; /* v = m * 2^e, 2^(e+52) <= v < 2^(e+53) */
	/* floor((e + 52) * log10(2)), exact for |e + 52| < 1650: the decimal
	 * exponent of v or one less, which the loop below corrects */
	int E = ((e + 52) * 78913) >> 18;
	struct scaled x = {.odd_m = (int)(m & 1), .lower_closer = frac == 0 && be > 1};
	u128 F;
	for (int attempt = 0;; attempt++) {
		if (attempt == 2)
			return 0;
		int k = SHORTEST_MAX_DIGITS - 1 - E; /* X = v * 10^k has 17 digits */
		int pe = e > 0 ? e : 0, ne = e < 0 ? -e : 0, pk = k > 0 ? k : 0, nk = k < 0 ? -k : 0;
		/* bit lengths: 10^k < 2^(3.33k) */
		if (53 + pe + (pk * 10 + 2) / 3 > FAST_NUM_MAX_BITS || ne + (nk * 10 + 2) / 3 + 1 > FAST_DEN_MAX_BITS ||
		    pk > 38 || nk > 38)
			return 0;
		x.unit = ((u128)1 << pe) * pow10_u128(pk); /* X = m * unit / den */
		x.num = (u128)m * x.unit;
		if (nk == 0) { /* den a power of two: shifts */
			x.den = (u128)1 << ne;
			F = x.num >> ne;
			x.r = x.num & (x.den - 1);
		} else {
			x.den = ((u128)1 << ne) * pow10_u128(nk);
			F = x.num / x.den;
			x.r = x.num % x.den;
		}
		if (F >= POW10[SHORTEST_MAX_DIGITS])
			E++;
		else if (F < POW10[SHORTEST_MAX_DIGITS - 1])
			E--;
		else
			break;
	}
	x.f = (uint64_t)F;
	/* Reading back is monotonic in the digit count. Measured values
	 * (losses, accuracies) mostly need 16 or 17 digits: try those first,
	 * then search the shorter counts. */
	int lo = 1, n = SHORTEST_MAX_DIGITS - 1;
	uint64_t q = CANDIDATE_16(&x), shorter;
	if (!q) {
		n = lo = SHORTEST_MAX_DIGITS;
		if (!(q = CANDIDATE_17(&x)))
			return 0;
	} else if (!(shorter = CANDIDATE_15(&x))) {
		lo = n;
	} else {
		q = shorter;
		n--;
	}
	while (lo < n) {
		int mid = (lo + n) / 2;
		uint64_t c = candidate(&x, mid);
		if (c) {
			n = mid;
			q = c;
		} else {
			lo = mid + 1;
		}
	}
	if (q == POW10[n]) { /* rounded up to 10^n: "1" in the next decade */
		q = 1;
		n = 1;
		E++;
	}
	mlf_u64_digits(d + n, q); /* q has exactly n digits */
	while (n > 1 && d[n - 1] == '0')
		n--;
	d[n] = '\0';
	*exp10 = E;
	return n;
}

/* The same by printf and strtod: the first digit count whose correctly
 * rounded form reads back. */
static int shortest_slow(double v, char d[SHORTEST_MAX_DIGITS + 1], int *exp10)
{
	char t[40];
	for (int n = 1; n <= SHORTEST_MAX_DIGITS; n++) {
		snprintf(t, sizeof t, "%.*e", n - 1, v);
		if (strtod(t, NULL) != v && n < SHORTEST_MAX_DIGITS)
			continue;
		int k = 0;
		const char *c = t;
		for (; *c && *c != 'e'; c++)
			if (*c >= '0' && *c <= '9')
				d[k++] = *c;
		while (k > 1 && d[k - 1] == '0')
			k--;
		d[k] = '\0';
		*exp10 = atoi(c + 1);
		return k;
	}
	return 0;
}

int mlf_format_double(char out[32], double v)
{
	if (isnan(v))
		return snprintf(out, 32, "NaN");
	if (isinf(v))
		return snprintf(out, 32, v > 0 ? "Infinity" : "-Infinity");
	char *o = out;
	if (signbit(v)) {
		*o++ = '-';
		v = -v;
	}
	if (v == 0) {
		memcpy(o, "0.0", 4);
		return (int)(o - out) + 3;
	}
	char d[SHORTEST_MAX_DIGITS + 1];
	int E = 0, n = shortest_fast(v, d, &E);
	if (!n)
		n = shortest_slow(v, d, &E);
	if (E < -4 || E >= 16) { /* d.ddde+XX */
		*o++ = d[0];
		if (n > 1) {
			*o++ = '.';
			memcpy(o, d + 1, (size_t)n - 1);
			o += n - 1;
		}
		o += sprintf(o, "e%c%02d", E < 0 ? '-' : '+', E < 0 ? -E : E);
	} else if (E < 0) { /* 0.000ddd */
		*o++ = '0';
		*o++ = '.';
		for (int i = -1; i > E; i--)
			*o++ = '0';
		memcpy(o, d, (size_t)n);
		o += n;
	} else { /* ddd.ddd, integral values with ".0" */
		for (int i = 0; i <= E; i++)
			*o++ = i < n ? d[i] : '0';
		*o++ = '.';
		if (n > E + 1) {
			memcpy(o, d + E + 1, (size_t)(n - E - 1));
			o += n - E - 1;
		} else {
			*o++ = '0';
		}
	}
	*o = '\0';
	return (int)(o - out);
}

void mlf_json_put_double(struct mlf_buf *b, double v)
{
	char t[32];
	int n = mlf_format_double(t, v);
	if (isnan(v) || isinf(v)) {
		mlf_buf_putc(b, '"');
		mlf_buf_append(b, t, (size_t)n);
		mlf_buf_putc(b, '"');
	} else {
		mlf_buf_append(b, t, (size_t)n);
	}
}

void mlf_json_double(struct mlf_json *j, double v)
{
	sep(j);
	mlf_json_put_double(&j->buf, v);
}

struct mlf_buf *mlf_json_raw_value(struct mlf_json *j)
{
	sep(j);
	return &j->buf;
}

void mlf_json_bool(struct mlf_json *j, int v)
{
	sep(j);
	mlf_buf_puts(&j->buf, v ? "true" : "false");
}

void mlf_json_null(struct mlf_json *j)
{
	sep(j);
	mlf_buf_puts(&j->buf, "null");
}

void mlf_json_raw(struct mlf_json *j, const char *text)
{
	sep(j);
	mlf_buf_puts(&j->buf, text);
}

void mlf_json_kv_str(struct mlf_json *j, const char *key, const char *s)
{
	if (!s)
		return;
	mlf_json_key(j, key);
	mlf_json_str(j, s);
}

void mlf_json_kv_int(struct mlf_json *j, const char *key, int64_t v)
{
	mlf_json_key(j, key);
	mlf_json_int(j, v);
}

void mlf_json_kv_double(struct mlf_json *j, const char *key, double v)
{
	mlf_json_key(j, key);
	mlf_json_double(j, v);
}

void mlf_json_kv_bool(struct mlf_json *j, const char *key, int v)
{
	mlf_json_key(j, key);
	mlf_json_bool(j, v);
}

/* ---- error bodies ---- */

/* MLflow's error_classification.py: error code -> (sqlstate, error_class). */
static const struct {
	enum mlf_status st;
	const char *sqlstate, *error_class;
} error_classes[] = {
    {MLF_BAD_REQUEST, "KAM00", "INVALID_PARAMETER_VALUE"},
    {MLF_ENDPOINT_NOT_FOUND, "KAM00", "RESOURCE_NOT_FOUND"},
    {MLF_INTERNAL_ERROR, "XXM00", "CLIENT_INTERNAL_ERROR"},
    {MLF_INVALID_PARAMETER_VALUE, "KAM00", "INVALID_PARAMETER_VALUE"},
    {MLF_INVALID_STATE, "XXM00", "CLIENT_INTERNAL_ERROR"},
    {MLF_PERMISSION_DENIED, "KAM00", "PERMISSION_DENIED"},
    {MLF_RESOURCE_ALREADY_EXISTS, "KAM00", "RESOURCE_ALREADY_EXISTS"},
    {MLF_RESOURCE_DOES_NOT_EXIST, "KAM00", "RESOURCE_NOT_FOUND"},
    {MLF_TEMPORARILY_UNAVAILABLE, "XXM00", "CLIENT_INTERNAL_ERROR"},
};

/* s as a JSON string with every byte that does not start well-formed
 * UTF-8 replaced by U+FFFD. */
static void escape_utf8_safe(struct mlf_buf *b, const char *s)
{
	size_t n = strlen(s), ok = mlf_utf8_valid_prefix(s, n);
	if (ok == n) {
		mlf_json_escape(b, s, n);
		return;
	}
	struct mlf_buf clean = {0};
	for (size_t i = 0; i < n;) {
		int l = mlf_utf8_seq_len((const unsigned char *)s + i, n - i);
		if (l == 0) {
			mlf_buf_puts(&clean, "\xEF\xBF\xBD");
			i++;
		} else {
			mlf_buf_append(&clean, s + i, (size_t)l);
			i += (size_t)l;
		}
	}
	mlf_json_escape(b, clean.data, clean.len);
	mlf_buf_release(&clean);
}

void mlf_json_error_body(struct mlf_buf *b, enum mlf_status st, const char *msg)
{
	const char *code = mlf_status_name(st);
	mlf_buf_puts(b, "{\"error_code\": ");
	mlf_json_escape(b, code, strlen(code));
	mlf_buf_puts(b, ", \"message\": ");
	escape_utf8_safe(b, msg ? msg : "");
	for (size_t i = 0; i < sizeof error_classes / sizeof error_classes[0]; i++) {
		if (error_classes[i].st != st)
			continue;
		mlf_buf_printf(b, ", \"sqlstate\": \"%s\", \"error_class\": \"%s\"", error_classes[i].sqlstate,
		               error_classes[i].error_class);
		break;
	}
	mlf_buf_puts(b, "}");
}

void mlf_json_reset(struct mlf_json *j)
{
	mlf_buf_reset(&j->buf);
	j->depth = 0;
	j->after_key = 0;
}

void mlf_json_release(struct mlf_json *j)
{
	mlf_buf_release(&j->buf);
	j->depth = 0;
	j->after_key = 0;
}

/* ---- long arrays on two threads ---- */

struct elems_split {
	struct mlf_json *out; /* borrowed: inside the open array */
	struct mlf_json tail; /* owned: the second half, elements after the first */
	int n, half;
	mlf_json_elem_fn fn;
	const void *ctx;
};

static void elems_task(void *p, int part)
{
	struct elems_split *w = p;
	struct mlf_json *j = part ? &w->tail : w->out;
	for (int i = part ? w->half : 0, end = part ? w->n : w->half; i < end; i++)
		w->fn(j, w->ctx, i);
}

void mlf_json_elems(struct mlf_json *j, int n, int split_from, mlf_json_elem_fn fn, const void *ctx)
{
	if (n < 2 || n < split_from || mlf_pool_helpers() == 0) {
		for (int i = 0; i < n; i++)
			fn(j, ctx, i);
		return;
	}
	struct elems_split w = {.out = j, .n = n, .half = n / 2, .fn = fn, .ctx = ctx};
	w.tail.depth = 1; /* inside the array, after an element */
	mlf_pool_run(2, elems_task, &w);
	mlf_buf_append(&j->buf, w.tail.buf.data, w.tail.buf.len);
	mlf_buf_release(&w.tail.buf);
}
