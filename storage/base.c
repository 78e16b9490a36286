/*
 * base.c: error statuses, the request arena, growable buffers, clocks, ids
 * and base64, shared by every layer. See base.h.
 */
#include "base.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

static const struct {
	const char *name;
	int http;
} status_table[MLF_STATUS_COUNT] = {
    [MLF_OK] = {"OK", 200},
    [MLF_INTERNAL_ERROR] = {"INTERNAL_ERROR", 500},
    [MLF_INVALID_STATE] = {"INVALID_STATE", 500},
    [MLF_NOT_IMPLEMENTED] = {"NOT_IMPLEMENTED", 501},
    [MLF_TEMPORARILY_UNAVAILABLE] = {"TEMPORARILY_UNAVAILABLE", 503},
    [MLF_BAD_REQUEST] = {"BAD_REQUEST", 400},
    [MLF_INVALID_PARAMETER_VALUE] = {"INVALID_PARAMETER_VALUE", 400},
    [MLF_RESOURCE_ALREADY_EXISTS] = {"RESOURCE_ALREADY_EXISTS", 400},
    [MLF_RESOURCE_DOES_NOT_EXIST] = {"RESOURCE_DOES_NOT_EXIST", 404},
    [MLF_ENDPOINT_NOT_FOUND] = {"ENDPOINT_NOT_FOUND", 404},
    [MLF_PERMISSION_DENIED] = {"PERMISSION_DENIED", 403},
    [MLF_REQUEST_LIMIT_EXCEEDED] = {"REQUEST_LIMIT_EXCEEDED", 429},
    [MLF_IO_ERROR] = {"IO_ERROR", 500},
};

const char *mlf_status_name(enum mlf_status s)
{
	if ((unsigned)s >= MLF_STATUS_COUNT)
		return "INTERNAL_ERROR";
	return status_table[s].name;
}

int mlf_status_http(enum mlf_status s)
{
	if ((unsigned)s >= MLF_STATUS_COUNT)
		return 500;
	return status_table[s].http;
}

enum mlf_status mlf_fail(struct mlf_error *err, enum mlf_status status, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		mlf_utf8_scrub(err->msg);
		err->status = status;
	}
	return status;
}

/* ---- arena ---- */

#define ARENA_CHUNK_MIN 8192
#define ARENA_ALIGN 16

struct mlf_arena_chunk {
	struct mlf_arena_chunk *next;
	size_t used, cap;
	_Alignas(ARENA_ALIGN) unsigned char mem[];
};

static void oom(void)
{
	fputs("mlflowd: out of memory\n", stderr);
	abort();
}

