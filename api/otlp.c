/*
 * otlp.c: a bounded reader of the protobuf wire format for OTLP trace
 * exports, and the conversion of each span into MLflow's stored form (see
 * otlp.h). Field numbers are those of opentelemetry/proto/trace/v1 and
 * common/v1: ExportTraceServiceRequest.resource_spans = 1;
 * ResourceSpans.scope_spans = 2; ScopeSpans.spans = 2; Span: trace_id 1,
 * span_id 2, parent_span_id 4, name 5, start 7, end 8 (fixed64),
 * attributes 9, events 11, status 15; Event: time 1 (fixed64), name 2,
 * attributes 3; Status: message 2, code 3; KeyValue: key 1, value 2;
 * AnyValue: string 1, bool 2, int 3, double 4 (fixed64), array 5, kvlist 6,
 * bytes 7; ArrayValue/KeyValueList: values 1.
 *
 * Attribute values are written as MLflow's server writes them: each value
 * decoded, then dumped as Python's json.dumps(ensure_ascii=False) would.
 *
 * The OTLP/JSON form of the same request (read with cJSON) fills the same
 * span structure, so both forms go through one span builder (add_span)
 * and one content writer (span_content).
 */
#include "otlp.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json.h"
#include "limits.h"

enum wire { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* A slice of the input being read. */
struct rd {
	const unsigned char *p, *end;
};

struct field {
	uint32_t num;
	enum wire type;
	uint64_t v;      /* WT_VARINT, WT_I64, WT_I32 */
	struct rd slice; /* WT_LEN */
};

static int read_varint(struct rd *r, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return -1;
		unsigned char b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* Next field of r: 1 when read, 0 at the end, -1 when malformed. */
static int next_field(struct rd *r, struct field *f)
{
	if (r->p >= r->end)
		return 0;
	uint64_t key;
	if (read_varint(r, &key) || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
		return -1;
	f->num = (uint32_t)(key >> 3);
	f->type = (enum wire)(key & 7);
	switch (f->type) {
	case WT_VARINT: return read_varint(r, &f->v) ? -1 : 1;
	case WT_I64:
		if (r->end - r->p < 8)
			return -1;
		f->v = 0;
		for (int i = 7; i >= 0; i--)
			f->v = (f->v << 8) | r->p[i];
		r->p += 8;
		return 1;
	case WT_I32:
		if (r->end - r->p < 4)
			return -1;
		f->v = (uint64_t)r->p[0] | (uint64_t)r->p[1] << 8 | (uint64_t)r->p[2] << 16 | (uint64_t)r->p[3] << 24;
		r->p += 4;
		return 1;
	case WT_LEN: {
		uint64_t n;
		if (read_varint(r, &n) || n > (uint64_t)(r->end - r->p))
			return -1;
		f->slice.p = r->p;
		f->slice.end = r->p + n;
		r->p += n;
		return 1;
	}
	default: return -1; /* groups (3, 4) are not part of OTLP */
	}
}

/* ---- decoded values ---- */

enum any_kind { ANY_NONE, ANY_STR, ANY_BOOL, ANY_INT, ANY_DOUBLE, ANY_ARRAY, ANY_KVLIST, ANY_BYTES };

struct any {
	enum any_kind kind;
	const char *s; /* ANY_STR, ANY_BYTES (not NUL-safe for bytes: see n) */
	size_t n;
	int64_t i;
	double d;
	struct any *items; /* ANY_ARRAY / ANY_KVLIST values */
	const char **keys; /* ANY_KVLIST keys */
	int count;
};

struct ctx {
	struct mlf_arena *a;
	struct mlf_error *err;
	int nspans;
	/* the batch's traces by id: open addressing, slot = trace index + 1
	 * (0 empty), nslots a power of two at least twice the traces */
	int *slots, nslots;
};

static enum mlf_status bad(struct ctx *c, const char *what)
{
	return mlf_fail(c->err, MLF_INVALID_PARAMETER_VALUE, "Invalid OpenTelemetry format: %s", what);
}

/* UTF-8 text of a length field, NUL-terminated in the arena. */
static enum mlf_status text_of(struct ctx *c, const struct field *f, const char **out)
{
	if (f->type != WT_LEN)
		return bad(c, "a text field has the wrong wire type");
	size_t n = (size_t)(f->slice.end - f->slice.p);
	if (memchr(f->slice.p, 0, n) || mlf_utf8_valid_prefix((const char *)f->slice.p, n) != n)
		return bad(c, "text that is not UTF-8");
	*out = mlf_arena_strndup(c->a, (const char *)f->slice.p, n);
	return MLF_OK;
}

static enum mlf_status read_any(struct ctx *c, struct rd r, struct any *v, int depth);

/* KeyValue list entries (field `num` of r) appended into keys/items. */
static enum mlf_status read_kv(struct ctx *c, struct rd r, const char **key, struct any *val, int depth)
{
	struct field f;
	int rc;
	*key = "";
	memset(val, 0, sizeof *val);
	while ((rc = next_field(&r, &f)) > 0) {
		enum mlf_status s = MLF_OK;
		if (f.num == 1)
			s = text_of(c, &f, key);
		else if (f.num == 2 && f.type == WT_LEN)
			s = read_any(c, f.slice, val, depth + 1);
		if (s != MLF_OK)
			return s;
	}
	return rc < 0 ? bad(c, "a truncated key/value") : MLF_OK;
}

/* Repeated field 1 of r (ArrayValue.values or KeyValueList.values). */
static enum mlf_status read_list(struct ctx *c, struct rd r, struct any *v, int with_keys, int depth)
{
	struct field f;
	int rc, cap = 0;
	while ((rc = next_field(&r, &f)) > 0) {
		if (f.num != 1 || f.type != WT_LEN)
			continue;
		if (v->count == MLF_OTLP_MAX_LIST)
			return bad(c, "a list or map that is too long");
		if (v->count == cap) {
			int ncap = cap ? cap * 2 : 8;
			v->items = mlf_arena_grow(c->a, v->items, (size_t)cap, (size_t)ncap, sizeof *v->items);
			if (with_keys)
				v->keys = mlf_arena_grow(c->a, v->keys, (size_t)cap, (size_t)ncap, sizeof *v->keys);
			cap = ncap;
		}
		enum mlf_status s = with_keys ? read_kv(c, f.slice, &v->keys[v->count], &v->items[v->count], depth)
		                              : read_any(c, f.slice, &v->items[v->count], depth + 1);
		if (s != MLF_OK)
			return s;
		v->count++;
	}
	return rc < 0 ? bad(c, "a truncated list") : MLF_OK;
}

static enum mlf_status read_any(struct ctx *c, struct rd r, struct any *v, int depth)
{
	if (depth > MLF_OTLP_MAX_DEPTH)
		return bad(c, "attribute values nested too deeply");
	memset(v, 0, sizeof *v);
	struct field f;
	int rc;
	while ((rc = next_field(&r, &f)) > 0) {
		enum mlf_status s = MLF_OK;
		switch (f.num) {
		case 1:
			v->kind = ANY_STR;
			s = text_of(c, &f, &v->s);
			break;
		case 2:
			v->kind = ANY_BOOL;
			v->i = f.v != 0;
			break;
		case 3:
			v->kind = ANY_INT;
			v->i = (int64_t)f.v;
			break;
		case 4: {
			v->kind = ANY_DOUBLE;
			memcpy(&v->d, &f.v, sizeof v->d);
			break;
		}
		case 5:
		case 6:
			if (f.type != WT_LEN)
				return bad(c, "a list value has the wrong wire type");
			v->kind = f.num == 5 ? ANY_ARRAY : ANY_KVLIST;
			v->count = 0;
			s = read_list(c, f.slice, v, f.num == 6, depth);
			break;
		case 7:
			if (f.type != WT_LEN)
				return bad(c, "a bytes value has the wrong wire type");
			v->kind = ANY_BYTES;
			v->s = (const char *)f.slice.p;
			v->n = (size_t)(f.slice.end - f.slice.p);
			break;
		default: break;
		}
		if (s != MLF_OK)
			return s;
	}
	return rc < 0 ? bad(c, "a truncated value") : MLF_OK;
}

/* ---- Python's json.dumps(ensure_ascii=False) of a decoded value ---- */

static void py_dump(struct mlf_arena *a, struct mlf_buf *b, const struct any *v)
{
	switch (v->kind) {
	case ANY_STR: mlf_json_escape(b, v->s, strlen(v->s)); break;
	case ANY_BOOL: mlf_buf_puts(b, v->i ? "true" : "false"); break;
	case ANY_INT: mlf_buf_put_i64(b, v->i); break;
	case ANY_DOUBLE: {
		char num[32];
		int n = mlf_format_double(num, v->d);
		mlf_buf_append(b, num, (size_t)n);
		break;
	}
	case ANY_BYTES: {
		const char *b64 = mlf_base64_encode(a, v->s, v->n);
		mlf_json_escape(b, b64, strlen(b64));
		break;
	}
	case ANY_ARRAY:
	case ANY_KVLIST:
		mlf_buf_putc(b, v->kind == ANY_ARRAY ? '[' : '{');
		for (int i = 0; i < v->count; i++) {
			if (i)
				mlf_buf_puts(b, ", ");
			if (v->kind == ANY_KVLIST) {
				mlf_json_escape(b, v->keys[i], strlen(v->keys[i]));
				mlf_buf_puts(b, ": ");
			}
			py_dump(a, b, &v->items[i]);
		}
		mlf_buf_putc(b, v->kind == ANY_ARRAY ? ']' : '}');
		break;
	case ANY_NONE: mlf_buf_puts(b, "null"); break;
	}
}

/* ---- spans ---- */

struct attr {
	const char *key;
	struct any value;
};

struct attrs {
	struct attr *v;
	int n, cap;
};

static enum mlf_status add_attr(struct ctx *c, struct attrs *as, const struct field *f)
{
	if (f->type != WT_LEN)
		return bad(c, "an attribute has the wrong wire type");
	if (as->n == MLF_OTLP_MAX_LIST)
		return bad(c, "too many attributes");
	if (as->n == as->cap) {
		int ncap = as->cap ? as->cap * 2 : 8;
		as->v = mlf_arena_grow(c->a, as->v, (size_t)as->cap, (size_t)ncap, sizeof *as->v);
		as->cap = ncap;
	}
	struct attr *at = &as->v[as->n];
	enum mlf_status s = read_kv(c, f->slice, &at->key, &at->value, 0);
	if (s != MLF_OK)
		return s;
	/* a key given twice keeps its last value */
	for (int i = 0; i < as->n; i++)
		if (!strcmp(as->v[i].key, at->key)) {
			as->v[i].value = at->value;
			return MLF_OK;
		}
	as->n++;
	return MLF_OK;
}

struct event {
	uint64_t time;
	const char *name;
	struct attrs attrs;
};

struct span {
	struct rd trace_id, span_id, parent;
	const char *name;
	uint64_t start, end;
	int has_end;
	struct attrs attrs;
	struct event *events;
	int nevents, evcap;
	int status_code; /* 0 unset, 1 ok, 2 error */
	const char *status_message;
};

static enum mlf_status read_event(struct ctx *c, struct rd r, struct event *e)
{
	memset(e, 0, sizeof *e);
	e->name = "";
	struct field f;
	int rc;
	while ((rc = next_field(&r, &f)) > 0) {
		enum mlf_status s = MLF_OK;
		if (f.num == 1 && f.type == WT_I64)
			e->time = f.v;
		else if (f.num == 2)
			s = text_of(c, &f, &e->name);
		else if (f.num == 3)
			s = add_attr(c, &e->attrs, &f);
		if (s != MLF_OK)
			return s;
	}
	return rc < 0 ? bad(c, "a truncated event") : MLF_OK;
}

static enum mlf_status read_span(struct ctx *c, struct rd r, struct span *sp)
{
	memset(sp, 0, sizeof *sp);
	sp->name = "";
	sp->status_message = "";
	struct field f;
	int rc;
	while ((rc = next_field(&r, &f)) > 0) {
		enum mlf_status s = MLF_OK;
		switch (f.num) {
		case 1:
		case 2:
		case 4:
			if (f.type != WT_LEN)
				return bad(c, "an id has the wrong wire type");
			*(f.num == 1 ? &sp->trace_id : f.num == 2 ? &sp->span_id : &sp->parent) = f.slice;
			break;
		case 5: s = text_of(c, &f, &sp->name); break;
		case 7: sp->start = f.v; break;
		case 8:
			sp->end = f.v;
			sp->has_end = 1;
			break;
		case 9: s = add_attr(c, &sp->attrs, &f); break;
		case 11:
			if (f.type != WT_LEN)
				return bad(c, "an event has the wrong wire type");
			if (sp->nevents == MLF_OTLP_MAX_LIST)
				return bad(c, "too many events");
			if (sp->nevents == sp->evcap) {
				int ncap = sp->evcap ? sp->evcap * 2 : 4;
				sp->events = mlf_arena_grow(c->a, sp->events, (size_t)sp->evcap, (size_t)ncap,
				                            sizeof *sp->events);
				sp->evcap = ncap;
			}
			s = read_event(c, f.slice, &sp->events[sp->nevents++]);
			break;
		case 15: {
			if (f.type != WT_LEN)
				return bad(c, "a status has the wrong wire type");
			struct rd sr = f.slice;
			struct field g;
			int rc2;
			while ((rc2 = next_field(&sr, &g)) > 0) {
				if (g.num == 2 && (s = text_of(c, &g, &sp->status_message)) != MLF_OK)
					return s;
				if (g.num == 3)
					sp->status_code = (int)g.v;
			}
			if (rc2 < 0)
				return bad(c, "a truncated status");
			break;
		}
		default: break;
		}
		if (s != MLF_OK)
			return s;
	}
	if (rc < 0)
		return bad(c, "a truncated span");
	if (sp->trace_id.end - sp->trace_id.p != 16)
		return bad(c, "trace_id must be 16 bytes");
	if (sp->span_id.end - sp->span_id.p != 8)
		return bad(c, "span_id must be 8 bytes");
	if (sp->parent.p && sp->parent.end - sp->parent.p != 8 && sp->parent.end != sp->parent.p)
		return bad(c, "parent_span_id must be 8 bytes");
	return MLF_OK;
}

static const char *hex_of(struct mlf_arena *a, struct rd id)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = (size_t)(id.end - id.p);
	char *out = mlf_arena_alloc(a, 2 * n + 1);
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[id.p[i] >> 4];
		out[2 * i + 1] = digits[id.p[i] & 15];
	}
	return out;
}

static const char *attr_json(struct mlf_arena *a, const struct attrs *as, const char *key)
{
	for (int i = 0; i < as->n; i++)
		if (!strcmp(as->v[i].key, key)) {
			struct mlf_buf b = {0};
			py_dump(a, &b, &as->v[i].value);
			char *s = mlf_arena_strdup(a, b.data);
			mlf_buf_release(&b);
			return s;
		}
	return NULL;
}

static const struct any *attr_value(const struct attrs *as, const char *key)
{
	for (int i = 0; i < as->n; i++)
		if (!strcmp(as->v[i].key, key))
			return &as->v[i].value;
	return NULL;
}

static void put_b64(struct mlf_arena *a, struct mlf_buf *b, struct rd id)
{
	const char *s = mlf_base64_encode(a, id.p, (size_t)(id.end - id.p));
	mlf_json_escape(b, s, strlen(s));
}

/* Whether MLflow's server keeps a string attribute as it came rather than
 * dumped once more: its sanitize_attributes strips the second JSON layer
 * from a string that is itself the JSON text of a string, object or array. */
static int keeps_raw(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s != '"' && *s != '{' && *s != '[')
		return 0;
	cJSON *j = cJSON_ParseWithOpts(s, NULL, 1);
	int raw = j && (cJSON_IsString(j) || cJSON_IsObject(j) || cJSON_IsArray(j));
	cJSON_Delete(j);
	return raw;
}

