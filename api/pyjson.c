/*
 * pyjson.c: Python's json.loads / json.dumps dialect. See pyjson.h.
 */
#include "pyjson.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	struct mlf_arena *a;
	const char *p, *end;
	int depth;
};

struct mlf_py *mlf_py_new(struct mlf_arena *a, enum mlf_py_type type)
{
	struct mlf_py *v = mlf_arena_alloc(a, sizeof *v);
	v->type = type;
	return v;
}

static void push(struct mlf_arena *a, struct mlf_py *c, struct mlf_py *key, struct mlf_py *v)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		c->items = mlf_arena_grow(a, c->items, c->n, cap, sizeof *c->items);
		if (c->type == MLF_PY_DICT)
			c->keys = mlf_arena_grow(a, c->keys, c->n, cap, sizeof *c->keys);
		c->cap = cap;
	}
	if (key)
		c->keys[c->n] = key;
	c->items[c->n++] = v;
}

static int str_eq(const struct mlf_py *a, const struct mlf_py *b)
{
	return a->slen == b->slen && !memcmp(a->s, b->s, a->slen * sizeof *a->s);
}

static int str_is(const struct mlf_py *s, const char *ascii)
{
	size_t n = strlen(ascii);
	if (s->slen != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s->s[i] != (unsigned char)ascii[i])
			return 0;
	return 1;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* One UTF-8 sequence at p (strictly: no overlong forms, no encoded
 * surrogates); its length, or 0 when invalid. */
static int utf8_decode(const unsigned char *p, const unsigned char *end, unsigned *cp)
{
	unsigned c = p[0];
	int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
	if (!n || end - p < n)
		return 0;
	unsigned v = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

static struct mlf_py *parse_string(struct parser *ps)
{
	ps->p++; /* the opening quote */
	size_t cap = 16, n = 0;
	uint16_t *s = mlf_arena_alloc(ps->a, cap * sizeof *s);
	for (;;) {
		if (ps->p >= ps->end)
			return NULL;
		unsigned char c = (unsigned char)*ps->p;
		unsigned units[2];
		int nu = 1;
		if (c == '"') {
			ps->p++;
			break;
		}
		if (c < 0x20)
			return NULL; /* json.loads is strict about control characters */
		if (c == '\\') {
			if (ps->end - ps->p < 2)
				return NULL;
			char e = ps->p[1];
			ps->p += 2;
			switch (e) {
			case '"': units[0] = '"'; break;
			case '\\': units[0] = '\\'; break;
			case '/': units[0] = '/'; break;
			case 'b': units[0] = '\b'; break;
			case 'f': units[0] = '\f'; break;
			case 'n': units[0] = '\n'; break;
			case 'r': units[0] = '\r'; break;
			case 't': units[0] = '\t'; break;
			case 'u':
				if (ps->end - ps->p < 4 || hex4(ps->p, &units[0]) < 0)
					return NULL;
				ps->p += 4;
				break;
			default: return NULL;
			}
		} else {
			unsigned cp;
			int len = utf8_decode((const unsigned char *)ps->p, (const unsigned char *)ps->end, &cp);
			if (!len)
				return NULL;
			ps->p += len;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				units[0] = 0xd800 | (cp >> 10);
				units[1] = 0xdc00 | (cp & 0x3ff);
				nu = 2;
			} else {
				units[0] = cp;
			}
		}
		if (n + 2 > cap) {
			s = mlf_arena_grow(ps->a, s, n, cap * 2, sizeof *s);
			cap *= 2;
		}
		for (int i = 0; i < nu; i++)
			s[n++] = (uint16_t)units[i];
	}
	struct mlf_py *v = mlf_py_new(ps->a, MLF_PY_STR);
	v->s = s;
	v->slen = n;
	return v;
}

static int lit(struct parser *ps, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return 0;
	ps->p += n;
	return 1;
}

static struct mlf_py *parse_number(struct parser *ps)
{
	const char *start = ps->p, *p = ps->p;
	int is_float = 0;
	if (p < ps->end && *p == '-')
		p++;
	if (p < ps->end && *p == '0')
		p++;
	else if (p < ps->end && *p >= '1' && *p <= '9')
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (p < ps->end && *p == '.') {
		const char *d = ++p;
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return NULL;
		is_float = 1;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < ps->end && (*p == '+' || *p == '-'))
			p++;
		const char *d = p;
		while (p < ps->end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return NULL;
		is_float = 1;
	}
	ps->p = p;
	char *text = mlf_arena_strndup(ps->a, start, (size_t)(p - start));
	struct mlf_py *v = mlf_py_new(ps->a, is_float ? MLF_PY_FLOAT : MLF_PY_INT);
	if (is_float) {
		v->f = strtod(text, NULL);
	} else {
		/* -0 is the integer 0 */
		v->digits = !strcmp(text, "-0") ? "0" : text;
	}
	return v;
}

static struct mlf_py *parse_value(struct parser *ps);

static struct mlf_py *parse_container(struct parser *ps, int dict)
{
	if (++ps->depth > MLF_PYJSON_MAX_DEPTH)
		return NULL;
	ps->p++;
	struct mlf_py *c = mlf_py_new(ps->a, dict ? MLF_PY_DICT : MLF_PY_LIST);
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == (dict ? '}' : ']')) {
		ps->p++;
		ps->depth--;
		return c;
	}
	for (;;) {
		struct mlf_py *key = NULL;
		skip_ws(ps);
		if (dict) {
			if (ps->p >= ps->end || *ps->p != '"' || !(key = parse_string(ps)))
				return NULL;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return NULL;
			ps->p++;
		}
		struct mlf_py *v = parse_value(ps);
		if (!v)
			return NULL;
		size_t at = c->n;
		for (size_t i = 0; key && i < c->n; i++)
			if (str_eq(c->keys[i], key))
				at = i;
		if (at < c->n)
			c->items[at] = v; /* a repeated key: first place, last value */
		else
			push(ps->a, c, key, v);
		skip_ws(ps);
		if (ps->p >= ps->end)
			return NULL;
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p != (dict ? '}' : ']'))
			return NULL;
		ps->p++;
		ps->depth--;
		return c;
	}
}

