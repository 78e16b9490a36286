/*
 * graphql_parse.c: a recursive-descent parser for the GraphQL subset of
 * graphql.h: executable definitions only (query / mutation, named or the
 * "{ ... }" shorthand), variable definitions with types and defaults,
 * directives on operations (read and ignored, e.g. the UI's @component),
 * fields with aliases, arguments and selection sets, and values. Nesting is
 * bounded by MLF_GQL_MAX_NESTING so no input can exhaust the stack.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "graphql.h"

enum tok {
	T_EOF,
	T_PUNCT, /* one of ! $ ( ) : = @ [ ] { } | & and "..." */
	T_NAME,
	T_INT,
	T_FLOAT,
	T_STRING,
	T_BAD,
};

struct parser {
	struct mlf_arena *a;
	const char *s, *end;
	/* current token */
	enum tok t;
	const char *ts; /* token text start */
	size_t tn;      /* token text length */
	char punct;     /* T_PUNCT: the character ('.' for "...") */
	char *str;      /* T_STRING: decoded value (arena) */
	int depth;
	enum mlf_gql_parse_result fail;
	char *msg;
};

static int failf(struct parser *p, enum mlf_gql_parse_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int failf(struct parser *p, enum mlf_gql_parse_result r, const char *fmt, ...)
{
	if (p->fail == MLF_GQL_PARSED) {
		p->fail = r;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->msg, MLF_GQL_MSG_MAX, fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* The current token, as GraphQL's messages name it. */
static const char *tok_desc(struct parser *p, char *buf, size_t n)
{
	switch (p->t) {
	case T_EOF: return "<EOF>";
	case T_PUNCT:
		if (p->punct == '.')
			return "\"...\"";
		snprintf(buf, n, "\"%c\"", p->punct);
		return buf;
	case T_NAME: snprintf(buf, n, "Name '%.*s'", (int)(p->tn > 64 ? 64 : p->tn), p->ts); return buf;
	case T_INT: snprintf(buf, n, "Int \"%.*s\"", (int)(p->tn > 64 ? 64 : p->tn), p->ts); return buf;
	case T_FLOAT: snprintf(buf, n, "Float \"%.*s\"", (int)(p->tn > 64 ? 64 : p->tn), p->ts); return buf;
	case T_STRING: return "String";
	default: return "invalid character";
	}
}

static int expected(struct parser *p, const char *what)
{
	char buf[96];
	return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Expected %s, found %s.", what,
	             tok_desc(p, buf, sizeof buf));
}

static int is_name_start(char c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void put_utf8(struct mlf_buf *b, unsigned cp)
{
	if (cp < 0x80) {
		mlf_buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		mlf_buf_putc(b, (char)(0xC0 | (cp >> 6)));
		mlf_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		mlf_buf_putc(b, (char)(0xE0 | (cp >> 12)));
		mlf_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		mlf_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
	} else {
		mlf_buf_putc(b, (char)(0xF0 | (cp >> 18)));
		mlf_buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
		mlf_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		mlf_buf_putc(b, (char)(0x80 | (cp & 0x3F)));
	}
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

/* Read a "..." string starting at p->s (the opening quote). */
static int lex_string(struct parser *p)
{
	const char *s = p->s + 1;
	if (p->end - p->s >= 3 && p->s[1] == '"' && p->s[2] == '"')
		return failf(p, MLF_GQL_UNSUPPORTED, "Block strings are not supported by mlflowd's GraphQL endpoint.");
	struct mlf_buf b = {0};
	for (;;) {
		if (s >= p->end || *s == '\n' || *s == '\r') {
			mlf_buf_release(&b);
			return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Unterminated string.");
		}
		char c = *s;
		if (c == '"') {
			s++;
			break;
		}
		if (c == '\\') {
			if (s + 1 >= p->end) {
				mlf_buf_release(&b);
				return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Unterminated string.");
			}
			char e = s[1];
			s += 2;
			switch (e) {
			case '"': mlf_buf_putc(&b, '"'); break;
			case '\\': mlf_buf_putc(&b, '\\'); break;
			case '/': mlf_buf_putc(&b, '/'); break;
			case 'b': mlf_buf_putc(&b, '\b'); break;
			case 'f': mlf_buf_putc(&b, '\f'); break;
			case 'n': mlf_buf_putc(&b, '\n'); break;
			case 'r': mlf_buf_putc(&b, '\r'); break;
			case 't': mlf_buf_putc(&b, '\t'); break;
			case 'u': {
				unsigned cp;
				if (p->end - s < 4 || !hex4(s, &cp) || cp == 0) {
					mlf_buf_release(&b);
					return failf(p, MLF_GQL_SYNTAX_ERROR,
					             "Syntax Error: Invalid Unicode escape sequence.");
				}
				s += 4;
				if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair */
					unsigned lo;
					if (p->end - s < 6 || s[0] != '\\' || s[1] != 'u' || !hex4(s + 2, &lo) ||
					    lo < 0xDC00 || lo > 0xDFFF) {
						mlf_buf_release(&b);
						return failf(p, MLF_GQL_SYNTAX_ERROR,
						             "Syntax Error: Invalid Unicode escape sequence.");
					}
					s += 6;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
					mlf_buf_release(&b);
					return failf(p, MLF_GQL_SYNTAX_ERROR,
					             "Syntax Error: Invalid Unicode escape sequence.");
				}
				put_utf8(&b, cp);
				break;
			}
			default:
				mlf_buf_release(&b);
				return failf(p, MLF_GQL_SYNTAX_ERROR,
				             "Syntax Error: Invalid character escape sequence.");
			}
			continue;
		}
		if ((unsigned char)c < 0x20 && c != '\t') {
			mlf_buf_release(&b);
			return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Invalid character within String.");
		}
		mlf_buf_putc(&b, c);
		s++;
	}
	p->str = mlf_arena_strndup(p->a, b.data ? b.data : "", b.len);
	mlf_buf_release(&b);
	p->t = T_STRING;
	p->ts = p->s;
	p->tn = (size_t)(s - p->s);
	p->s = s;
	return 1;
}

/* Advance to the next token. Returns 0 on a lexical error. */
static int next(struct parser *p)
{
	for (;;) { /* ignored tokens: white space, line ends, commas, comments, BOM */
		if (p->s >= p->end)
			break;
		char c = *p->s;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
			p->s++;
		} else if (c == '#') {
			while (p->s < p->end && *p->s != '\n' && *p->s != '\r')
				p->s++;
		} else if (p->end - p->s >= 3 && !memcmp(p->s, "\xEF\xBB\xBF", 3)) {
			p->s += 3;
		} else {
			break;
		}
	}
	p->ts = p->s;
	if (p->s >= p->end) {
		p->t = T_EOF;
		p->tn = 0;
		return 1;
	}
	char c = *p->s;
	if (strchr("!$&()=:@[]{}|", c)) {
		p->t = T_PUNCT;
		p->punct = c;
		p->tn = 1;
		p->s++;
		return 1;
	}
	if (c == '.') {
		if (p->end - p->s >= 3 && p->s[1] == '.' && p->s[2] == '.') {
			p->t = T_PUNCT;
			p->punct = '.';
			p->tn = 3;
			p->s += 3;
			return 1;
		}
		p->t = T_BAD;
		return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Unexpected character: '.'.");
	}
	if (is_name_start(c)) {
		const char *s = p->s;
		while (s < p->end && (is_name_start(*s) || is_digit(*s)))
			s++;
		p->t = T_NAME;
		p->tn = (size_t)(s - p->s);
		p->s = s;
		return 1;
	}
	if (c == '-' || is_digit(c)) {
		const char *s = p->s;
		int is_float = 0;
		if (*s == '-')
			s++;
		if (s >= p->end || !is_digit(*s))
			return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Invalid number, expected digit.");
		if (*s == '0' && s + 1 < p->end && is_digit(s[1]))
			return failf(p, MLF_GQL_SYNTAX_ERROR,
			             "Syntax Error: Invalid number, unexpected digit after 0.");
		while (s < p->end && is_digit(*s))
			s++;
		if (s < p->end && *s == '.') {
			is_float = 1;
			s++;
			if (s >= p->end || !is_digit(*s))
				return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Invalid number, expected digit.");
			while (s < p->end && is_digit(*s))
				s++;
		}
		if (s < p->end && (*s == 'e' || *s == 'E')) {
			is_float = 1;
			s++;
			if (s < p->end && (*s == '+' || *s == '-'))
				s++;
			if (s >= p->end || !is_digit(*s))
				return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Invalid number, expected digit.");
			while (s < p->end && is_digit(*s))
				s++;
		}
		if (s < p->end && (is_name_start(*s) || *s == '.'))
			return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Invalid number, expected digit.");
		p->t = is_float ? T_FLOAT : T_INT;
		p->tn = (size_t)(s - p->s);
		p->s = s;
		return 1;
	}
	if (c == '"')
		return lex_string(p);
	p->t = T_BAD;
	if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7F)
		return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Unexpected character: '%c'.", c);
	return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Unexpected character: U+%04X.", (unsigned char)c);
}

static int is_punct(struct parser *p, char c)
{
	return p->t == T_PUNCT && p->punct == c;
}

static int is_keyword(struct parser *p, const char *kw)
{
	return p->t == T_NAME && p->tn == strlen(kw) && !memcmp(p->ts, kw, p->tn);
}

static int expect_punct(struct parser *p, char c)
{
	if (!is_punct(p, c)) {
		char what[8];
		snprintf(what, sizeof what, "\"%c\"", c);
		return expected(p, what);
	}
	return next(p);
}

static int take_name(struct parser *p, const char **out)
{
	if (p->t != T_NAME)
		return expected(p, "Name");
	*out = mlf_arena_strndup(p->a, p->ts, p->tn);
	return next(p);
}

static int enter(struct parser *p)
{
	if (++p->depth > MLF_GQL_MAX_NESTING)
		return failf(p, MLF_GQL_TOO_DEEP, "Query exceeds maximum depth of %d", MLF_GQL_MAX_DEPTH);
	return 1;
}

static int parse_value(struct parser *p, int is_const, struct mlf_gql_value **out);

/* "[" values "]" or "{" name: value ... "}" after the opening bracket. */
static int parse_container(struct parser *p, int is_const, struct mlf_gql_value *v, char close)
{
	if (!enter(p))
		return 0;
	struct mlf_gql_value **tail = &v->items;
	while (!is_punct(p, close)) {
		if (p->t == T_EOF)
			return expected(p, close == ']' ? "\"]\"" : "\"}\"");
		const char *name = NULL;
		if (close == '}' && (!take_name(p, &name) || !expect_punct(p, ':')))
			return 0;
		struct mlf_gql_value *item = NULL;
		if (!parse_value(p, is_const, &item))
			return 0;
		item->name = name;
		*tail = item;
		tail = &item->next;
	}
	p->depth--;
	return next(p);
}

static int parse_value(struct parser *p, int is_const, struct mlf_gql_value **out)
{
	struct mlf_gql_value *v = mlf_arena_alloc(p->a, sizeof *v);
	memset(v, 0, sizeof *v);
	*out = v;
	switch (p->t) {
	case T_PUNCT:
		if (p->punct == '$' && !is_const) {
			if (!next(p))
				return 0;
			v->kind = MLF_GQL_VAR;
			return take_name(p, &v->text);
		}
		if (p->punct == '[' || p->punct == '{') {
			v->kind = p->punct == '[' ? MLF_GQL_LIST : MLF_GQL_OBJECT;
			char close = p->punct == '[' ? ']' : '}';
			return next(p) && parse_container(p, is_const, v, close);
		}
		break;
	case T_INT:
	case T_FLOAT:
		v->kind = p->t == T_INT ? MLF_GQL_INT : MLF_GQL_FLOAT;
		v->text = mlf_arena_strndup(p->a, p->ts, p->tn);
		return next(p);
	case T_STRING:
		v->kind = MLF_GQL_STRING;
		v->text = p->str;
		return next(p);
	case T_NAME:
		if (is_keyword(p, "true") || is_keyword(p, "false"))
			v->kind = MLF_GQL_BOOL;
		else if (is_keyword(p, "null"))
			v->kind = MLF_GQL_NULL;
		else
			v->kind = MLF_GQL_ENUM;
		v->text = mlf_arena_strndup(p->a, p->ts, p->tn);
		return next(p);
	default: break;
	}
	char buf[96];
	return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Unexpected %s.", tok_desc(p, buf, sizeof buf));
}

static int parse_args(struct parser *p, int is_const, struct mlf_gql_arg **out)
{
	*out = NULL;
	if (!is_punct(p, '('))
		return 1;
	if (!next(p))
		return 0;
	struct mlf_gql_arg **tail = out;
	do {
		struct mlf_gql_arg *arg = mlf_arena_alloc(p->a, sizeof *arg);
		memset(arg, 0, sizeof *arg);
		if (!take_name(p, &arg->name) || !expect_punct(p, ':') || !parse_value(p, is_const, &arg->value))
			return 0;
		*tail = arg;
		tail = &arg->next;
	} while (!is_punct(p, ')'));
	return next(p);
}

static int parse_directives(struct parser *p, int is_const, int *count)
{
	while (is_punct(p, '@')) {
		const char *name;
		struct mlf_gql_arg *args;
		if (!next(p) || !take_name(p, &name) || !parse_args(p, is_const, &args))
			return 0;
		(*count)++;
	}
	return 1;
}

static int parse_selection_set(struct parser *p, struct mlf_gql_field **out);

static int parse_field(struct parser *p, struct mlf_gql_field **out)
{
	if (is_punct(p, '.'))
		return failf(p, MLF_GQL_UNSUPPORTED, "Fragments are not supported by mlflowd's GraphQL endpoint.");
	struct mlf_gql_field *f = mlf_arena_alloc(p->a, sizeof *f);
	memset(f, 0, sizeof *f);
	*out = f;
	if (!take_name(p, &f->name))
		return 0;
	if (is_punct(p, ':')) {
		f->alias = f->name;
		if (!next(p) || !take_name(p, &f->name))
			return 0;
	}
	if (!parse_args(p, 0, &f->args) || !parse_directives(p, 0, &f->has_directives))
		return 0;
	if (is_punct(p, '{')) {
		f->has_selection = 1;
		return parse_selection_set(p, &f->selection);
	}
	return 1;
}

static int parse_selection_set(struct parser *p, struct mlf_gql_field **out)
{
	*out = NULL;
	if (!expect_punct(p, '{') || !enter(p))
		return 0;
	struct mlf_gql_field **tail = out;
	do {
		struct mlf_gql_field *f = NULL;
		if (!parse_field(p, &f))
			return 0;
		*tail = f;
		tail = &f->next;
	} while (!is_punct(p, '}'));
	p->depth--;
	return next(p);
}

/* A type reference into b (normalized text); *base gets the named type. */
static int parse_type(struct parser *p, struct mlf_buf *b, const char **base, int *non_null)
{
	if (is_punct(p, '[')) {
		if (!enter(p) || !next(p))
			return 0;
		mlf_buf_putc(b, '[');
		int inner;
		if (!parse_type(p, b, base, &inner) || !expect_punct(p, ']'))
			return 0;
		mlf_buf_putc(b, ']');
		p->depth--;
	} else {
		if (!take_name(p, base))
			return 0;
		mlf_buf_puts(b, *base);
	}
	*non_null = 0;
	if (is_punct(p, '!')) {
		*non_null = 1;
		mlf_buf_putc(b, '!');
		return next(p);
	}
	return 1;
}

static int parse_var_defs(struct parser *p, struct mlf_gql_var_def **out)
{
	*out = NULL;
	if (!is_punct(p, '('))
		return 1;
	if (!next(p))
		return 0;
	struct mlf_gql_var_def **tail = out;
	do {
		struct mlf_gql_var_def *d = mlf_arena_alloc(p->a, sizeof *d);
		memset(d, 0, sizeof *d);
		if (!expect_punct(p, '$') || !take_name(p, &d->name) || !expect_punct(p, ':'))
			return 0;
		struct mlf_buf b = {0};
		int ok = parse_type(p, &b, &d->base, &d->non_null);
		d->type = ok ? mlf_arena_strndup(p->a, b.data, b.len) : NULL;
		mlf_buf_release(&b);
		if (!ok)
			return 0;
		if (is_punct(p, '=') && (!next(p) || !parse_value(p, 1, &d->default_value)))
			return 0;
		int ndir = 0;
		if (!parse_directives(p, 1, &ndir))
			return 0;
		*tail = d;
		tail = &d->next;
	} while (!is_punct(p, ')'));
	return next(p);
}

static int parse_operation(struct parser *p, struct mlf_gql_op **out)
{
	struct mlf_gql_op *op = mlf_arena_alloc(p->a, sizeof *op);
	memset(op, 0, sizeof *op);
	*out = op;
	if (is_punct(p, '{'))
		return parse_selection_set(p, &op->selection);
	if (is_keyword(p, "query") || is_keyword(p, "mutation")) {
		op->mutation = is_keyword(p, "mutation");
		if (!next(p))
			return 0;
		if (p->t == T_NAME && !take_name(p, &op->name))
			return 0;
		int ndir = 0;
		return parse_var_defs(p, &op->vars) && parse_directives(p, 0, &ndir) &&
		       parse_selection_set(p, &op->selection);
	}
	if (is_keyword(p, "fragment"))
		return failf(p, MLF_GQL_UNSUPPORTED, "Fragments are not supported by mlflowd's GraphQL endpoint.");
	if (is_keyword(p, "subscription"))
		return failf(p, MLF_GQL_UNSUPPORTED, "Subscriptions are not supported by mlflowd's GraphQL endpoint.");
	char buf[96];
	return failf(p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Unexpected %s.", tok_desc(p, buf, sizeof buf));
}

enum mlf_gql_parse_result mlf_gql_parse(struct mlf_arena *a, const char *text, size_t n, struct mlf_gql_doc *doc,
                                        char msg[MLF_GQL_MSG_MAX])
{
	struct parser p = {.a = a, .s = text, .end = text + n, .fail = MLF_GQL_PARSED, .msg = msg};
	msg[0] = '\0';
	doc->ops = NULL;
	struct mlf_gql_op **tail = &doc->ops;
	if (next(&p)) {
		if (p.t == T_EOF)
			expected(&p, "Name"); /* what graphql-core says of an empty document */
		while (p.t != T_EOF && p.fail == MLF_GQL_PARSED) {
			struct mlf_gql_op *op = NULL;
			if (!parse_operation(&p, &op))
				break;
			*tail = op;
			tail = &op->next;
		}
	}
	if (p.fail == MLF_GQL_PARSED && !doc->ops)
		failf(&p, MLF_GQL_SYNTAX_ERROR, "Syntax Error: Unexpected <EOF>.");
	return p.fail;
}