/* An attribute value's text as MLflow's server stores it in the span JSON
 * (the JSON dump of the decoded value, or a string kept as it came). */
static const char *stored_text(struct mlf_arena *a, const struct any *v)
{
	if (v->kind == ANY_STR && keeps_raw(v->s))
		return v->s;
	struct mlf_buf b = {0};
	py_dump(a, &b, v);
	char *out = mlf_arena_strdup(a, b.data ? b.data : "");
	mlf_buf_release(&b);
	return out;
}

/* MLflow's _try_parse_json_string of a stored attribute text: the string
 * it is the JSON text of, else the text itself. */
static const char *json_string_or_text(struct mlf_arena *a, const char *text)
{
	cJSON *j = cJSON_ParseWithOpts(text, NULL, 1);
	const char *out = cJSON_IsString(j) ? mlf_arena_strdup(a, j->valuestring) : text;
	cJSON_Delete(j);
	return out;
}

/* MLflow's finite_float_or_none of one entry of a cost map: a finite
 * number, or a string float() reads as one (booleans and the rest: none). */
static int finite_float(const cJSON *v, double *out)
{
	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return isfinite(*out);
	}
	if (!cJSON_IsString(v))
		return 0;
	const char *p = v->valuestring;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
		p++;
	/* only decimal forms: strtod would also read hex and nan(...) */
	if (!*p || p[strspn(p, "0123456789+-.eE \t\n\r\f\v")])
		return 0;
	char *end;
	errno = 0;
	double d = strtod(p, &end);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r' || *end == '\f' || *end == '\v')
		end++;
	if (end == p || *end || !isfinite(d))
		return 0;
	*out = d;
	return 1;
}