static struct mlf_py *parse_value(struct parser *ps)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return NULL;
	struct mlf_py *v;
	switch (*ps->p) {
	case '{': return parse_container(ps, 1);
	case '[': return parse_container(ps, 0);
	case '"': return parse_string(ps);
	case 't': return lit(ps, "true") ? mlf_py_new(ps->a, MLF_PY_TRUE) : NULL;
	case 'f': return lit(ps, "false") ? mlf_py_new(ps->a, MLF_PY_FALSE) : NULL;
	case 'n': return lit(ps, "null") ? mlf_py_new(ps->a, MLF_PY_NULL) : NULL;
	case 'N':
		if (!lit(ps, "NaN"))
			return NULL;
		v = mlf_py_new(ps->a, MLF_PY_FLOAT);
		v->f = NAN;
		return v;
	case 'I':
		if (!lit(ps, "Infinity"))
			return NULL;
		v = mlf_py_new(ps->a, MLF_PY_FLOAT);
		v->f = INFINITY;
		return v;
	case '-':
		if (lit(ps, "-Infinity")) {
			v = mlf_py_new(ps->a, MLF_PY_FLOAT);
			v->f = -INFINITY;
			return v;
		}
		return parse_number(ps);
	default: return parse_number(ps);
	}
}

struct mlf_py *mlf_py_loads(struct mlf_arena *a, const char *text, size_t n)
{
	struct parser ps = {a, text, text + n, 0};
	struct mlf_py *v = parse_value(&ps);
	skip_ws(&ps);
	return v && ps.p == ps.end ? v : NULL;
}

/* ---- writing ---- */

static void put_float(struct mlf_buf *b, double f)
{
	char t[32];
	int n = mlf_format_double(t, f); /* Python's repr; NaN, Infinity, -Infinity bare */
	mlf_buf_append(b, t, (size_t)n);
}