void *mlf_arena_alloc(struct mlf_arena *a, size_t n)
{
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	struct mlf_arena_chunk *c = a->head;
	if (!c || c->cap - c->used < need) {
		size_t cap = need > ARENA_CHUNK_MIN ? need : ARENA_CHUNK_MIN;
		if (c && c->cap * 2 > cap && c->cap < (1u << 20))
			cap = c->cap * 2 > need ? c->cap * 2 : need;
		c = malloc(sizeof *c + cap);
		if (!c)
			oom();
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->mem + c->used;
	c->used += need;
	memset(p, 0, n);
	return p;
}

char *mlf_arena_strndup(struct mlf_arena *a, const char *s, size_t n)
{
	char *p = mlf_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *mlf_arena_strdup(struct mlf_arena *a, const char *s)
{
	if (!s)
		return NULL;
	return mlf_arena_strndup(a, s, strlen(s));
}

char *mlf_arena_printf(struct mlf_arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *p = mlf_arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

void *mlf_arena_grow(struct mlf_arena *a, void *old, size_t old_n, size_t new_n, size_t elem)
{
	void *p = mlf_arena_alloc(a, new_n * elem);
	if (old && old_n)
		memcpy(p, old, old_n * elem);
	return p;
}

void mlf_arena_release(struct mlf_arena *a)
{
	struct mlf_arena_chunk *c = a->head;
	while (c) {
		struct mlf_arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
}

void mlf_arena_adopt(struct mlf_arena *dst, struct mlf_arena *src)
{
	struct mlf_arena_chunk *last = src->head;
	if (!last)
		return;
	while (last->next)
		last = last->next;
	/* after dst's current chunk, which keeps serving new allocations */
	if (dst->head) {
		last->next = dst->head->next;
		dst->head->next = src->head;
	} else {
		dst->head = src->head;
	}
	src->head = NULL;
}

/* ---- buffers ---- */

void mlf_buf_grow(struct mlf_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p)
		oom();
	b->data = p;
	b->cap = cap;
}

/* "00", "01", ... "99": two digits per division. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

#define DIGIT_CHUNK 100000000u /* 10^8: eight digits in 32-bit arithmetic */

static char *put_u32_digits(char *p, uint32_t u)
{
	for (; u >= 100; u /= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (u % 100), 2);
	}
	if (u >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * u, 2);
	} else {
		*--p = (char)('0' + u);
	}
	return p;
}

char *mlf_u64_digits(char *end, uint64_t u)
{
	char *p = end;
	/* 64-bit divisions only per eight digits; each chunk of eight then
	 * in 32 bits, zero-padded */
	while (u >= DIGIT_CHUNK) {
		uint32_t low = (uint32_t)(u % DIGIT_CHUNK);
		u /= DIGIT_CHUNK;
		for (int i = 0; i < 4; i++, low /= 100) {
			p -= 2;
			memcpy(p, digit_pairs + 2 * (low % 100), 2);
		}
	}
	return put_u32_digits(p, (uint32_t)u);
}

void mlf_buf_put_i64(struct mlf_buf *b, int64_t v)
{
	char t[24], *e = t + sizeof t;
	char *p = mlf_u64_digits(e, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	mlf_buf_append(b, p, (size_t)(e - p));
}

void mlf_buf_puts(struct mlf_buf *b, const char *s)
{
	mlf_buf_append(b, s, strlen(s));
}

void mlf_buf_vprintf(struct mlf_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	mlf_buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	b->len += (size_t)n;
}

void mlf_buf_printf(struct mlf_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mlf_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void mlf_buf_reset(struct mlf_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void mlf_buf_release(struct mlf_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ---- time and ids ---- */

int64_t mlf_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void uuid_to_hex(const uuid_t u, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[u[i] >> 4];
		out[2 * i + 1] = hex[u[i] & 15];
	}
	out[32] = '\0';
}

void mlf_uuid_hex(char out[33])
{
	uuid_t u;
	uuid_generate_random(u);
	uuid_to_hex(u, out);
}

void mlf_uuid7_hex(char out[33])
{
	uuid_t u;
	uuid_generate_random(u);
	uint64_t ms = (uint64_t)mlf_now_ms();
	for (int i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (40 - 8 * i));
	u[6] = (unsigned char)(0x70 | (u[6] & 0x0f)); /* version 7 */
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f)); /* RFC 9562 variant */
	uuid_to_hex(u, out);
}

void mlf_uuid_str(char out[37])
{
	uuid_t u;
	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *mlf_base64_encode(struct mlf_arena *a, const void *p, size_t n)
{
	const unsigned char *s = p;
	char *out = mlf_arena_alloc(a, (n + 2) / 3 * 4 + 1), *o = out;
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = b64[(v >> 6) & 63];
		*o++ = b64[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64val(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	if (c == '-')
		return 62; /* accept the URL-safe alphabet too */
	if (c == '_')
		return 63;
	return p ? (int)(p - b64) : -1;
}

char *mlf_base64_decode(struct mlf_arena *a, const char *s, size_t *out_len)
{
	size_t n = strlen(s);
	char *out = mlf_arena_alloc(a, n / 4 * 3 + 4);
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	size_t i = 0;
	for (; i < n && s[i] != '='; i++) {
		int v = b64val((unsigned char)s[i]);
		if (v < 0)
			return NULL;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	for (; i < n; i++)
		if (s[i] != '=')
			return NULL;
	out[o] = '\0';
	*out_len = o;
	return out;
}

/* ---- URI text ---- */

int mlf_utf8_seq_len(const unsigned char *s, size_t avail)
{
	if (avail == 0)
		return 0;
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	int n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	if (n == 0 || avail < (size_t)n)
		return 0;
	for (int k = 1; k < n; k++)
		if ((s[k] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xF0 && s[1] < 0x90))
		return 0; /* overlong */
	if (c == 0xED && s[1] >= 0xA0)
		return 0; /* surrogate */
	if (c == 0xF4 && s[1] >= 0x90)
		return 0; /* above U+10FFFF */
	return n;
}

size_t mlf_utf8_valid_prefix(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (u[i] < 0x80) { /* ASCII runs: the common case */
			i++;
			continue;
		}
		int l = mlf_utf8_seq_len(u + i, n - i);
		if (l == 0)
			return i;
		i += (size_t)l;
	}
	return n;
}

void mlf_utf8_scrub(char *s)
{
	unsigned char *u = (unsigned char *)s;
	size_t n = strlen(s), r = 0, w = 0;
	while (r < n) {
		int l = u[r] < 0x80 ? 1 : mlf_utf8_seq_len(u + r, n - r);
		if (l == 0) { /* a byte of a sequence cut by a precision or the buffer's end */
			r++;
			continue;
		}
		memmove(u + w, u + r, (size_t)l);
		r += (size_t)l;
		w += (size_t)l;
	}
	u[w] = '\0';
}

int mlf_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *mlf_unquote(struct mlf_arena *a, const char *s)
{
	char *out = mlf_arena_alloc(a, strlen(s) + 1), *o = out;
	for (size_t i = 0; s[i]; i++) {
		int h, l;
		if (s[i] == '%' && (h = mlf_hex_digit((unsigned char)s[i + 1])) >= 0 &&
		    (l = mlf_hex_digit((unsigned char)s[i + 2])) >= 0) {
			if (h == 0 && l == 0)
				return NULL;
			*o++ = (char)(h * 16 + l);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

size_t mlf_uri_scheme_len(const char *u)
{
	if (!isalpha((unsigned char)u[0]))
		return 0;
	size_t i = 1;
	while (isalnum((unsigned char)u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.')
		i++;
	return u[i] == ':' ? i : 0;
}