/* MLflow's span JSON (Span.to_dict as json.dumps writes it). */
static const char *span_content(struct mlf_arena *a, const struct span *sp, const char *mlflow_trace_id)
{
	static const char *const codes[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};
	struct mlf_buf b = {0};
	mlf_buf_puts(&b, "{\"trace_id\": ");
	put_b64(a, &b, sp->trace_id);
	mlf_buf_puts(&b, ", \"span_id\": ");
	put_b64(a, &b, sp->span_id);
	mlf_buf_puts(&b, ", \"parent_span_id\": ");
	if (sp->parent.p && sp->parent.end > sp->parent.p)
		put_b64(a, &b, sp->parent);
	else
		mlf_buf_puts(&b, "null");
	mlf_buf_puts(&b, ", \"name\": ");
	mlf_json_escape(&b, sp->name, strlen(sp->name));
	mlf_buf_printf(&b, ", \"start_time_unix_nano\": %llu, \"end_time_unix_nano\": ", (unsigned long long)sp->start);
	if (sp->has_end)
		mlf_buf_printf(&b, "%llu", (unsigned long long)sp->end);
	else
		mlf_buf_puts(&b, "null");
	mlf_buf_puts(&b, ", \"events\": [");
	for (int i = 0; i < sp->nevents; i++) {
		const struct event *e = &sp->events[i];
		mlf_buf_puts(&b, i ? ", {\"name\": " : "{\"name\": ");
		mlf_json_escape(&b, e->name, strlen(e->name));
		mlf_buf_printf(&b, ", \"time_unix_nano\": %llu, \"attributes\": {", (unsigned long long)e->time);
		for (int k = 0; k < e->attrs.n; k++) {
			if (k)
				mlf_buf_puts(&b, ", ");
			mlf_json_escape(&b, e->attrs.v[k].key, strlen(e->attrs.v[k].key));
			mlf_buf_puts(&b, ": ");
			py_dump(a, &b, &e->attrs.v[k].value);
		}
		mlf_buf_puts(&b, "}}");
	}
	int code = sp->status_code >= 0 && sp->status_code <= 2 ? sp->status_code : 0;
	mlf_buf_printf(&b, "], \"status\": {\"code\": \"%s\", \"message\": ", codes[code]);
	mlf_json_escape(&b, sp->status_message, strlen(sp->status_message));
	mlf_buf_puts(&b, "}, \"attributes\": {");
	/* the request id is always the one derived from the OTLP trace id */
	int wrote = 0;
	struct mlf_buf v = {0};
	for (int k = 0; k < sp->attrs.n; k++) {
		mlf_buf_reset(&v);
		if (!strcmp(sp->attrs.v[k].key, MLF_OTLP_REQUEST_ID_ATTR))
			mlf_json_escape(&v, mlflow_trace_id, strlen(mlflow_trace_id));
		else if (sp->attrs.v[k].value.kind == ANY_STR && keeps_raw(sp->attrs.v[k].value.s))
			mlf_buf_puts(&v, sp->attrs.v[k].value.s);
		else
			py_dump(a, &v, &sp->attrs.v[k].value);
		mlf_buf_puts(&b, wrote++ ? ", " : "");
		mlf_json_escape(&b, sp->attrs.v[k].key, strlen(sp->attrs.v[k].key));
		mlf_buf_puts(&b, ": ");
		mlf_json_escape(&b, v.data ? v.data : "", v.len);
	}
	if (!attr_value(&sp->attrs, MLF_OTLP_REQUEST_ID_ATTR)) {
		mlf_buf_reset(&v);
		mlf_json_escape(&v, mlflow_trace_id, strlen(mlflow_trace_id));
		mlf_buf_puts(&b, wrote++ ? ", " : "");
		mlf_json_escape(&b, MLF_OTLP_REQUEST_ID_ATTR, strlen(MLF_OTLP_REQUEST_ID_ATTR));
		mlf_buf_puts(&b, ": ");
		mlf_json_escape(&b, v.data, v.len);
	}
	mlf_buf_release(&v);
	mlf_buf_puts(&b, "}, \"links\": []}");
	const char *out = mlf_arena_strdup(a, b.data);
	mlf_buf_release(&b);
	return out;
}