static void dumps_str(struct mlf_buf *b, const struct mlf_py *v)
{
	mlf_buf_putc(b, '"');
	for (size_t i = 0; i < v->slen; i++) {
		unsigned u = v->s[i];
		switch (u) {
		case '"': mlf_buf_puts(b, "\\\""); break;
		case '\\': mlf_buf_puts(b, "\\\\"); break;
		case '\n': mlf_buf_puts(b, "\\n"); break;
		case '\r': mlf_buf_puts(b, "\\r"); break;
		case '\t': mlf_buf_puts(b, "\\t"); break;
		case '\b': mlf_buf_puts(b, "\\b"); break;
		case '\f': mlf_buf_puts(b, "\\f"); break;
		default:
			if (u >= 0x20 && u <= 0x7e)
				mlf_buf_putc(b, (char)u);
			else
				mlf_buf_printf(b, "\\u%04x", u);
		}
	}
	mlf_buf_putc(b, '"');
}

void mlf_py_dumps(struct mlf_buf *b, const struct mlf_py *v)
{
	switch (v->type) {
	case MLF_PY_NULL: mlf_buf_puts(b, "null"); break;
	case MLF_PY_TRUE: mlf_buf_puts(b, "true"); break;
	case MLF_PY_FALSE: mlf_buf_puts(b, "false"); break;
	case MLF_PY_INT: mlf_buf_puts(b, v->digits); break;
	case MLF_PY_FLOAT: put_float(b, v->f); break;
	case MLF_PY_STR: dumps_str(b, v); break;
	case MLF_PY_LIST:
	case MLF_PY_DICT:
		mlf_buf_putc(b, v->type == MLF_PY_LIST ? '[' : '{');
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				mlf_buf_puts(b, ", ");
			if (v->type == MLF_PY_DICT) {
				dumps_str(b, v->keys[i]);
				mlf_buf_puts(b, ": ");
			}
			mlf_py_dumps(b, v->items[i]);
		}
		mlf_buf_putc(b, v->type == MLF_PY_LIST ? ']' : '}');
		break;
	}
}

/* UTF-16 code units as UTF-8 (a lone surrogate as its 3-byte form, as
 * Python's surrogatepass would); repr: quote and escape as Python's repr. */
static void put_units(struct mlf_buf *b, const struct mlf_py *v, char quote)
{
	for (size_t i = 0; i < v->slen; i++) {
		unsigned cp = v->s[i];
		if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < v->slen && v->s[i + 1] >= 0xdc00 && v->s[i + 1] <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (v->s[i + 1] - 0xdc00);
			i++;
		}
		if (quote) {
			if (cp == (unsigned)quote || cp == '\\') {
				mlf_buf_putc(b, '\\');
				mlf_buf_putc(b, (char)cp);
				continue;
			}
			if (cp == '\n' || cp == '\r' || cp == '\t') {
				mlf_buf_puts(b, cp == '\n' ? "\\n" : cp == '\r' ? "\\r" : "\\t");
				continue;
			}
			if (cp < 0x20 || cp == 0x7f) {
				mlf_buf_printf(b, "\\x%02x", cp);
				continue;
			}
		}
		char u[4];
		int n;
		if (cp < 0x80) {
			u[0] = (char)cp;
			n = 1;
		} else if (cp < 0x800) {
			u[0] = (char)(0xc0 | cp >> 6);
			u[1] = (char)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			u[0] = (char)(0xe0 | cp >> 12);
			u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			u[2] = (char)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			u[0] = (char)(0xf0 | cp >> 18);
			u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
			u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
			u[3] = (char)(0x80 | (cp & 0x3f));
			n = 4;
		}
		mlf_buf_append(b, u, (size_t)n);
	}
}

