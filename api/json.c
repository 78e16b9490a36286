/*
 * json.c: the response JSON writer. See json.h.
 */
#include "json.h"

#include <math.h>
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
	mlf_buf_putc(b, '"');
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
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
	char t[24];
	int n = snprintf(t, sizeof t, "%lld", (long long)v);
	sep(j);
	mlf_buf_append(&j->buf, t, (size_t)n);
}

int mlf_format_double(char out[32], double v)
{
	if (isnan(v))
		return snprintf(out, 32, "NaN");
	if (isinf(v))
		return snprintf(out, 32, v > 0 ? "Infinity" : "-Infinity");
	/* 16 significant digits print every value whose shortest form is that
	 * short (%g drops trailing zeros); the rest need 17. */
	int n = snprintf(out, 32, "%.16g", v);
	if (strtod(out, NULL) != v)
		n = snprintf(out, 32, "%.17g", v);
	/* Integral values keep a ".0" as Python prints them. */
	if (!strpbrk(out, ".eEn") && n < 30) {
		out[n++] = '.';
		out[n++] = '0';
		out[n] = '\0';
	}
	return n;
}

void mlf_json_double(struct mlf_json *j, double v)
{
	char t[32];
	int n = mlf_format_double(t, v);
	sep(j);
	if (isnan(v) || isinf(v)) {
		mlf_buf_putc(&j->buf, '"');
		mlf_buf_append(&j->buf, t, (size_t)n);
		mlf_buf_putc(&j->buf, '"');
	} else {
		mlf_buf_append(&j->buf, t, (size_t)n);
	}
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