static uint32_t id_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of id in the table: where it is, or the empty one it would take. */
static int *trace_slot(struct ctx *c, const struct mlf_otlp_batch *out, const char *id)
{
	uint32_t mask = (uint32_t)c->nslots - 1;
	for (uint32_t i = id_hash(id) & mask;; i = (i + 1) & mask)
		if (!c->slots[i] || !strcmp(out->traces[c->slots[i] - 1].trace_id, id))
			return &c->slots[i];
}

/* The trace of this batch with id, added when new (found through a hash
 * table: a request may carry as many traces as spans). */
static struct mlf_span_trace *trace_for(struct ctx *c, struct mlf_otlp_batch *out, int *cap, const char *id)
{
	if (2 * (out->ntraces + 1) > c->nslots) {
		c->nslots = c->nslots ? 2 * c->nslots : 64;
		c->slots = mlf_arena_alloc(c->a, sizeof(int) * (size_t)c->nslots);
		memset(c->slots, 0, sizeof(int) * (size_t)c->nslots);
		for (int i = 0; i < out->ntraces; i++)
			*trace_slot(c, out, out->traces[i].trace_id) = i + 1;
	}
	int *slot = trace_slot(c, out, id);
	if (*slot)
		return &out->traces[*slot - 1];
	*slot = out->ntraces + 1;
	if (out->ntraces == *cap) {
		int ncap = *cap ? *cap * 2 : 4;
		out->traces = mlf_arena_grow(c->a, out->traces, (size_t)*cap, (size_t)ncap, sizeof *out->traces);
		*cap = ncap;
	}
	struct mlf_span_trace *t = &out->traces[out->ntraces++];
	memset(t, 0, sizeof *t);
	t->trace_id = id;
	t->min_start_ms = INT64_MAX;
	return t;
}