static void repr(struct mlf_buf *b, const struct mlf_py *v)
{
	switch (v->type) {
	case MLF_PY_NULL: mlf_buf_puts(b, "None"); break;
	case MLF_PY_TRUE: mlf_buf_puts(b, "True"); break;
	case MLF_PY_FALSE: mlf_buf_puts(b, "False"); break;
	case MLF_PY_INT: mlf_buf_puts(b, v->digits); break;
	case MLF_PY_FLOAT:
		if (isnan(v->f))
			mlf_buf_puts(b, "nan");
		else if (isinf(v->f))
			mlf_buf_puts(b, v->f > 0 ? "inf" : "-inf");
		else
			put_float(b, v->f);
		break;
	case MLF_PY_STR: {
		int single = 0, dbl = 0;
		for (size_t i = 0; i < v->slen; i++) {
			single |= v->s[i] == '\'';
			dbl |= v->s[i] == '"';
		}
		char q = single && !dbl ? '"' : '\'';
		mlf_buf_putc(b, q);
		put_units(b, v, q);
		mlf_buf_putc(b, q);
		break;
	}
	case MLF_PY_LIST:
	case MLF_PY_DICT:
		mlf_buf_putc(b, v->type == MLF_PY_LIST ? '[' : '{');
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				mlf_buf_puts(b, ", ");
			if (v->type == MLF_PY_DICT) {
				repr(b, v->keys[i]);
				mlf_buf_puts(b, ": ");
			}
			repr(b, v->items[i]);
		}
		mlf_buf_putc(b, v->type == MLF_PY_LIST ? ']' : '}');
		break;
	}
}

void mlf_py_str(struct mlf_buf *b, const struct mlf_py *v)
{
	if (v->type == MLF_PY_STR)
		put_units(b, v, 0);
	else
		repr(b, v);
}

int mlf_py_truthy(const struct mlf_py *v)
{
	switch (v->type) {
	case MLF_PY_NULL:
	case MLF_PY_FALSE: return 0;
	case MLF_PY_TRUE: return 1;
	case MLF_PY_INT: return strcmp(v->digits, "0") != 0;
	case MLF_PY_FLOAT: return v->f != 0;
	case MLF_PY_STR: return v->slen > 0;
	default: return v->n > 0;
	}
}

struct mlf_py *mlf_py_get(const struct mlf_py *d, const char *key)
{
	if (!d || d->type != MLF_PY_DICT)
		return NULL;
	for (size_t i = 0; i < d->n; i++)
		if (str_is(d->keys[i], key))
			return d->items[i];
	return NULL;
}

struct mlf_py *mlf_py_new_str(struct mlf_arena *a, const char *utf8)
{
	struct mlf_py *v = mlf_py_loads(a, "\"\"", 2);
	size_t n = strlen(utf8);
	uint16_t *s = mlf_arena_alloc(a, (2 * n + 1) * sizeof *s);
	size_t k = 0;
	for (const unsigned char *p = (const unsigned char *)utf8, *end = p + n; p < end;) {
		unsigned cp;
		int len = utf8_decode(p, end, &cp);
		if (!len) { /* not UTF-8: the byte as U+FFFD */
			cp = 0xfffd;
			len = 1;
		}
		p += len;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			s[k++] = (uint16_t)(0xd800 | (cp >> 10));
			s[k++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			s[k++] = (uint16_t)cp;
		}
	}
	v->s = s;
	v->slen = k;
	return v;
}

void mlf_py_set(struct mlf_arena *a, struct mlf_py *d, const char *key, struct mlf_py *v)
{
	for (size_t i = 0; i < d->n; i++)
		if (str_is(d->keys[i], key)) {
			d->items[i] = v;
			return;
		}
	push(a, d, mlf_py_new_str(a, key), v);
}

void mlf_py_append(struct mlf_arena *a, struct mlf_py *list, struct mlf_py *v)
{
	push(a, list, NULL, v);
}

void mlf_py_add(struct mlf_arena *a, struct mlf_py *d, struct mlf_py *key, struct mlf_py *v)
{
	push(a, d, key, v);
}

int mlf_py_str_is(const struct mlf_py *s, const char *ascii)
{
	return s->type == MLF_PY_STR && str_is(s, ascii);
}