/* A preview of a root span's inputs or outputs (MLflow keeps at most
 * MLF_TRACE_PREVIEW_MAX characters). */
static const char *preview(struct mlf_arena *a, const char *json)
{
	if (!json)
		return NULL;
	return mlf_utf8_truncate(a, json, MLF_OTLP_PREVIEW_MAX);
}

/* The session a span names (OpenTelemetry's session.id, else
 * gen_ai.conversation.id), its JSON string form unquoted as MLflow does;
 * NULL when absent or longer than a metadata value. */
static const char *session_of(struct ctx *c, const struct attrs *as)
{
	const struct any *v = attr_value(as, MLF_OTLP_SESSION_ATTR);
	if (!v || v->kind != ANY_STR || !*v->s)
		v = attr_value(as, MLF_OTLP_CONVERSATION_ATTR);
	if (!v || v->kind != ANY_STR || !*v->s)
		return NULL;
	const char *id = v->s;
	cJSON *j = cJSON_Parse(id);
	if (cJSON_IsString(j))
		id = mlf_arena_strdup(c->a, j->valuestring);
	cJSON_Delete(j);
	return *id && strlen(id) <= MLF_TRACE_TAG_VALUE_MAX ? id : NULL;
}

/* The span's cost, model and provider columns, and whether it carries
 * token usage or cost for its trace's totals (storage/traces.c sums them
 * from the stored span JSON), as MLflow's log_spans reads them. */
static void span_llm_fields(struct ctx *c, const struct span *sp, struct mlf_span_row *row)
{
	const struct any *cost = attr_value(&sp->attrs, MLF_SPAN_ATTR_COST);
	row->has_usage = cost || attr_value(&sp->attrs, MLF_SPAN_ATTR_USAGE);
	cJSON *map = cost ? cJSON_Parse(stored_text(c->a, cost)) : NULL;
	for (int i = 0; cJSON_IsObject(map) && i < MLF_TRACE_NCOSTS; i++)
		row->has_cost[i] =
		    finite_float(cJSON_GetObjectItemCaseSensitive(map, mlf_trace_cost_keys[i]), &row->costs[i]);
	cJSON_Delete(map);
	const struct any *model = attr_value(&sp->attrs, MLF_SPAN_ATTR_MODEL);
	if (model)
		row->model_name =
		    mlf_utf8_truncate(c->a, json_string_or_text(c->a, stored_text(c->a, model)), MLF_SPAN_MODEL_MAX);
	const struct any *provider = attr_value(&sp->attrs, MLF_SPAN_ATTR_PROVIDER);
	if (provider)
		row->model_provider =
		    mlf_utf8_truncate(c->a, json_string_or_text(c->a, stored_text(c->a, provider)), MLF_SPAN_MODEL_MAX);
}

static enum mlf_status add_span(struct ctx *c, const struct span *sp, struct mlf_otlp_batch *out, int *cap, int *tcap)
{
	if (c->nspans == MLF_OTLP_MAX_SPANS)
		return bad(c, "too many spans in one request");
	const char *tid = mlf_arena_printf(c->a, "tr-%s", hex_of(c->a, sp->trace_id));
	if (out->nspans == *cap) {
		int ncap = *cap ? *cap * 2 : 16;
		out->spans = mlf_arena_grow(c->a, out->spans, (size_t)*cap, (size_t)ncap, sizeof *out->spans);
		*cap = ncap;
	}
	struct mlf_span_row *row = &out->spans[out->nspans++];
	c->nspans++;
	memset(row, 0, sizeof *row);
	int is_root = !(sp->parent.p && sp->parent.end > sp->parent.p);
	row->trace_id = tid;
	row->span_id = hex_of(c->a, sp->span_id);
	row->parent_span_id = is_root ? NULL : hex_of(c->a, sp->parent);
	row->name = sp->name;
	const struct any *type = attr_value(&sp->attrs, MLF_OTLP_SPAN_TYPE_ATTR);
	row->type = type && type->kind == ANY_STR ? type->s : NULL;
	row->status = sp->status_code == 1 ? "OK" : sp->status_code == 2 ? "ERROR" : "UNSET";
	row->start_ns = (int64_t)sp->start;
	row->end_ns = (int64_t)sp->end;
	row->has_end = sp->has_end;
	row->content = span_content(c->a, sp, tid);
	span_llm_fields(c, sp, row);

	struct mlf_span_trace *t = trace_for(c, out, tcap, tid);
	row->trace = (int)(t - out->traces);
	t->has_usage |= row->has_usage;
	int64_t start_ms = (int64_t)(sp->start / 1000000);
	if (start_ms < t->min_start_ms)
		t->min_start_ms = start_ms;
	if (sp->has_end && (!t->has_end || (int64_t)(sp->end / 1000000) > t->max_end_ms)) {
		t->max_end_ms = (int64_t)(sp->end / 1000000);
		t->has_end = 1;
	}
	if (!t->session_id)
		t->session_id = session_of(c, &sp->attrs);
	const struct any *user = attr_value(&sp->attrs, MLF_SPAN_ATTR_USER);
	if (!t->user_id && user) {
		const char *text = stored_text(c->a, user);
		if (*text) /* the first one decides, even when it names nobody ("") */
			t->user_id = json_string_or_text(c->a, text);
	}
	if (is_root) {
		t->root_status = sp->status_code == 2 ? "ERROR" : "OK";
		t->request_preview = preview(c->a, attr_json(c->a, &sp->attrs, MLF_OTLP_INPUTS_ATTR));
		t->response_preview = preview(c->a, attr_json(c->a, &sp->attrs, MLF_OTLP_OUTPUTS_ATTR));
		size_t plen = strlen(MLF_OTLP_TRACE_TAG_PREFIX);
		for (int i = 0; i < sp->attrs.n; i++) {
			const struct attr *at = &sp->attrs.v[i];
			if (strncmp(at->key, MLF_OTLP_TRACE_TAG_PREFIX, plen) || !at->key[plen] ||
			    strlen(at->key + plen) > MLF_TRACE_TAG_KEY_MAX)
				continue;
			const char *value =
			    at->value.kind == ANY_STR ? at->value.s : attr_json(c->a, &sp->attrs, at->key);
			t->tags =
			    mlf_arena_grow(c->a, t->tags, (size_t)t->ntags, (size_t)t->ntags + 1, sizeof *t->tags);
			t->tags[t->ntags].key = at->key + plen;
			t->tags[t->ntags].value = mlf_utf8_truncate(c->a, value, MLF_TRACE_TAG_VALUE_MAX);
			t->ntags++;
		}
	}
	return MLF_OK;
}

enum mlf_status mlf_otlp_decode(struct mlf_arena *a, const unsigned char *p, size_t n, struct mlf_otlp_batch *out,
                                struct mlf_error *err)
{
	struct ctx c = {a, err, 0, NULL, 0};
	memset(out, 0, sizeof *out);
	int cap = 0, tcap = 0, rc;
	struct rd r = {p, p + n};
	struct field f;
	while ((rc = next_field(&r, &f)) > 0) {
		if (f.num != 1 || f.type != WT_LEN)
			continue;
		struct rd rs = f.slice;
		struct field g;
		int rc2;
		while ((rc2 = next_field(&rs, &g)) > 0) {
			if (g.num != 2 || g.type != WT_LEN)
				continue;
			struct rd ss = g.slice;
			struct field h;
			int rc3;
			while ((rc3 = next_field(&ss, &h)) > 0) {
				if (h.num != 2 || h.type != WT_LEN)
					continue;
				struct span sp;
				enum mlf_status s = read_span(&c, h.slice, &sp);
				if (s == MLF_OK)
					s = add_span(&c, &sp, out, &cap, &tcap);
				if (s != MLF_OK)
					return s;
			}
			if (rc3 < 0)
				return bad(&c, "truncated scope spans");
		}
		if (rc2 < 0)
			return bad(&c, "truncated resource spans");
	}
	if (rc < 0)
		return bad(&c, "truncated request");
	return MLF_OK;
}

/* ================================================================
 * OTLP/JSON (the protobuf JSON mapping: lowerCamelCase or the proto's
 * snake_case names, ids as hex, 64-bit integers as strings or numbers,
 * enums as numbers)
 * ================================================================ */

/* obj[camel], else obj[snake]. */
static const cJSON *jget(const cJSON *obj, const char *camel, const char *snake)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, camel);
	return v ? v : cJSON_GetObjectItemCaseSensitive(obj, snake);
}

/* The elements of an optional array field (NULL or JSON null: none). */
static enum mlf_status jarray(struct ctx *c, const cJSON *obj, const char *camel, const char *snake,
                              const cJSON **first)
{
	const cJSON *v = jget(obj, camel, snake);
	*first = NULL;
	if (!v || cJSON_IsNull(v))
		return MLF_OK;
	if (!cJSON_IsArray(v))
		return bad(c, "a repeated field that is not a JSON array");
	*first = v->child;
	return MLF_OK;
}

/* An optional string field into the arena (checked UTF-8); dflt when absent. */
static enum mlf_status jtext(struct ctx *c, const cJSON *obj, const char *camel, const char *snake, const char *dflt,
                             const char **out)
{
	const cJSON *v = jget(obj, camel, snake);
	*out = dflt;
	if (!v || cJSON_IsNull(v))
		return MLF_OK;
	if (!cJSON_IsString(v))
		return bad(c, "a text field that is not a JSON string");
	size_t n = strlen(v->valuestring);
	if (mlf_utf8_valid_prefix(v->valuestring, n) != n)
		return bad(c, "text that is not UTF-8");
	*out = mlf_arena_strndup(c->a, v->valuestring, n);
	return MLF_OK;
}

/* A 64-bit integer given as a JSON number or a decimal string. */
static enum mlf_status jint(struct ctx *c, const cJSON *v, int is_unsigned, uint64_t *out)
{
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble; /* range first: casting an out-of-range double is undefined */
		if (d != d || d < (is_unsigned ? 0.0 : -9223372036854775808.0) ||
		    d >= (is_unsigned ? 18446744073709551616.0 : 9223372036854775808.0))
			return bad(c, "an integer out of range");
		*out = is_unsigned ? (uint64_t)d : (uint64_t)(int64_t)d;
		if (d != (is_unsigned ? (double)*out : (double)(int64_t)*out))
			return bad(c, "an integer that is not whole");
		return MLF_OK;
	}
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return bad(c, "an integer that is neither a number nor a decimal string");
	char *end;
	errno = 0;
	if (is_unsigned) {
		if (v->valuestring[0] == '-')
			return bad(c, "an integer out of range");
		*out = strtoull(v->valuestring, &end, 10);
	} else {
		*out = (uint64_t)strtoll(v->valuestring, &end, 10);
	}
	if (errno || *end)
		return bad(c, "an integer that is neither a number nor a decimal string");
	return MLF_OK;
}

/* An optional unsigned 64-bit field (0 when absent); *present set. */
static enum mlf_status juint_field(struct ctx *c, const cJSON *obj, const char *camel, const char *snake, uint64_t *out,
                                   int *present)
{
	const cJSON *v = jget(obj, camel, snake);
	*out = 0;
	if (present)
		*present = v && !cJSON_IsNull(v);
	if (!v || cJSON_IsNull(v))
		return MLF_OK;
	return jint(c, v, 1, out);
}

/* A hex id of exactly want bytes (an empty or absent one gives an empty
 * slice when allow_empty). */
static enum mlf_status jid(struct ctx *c, const cJSON *obj, const char *camel, const char *snake, size_t want,
                           int allow_empty, struct rd *out)
{
	const cJSON *v = jget(obj, camel, snake);
	out->p = out->end = NULL;
	const char *hex = v && cJSON_IsString(v) ? v->valuestring : NULL;
	if ((!v || cJSON_IsNull(v) || (hex && !*hex)) && allow_empty)
		return MLF_OK;
	if (!hex || strlen(hex) != 2 * want)
		return bad(c, want == 16 ? "traceId must be 32 hex digits" : "spanId must be 16 hex digits");
	unsigned char *b = mlf_arena_alloc(c->a, want);
	for (size_t i = 0; i < want; i++) {
		int h = mlf_hex_digit((unsigned char)hex[2 * i]), l = mlf_hex_digit((unsigned char)hex[2 * i + 1]);
		if (h < 0 || l < 0)
			return bad(c, "an id that is not hex");
		b[i] = (unsigned char)(h * 16 + l);
	}
	out->p = b;
	out->end = b + want;
	return MLF_OK;
}

static enum mlf_status jany(struct ctx *c, const cJSON *o, struct any *v, int depth);

/* KeyValue {key, value} */
static enum mlf_status jkv(struct ctx *c, const cJSON *o, const char **key, struct any *val, int depth)
{
	memset(val, 0, sizeof *val);
	if (!cJSON_IsObject(o))
		return bad(c, "a key/value that is not a JSON object");
	enum mlf_status s = jtext(c, o, "key", "key", "", key);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
	if (s == MLF_OK && v && !cJSON_IsNull(v))
		s = jany(c, v, val, depth + 1);
	return s;
}

/* ArrayValue / KeyValueList {values: [...]} */
static enum mlf_status jlist(struct ctx *c, const cJSON *o, struct any *v, int with_keys, int depth)
{
	if (!cJSON_IsObject(o))
		return bad(c, "a list value that is not a JSON object");
	const cJSON *e;
	enum mlf_status s = jarray(c, o, "values", "values", &e);
	int cap = 0;
	for (; s == MLF_OK && e; e = e->next) {
		if (v->count == MLF_OTLP_MAX_LIST)
			return bad(c, "a list or map that is too long");
		if (v->count == cap) {
			int ncap = cap ? cap * 2 : 8;
			v->items = mlf_arena_grow(c->a, v->items, (size_t)cap, (size_t)ncap, sizeof *v->items);
			if (with_keys)
				v->keys = mlf_arena_grow(c->a, v->keys, (size_t)cap, (size_t)ncap, sizeof *v->keys);
			cap = ncap;
		}
		s = with_keys ? jkv(c, e, &v->keys[v->count], &v->items[v->count], depth)
		              : jany(c, e, &v->items[v->count], depth + 1);
		v->count++;
	}
	return s;
}

/* AnyValue {stringValue | boolValue | intValue | doubleValue | arrayValue
 * | kvlistValue | bytesValue (base64)} */
static enum mlf_status jany(struct ctx *c, const cJSON *o, struct any *v, int depth)
{
	if (depth > MLF_OTLP_MAX_DEPTH)
		return bad(c, "attribute values nested too deeply");
	memset(v, 0, sizeof *v);
	if (!cJSON_IsObject(o))
		return bad(c, "a value that is not a JSON object");
	const cJSON *x;
	enum mlf_status s = MLF_OK;
	if ((x = jget(o, "stringValue", "string_value")) != NULL) {
		v->kind = ANY_STR;
		s = jtext(c, o, "stringValue", "string_value", "", &v->s);
	} else if ((x = jget(o, "boolValue", "bool_value")) != NULL) {
		if (!cJSON_IsBool(x))
			return bad(c, "a boolValue that is not true or false");
		v->kind = ANY_BOOL;
		v->i = cJSON_IsTrue(x);
	} else if ((x = jget(o, "intValue", "int_value")) != NULL) {
		uint64_t u;
		v->kind = ANY_INT;
		if ((s = jint(c, x, 0, &u)) == MLF_OK)
			v->i = (int64_t)u;
	} else if ((x = jget(o, "doubleValue", "double_value")) != NULL) {
		v->kind = ANY_DOUBLE;
		if (cJSON_IsNumber(x))
			v->d = x->valuedouble;
		else if (cJSON_IsString(x) && (!strcmp(x->valuestring, "NaN") || !strcmp(x->valuestring, "Infinity") ||
		                               !strcmp(x->valuestring, "-Infinity")))
			v->d = strtod(x->valuestring, NULL);
		else
			return bad(c, "a doubleValue that is not a number");
	} else if ((x = jget(o, "arrayValue", "array_value")) != NULL) {
		v->kind = ANY_ARRAY;
		s = jlist(c, x, v, 0, depth);
	} else if ((x = jget(o, "kvlistValue", "kvlist_value")) != NULL) {
		v->kind = ANY_KVLIST;
		s = jlist(c, x, v, 1, depth);
	} else if ((x = jget(o, "bytesValue", "bytes_value")) != NULL) {
		if (!cJSON_IsString(x) || !(v->s = mlf_base64_decode(c->a, x->valuestring, &v->n)))
			return bad(c, "a bytesValue that is not base64");
		v->kind = ANY_BYTES;
	}
	return s;
}

static enum mlf_status jattrs(struct ctx *c, const cJSON *obj, struct attrs *as)
{
	const cJSON *e;
	enum mlf_status s = jarray(c, obj, "attributes", "attributes", &e);
	for (; s == MLF_OK && e; e = e->next) {
		if (as->n == MLF_OTLP_MAX_LIST)
			return bad(c, "too many attributes");
		if (as->n == as->cap) {
			int ncap = as->cap ? as->cap * 2 : 8;
			as->v = mlf_arena_grow(c->a, as->v, (size_t)as->cap, (size_t)ncap, sizeof *as->v);
			as->cap = ncap;
		}
		struct attr *at = &as->v[as->n];
		if ((s = jkv(c, e, &at->key, &at->value, 0)) != MLF_OK)
			return s;
		int dup = 0; /* a key given twice keeps its last value, as in the protobuf path */
		for (int i = 0; i < as->n && !dup; i++)
			if (!strcmp(as->v[i].key, at->key)) {
				as->v[i].value = at->value;
				dup = 1;
			}
		as->n += !dup;
	}
	return s;
}

static enum mlf_status jspan(struct ctx *c, const cJSON *o, struct span *sp)
{
	memset(sp, 0, sizeof *sp);
	if (!cJSON_IsObject(o))
		return bad(c, "a span that is not a JSON object");
	enum mlf_status s;
	if ((s = jid(c, o, "traceId", "trace_id", 16, 0, &sp->trace_id)) ||
	    (s = jid(c, o, "spanId", "span_id", 8, 0, &sp->span_id)) ||
	    (s = jid(c, o, "parentSpanId", "parent_span_id", 8, 1, &sp->parent)) ||
	    (s = jtext(c, o, "name", "name", "", &sp->name)) ||
	    (s = juint_field(c, o, "startTimeUnixNano", "start_time_unix_nano", &sp->start, NULL)) ||
	    (s = juint_field(c, o, "endTimeUnixNano", "end_time_unix_nano", &sp->end, &sp->has_end)) ||
	    (s = jattrs(c, o, &sp->attrs)))
		return s;
	const cJSON *e;
	if ((s = jarray(c, o, "events", "events", &e)))
		return s;
	for (; e; e = e->next) {
		if (sp->nevents == MLF_OTLP_MAX_LIST)
			return bad(c, "too many events");
		if (sp->nevents == sp->evcap) {
			int ncap = sp->evcap ? sp->evcap * 2 : 4;
			sp->events =
			    mlf_arena_grow(c->a, sp->events, (size_t)sp->evcap, (size_t)ncap, sizeof *sp->events);
			sp->evcap = ncap;
		}
		struct event *ev = &sp->events[sp->nevents++];
		memset(ev, 0, sizeof *ev);
		if (!cJSON_IsObject(e))
			return bad(c, "an event that is not a JSON object");
		if ((s = juint_field(c, e, "timeUnixNano", "time_unix_nano", &ev->time, NULL)) ||
		    (s = jtext(c, e, "name", "name", "", &ev->name)) || (s = jattrs(c, e, &ev->attrs)))
			return s;
	}
	sp->status_message = "";
	const cJSON *st = jget(o, "status", "status");
	if (st && !cJSON_IsNull(st)) {
		if (!cJSON_IsObject(st))
			return bad(c, "a status that is not a JSON object");
		if ((s = jtext(c, st, "message", "message", "", &sp->status_message)))
			return s;
		const cJSON *code = jget(st, "code", "code");
		if (cJSON_IsNumber(code))
			sp->status_code = code->valueint;
		else if (cJSON_IsString(code))
			sp->status_code = !strcmp(code->valuestring, "STATUS_CODE_OK")      ? 1
			                  : !strcmp(code->valuestring, "STATUS_CODE_ERROR") ? 2
			                                                                    : 0;
		else if (code && !cJSON_IsNull(code))
			return bad(c, "a status code that is not a number");
	}
	return MLF_OK;
}

enum mlf_status mlf_otlp_decode_json(struct mlf_arena *a, const char *p, size_t n, struct mlf_otlp_batch *out,
                                     struct mlf_error *err)
{
	struct ctx c = {a, err, 0, NULL, 0};
	memset(out, 0, sizeof *out);
	cJSON *root = cJSON_ParseWithLength(p, n);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return bad(&c, "the body is not a JSON object");
	}
	int cap = 0, tcap = 0;
	const cJSON *rs, *ss, *sp;
	enum mlf_status s = jarray(&c, root, "resourceSpans", "resource_spans", &rs);
	if (s == MLF_OK && !rs) /* as stock refuses a JSON export without resource spans */
		s = bad(&c, "no spans found");
	for (; s == MLF_OK && rs; rs = rs->next) {
		if (!cJSON_IsObject(rs)) {
			s = bad(&c, "resource spans that are not a JSON object");
			break;
		}
		s = jarray(&c, rs, "scopeSpans", "scope_spans", &ss);
		for (; s == MLF_OK && ss; ss = ss->next) {
			if (!cJSON_IsObject(ss)) {
				s = bad(&c, "scope spans that are not a JSON object");
				break;
			}
			s = jarray(&c, ss, "spans", "spans", &sp);
			for (; s == MLF_OK && sp; sp = sp->next) {
				struct span one;
				if ((s = jspan(&c, sp, &one)) == MLF_OK)
					s = add_span(&c, &one, out, &cap, &tcap);
			}
		}
	}
	cJSON_Delete(root);
	return s;
}
