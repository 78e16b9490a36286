/*
 * search.c: the compiler from MLflow's search language to SQL, and page
 * tokens. See search.h for the interface.
 *
 * MLflow parses filters with sqlparse and then interprets the token stream
 * (mlflow/utils/search_utils.py, SearchUtils and SearchExperimentsUtils);
 * the SQL store turns the parsed clauses into SQLAlchemy expressions
 * (mlflow/store/tracking/sqlalchemy_store.py). This file reproduces the
 * observable behaviour of that pipeline with a small hand-written lexer:
 *
 *   1. lex the filter into tokens (strings, numbers, dotted identifiers,
 *      comparison operators, keywords, balanced parenthesis groups);
 *   2. group tokens into comparisons ("ident op value", "ident IN (...)",
 *      "ident IS [NOT] NULL"); AND is skipped; any other token is an
 *      "invalid clause" (this is how OR, NOT and parentheses are refused);
 *   3. interpret each comparison (entity type, key, value) with MLflow's
 *      messages, all clauses before any comparator check, as MLflow does;
 *   4. check comparators and emit SQL with numbered parameters.
 *
 * Nothing from the user is pasted into SQL: keys and values are bound.
 * Nothing here recurses on user input except the balanced AND tree, whose
 * depth is log2 of the number of clauses.
 *
 * This module knows nothing of JSON or HTTP.
 */
#include "search.h"
#include "../api/limits.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "traces.h"

/* Refuse compiled searches with more parameters than this, leaving room
 * below SQLite's default SQLITE_MAX_VARIABLE_NUMBER (32766) for the
 * caller's own parameters. */
#define SEARCH_MAX_BINDS 30000

/* MLflow's Python set literals, printed in a fixed order (Python's own
 * order depends on the hash seed). */
#define METRIC_COMPARATORS "{'>', '>=', '!=', '=', '<', '<='}"
#define PARAM_COMPARATORS "{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}"
#define STRING_ATTR_COMPARATORS "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
#define RUN_SEARCH_KEYS                                                                                     \
	"{'artifact_uri', 'end_time', 'run_id', 'run_name', 'start_time', 'status', 'user_id', 'created', " \
	"'Created', 'run name', 'Run name', 'Run Name'}"
#define RUN_ORDER_KEYS                                                                                      \
	"{'artifact_uri', 'end_time', 'run_id', 'run_name', 'start_time', 'status', 'user_id', 'created', " \
	"'Created'}"
#define EXP_KEYS "{'name', 'experiment_id', 'creation_time', 'last_update_time'}"
#define DATASET_KEYS "{'name', 'digest', 'context'}"

/* ======================================================================
 * Small string helpers
 * ====================================================================== */

static bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (streq(s, *list))
			return true;
	return false;
}

static bool is_word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c == '#' || c >= 0x80;
}

/* Case-insensitive comparison of the n bytes at p with the word w. */
static bool word_is(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

/* Python's repr() of a str, good enough for error messages: single quotes
 * unless the text holds a single quote and no double quote. */
static void py_repr(struct mlf_buf *b, const char *s)
{
	char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
	mlf_buf_putc(b, q);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\' || *p == (unsigned char)q)
			mlf_buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			mlf_buf_puts(b, "\\n");
		else if (*p == '\r')
			mlf_buf_puts(b, "\\r");
		else if (*p == '\t')
			mlf_buf_puts(b, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			mlf_buf_printf(b, "\\x%02x", *p);
		else
			mlf_buf_putc(b, (char)*p);
	}
	mlf_buf_putc(b, q);
}

/* Python's str() of a float: the shortest text that round-trips, in fixed
 * notation for 1e-4 <= |d| < 1e16, else in exponent notation. */
static void py_float(char *out, size_t n, double d)
{
	double m = fabs(d);
	if (d == 0 || (m >= 1e-4 && m < 1e16)) {
		for (int prec = 0; prec <= 20; prec++) {
			snprintf(out, n, "%.*f", prec, d);
			if (strtod(out, NULL) == d)
				break;
		}
		if (!strchr(out, '.'))
			strncat(out, ".0", n - strlen(out) - 1);
		return;
	}
	for (int prec = 0; prec <= 17; prec++) {
		snprintf(out, n, "%.*e", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
}

/* ======================================================================
 * Compilation context: the arena, the binds and the error
 * ====================================================================== */

struct ctx {
	struct mlf_arena *a;
	struct mlf_error *err;
	struct mlf_bind *binds; /* arena-owned */
	int nbinds, cap;
	bool experiments; /* search_experiments rules (also the registry's clause listing) */
	int registry;     /* REG_MODELS or REG_VERSIONS: the model registry's rules; 0 otherwise */
};

enum { REG_MODELS = 1, REG_VERSIONS = 2 };

static struct mlf_bind *new_bind(struct ctx *c, enum mlf_bind_type type)
{
	if (c->nbinds == c->cap) {
		int ncap = c->cap ? c->cap * 2 : 16;
		c->binds = mlf_arena_grow(c->a, c->binds, (size_t)c->cap, (size_t)ncap, sizeof *c->binds);
		c->cap = ncap;
	}
	struct mlf_bind *b = &c->binds[c->nbinds++];
	memset(b, 0, sizeof *b);
	b->type = type;
	return b;
}

/* Each bind_* returns the parameter number of the new value; a text must
 * live as long as the arena. */
static int bind_text(struct ctx *c, const char *s)
{
	new_bind(c, MLF_BIND_TEXT)->text = s;
	return c->nbinds;
}

static int bind_int(struct ctx *c, int64_t v)
{
	new_bind(c, MLF_BIND_INT)->i = v;
	return c->nbinds;
}

static int bind_double(struct ctx *c, double v)
{
	new_bind(c, MLF_BIND_DOUBLE)->d = v;
	return c->nbinds;
}

static enum mlf_status invalid(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum mlf_status invalid(struct ctx *c, const char *fmt, ...)
{
	if (c->err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
		va_end(ap);
		mlf_utf8_scrub(c->err->msg);
		c->err->status = MLF_INVALID_PARAMETER_VALUE;
	}
	return MLF_INVALID_PARAMETER_VALUE;
}

/* ======================================================================
 * Lexer (a subset of sqlparse's, enough for MLflow's grammar)
 * ====================================================================== */

enum tok_kind {
	TK_IDENT,  /* dotted name; parts may be `quoted` or "quoted" */
	TK_STRING, /* '...' */
	TK_INT,
	TK_FLOAT,
	TK_OP,    /* = != < <= > >= (any run of <>=~!), [NOT] LIKE/ILIKE/RLIKE */
	TK_PAREN, /* a balanced (...) group */
	TK_AND,
	TK_NOT,
	TK_IN,
	TK_IS,
	TK_NULL,
	TK_NOTNULL, /* NOT NULL, one keyword in sqlparse */
	TK_SEMI,
	TK_OTHER /* anything else: always an invalid clause */
};

struct token {
	enum tok_kind kind;
	const char *p; /* into the filter text */
	size_t n;
};

/* Length of a quoted run starting at s[0] (the quote q), following
 * sqlparse's regex q(qq|\q|[^q])*q; with backslash escapes only when esc.
 * Returns 0 when unterminated. On a failed greedy scan, the regex
 * backtracks; ending at the last quote seen approximates that. */
static size_t quoted_len(const char *s, char q, bool esc)
{
	size_t i = 1, last_q = 0;
	while (s[i]) {
		if (s[i] == q && s[i + 1] == q) {
			last_q = i + 1;
			i += 2;
		} else if (esc && s[i] == '\\' && s[i + 1] == q) {
			last_q = i + 1;
			i += 2;
		} else if (s[i] == q) {
			return i + 1;
		} else {
			i++;
		}
	}
	return last_q ? last_q + 1 : 0;
}

/* Length of one identifier part at s (a name, `quoted` or "quoted"), 0 if
 * none. A leading digit is allowed only after a dot (first = false). */
static size_t ident_part_len(const char *s, bool first)
{
	if (*s == '\'' && !first)
		return quoted_len(s, '\'', true);
	if (*s == '`')
		return quoted_len(s, '`', false);
	if (*s == '"')
		return quoted_len(s, '"', true);
	if (!is_word_char((unsigned char)*s) || (first && isdigit((unsigned char)*s)))
		return 0;
	size_t i = 0;
	while (is_word_char((unsigned char)s[i]))
		i++;
	return i;
}

/* Length of a number at s, as sqlparse lexes it, 0 if none; *is_float set. */
static size_t number_len(const char *s, bool *is_float)
{
	size_t i = 0;
	if (s[i] == '-')
		i++;
	size_t d0 = i;
	while (isdigit((unsigned char)s[i]))
		i++;
	size_t ndig = i - d0;
	*is_float = false;
	if (s[i] == '.') {
		size_t j = i + 1;
		while (isdigit((unsigned char)s[j]))
			j++;
		if (ndig == 0 && j == i + 1)
			return 0;
		*is_float = true;
		i = j;
	} else if (ndig == 0) {
		return 0;
	}
	if ((s[i] == 'e' || s[i] == 'E') && ndig > 0) {
		size_t j = i + 1;
		if (s[j] == '-')
			j++;
		size_t e0 = j;
		while (isdigit((unsigned char)s[j]))
			j++;
		if (j > e0) {
			*is_float = true;
			i = j;
		}
	}
	if (isalpha((unsigned char)s[i]) || s[i] == '_' || (unsigned char)s[i] >= 0x80)
		return 0;
	return i;
}

/* Skip whitespace; returns the index of the next non-space byte. */
static size_t skip_ws(const char *s, size_t i)
{
	while (s[i] && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* For every '(' of s, the length of its balanced group (0 if unbalanced),
 * in one pass with an explicit stack: deep nesting costs no recursion and
 * unbalanced input no rescanning. Quoted runs are skipped as the lexer
 * skips them. Returns an arena array indexed by byte offset. */
static size_t *match_parens(struct mlf_arena *a, const char *s, size_t len)
{
	size_t *len_at = mlf_arena_alloc(a, sizeof *len_at * (len + 1));
	size_t *stack = mlf_arena_alloc(a, sizeof *stack * (len + 1));
	size_t depth = 0, i = 0;
	while (i < len) {
		char ch = s[i];
		if (ch == '\'' || ch == '"' || ch == '`') {
			size_t q = quoted_len(s + i, ch, ch != '`');
			i += q ? q : 1;
			continue;
		}
		if (ch == '(')
			stack[depth++] = i;
		else if (ch == ')' && depth > 0) {
			size_t open = stack[--depth];
			len_at[open] = i + 1 - open;
		}
		i++;
	}
	return len_at;
}

struct toklist {
	struct token *v; /* arena-owned */
	int n, cap;
};

static void push_tok(struct mlf_arena *a, struct toklist *tl, enum tok_kind k, const char *p, size_t n)
{
	if (tl->n == tl->cap) {
		int ncap = tl->cap ? tl->cap * 2 : 32;
		tl->v = mlf_arena_grow(a, tl->v, (size_t)tl->cap, (size_t)ncap, sizeof *tl->v);
		tl->cap = ncap;
	}
	tl->v[tl->n++] = (struct token){k, p, n};
}

/* Tokenize s (whitespace dropped). Never fails: unknown bytes become
 * TK_OTHER tokens, which the grouper reports as invalid clauses. */
static void lex(struct mlf_arena *a, const char *s, struct toklist *tl)
{
	size_t i = 0;
	size_t *group_len = match_parens(a, s, strlen(s));
	for (;;) {
		i = skip_ws(s, i);
		if (!s[i])
			break;
		const char *p = s + i;
		size_t n;
		bool fl;
		if (*p == '\'') {
			n = quoted_len(p, '\'', true);
			if (n) {
				push_tok(a, tl, TK_STRING, p, n);
				i += n;
				continue;
			}
			push_tok(a, tl, TK_OTHER, p, 1);
			i++;
			continue;
		}
		if (*p == '(') {
			n = group_len[i];
			push_tok(a, tl, n ? TK_PAREN : TK_OTHER, p, n ? n : 1);
			i += n ? n : 1;
			continue;
		}
		if (*p == ';') {
			push_tok(a, tl, TK_SEMI, p, 1);
			i++;
			continue;
		}
		if (strchr("<>=~!", *p)) {
			n = 0;
			while (p[n] && strchr("<>=~!", p[n]))
				n++;
			push_tok(a, tl, TK_OP, p, n);
			i += n;
			continue;
		}
		if ((n = number_len(p, &fl)) > 0) {
			push_tok(a, tl, fl ? TK_FLOAT : TK_INT, p, n);
			i += n;
			continue;
		}
		if ((n = ident_part_len(p, true)) > 0) {
			bool quoted = *p == '`' || *p == '"';
			size_t first = n;
			/* dotted continuation: part(.part)* */
			while (p[n] == '.') {
				size_t m = ident_part_len(p + n + 1, false);
				if (!m)
					break;
				n += 1 + m;
			}
			if (!quoted && n == first) {
				/* a bare word: maybe a keyword */
				static const struct {
					const char *w;
					enum tok_kind k;
				} kws[] = {{"AND", TK_AND},  {"IN", TK_IN},   {"IS", TK_IS},    {"NULL", TK_NULL},
				           {"OR", TK_OTHER}, {"LIKE", TK_OP}, {"ILIKE", TK_OP}, {"RLIKE", TK_OP}};
				if (word_is(p, n, "NOT")) {
					size_t j = skip_ws(s, i + n);
					size_t m = 0;
					while (is_word_char((unsigned char)s[j + m]))
						m++;
					if (j > i + n && (word_is(s + j, m, "LIKE") || word_is(s + j, m, "ILIKE") ||
					                  word_is(s + j, m, "RLIKE"))) {
						push_tok(a, tl, TK_OP, p, j + m - i);
						i = j + m;
						continue;
					}
					if (j > i + n && word_is(s + j, m, "NULL")) {
						push_tok(a, tl, TK_NOTNULL, p, j + m - i);
						i = j + m;
						continue;
					}
					push_tok(a, tl, TK_NOT, p, n);
					i += n;
					continue;
				}
				enum tok_kind k = TK_IDENT;
				for (size_t q = 0; q < sizeof kws / sizeof kws[0]; q++)
					if (word_is(p, n, kws[q].w))
						k = kws[q].k;
				push_tok(a, tl, k, p, n);
				i += n;
				continue;
			}
			push_tok(a, tl, TK_IDENT, p, n);
			i += n;
			continue;
		}
		/* anything else: one byte (a whole UTF-8 sequence stays in words) */
		push_tok(a, tl, TK_OTHER, p, 1);
		i++;
	}
}

/* ======================================================================
 * Parsed clauses
 * ====================================================================== */

enum entity { ENT_METRIC, ENT_PARAM, ENT_TAG, ENT_ATTR, ENT_DATASET };

static const char *const entity_names[] = {"metric", "parameter", "tag", "attribute", "dataset"};

enum vkind { V_NONE, V_STRING, V_INT, V_FLOAT, V_LIST };

struct clause {
	enum entity type;
	const char *key; /* as written (aliases not yet translated); arena */
	const char *op;  /* comparator as MLflow sees it; arena */
	enum vkind vk;
	const char *s;     /* V_STRING (quotes stripped), also the raw number text */
	int64_t i;         /* V_INT */
	bool i_overflow;   /* V_INT too large for int64: use d */
	double d;          /* V_FLOAT, and V_INT as double */
	const char **list; /* V_LIST items; arena */
	int nlist;
};

struct group {
	struct token *left, *op, *right; /* right NULL for IS [NOT] NULL */
	const char *op_text;             /* arena: "NOT IN", "IS NULL", or the op token */
};

static char *tok_str(struct mlf_arena *a, const struct token *t)
{
	return mlf_arena_strndup(a, t->p, t->n);
}

/* Python's str.upper() (ASCII only) of s, in the arena. */
static char *upper_dup(struct mlf_arena *a, const char *s)
{
	char *r = mlf_arena_strdup(a, s);
	for (char *p = r; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return r;
}

/* ASCII lower case of s, in the arena. */
static char *lower_dup(struct mlf_arena *a, const char *s)
{
	char *r = mlf_arena_strdup(a, s);
	for (char *p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

static bool is_value_tok(enum tok_kind k)
{
	return k == TK_STRING || k == TK_INT || k == TK_FLOAT || k == TK_IDENT || k == TK_PAREN || k == TK_NULL;
}

/* Step 2: group tokens into comparisons, or fail listing invalid clauses. */
static enum mlf_status group_tokens(struct ctx *c, const char *filter, struct toklist *tl, struct group **out,
                                    int *nout)
{
	struct mlf_buf inv = {0};
	enum mlf_status st = MLF_OK;
	struct group *g = mlf_arena_alloc(c->a, sizeof *g * (size_t)(tl->n / 2 + 1));
	int ng = 0, ninv = 0;
	struct token *t = tl->v;
	int n = tl->n;

	/* sqlparse splits statements at ';' */
	for (int k = 0; k < n; k++) {
		if (t[k].kind == TK_SEMI && k + 1 < n) {
			mlf_buf_puts(&inv, "Search filter contained multiple expression ");
			py_repr(&inv, filter);
			mlf_buf_puts(&inv, ". Provide AND-ed expression list.");
			st = invalid(c, "%s", inv.data);
			goto out;
		}
	}
	for (int k = 0; k < n;) {
		struct token *a0 = &t[k];
		if (a0->kind == TK_AND) {
			k++;
			continue;
		}
		if (a0->kind == TK_IDENT) {
			struct token *a1 = k + 1 < n ? &t[k + 1] : NULL, *a2 = k + 2 < n ? &t[k + 2] : NULL;
			struct token *a3 = k + 3 < n ? &t[k + 3] : NULL;
			if (a1 && a2 && a1->kind == TK_OP && is_value_tok(a2->kind)) {
				g[ng++] = (struct group){a0, a1, a2, tok_str(c->a, a1)};
				k += 3;
				continue;
			}
			if (a1 && a2 && a1->kind == TK_IN && a2->kind == TK_PAREN) {
				g[ng++] = (struct group){a0, a1, a2, tok_str(c->a, a1)};
				k += 3;
				continue;
			}
			if (a1 && a2 && a3 && a1->kind == TK_NOT && a2->kind == TK_IN && a3->kind == TK_PAREN) {
				g[ng++] = (struct group){a0, a1, a3, "NOT IN"};
				k += 4;
				continue;
			}
			if (a1 && a2 && a1->kind == TK_IS && a2->kind == TK_NULL) {
				g[ng++] = (struct group){a0, a1, NULL, "IS NULL"};
				k += 3;
				continue;
			}
			if (a1 && a2 && a1->kind == TK_IS && a2->kind == TK_NOTNULL) {
				g[ng++] = (struct group){a0, a1, NULL, "IS NOT NULL"};
				k += 3;
				continue;
			}
		}
		if ((a0->kind == TK_STRING || a0->kind == TK_INT || a0->kind == TK_FLOAT) && k + 2 < n &&
		    t[k + 1].kind == TK_OP && is_value_tok(t[k + 2].kind)) {
			/* sqlparse groups "value op value"; MLflow refuses it later */
			g[ng++] = (struct group){a0, &t[k + 1], &t[k + 2], tok_str(c->a, &t[k + 1])};
			k += 3;
			continue;
		}
		/* an invalid clause; sqlparse reads "name alias" as one identifier */
		size_t len = a0->n;
		if (a0->kind == TK_IDENT && k + 1 < n && t[k + 1].kind == TK_IDENT) {
			len = (size_t)(t[k + 1].p + t[k + 1].n - a0->p);
			k++;
		}
		if (ninv++)
			mlf_buf_puts(&inv, ", ");
		if (!c->experiments)
			mlf_buf_putc(&inv, '\'');
		mlf_buf_append(&inv, a0->p, len);
		if (!c->experiments)
			mlf_buf_putc(&inv, '\'');
		k++;
	}
	if (ninv) {
		st = invalid(c, "Invalid clause(s) in filter string: %s", inv.data);
		goto out;
	}
	*out = g;
	*nout = ng;
out:
	mlf_buf_release(&inv);
	return st;
}

/* MLflow's _strip_quotes: trim matching ' or " ends. Returns NULL when
 * expect_quoted and the text is not quoted. */
static const char *strip_quotes(struct mlf_arena *a, const char *v, bool expect_quoted)
{
	size_t n = strlen(v);
	if (n >= 2 && ((v[0] == '\'' && v[n - 1] == '\'') || (v[0] == '"' && v[n - 1] == '"')))
		return mlf_arena_strndup(a, v + 1, n - 2);
	return expect_quoted ? NULL : v;
}

static const char *trim_backticks(struct mlf_arena *a, const char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '`' && v[n - 1] == '`')
		return mlf_arena_strndup(a, v + 1, n - 2);
	return v;
}

static const char *const run_attr_keys[] = {"artifact_uri", "end_time", "run_id",  "run_name", "start_time",
                                            "status",       "user_id",  "created", "Created",  "run name",
                                            "Run name",     "Run Name", NULL};
static const char *const run_order_keys[] = {"artifact_uri", "end_time", "run_id",  "run_name", "start_time",
                                             "status",       "user_id",  "created", "Created",  NULL};
static const char *const run_numeric_keys[] = {"start_time", "end_time", "created", "Created", NULL};
static const char *const exp_keys[] = {"name", "experiment_id", "creation_time", "last_update_time", NULL};
static const char *const exp_numeric_keys[] = {"creation_time", "last_update_time", NULL};
static const char *const dataset_keys[] = {"name", "digest", "context", NULL};

/* MLflow's _get_identifier (runs when !c->experiments). order selects the
 * order_by attribute set. */
static enum mlf_status get_identifier(struct ctx *c, const char *ident, bool order, enum entity *type, const char **key)
{
	const char *dot = strchr(ident, '.');
	const char *k;
	if (!dot) {
		*type = ENT_ATTR;
		k = ident;
	} else {
		char *et = mlf_arena_strndup(c->a, ident, (size_t)(dot - ident));
		k = dot + 1;
		if (c->experiments) {
			if (!streq(et, "attribute") && !streq(et, "tag") && !streq(et, "tags"))
				return invalid(c,
				               "Invalid entity type '%s'. Valid entity types are ('attribute', 'tag', "
				               "'tags')",
				               et);
			*type = streq(et, "attribute") ? ENT_ATTR : ENT_TAG;
		} else {
			const char *e = trim_backticks(c->a, et);
			if (streq(e, "metric") || streq(e, "metrics"))
				*type = ENT_METRIC;
			else if (streq(e, "parameter") || streq(e, "parameters") || streq(e, "param") ||
			         streq(e, "params"))
				*type = ENT_PARAM;
			else if (streq(e, "tag") || streq(e, "tags"))
				*type = ENT_TAG;
			else if (streq(e, "attribute") || streq(e, "attributes") || streq(e, "attr") || streq(e, "run"))
				*type = ENT_ATTR;
			else if (streq(e, "dataset") || streq(e, "datasets"))
				*type = ENT_DATASET;
			else
				return invalid(c,
				               "Invalid entity type '%s'. Valid values are ['metric', 'parameter', "
				               "'tag', 'attribute', 'dataset']",
				               e);
		}
	}
	k = trim_backticks(c->a, strip_quotes(c->a, k, false));
	if (*type == ENT_ATTR) {
		const char *const *valid = c->experiments ? exp_keys : order ? run_order_keys : run_attr_keys;
		if (!in_list(k, valid))
			return invalid(c, "Invalid attribute key '%s' specified. Valid keys are '%s'", k,
			               c->experiments ? EXP_KEYS
			               : order        ? RUN_ORDER_KEYS
			                              : RUN_SEARCH_KEYS);
	} else if (*type == ENT_DATASET && !in_list(k, dataset_keys)) {
		return invalid(c, "Invalid dataset key '%s' specified. Valid keys are '%s'", k, DATASET_KEYS);
	}
	*key = k;
	return MLF_OK;
}

/* Decode a Python string literal body (between quotes) with the common
 * escapes; unknown escapes keep their backslash, as Python does. */
static void py_unescape(struct mlf_buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\\' || i + 1 == n) {
			mlf_buf_putc(b, p[i]);
			continue;
		}
		char e = p[++i];
		switch (e) {
		case '\\': mlf_buf_putc(b, '\\'); break;
		case '\'': mlf_buf_putc(b, '\''); break;
		case '"': mlf_buf_putc(b, '"'); break;
		case 'n': mlf_buf_putc(b, '\n'); break;
		case 't': mlf_buf_putc(b, '\t'); break;
		case 'r': mlf_buf_putc(b, '\r'); break;
		case '\n': break; /* line continuation */
		default: mlf_buf_putc(b, '\\'); mlf_buf_putc(b, e);
		}
	}
}

/* MLflow's _parse_list_from_sql_token: the parenthesis text is evaluated as
 * a Python literal and must be a non-empty tuple of strings (a single
 * parenthesised string counts as a one-element tuple). */
static enum mlf_status parse_list(struct ctx *c, const struct token *t, struct clause *cl)
{
	const char *s = t->p + 1;
	size_t end = t->n - 2, i = 0; /* the text between the parentheses */
	int cap = 4, n = 0;
	bool other_type = false;
	const char **items = mlf_arena_alloc(c->a, sizeof *items * (size_t)cap);
	struct mlf_buf item = {0};
	enum mlf_status st = MLF_OK;

	for (;;) {
		while (i < end && isspace((unsigned char)s[i]))
			i++;
		if (i >= end)
			break;
		if (s[i] == '\'' || s[i] == '"') {
			/* one item: adjacent literals concatenate, as in Python */
			mlf_buf_reset(&item);
			mlf_buf_append(&item, "", 0);
			while (i < end && (s[i] == '\'' || s[i] == '"')) {
				char q = s[i];
				size_t j = i + 1;
				while (j < end && s[j] != q) {
					if (s[j] == '\\' && j + 1 < end)
						j++;
					j++;
				}
				if (j >= end)
					goto ill_formed;
				py_unescape(&item, s + i + 1, j - i - 1);
				i = j + 1;
				while (i < end && isspace((unsigned char)s[i]))
					i++;
			}
			while (n >= cap) {
				items = mlf_arena_grow(c->a, items, (size_t)cap, (size_t)cap * 2, sizeof *items);
				cap *= 2;
			}
			items[n++] = mlf_arena_strdup(c->a, item.data);
		} else {
			/* a number is a valid Python literal of another type */
			bool fl;
			size_t m = number_len(s + i, &fl);
			if (!m && (s[i] == '+' || s[i] == '-'))
				m = number_len(s + i + 1, &fl) ? number_len(s + i + 1, &fl) + 1 : 0;
			if (!m)
				goto ill_formed;
			other_type = true; /* not stored: this is an error below */
			n++;
			i += m;
			while (i < end && isspace((unsigned char)s[i]))
				i++;
		}
		if (i >= end)
			break;
		if (s[i] != ',')
			goto ill_formed;
		i++;
	}
	if (n == 0) {
		st = invalid(c, "While parsing a list in the query, expected a non-empty list of string values, but "
		                "got empty list");
		goto out;
	}
	if (other_type) {
		st = invalid(c,
		             "While parsing a list in the query, expected string value, punctuation, or whitespace, "
		             "but got different type in list: %.*s",
		             (int)t->n, t->p);
		goto out;
	}
	cl->vk = V_LIST;
	cl->list = items;
	cl->nlist = n;
	goto out;
ill_formed:
	st = invalid(c, "While parsing a list in the query, expected a non-empty list of string values, but got "
	                "ill-formed list.");
out:
	mlf_buf_release(&item);
	return st;
}

/* Fill cl with a numeric token's value. */
static void number_value(struct ctx *c, const struct token *t, struct clause *cl)
{
	char *txt = tok_str(c->a, t);
	cl->s = txt;
	cl->d = strtod(txt, NULL);
	if (t->kind == TK_INT) {
		errno = 0;
		cl->i = strtoll(txt, NULL, 10);
		cl->i_overflow = errno == ERANGE;
		cl->vk = V_INT;
	} else {
		cl->vk = V_FLOAT;
	}
}

/* MLflow's _get_value: checks and converts the right-hand side. */
static enum mlf_status get_value(struct ctx *c, struct clause *cl, const struct token *t)
{
	char *raw = tok_str(c->a, t);
	bool is_num = t->kind == TK_INT || t->kind == TK_FLOAT;
	bool is_str = t->kind == TK_STRING || t->kind == TK_IDENT;
	switch (cl->type) {
	case ENT_METRIC:
		if (!is_num)
			return invalid(c, "Expected numeric value type for metric. Found %s", raw);
		number_value(c, t, cl);
		return MLF_OK;
	case ENT_PARAM:
	case ENT_TAG:
		if (!is_str)
			return invalid(c, "Expected a quoted string value for %s (e.g. 'my-value'). Got value %s",
			               entity_names[cl->type], raw);
		break;
	case ENT_ATTR: {
		const char *const *numeric = c->experiments ? exp_numeric_keys : run_numeric_keys;
		if (in_list(cl->key, numeric)) {
			if (!is_num)
				return invalid(c, "Expected numeric value type for numeric attribute: %s. Found %s",
				               cl->key, raw);
			number_value(c, t, cl);
			return MLF_OK;
		}
		if (t->kind == TK_PAREN) {
			const char *list_key = c->experiments ? "experiment_id" : "run_id";
			if (!streq(cl->key, list_key))
				return invalid(c,
				               "Only ['%s'] attributes support comparison with a list of quoted "
				               "string values.",
				               list_key);
			return parse_list(c, t, cl);
		}
		if (!is_str)
			return invalid(c, "Expected a quoted string value for attributes. Got value %s", raw);
		break;
	}
	case ENT_DATASET:
		if (t->kind == TK_PAREN)
			return parse_list(c, t, cl);
		if (!is_str)
			return invalid(c, "Expected a quoted string value for dataset attributes. Got value %s", raw);
		break;
	}
	cl->s = strip_quotes(c->a, raw, true);
	if (!cl->s)
		return invalid(c,
		               "Parameter value is either not quoted or unidentified quote types used for string "
		               "value %s. Use either single or double quotes.",
		               raw);
	cl->vk = V_STRING;
	return MLF_OK;
}

static enum mlf_status reg_clause(struct ctx *c, struct clause *cl, const struct group *g);

/* Steps 1-3: lex, group and interpret a filter into clauses. */
static enum mlf_status parse_filter(struct ctx *c, const char *filter, struct clause **out, int *nout)
{
	struct toklist tl = {0};
	struct group *g = NULL;
	int ng = 0;
	enum mlf_status st;

	*out = NULL;
	*nout = 0;
	if (!filter || !*filter)
		return MLF_OK;
	lex(c->a, filter, &tl);
	if (tl.n == 0)
		return invalid(c, "Invalid filter '%s'. Could not be parsed.", filter);
	st = group_tokens(c, filter, &tl, &g, &ng);
	if (st)
		return st;
	struct clause *cls = mlf_arena_alloc(c->a, sizeof *cls * (size_t)(ng + 1));
	for (int k = 0; k < ng; k++) {
		struct clause *cl = &cls[k];
		if (g[k].left->kind != TK_IDENT)
			return invalid(c, "Invalid comparison clause. Expected 'Identifier' found '%.*s'",
			               (int)g[k].left->n, g[k].left->p);
		if (c->registry) {
			if ((st = reg_clause(c, cl, &g[k])))
				return st;
			continue;
		}
		st = get_identifier(c, tok_str(c->a, g[k].left), false, &cl->type, &cl->key);
		if (st)
			return st;
		if (!g[k].right) {
			if (c->experiments && cl->type != ENT_TAG)
				return invalid(c,
				               "IS NULL / IS NOT NULL is only supported for tags, not for attribute "
				               "'%s'",
				               cl->key);
			if (!c->experiments && cl->type != ENT_TAG && cl->type != ENT_PARAM)
				return invalid(c,
				               "IS NULL / IS NOT NULL is only supported for tags and params, not for "
				               "'%s' '%s'",
				               entity_names[cl->type], cl->key);
			cl->op = g[k].op_text;
			cl->vk = V_NONE;
			continue;
		}
		/* runs upper-case the comparator; search_experiments does not */
		cl->op = c->experiments ? g[k].op_text : upper_dup(c->a, g[k].op_text);
		st = get_value(c, cl, g[k].right);
		if (st)
			return st;
	}
	*out = cls;
	*nout = ng;
	return MLF_OK;
}

/* ======================================================================
 * SQL emission
 * ====================================================================== */

static const char *const string_ops[] = {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN", NULL};
static const char *const numeric_ops[] = {"=", "!=", ">", ">=", "<", "<=", NULL};
static const char *const param_ops[] = {"=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL", NULL};

/* The constant SQL spelling of a validated comparator (never user text). */
static const char *sql_op(const char *op)
{
	static const char *const ops[] = {"=", "!=", ">", ">=", "<", "<=", "LIKE", "IN", "NOT IN", NULL};
	for (int i = 0; ops[i]; i++)
		if (streq(op, ops[i]))
			return ops[i];
	return "=";
}

/* Emit "<col> <op> <value>" for a string, list or numeric comparison. A
 * value of the wrong shape for the comparator (a list with '=', ...) is
 * refused. */
static enum mlf_status emit_cmp(struct ctx *c, struct mlf_buf *b, const char *col, const struct clause *cl)
{
	bool list_op = streq(cl->op, "IN") || streq(cl->op, "NOT IN");
	if (list_op != (cl->vk == V_LIST))
		return invalid(c, "Invalid comparator '%s' for the value given to '%s'", cl->op, cl->key);
	if (list_op) {
		mlf_buf_printf(b, "%s %s (", col, sql_op(cl->op));
		for (int i = 0; i < cl->nlist; i++)
			mlf_buf_printf(b, "%s?%d", i ? ", " : "", bind_text(c, cl->list[i]));
		mlf_buf_putc(b, ')');
		return MLF_OK;
	}
	int p;
	if (cl->vk == V_STRING)
		p = bind_text(c, cl->s);
	else if (cl->vk == V_INT && !cl->i_overflow)
		p = bind_int(c, cl->i);
	else
		p = bind_double(c, cl->d);
	if (streq(cl->op, "ILIKE"))
		mlf_buf_printf(b, "LOWER(%s) LIKE LOWER(?%d)", col, p);
	else if (streq(cl->op, "RLIKE")) /* traces only: storage/regexp.c */
		mlf_buf_printf(b, "%s REGEXP ?%d", col, p);
	else
		mlf_buf_printf(b, "%s %s ?%d", col, sql_op(cl->op), p);
	return MLF_OK;
}

/* Write terms[lo..hi) joined by AND as a balanced tree, so SQLite's
 * expression depth grows with log2 of the clause count. */
static void emit_and_tree(struct mlf_buf *b, char **terms, int lo, int hi)
{
	if (hi - lo == 1) {
		mlf_buf_puts(b, terms[lo]);
		return;
	}
	int mid = lo + (hi - lo) / 2;
	mlf_buf_putc(b, '(');
	emit_and_tree(b, terms, lo, mid);
	mlf_buf_puts(b, " AND ");
	emit_and_tree(b, terms, mid, hi);
	mlf_buf_putc(b, ')');
}

static const char *run_column(const char *key)
{
	if (streq(key, "run_id"))
		return "r.run_uuid";
	if (streq(key, "run_name"))
		return "r.name";
	if (streq(key, "start_time"))
		return "r.start_time";
	if (streq(key, "end_time"))
		return "r.end_time";
	if (streq(key, "status"))
		return "r.status";
	if (streq(key, "user_id"))
		return "r.user_id";
	return "r.artifact_uri";
}

/* MLflow's translate_key_alias. */
static const char *translate_alias(const char *key)
{
	if (streq(key, "created") || streq(key, "Created"))
		return "start_time";
	if (streq(key, "run name") || streq(key, "Run name") || streq(key, "Run Name"))
		return "run_name";
	return key;
}

/* One run clause as SQL into b (MLflow's _get_sqlalchemy_filter_clauses). */
static enum mlf_status emit_run_clause(struct ctx *c, struct mlf_buf *b, const struct clause *cl)
{
	const char *op = cl->op;
	const char *key = translate_alias(cl->key);
	static const char *const tables[] = {
	    [ENT_METRIC] = "latest_metrics", [ENT_PARAM] = "params", [ENT_TAG] = "tags"};
	switch (cl->type) {
	case ENT_ATTR:
		if (!in_list(key, run_numeric_keys)) {
			if (!in_list(op, string_ops))
				return invalid(c, "Invalid comparator '%s' not one of '%s'", op,
				               STRING_ATTR_COMPARATORS);
			if (streq(key, "run_name")) {
				/* evaluated against the mlflow.runName tag, as MLflow does */
				mlf_buf_printf(b,
				               "EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = "
				               "'mlflow.runName' AND ");
				enum mlf_status st = emit_cmp(c, b, "t.value", cl);
				mlf_buf_putc(b, ')');
				return st;
			}
			return emit_cmp(c, b, run_column(key), cl);
		}
		if (!in_list(op, numeric_ops))
			return invalid(c, "Invalid comparator '%s' not one of '%s", op, STRING_ATTR_COMPARATORS);
		return emit_cmp(c, b, run_column(key), cl);
	case ENT_METRIC: {
		if (!in_list(op, numeric_ops))
			return invalid(c, "Invalid comparator '%s' not one of '%s", op, METRIC_COMPARATORS);
		/* NaN is stored as value 0 with is_nan 1: only != matches it */
		int k = bind_text(c, cl->key);
		int v = bind_double(c, cl->d);
		mlf_buf_printf(b,
		               "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ?%d "
		               "AND ",
		               k);
		if (streq(op, "!="))
			mlf_buf_printf(b, "(m.value != ?%d OR m.is_nan = 1))", v);
		else
			mlf_buf_printf(b, "m.value %s ?%d AND m.is_nan = 0)", sql_op(op), v);
		return MLF_OK;
	}
	case ENT_PARAM:
	case ENT_TAG: {
		if (!in_list(op, param_ops))
			return invalid(c,
			               cl->type == ENT_PARAM ? "Invalid comparator '%s' not one of '%s'"
			                                     : "Invalid comparator '%s' not one of '%s",
			               op, PARAM_COMPARATORS);
		const char *tab = tables[cl->type];
		int k = bind_text(c, cl->key);
		if (cl->vk == V_NONE) {
			mlf_buf_printf(b, "%sEXISTS (SELECT 1 FROM %s x WHERE x.run_uuid = r.run_uuid AND x.key = ?%d)",
			               streq(op, "IS NULL") ? "NOT " : "", tab, k);
			return MLF_OK;
		}
		mlf_buf_printf(b, "EXISTS (SELECT 1 FROM %s x WHERE x.run_uuid = r.run_uuid AND x.key = ?%d AND ", tab,
		               k);
		enum mlf_status st = emit_cmp(c, b, "x.value", cl);
		mlf_buf_putc(b, ')');
		return st;
	}
	case ENT_DATASET: {
		if (!in_list(op, string_ops))
			return invalid(c, "Invalid comparator '%s' not one of '%s", op, STRING_ATTR_COMPARATORS);
		mlf_buf_puts(b, "EXISTS (SELECT 1 FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id");
		bool ctxkey = streq(cl->key, "context");
		if (ctxkey)
			mlf_buf_puts(b, " JOIN input_tags it ON it.input_uuid = i.input_uuid AND it.name = "
			                "'mlflow.data.context'");
		mlf_buf_puts(b, " WHERE i.destination_id = r.run_uuid AND i.source_type = 'DATASET' AND "
		                "i.destination_type = 'RUN' AND ");
		enum mlf_status st = emit_cmp(c, b,
		                              ctxkey                   ? "it.value"
		                              : streq(cl->key, "name") ? "d.name"
		                                                       : "d.digest",
		                              cl);
		mlf_buf_putc(b, ')');
		return st;
	}
	}
	return MLF_OK;
}

/* Parse an int the way Python's int() does for experiment ids. */
static bool parse_py_int(const char *s, int64_t *out)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return false;
	*out = v;
	return true;
}

/* One experiment clause (MLflow's _get_search_experiments_filter_clauses). */
static enum mlf_status emit_exp_clause(struct ctx *c, struct mlf_buf *b, struct clause *cl)
{
	const char *op = cl->op;
	if (cl->type == ENT_TAG) {
		if (cl->vk == V_NONE) {
			int k = bind_text(c, cl->key);
			mlf_buf_printf(b,
			               "%sEXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = "
			               "e.experiment_id AND t.key = ?%d)",
			               streq(op, "IS NULL") ? "NOT " : "", k);
			return MLF_OK;
		}
		if (!streq(op, "=") && !streq(op, "!=") && !streq(op, "LIKE") && !streq(op, "ILIKE"))
			return invalid(c, "Invalid comparator for tag: %s", op);
		int k = bind_text(c, cl->key);
		mlf_buf_printf(b,
		               "EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND "
		               "t.key = ?%d AND ",
		               k);
		enum mlf_status st = emit_cmp(c, b, "t.value", cl);
		mlf_buf_putc(b, ')');
		return st;
	}
	if (streq(cl->key, "experiment_id")) {
		if (!streq(op, "=") && !streq(op, "!=") && !streq(op, "IN") && !streq(op, "NOT IN"))
			return invalid(c, "Invalid comparator for experiment_id: %s", op);
		int n = cl->vk == V_LIST ? cl->nlist : 1;
		int64_t *ids = mlf_arena_alloc(c->a, sizeof *ids * (size_t)n);
		for (int i = 0; i < n; i++) {
			const char *v = cl->vk == V_LIST ? cl->list[i] : cl->s;
			if (!parse_py_int(v, &ids[i]))
				return invalid(c, "Invalid experiment ID '%s'. Experiment ID must be a valid integer.",
				               v);
		}
		if (cl->vk != V_LIST) {
			mlf_buf_printf(b, "e.experiment_id %s ?%d", sql_op(op), bind_int(c, ids[0]));
			return MLF_OK;
		}
		mlf_buf_printf(b, "e.experiment_id %s (", sql_op(op));
		for (int i = 0; i < n; i++)
			mlf_buf_printf(b, "%s?%d", i ? ", " : "", bind_int(c, ids[i]));
		mlf_buf_putc(b, ')');
		return MLF_OK;
	}
	if (streq(cl->key, "name")) {
		if (!in_list(op, string_ops))
			return invalid(c, "Invalid comparator '%s' not one of '%s'", op, STRING_ATTR_COMPARATORS);
		if (!streq(op, "=") && !streq(op, "!=") && !streq(op, "LIKE") && !streq(op, "ILIKE"))
			return invalid(c, "Invalid comparator for string attribute: %s", op);
		return emit_cmp(c, b, "e.name", cl);
	}
	/* creation_time, last_update_time */
	if (!in_list(op, numeric_ops))
		return invalid(c, "Invalid comparator '%s' not one of '%s", op, STRING_ATTR_COMPARATORS);
	if (cl->vk == V_FLOAT) {
		char f[64];
		py_float(f, sizeof f, cl->d);
		return invalid(c, "Invalid value for numeric attribute '%s': '%s'", cl->key, f);
	}
	if (cl->i_overflow)
		return invalid(c, "Invalid value for numeric attribute '%s': %s", cl->key, cl->s);
	const char *col = streq(cl->key, "creation_time") ? "e.creation_time" : "e.last_update_time";
	return emit_cmp(c, b, col, cl);
}

/* ---- the model registry (SearchModelUtils / SearchModelVersionUtils) ---- */

static const char *const rm_attr_keys[] = {"name", NULL};
static const char *const mv_attr_keys[] = {"name", "version_number", "run_id", "source_path", NULL};
#define RM_ATTR_KEYS "{'name'}"
#define MV_ATTR_KEYS "{'name', 'run_id', 'source_path', 'version_number'}"
#define MV_NUMERIC_KEYS "{'creation_timestamp', 'last_updated_timestamp', 'version_number'}"
#define MV_ORDER_KEYS "{'creation_timestamp', 'last_updated_timestamp', 'name', 'version_number'}"
#define PROMPT_TAG "mlflow.prompt.is_prompt"

/* _get_model_search_identifier and _get_value of the registry's search
 * utilities for one comparison. */
static enum mlf_status reg_clause(struct ctx *c, struct clause *cl, const struct group *g)
{
	bool mv = c->registry == REG_VERSIONS;
	if (!g->right)
		return invalid(c, "Invalid comparison clause. Expected 3 tokens found 2");
	char *ident = tok_str(c->a, g->left);
	const char *dot = strchr(ident, '.');
	const char *k = ident;
	cl->type = ENT_ATTR;
	if (dot) {
		char *et = mlf_arena_strndup(c->a, ident, (size_t)(dot - ident));
		if (!streq(et, "attribute") && !streq(et, "tag") && !streq(et, "tags"))
			return invalid(
			    c, "Invalid entity type '%s'. Valid entity types are ('attribute', 'tag', 'tags')", et);
		cl->type = streq(et, "attribute") ? ENT_ATTR : ENT_TAG;
		k = dot + 1;
	}
	if (cl->type == ENT_ATTR && !in_list(k, mv ? mv_attr_keys : rm_attr_keys))
		return invalid(c, "Invalid attribute key '%s' specified. Valid keys are '%s'", k,
		               mv ? MV_ATTR_KEYS : RM_ATTR_KEYS);
	cl->key = trim_backticks(c->a, strip_quotes(c->a, k, false));
	cl->op = upper_dup(c->a, g->op_text);
	const struct token *t = g->right;
	char *raw = tok_str(c->a, t);
	bool is_str = t->kind == TK_STRING || t->kind == TK_IDENT;
	if (cl->type == ENT_TAG && !is_str)
		return invalid(c, "Expected a quoted string value for tag (e.g. 'my-value'). Got value %s", raw);
	if (cl->type == ENT_ATTR && !is_str) {
		if (t->kind == TK_PAREN) {
			if (!streq(cl->key, "name") && !(mv && streq(cl->key, "run_id")))
				return invalid(c,
				               "Only %s attributes support comparison with a list of quoted string "
				               "values.",
				               mv ? "['name', 'run_id']" : "['name']");
			return parse_list(c, t, cl);
		}
		if (mv && (t->kind == TK_INT || t->kind == TK_FLOAT)) {
			if (!streq(cl->key, "version_number"))
				return invalid(c, "Only the '%s' attributes support comparison with numeric values.",
				               MV_NUMERIC_KEYS);
			number_value(c, t, cl);
			return MLF_OK;
		}
		return invalid(c,
		               "Expected a quoted string value or a list of quoted string values for attributes. "
		               "Got value %s",
		               raw);
	}
	cl->s = strip_quotes(c->a, raw, true);
	if (!cl->s)
		return invalid(c,
		               "Parameter value is either not quoted or unidentified quote types used for string "
		               "value %s. Use either single or double quotes.",
		               raw);
	cl->vk = V_STRING;
	return MLF_OK;
}

/* MLflow's _is_querying_prompt: the first clause on the prompt tag asks
 * for prompts. */
static bool reg_querying_prompt(const struct clause *cls, int n)
{
	for (int i = 0; i < n; i++) {
		if (cls[i].type != ENT_TAG || !streq(cls[i].key, PROMPT_TAG))
			continue;
		return (streq(cls[i].op, "=") && !strcasecmp(cls[i].s, "true")) ||
		       (streq(cls[i].op, "!=") && !strcasecmp(cls[i].s, "false"));
	}
	return false;
}

/* One registry clause as SQL (registered models as `m`, versions as `v`).
 * Without `prompts`, a clause on the prompt tag matches everything: MLflow
 * drops it and excludes prompts instead. */
static enum mlf_status emit_reg_clause(struct ctx *c, struct mlf_buf *b, struct clause *cl, bool prompts)
{
	bool mv = c->registry == REG_VERSIONS;
	const char *op = cl->op;
	if (cl->type == ENT_TAG) {
		if (!streq(op, "=") && !streq(op, "!=") && !streq(op, "LIKE") && !streq(op, "ILIKE"))
			return invalid(c, "Invalid comparator for tag: %s", op);
		if (!prompts && streq(cl->key, PROMPT_TAG)) {
			mlf_buf_puts(b, "1");
			return MLF_OK;
		}
		int k = bind_text(c, cl->key);
		if (mv)
			mlf_buf_printf(b,
			               "EXISTS (SELECT 1 FROM model_version_tags t WHERE t.workspace = v.workspace AND "
			               "t.name = v.name AND t.version = v.version AND t.key = ?%d AND ",
			               k);
		else
			mlf_buf_printf(
			    b,
			    "EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.workspace = m.workspace AND "
			    "t.name = m.name AND t.key = ?%d AND ",
			    k);
		enum mlf_status st = emit_cmp(c, b, "t.value", cl);
		mlf_buf_putc(b, ')');
		return st;
	}
	if (mv && streq(cl->key, "version_number")) {
		if (!in_list(op, numeric_ops))
			return invalid(c, "Invalid comparator for attribute version_number: %s", op);
		if (cl->vk == V_FLOAT) {
			char f[64];
			py_float(f, sizeof f, cl->d);
			return invalid(c, "Invalid value for numeric attribute 'version_number': %s", f);
		}
		if (cl->vk == V_STRING) {
			int64_t v;
			if (!parse_py_int(cl->s, &v)) {
				struct mlf_buf r = {0};
				py_repr(&r, cl->s);
				enum mlf_status st =
				    invalid(c, "Invalid value for numeric attribute 'version_number': %s", r.data);
				mlf_buf_release(&r);
				return st;
			}
			cl->vk = V_INT;
			cl->i = v;
			cl->i_overflow = false;
		}
		if (cl->i_overflow)
			return invalid(c, "Invalid value for numeric attribute 'version_number': %s", cl->s);
		return emit_cmp(c, b, "v.version", cl);
	}
	bool list_op = streq(op, "IN") || streq(op, "NOT IN");
	if (!in_list(op, string_ops) || (list_op && !streq(cl->key, "name") && !streq(cl->key, "run_id")))
		return invalid(c, "Invalid comparator for attribute: %s", op);
	const char *col = !mv                        ? "m.name"
	                  : streq(cl->key, "name")   ? "v.name"
	                  : streq(cl->key, "run_id") ? "v.run_id"
	                                             : "v.source";
	return emit_cmp(c, b, col, cl);
}

/* Build out->where from parsed clauses. */
static enum mlf_status emit_where(struct ctx *c, struct clause *cls, int n, const char **where)
{
	struct mlf_buf b = {0};
	enum mlf_status st = MLF_OK;
	char **terms = mlf_arena_alloc(c->a, sizeof *terms * (size_t)(n + 1));
	for (int k = 0; k < n; k++) {
		mlf_buf_reset(&b);
		st = c->experiments ? emit_exp_clause(c, &b, &cls[k]) : emit_run_clause(c, &b, &cls[k]);
		if (st)
			goto out;
		terms[k] = mlf_arena_strdup(c->a, b.data);
	}
	int lookups = 0;
	for (int k = 0; k < n; k++)
		lookups += c->experiments ? cls[k].type == ENT_TAG
		                          : cls[k].type != ENT_ATTR || streq(translate_alias(cls[k].key), "run_name");
	if (lookups > MLF_SEARCH_MAX_LOOKUP_CLAUSES) {
		st = invalid(c,
		             "Invalid filter: %d comparisons of %s; at most %d are supported in one search (MLflow "
		             "cannot run more either)",
		             lookups, c->experiments ? "tags" : "metrics, params, tags, datasets or run names",
		             MLF_SEARCH_MAX_LOOKUP_CLAUSES);
		goto out;
	}
	mlf_buf_reset(&b);
	if (n)
		emit_and_tree(&b, terms, 0, n);
	*where = mlf_arena_strdup(c->a, b.len ? b.data : "");
out:
	mlf_buf_release(&b);
	return st;
}

/* ======================================================================
 * order_by
 * ====================================================================== */

/* A shlex.split() subset: whitespace-separated words, "..." and '...'
 * quoting, backslash escapes outside single quotes. At most max words
 * are stored; returns the word count, or -1 on an unclosed quote. */
static int shlex_split(struct mlf_arena *a, const char *s, char **words, int max)
{
	struct mlf_buf w = {0};
	int n = 0;
	size_t i = 0;
	for (;;) {
		while (s[i] && isspace((unsigned char)s[i]))
			i++;
		if (!s[i])
			break;
		mlf_buf_reset(&w);
		mlf_buf_append(&w, "", 0);
		while (s[i] && !isspace((unsigned char)s[i])) {
			char ch = s[i];
			if (ch == '\'' || ch == '"') {
				i++;
				while (s[i] && s[i] != ch) {
					if (ch == '"' && s[i] == '\\' && (s[i + 1] == '"' || s[i + 1] == '\\'))
						i++;
					mlf_buf_putc(&w, s[i++]);
				}
				if (!s[i]) {
					n = -1;
					goto out;
				}
				i++;
			} else if (ch == '\\' && s[i + 1]) {
				mlf_buf_putc(&w, s[i + 1]);
				i += 2;
			} else {
				mlf_buf_putc(&w, ch);
				i++;
			}
		}
		if (n < max)
			words[n] = mlf_arena_strdup(a, w.data);
		n++;
	}
out:
	mlf_buf_release(&w);
	return n;
}

/* MLflow's _parse_order_by_string: "<identifier> [ASC|DESC]". Returns the
 * identifier text (quotes removed by shlex) and the direction. */
static enum mlf_status parse_order_by(struct ctx *c, const char *ob, const char **ident, bool *asc)
{
	/* sqlparse must see exactly one identifier, optionally followed by one
	 * word (an alias to sqlparse, a direction to MLflow); no surrounding
	 * whitespace */
	size_t i = 0, n;
	bool ok = (n = ident_part_len(ob, true)) > 0;
	if (ok) {
		i += n;
		while (ob[i] == '.' && (n = ident_part_len(ob + i + 1, false)) > 0)
			i += 1 + n;
		size_t j = skip_ws(ob, i);
		if (j > i && ob[j]) {
			size_t m = ob[j] == '\'' ? quoted_len(ob + j, '\'', true) : ident_part_len(ob + j, true);
			ok = m > 0 && !ob[j + m];
		} else {
			ok = !ob[i];
		}
	}
	if (!ok)
		return invalid(c, "Invalid order_by clause '%s'. Could not be parsed.", ob);
	char *txt = mlf_arena_strdup(c->a, ob);
	for (char *p = txt; *p; p++)
		if (*p == '`')
			*p = '"';
	char *words[2];
	int nw = shlex_split(c->a, txt, words, 2);
	if (nw < 1 || nw > 2)
		return invalid(c, "Invalid order_by clause '%s'. Could not be parsed.", ob);
	*asc = true;
	if (nw == 2) {
		if (strcasecmp(words[1], "asc") && strcasecmp(words[1], "desc"))
			return invalid(c, "Invalid ordering key in order_by clause '%s'.", ob);
		*asc = strcasecmp(words[1], "asc") == 0;
	}
	/* token_value.strip() */
	char *w = words[0];
	while (isspace((unsigned char)*w))
		w++;
	size_t wl = strlen(w);
	while (wl && isspace((unsigned char)w[wl - 1]))
		w[--wl] = '\0';
	*ident = w;
	return MLF_OK;
}

/* order_by of search_runs (MLflow's _get_orderby_clauses). */
/* True when the filter keeps only runs having a non-NaN latest value of
 * metric key: a comparison other than != on it. The first ORDER BY metric
 * can then be an inner join ordered by value alone, which lets SQLite walk
 * the (key, value) index and stop after one page instead of sorting every
 * run of the experiments. */
static bool filter_requires_metric(const struct clause *cls, int ncl, const char *key)
{
	for (int i = 0; i < ncl; i++)
		if (cls[i].type == ENT_METRIC && streq(cls[i].key, key) && !streq(cls[i].op, "!="))
			return true;
	return false;
}

static enum mlf_status compile_run_order(struct ctx *c, const char *const *order_by, int n, const struct clause *cls,
                                         int ncl, const char **joins, const char **order)
{
	struct mlf_buf j = {0}, o = {0}, msg = {0};
	enum mlf_status st = MLF_OK;
	enum entity *seen_t = mlf_arena_alloc(c->a, sizeof *seen_t * (size_t)(n + 1));
	const char **seen_k = mlf_arena_alloc(c->a, sizeof *seen_k * (size_t)(n + 1));
	bool by_start_time = false;

	mlf_buf_append(&j, "", 0);
	mlf_buf_append(&o, "", 0);
	for (int k = 0; k < n; k++) {
		const char *ident, *key;
		enum entity type;
		bool asc;
		if ((st = parse_order_by(c, order_by[k] ? order_by[k] : "", &ident, &asc)))
			goto out;
		if ((st = get_identifier(c, ident, true, &type, &key)))
			goto out;
		key = translate_alias(key);
		const char *dir = asc ? "" : " DESC";
		if (o.len)
			mlf_buf_puts(&o, ", ");
		if (type == ENT_ATTR) {
			const char *col = run_column(key);
			mlf_buf_printf(&o, "CASE WHEN %s IS NULL THEN 1 ELSE 0 END, %s%s", col, col, dir);
			if (streq(key, "start_time"))
				by_start_time = true;
		} else if (type == ENT_DATASET) {
			st = invalid(c, "Invalid identifier type 'dataset'");
			goto out;
		} else {
			static const char *const tables[] = {
			    [ENT_METRIC] = "latest_metrics", [ENT_PARAM] = "params", [ENT_TAG] = "tags"};
			int p = bind_text(c, key);
			if (k == 0 && type == ENT_METRIC && filter_requires_metric(cls, ncl, key)) {
				/* every matching run has a non-NaN value: no NULL/NaN ranks */
				mlf_buf_printf(&j,
				               "JOIN latest_metrics o1 ON o1.run_uuid = r.run_uuid AND o1.key = ?%d "
				               "AND o1.is_nan = 0",
				               p);
				mlf_buf_printf(&o, "o1.value%s", dir);
			} else {
				mlf_buf_printf(&j, "%sLEFT JOIN %s o%d ON o%d.run_uuid = r.run_uuid AND o%d.key = ?%d",
				               j.len ? " " : "", tables[type], k + 1, k + 1, k + 1, p);
				/* missing keys, and NaN metrics, last in either direction */
				if (type == ENT_METRIC)
					mlf_buf_printf(
					    &o,
					    "CASE WHEN o%d.is_nan = 1 THEN 1 WHEN o%d.value IS NULL THEN 2 ELSE 0 "
					    "END, o%d.value%s",
					    k + 1, k + 1, k + 1, dir);
				else
					mlf_buf_printf(&o, "CASE WHEN o%d.value IS NULL THEN 1 ELSE 0 END, o%d.value%s",
					               k + 1, k + 1, dir);
			}
		}
		for (int q = 0; q < k; q++) {
			if (seen_t[q] == type && streq(seen_k[q], key)) {
				mlf_buf_puts(&msg, "`order_by` contains duplicate fields: [");
				for (int r = 0; r < n; r++) {
					if (r)
						mlf_buf_puts(&msg, ", ");
					py_repr(&msg, order_by[r] ? order_by[r] : "");
				}
				mlf_buf_putc(&msg, ']');
				st = invalid(c, "%s", msg.data);
				goto out;
			}
		}
		seen_t[k] = type;
		seen_k[k] = key;
	}
	if (o.len)
		mlf_buf_puts(&o, ", ");
	if (!by_start_time)
		mlf_buf_puts(&o, "r.start_time DESC, ");
	mlf_buf_puts(&o, "r.run_uuid");
	*joins = mlf_arena_strdup(c->a, j.data);
	*order = mlf_arena_strdup(c->a, o.data);
out:
	mlf_buf_release(&j);
	mlf_buf_release(&o);
	mlf_buf_release(&msg);
	return st;
}

/* order_by of search_experiments (_get_search_experiments_order_by_clauses). */
static enum mlf_status compile_exp_order(struct ctx *c, const char *const *order_by, int n, const char **order)
{
	static const char *const defaults[] = {"creation_time DESC", "experiment_id ASC"};
	struct mlf_buf o = {0};
	enum mlf_status st = MLF_OK;
	bool by_id = false;

	if (n == 0 || !order_by) {
		order_by = defaults;
		n = 2;
	}
	mlf_buf_append(&o, "", 0);
	for (int k = 0; k < n; k++) {
		const char *ident, *key;
		enum entity type;
		bool asc;
		if ((st = parse_order_by(c, order_by[k] ? order_by[k] : "", &ident, &asc)))
			goto out;
		if ((st = get_identifier(c, ident, true, &type, &key)))
			goto out;
		if (type != ENT_ATTR) {
			st = invalid(c, "Invalid order_by entity: %s", entity_names[type]);
			goto out;
		}
		const char *col = streq(key, "name")            ? "e.name"
		                  : streq(key, "experiment_id") ? "e.experiment_id"
		                  : streq(key, "creation_time") ? "e.creation_time"
		                                                : "e.last_update_time";
		by_id = by_id || streq(key, "experiment_id");
		mlf_buf_printf(&o, "%s%s %s", o.len ? ", " : "", col, asc ? "ASC" : "DESC");
	}
	if (!by_id)
		mlf_buf_puts(&o, ", e.experiment_id DESC");
	*order = mlf_arena_strdup(c->a, o.data);
out:
	mlf_buf_release(&o);
	return st;
}

/* WHERE of a registry search: the clauses, then MLflow's prompt rule
 * (prompts are left out unless the filter asks for them). */
static enum mlf_status reg_where(struct ctx *c, struct clause *cls, int n, const char **where)
{
	bool prompts = reg_querying_prompt(cls, n);
	struct mlf_buf b = {0};
	enum mlf_status st = MLF_OK;
	char **terms = mlf_arena_alloc(c->a, sizeof *terms * (size_t)(n + 2));
	int nt = 0;
	for (int k = 0; k < n; k++) {
		mlf_buf_reset(&b);
		if ((st = emit_reg_clause(c, &b, &cls[k], prompts)))
			goto out;
		terms[nt++] = mlf_arena_strdup(c->a, b.data);
	}
	/* Not correlated (every registry row is in workspace 'default', see
	 * registry.h): SQLite builds the prompts' names once per query instead of
	 * probing the tags for every row it passes, skipped rows of an OFFSET
	 * included (search-model-versions over 100,000 versions, offset 50,000:
	 * 53 ms -> 12 ms). */
	if (!prompts)
		terms[nt++] = c->registry == REG_VERSIONS
		                  ? "v.name NOT IN (SELECT p.name FROM model_version_tags p WHERE p.workspace = "
		                    "'default' AND p.key = '" PROMPT_TAG "' AND p.value = 'true')"
		                  : "m.name NOT IN (SELECT p.name FROM registered_model_tags p WHERE p.workspace = "
		                    "'default' AND p.key = '" PROMPT_TAG "' AND p.value = 'true')";
	mlf_buf_reset(&b);
	if (nt)
		emit_and_tree(&b, terms, 0, nt);
	else
		mlf_buf_puts(&b, "1");
	*where = mlf_arena_strdup(c->a, b.data);
out:
	mlf_buf_release(&b);
	return st;
}

/* "`order_by` contains duplicate fields: [...]" */
static enum mlf_status duplicate_order(struct ctx *c, const char *const *order_by, int n)
{
	struct mlf_buf msg = {0};
	mlf_buf_puts(&msg, "`order_by` contains duplicate fields: [");
	for (int r = 0; r < n; r++) {
		if (r)
			mlf_buf_puts(&msg, ", ");
		py_repr(&msg, order_by[r] ? order_by[r] : "");
	}
	mlf_buf_putc(&msg, ']');
	enum mlf_status st = invalid(c, "%s", msg.data);
	mlf_buf_release(&msg);
	return st;
}

/* Never more than MLF_SORT_KEYS_MAX: reg_order refuses a column twice. */
static void add_key(struct mlf_search_sql *out, const char *col, bool asc)
{
	if (out->nkeys < MLF_SORT_KEYS_MAX)
		out->keys[out->nkeys++] = (struct mlf_sort_key){
		    col, asc, !streq(col, "m.name") && !streq(col, "v.name") && !streq(col, "v.version")};
}

/* order_by of search_registered_models / search_model_versions, as SQL
 * (out->order) and as columns (out->keys). */
static enum mlf_status reg_order(struct ctx *c, const char *const *order_by, int n, struct mlf_search_sql *out)
{
	static const char *const mv_defaults[] = {"last_updated_timestamp DESC", "name ASC", "version_number DESC"};
	bool mv = c->registry == REG_VERSIONS;
	if (mv && (n == 0 || !order_by)) {
		order_by = mv_defaults;
		n = 3;
	}
	struct mlf_buf o = {0};
	const char **cols = mlf_arena_alloc(c->a, sizeof *cols * (size_t)(n + 1));
	enum mlf_status st = MLF_OK;
	bool by_name = false, by_version = false;
	mlf_buf_append(&o, "", 0);
	for (int k = 0; k < n; k++) {
		const char *ident, *col;
		bool asc;
		if ((st = parse_order_by(c, order_by[k] ? order_by[k] : "", &ident, &asc)))
			goto out;
		if (!mv) {
			if (!streq(ident, "name") && !streq(ident, "timestamp") &&
			    !streq(ident, "last_updated_timestamp")) {
				st = invalid(
				    c, "Invalid order by key '%s' specified. Valid keys are '{'name', 'timestamp'}'",
				    ident);
				goto out;
			}
			col = streq(ident, "name") ? "m.name" : "m.last_updated_time";
		} else {
			const char *dot = strchr(ident, '.');
			const char *key = ident;
			bool attr = true;
			if (dot) {
				char *et = mlf_arena_strndup(c->a, ident, (size_t)(dot - ident));
				if (!streq(et, "attribute") && !streq(et, "tag") && !streq(et, "tags")) {
					st = invalid(
					    c,
					    "Invalid entity type '%s'. Valid entity types are ('attribute', 'tag', "
					    "'tags')",
					    et);
					goto out;
				}
				attr = streq(et, "attribute");
				key = dot + 1;
			}
			key = trim_backticks(c->a, strip_quotes(c->a, key, false));
			bool known = streq(key, "name") || streq(key, "version_number") ||
			             streq(key, "creation_timestamp") || streq(key, "last_updated_timestamp");
			if (!known) {
				st = attr ? invalid(c, "Invalid attribute key '%s' specified. Valid keys are '%s'", key,
				                    MV_ORDER_KEYS)
				          : invalid(c, "Invalid order by key '%s' specified. Valid keys are %s", key,
				                    MV_ORDER_KEYS);
				goto out;
			}
			col = streq(key, "name")                 ? "v.name"
			      : streq(key, "version_number")     ? "v.version"
			      : streq(key, "creation_timestamp") ? "v.creation_time"
			                                         : "v.last_updated_time";
		}
		for (int q = 0; q < k; q++)
			if (streq(cols[q], col)) {
				st = duplicate_order(c, order_by, n);
				goto out;
			}
		cols[k] = col;
		by_name = by_name || streq(col, "m.name") || streq(col, "v.name");
		by_version = by_version || streq(col, "v.version");
		mlf_buf_printf(&o, "%s%s %s", o.len ? ", " : "", col, asc ? "ASC" : "DESC");
		add_key(out, col, asc);
	}
	if (!by_name) {
		mlf_buf_printf(&o, "%s%s ASC", o.len ? ", " : "", mv ? "v.name" : "m.name");
		add_key(out, mv ? "v.name" : "m.name", true);
	}
	if (mv && !by_version) {
		mlf_buf_puts(&o, ", v.version DESC");
		add_key(out, "v.version", false);
	}
	out->order = mlf_arena_strdup(c->a, o.data);
out:
	mlf_buf_release(&o);
	return st;
}

/* ======================================================================
 * Public entry points
 * ====================================================================== */

static enum mlf_status finish(struct ctx *c, struct mlf_search_sql *out)
{
	if (c->nbinds > SEARCH_MAX_BINDS)
		return invalid(c, "Search is too complex: more than %d values to compare", SEARCH_MAX_BINDS);
	out->binds = c->binds;
	out->nbinds = c->nbinds;
	return MLF_OK;
}

enum mlf_status mlf_search_runs_compile(struct mlf_arena *a, const char *filter, const char *const *order_by,
                                        int n_order_by, struct mlf_search_sql *out, struct mlf_error *err)
{
	struct ctx c = {.a = a, .err = err, .experiments = false};
	struct clause *cls;
	int ncl;
	enum mlf_status st;

	memset(out, 0, sizeof *out);
	/* MLflow's order: filter parse errors, then order_by, then comparators */
	if ((st = parse_filter(&c, filter, &cls, &ncl)))
		return st;
	if ((st = compile_run_order(&c, order_by, order_by ? n_order_by : 0, cls, ncl, &out->joins, &out->order)))
		return st;
	if ((st = emit_where(&c, cls, ncl, &out->where)))
		return st;
	return finish(&c, out);
}

enum mlf_status mlf_search_experiments_compile(struct mlf_arena *a, const char *filter, const char *const *order_by,
                                               int n_order_by, struct mlf_search_sql *out, struct mlf_error *err)
{
	struct ctx c = {.a = a, .err = err, .experiments = true};
	struct clause *cls;
	int ncl;
	enum mlf_status st;

	memset(out, 0, sizeof *out);
	out->joins = "";
	if ((st = parse_filter(&c, filter, &cls, &ncl)))
		return st;
	if ((st = emit_where(&c, cls, ncl, &out->where)))
		return st;
	if ((st = compile_exp_order(&c, order_by, n_order_by, &out->order)))
		return st;
	return finish(&c, out);
}

static enum mlf_status registry_compile(int kind, struct mlf_arena *a, const char *filter, const char *const *order_by,
                                        int n_order_by, struct mlf_search_sql *out, struct mlf_error *err)
{
	struct ctx c = {.a = a, .err = err, .experiments = true, .registry = kind};
	struct clause *cls;
	int ncl;
	enum mlf_status st;

	memset(out, 0, sizeof *out);
	out->joins = "";
	/* MLflow's order: filter, its SQL clauses, then order_by */
	if ((st = parse_filter(&c, filter, &cls, &ncl)))
		return st;
	if ((st = reg_where(&c, cls, ncl, &out->where)))
		return st;
	if ((st = reg_order(&c, order_by, order_by ? n_order_by : 0, out)))
		return st;
	return finish(&c, out);
}

enum mlf_status mlf_search_registered_models_compile(struct mlf_arena *a, const char *filter,
                                                     const char *const *order_by, int n_order_by,
                                                     struct mlf_search_sql *out, struct mlf_error *err)
{
	return registry_compile(REG_MODELS, a, filter, order_by, n_order_by, out, err);
}

enum mlf_status mlf_search_model_versions_compile(struct mlf_arena *a, const char *filter, const char *const *order_by,
                                                  int n_order_by, struct mlf_search_sql *out, struct mlf_error *err)
{
	return registry_compile(REG_VERSIONS, a, filter, order_by, n_order_by, out, err);
}

int mlf_search_bind(sqlite3_stmt *st, const struct mlf_search_sql *q)
{
	for (int i = 0; i < q->nbinds; i++) {
		const struct mlf_bind *b = &q->binds[i];
		int rc;
		switch (b->type) {
		case MLF_BIND_TEXT: rc = sqlite3_bind_text(st, i + 1, b->text, -1, SQLITE_TRANSIENT); break;
		case MLF_BIND_INT: rc = sqlite3_bind_int64(st, i + 1, b->i); break;
		default: rc = sqlite3_bind_double(st, i + 1, b->d); break;
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

/* ======================================================================
 * Page tokens
 * ====================================================================== */

char *mlf_page_token_encode(struct mlf_arena *a, int64_t offset)
{
	char json[64];
	int n = snprintf(json, sizeof json, "{\"offset\": %lld}", (long long)offset);
	return mlf_base64_encode(a, json, (size_t)n);
}

/* Python's repr() of bytes, for "decoded value=b'...'". */
static void py_bytes_repr(struct mlf_buf *b, const char *s, size_t n)
{
	bool sq = memchr(s, '\'', n) != NULL, dq = memchr(s, '"', n) != NULL;
	char q = sq && !dq ? '"' : '\'';
	mlf_buf_putc(b, 'b');
	mlf_buf_putc(b, q);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\\' || ch == (unsigned char)q)
			mlf_buf_printf(b, "\\%c", ch);
		else if (ch == '\n')
			mlf_buf_puts(b, "\\n");
		else if (ch == '\r')
			mlf_buf_puts(b, "\\r");
		else if (ch == '\t')
			mlf_buf_puts(b, "\\t");
		else if (ch < 0x20 || ch >= 0x7f)
			mlf_buf_printf(b, "\\x%02x", ch);
		else
			mlf_buf_putc(b, (char)ch);
	}
	mlf_buf_putc(b, q);
}

enum mlf_status mlf_page_token_decode(struct mlf_arena *a, const char *token, int64_t *offset, struct mlf_error *err)
{
	struct mlf_buf msg = {0}, clean = {0};
	enum mlf_status st = MLF_OK;
	size_t n = 0;
	char *dec;

	*offset = 0;
	if (!token || !*token)
		return MLF_OK;
	/* like Python's b64decode, ignore whitespace */
	mlf_buf_append(&clean, "", 0);
	for (const char *p = token; *p; p++)
		if (!isspace((unsigned char)*p))
			mlf_buf_putc(&clean, *p);
	dec = mlf_base64_decode(a, clean.data, &n);
	if (!dec || clean.len % 4 != 0) { /* Python insists on padding */
		st = mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "Invalid page token, could not base64-decode");
		goto out;
	}
	/* the JSON object {"offset": N}; N may also be a quoted integer */
	size_t i = skip_ws(dec, 0);
	bool ok = strlen(dec) == n && dec[i] == '{';
	long long v = 0;
	if (ok) {
		i = skip_ws(dec, i + 1);
		ok = strncmp(dec + i, "\"offset\"", 8) == 0;
		i = ok ? skip_ws(dec, i + 8) : i;
		ok = ok && dec[i] == ':';
		i = ok ? skip_ws(dec, i + 1) : i;
	}
	if (ok) {
		bool q = dec[i] == '"';
		char *end;
		i += q;
		ok = dec[i] == '-' || isdigit((unsigned char)dec[i]);
		errno = 0;
		v = ok ? strtoll(dec + i, &end, 10) : 0;
		ok = ok && errno == 0;
		if (ok) {
			i = (size_t)(end - dec);
			if (q)
				ok = dec[i++] == '"';
			i = skip_ws(dec, i);
			ok = ok && dec[i] == '}' && !dec[skip_ws(dec, i + 1)];
		}
	}
	if (!ok) {
		py_bytes_repr(&msg, dec, n);
		st = mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "Invalid page token, decoded value=%s", msg.data);
		goto out;
	}
	if (v < 0) {
		st = mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "Invalid page token, parsed value={'offset': %lld}", v);
		goto out;
	}
	*offset = v;
out:
	mlf_buf_release(&msg);
	mlf_buf_release(&clean);
	return st;
}

/* ---- keyed page positions (the registry's searches) ---- */

#define PAGE_KEY_MEMBER "\"mlflowd_key\": \""

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

uint64_t mlf_search_sig(const struct mlf_search_sql *q)
{
	uint64_t h = 14695981039346656037ULL;
	const char *parts[] = {q->joins ? q->joins : "", q->where ? q->where : "", q->order ? q->order : ""};
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		h = fnv1a(h, parts[i], strlen(parts[i]) + 1);
	for (int i = 0; i < q->nbinds; i++) {
		const struct mlf_bind *b = &q->binds[i];
		h = fnv1a(h, &b->type, sizeof b->type);
		if (b->type == MLF_BIND_TEXT)
			h = fnv1a(h, b->text, strlen(b->text) + 1);
		else if (b->type == MLF_BIND_INT)
			h = fnv1a(h, &b->i, sizeof b->i);
		else
			h = fnv1a(h, &b->d, sizeof b->d);
	}
	return h;
}

/* The key as text: the signature in hex, then per value ";i<integer>" or
 * ";s<base64 of the text>" (no JSON escaping needed). */
char *mlf_page_token_encode_pos(struct mlf_arena *a, const struct mlf_page_pos *p)
{
	if (p->nkey <= 0)
		return mlf_page_token_encode(a, p->offset);
	struct mlf_buf b = {0};
	mlf_buf_printf(&b, "{\"offset\": %lld, " PAGE_KEY_MEMBER "%016llx", (long long)p->offset,
	               (unsigned long long)p->sig);
	for (int i = 0; i < p->nkey; i++) {
		if (p->key[i].type == MLF_BIND_INT)
			mlf_buf_printf(&b, ";i%lld", (long long)p->key[i].i);
		else
			mlf_buf_printf(&b, ";s%s", mlf_base64_encode(a, p->key[i].text, strlen(p->key[i].text)));
	}
	mlf_buf_puts(&b, "\"}");
	char *tok = mlf_base64_encode(a, b.data, b.len);
	mlf_buf_release(&b);
	return tok;
}

/* Parses exactly what mlf_page_token_encode_pos writes with a key; false
 * for anything else. */
static bool parse_keyed(struct mlf_arena *a, const char *s, struct mlf_page_pos *p)
{
	static const char head[] = "{\"offset\": ";
	if (strncmp(s, head, sizeof head - 1))
		return false;
	s += sizeof head - 1;
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	long long off = strtoll(s, &end, 10);
	if (errno || strncmp(end, ", " PAGE_KEY_MEMBER, sizeof(", " PAGE_KEY_MEMBER) - 1))
		return false;
	s = end + sizeof(", " PAGE_KEY_MEMBER) - 1;
	for (int i = 0; i < 16; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	errno = 0;
	unsigned long long sig = strtoull(s, &end, 16);
	if (errno || end != s + 16)
		return false;
	s = end;
	int n = 0;
	while (*s == ';') {
		if (n == MLF_SORT_KEYS_MAX)
			return false;
		if (s[1] != 'i' && s[1] != 's')
			return false;
		struct mlf_bind *k = &p->key[n++];
		memset(k, 0, sizeof *k);
		const char *v = s + 2;
		size_t len = strcspn(v, ";\"");
		if (s[1] == 'i') {
			if (!len || !(isdigit((unsigned char)*v) || (*v == '-' && len > 1)))
				return false;
			errno = 0;
			k->type = MLF_BIND_INT;
			k->i = strtoll(v, &end, 10);
			if (errno || end != v + len)
				return false;
		} else {
			char *b64 = mlf_arena_strndup(a, v, len);
			size_t dn;
			k->type = MLF_BIND_TEXT;
			k->text = mlf_base64_decode(a, b64, &dn);
			if (!k->text || len % 4 || strlen(k->text) != dn)
				return false;
		}
		s = v + len;
	}
	if (n == 0 || strcmp(s, "\"}"))
		return false;
	p->offset = off;
	p->sig = sig;
	p->nkey = n;
	return true;
}

enum mlf_status mlf_page_token_decode_pos(struct mlf_arena *a, const char *token, struct mlf_page_pos *p,
                                          struct mlf_error *err)
{
	memset(p, 0, sizeof *p);
	size_t n = 0;
	char *dec = token && *token ? mlf_base64_decode(a, token, &n) : NULL;
	if (dec && strlen(dec) == n && strlen(token) % 4 == 0 && parse_keyed(a, dec, p))
		return MLF_OK;
	memset(p, 0, sizeof *p);
	/* a stock token, or else the error stock would give */
	return mlf_page_token_decode(a, token, &p->offset, err);
}

/* ======================================================================
 * search_traces (SearchTraceUtils): attributes of trace_info, tags,
 * request metadata, spans (one EXISTS over spans for all span clauses, so
 * they must hold for the same span, as MLflow's SQL store does), feedback
 * and expectation assessments, linked prompts; trace_info is alias `t`
 * ====================================================================== */

enum trace_ent { TE_ATTR, TE_TAG, TE_META, TE_SPAN, TE_FEEDBACK, TE_EXPECTATION, TE_ISSUE };

/* Keys of span clauses (span.<key>) besides attributes.<name>. */
#define TRACE_SPAN_CONTENT "content"
static const char *const trace_span_keys[] = {"name", "type", "status", NULL};
static const char *const trace_span_content_ops[] = {"LIKE", "ILIKE", NULL};
static const char *const trace_assessment_ops[] = {
    "!=", "=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "RLIKE", "IS NULL", "IS NOT NULL", NULL};
static const char *const trace_assessment_numeric_ops[] = {">", ">=", "<", "<=", NULL};
#define TRACE_LINKED_PROMPTS_TAG "mlflow.linkedPrompts"
#define TRACE_SESSION_MARK "\"mlflow.trace.session\":"

static const char *const trace_attr_keys[] = {"request_id",
                                              "timestamp",
                                              "timestamp_ms",
                                              "execution_time",
                                              "execution_time_ms",
                                              "end_time",
                                              "end_time_ms",
                                              "status",
                                              "client_request_id",
                                              "name",
                                              "run_id",
                                              "prompt",
                                              "text",
                                              NULL};
static const char *const trace_numeric_keys[] = {
    "timestamp", "timestamp_ms", "execution_time", "execution_time_ms", "end_time", "end_time_ms", NULL};
static const char *const trace_order_keys[] = {"experiment_id",     "timestamp", "timestamp_ms", "execution_time",
                                               "execution_time_ms", "end_time",  "end_time_ms",  "status",
                                               "request_id",        "name",      "run_id",       NULL};
/* RLIKE (a regular expression, Python's re.search) on traces' strings, not on runs' */
static const char *const trace_tag_ops[] = {"!=", "=", "LIKE", "ILIKE", "RLIKE", "IS NULL", "IS NOT NULL", NULL};
static const char *const trace_string_ops[] = {"!=", "=", "IN", "NOT IN", "LIKE", "ILIKE", "RLIKE", NULL};
#define TRACE_TAG_COMPARATORS "{'!=', '=', 'LIKE', 'ILIKE', 'RLIKE', 'IS NULL', 'IS NOT NULL'}"
#define TRACE_STRING_COMPARATORS "{'!=', '=', 'IN', 'NOT IN', 'LIKE', 'ILIKE', 'RLIKE'}"

/* The SQL of a trace attribute (validated key, never user text). */
static const char *trace_column(const char *key)
{
	if (streq(key, "timestamp") || streq(key, "timestamp_ms"))
		return "t.timestamp_ms";
	if (streq(key, "execution_time") || streq(key, "execution_time_ms"))
		return "t.execution_time_ms";
	if (streq(key, "end_time") || streq(key, "end_time_ms"))
		return "(t.timestamp_ms + t.execution_time_ms)";
	if (streq(key, "status"))
		return "t.status";
	if (streq(key, "client_request_id"))
		return "t.client_request_id";
	if (streq(key, "name"))
		return "t.trace_name";
	if (streq(key, "experiment_id"))
		return "t.experiment_id";
	return "t.request_id";
}

/* "tags.k", "metadata.k", "attributes.k", "trace.k" or a bare attribute. */
static enum mlf_status trace_identifier(struct ctx *c, const char *ident, bool order, enum trace_ent *type,
                                        const char **key)
{
	const char *dot = strchr(ident, '.');
	const char *k = ident;
	*type = TE_ATTR;
	if (dot) {
		const char *et = trim_backticks(c->a, mlf_arena_strndup(c->a, ident, (size_t)(dot - ident)));
		k = dot + 1;
		if (streq(et, "tag") || streq(et, "tags"))
			*type = TE_TAG;
		else if (streq(et, "metadata") || streq(et, "request_metadata"))
			*type = TE_META;
		else if (streq(et, "span") && !order)
			*type = TE_SPAN;
		else if (streq(et, "feedback") && !order)
			*type = TE_FEEDBACK;
		else if (streq(et, "expectation") && !order)
			*type = TE_EXPECTATION;
		else if (streq(et, "issue") && !order)
			*type = TE_ISSUE;
		else if (!streq(et, "attribute") && !streq(et, "attributes") && !streq(et, "trace"))
			return invalid(c,
			               "Invalid entity type '%s'. Valid values are ['tag', 'request_metadata', "
			               "'attribute', 'span', 'feedback', 'expectation', 'issue'] (mlflowd searches "
			               "attributes, tags, metadata, spans and assessments of traces)",
			               et);
	}
	k = trim_backticks(c->a, strip_quotes(c->a, k, false));
	/* MLflow maps these keys to a tag, metadata or the spans whatever their
	 * entity: issue.name is the trace's name */
	if (*type == TE_ISSUE && (!strcasecmp(k, "name") || !strcasecmp(k, "prompt") || !strcasecmp(k, "run_id") ||
	                          !strcasecmp(k, "text"))) {
		*type = TE_ATTR;
		k = lower_dup(c->a, k);
	}
	if (*type == TE_SPAN && !strncmp(k, "attributes.", 11)) {
		if (!k[11])
			return invalid(c, "Span attribute name cannot be empty after 'attributes.'");
	} else if (*type == TE_SPAN && !in_list(k, trace_span_keys) && !streq(k, TRACE_SPAN_CONTENT)) {
		return invalid(c,
		               "Invalid span attribute '%s'. Supported attributes: name, status, type, "
		               "attributes.<attribute_name>.",
		               k);
	}
	if ((*type == TE_FEEDBACK || *type == TE_EXPECTATION) && !*k)
		return invalid(c, "Assessment field name cannot be empty");
	if (*type == TE_ATTR && !in_list(k, order ? trace_order_keys : trace_attr_keys))
		return invalid(c, "Invalid attribute key '%s' specified. Valid keys are '%s'", k,
		               order
		                   ? "['experiment_id', 'timestamp', 'timestamp_ms', 'execution_time', "
		                     "'execution_time_ms', 'end_time', 'end_time_ms', 'status', 'request_id', 'name', "
		                     "'run_id']"
		                   : "['request_id', 'timestamp', 'timestamp_ms', 'execution_time', "
		                     "'execution_time_ms', 'end_time', 'end_time_ms', 'status', 'client_request_id', "
		                     "'name', 'run_id', 'prompt', 'text']");
	if (*type == TE_ATTR && streq(k, "text")) { /* full-text search over the spans' content */
		*type = TE_SPAN;
		k = TRACE_SPAN_CONTENT;
	} else if (*type == TE_ATTR && streq(k, "prompt")) {
		*type = TE_TAG;
		k = TRACE_LINKED_PROMPTS_TAG;
	}
	*key = k;
	return MLF_OK;
}

/* Python's json.dumps of a string (ensure_ascii: non-ASCII as \uXXXX,
 * surrogate pairs above the BMP), as MLflow compares assessment values. */
static void json_dumps_str(struct mlf_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	mlf_buf_putc(b, '"');
	while (*p) {
		unsigned cp = *p;
		int extra = 0;
		if (cp >= 0xF0 && cp < 0xF8)
			cp &= 0x07, extra = 3;
		else if (cp >= 0xE0)
			cp &= 0x0F, extra = 2;
		else if (cp >= 0xC0)
			cp &= 0x1F, extra = 1;
		p++;
		for (int i = 0; i < extra && (*p & 0xC0) == 0x80; i++, p++)
			cp = (cp << 6) | (*p & 0x3F);
		if (cp == '"' || cp == '\\')
			mlf_buf_printf(b, "\\%c", (char)cp);
		else if (cp == '\n')
			mlf_buf_puts(b, "\\n");
		else if (cp == '\r')
			mlf_buf_puts(b, "\\r");
		else if (cp == '\t')
			mlf_buf_puts(b, "\\t");
		else if (cp == '\b')
			mlf_buf_puts(b, "\\b");
		else if (cp == '\f')
			mlf_buf_puts(b, "\\f");
		else if (cp < 0x20 || (cp > 0x7f && cp < 0x10000))
			mlf_buf_printf(b, "\\u%04x", cp);
		else if (cp >= 0x10000)
			mlf_buf_printf(b, "\\u%04x\\u%04x", 0xD800 + ((cp - 0x10000) >> 10),
			               0xDC00 + ((cp - 0x10000) & 0x3FF));
		else
			mlf_buf_putc(b, (char)cp);
	}
	mlf_buf_putc(b, '"');
}

/* "<v> in the set of traces of a session (same experiment) carrying a
 * session-scoped assessment that matches cond", as MLflow counts such an
 * assessment for every trace of its session. */
static void emit_session_covered(struct mlf_buf *b, const char *cond)
{
	mlf_buf_printf(b,
	               "t.request_id IN (SELECT t2.request_id FROM trace_info t2 WHERE t2.experiment_id = "
	               "t.experiment_id AND t2.session_id IN (SELECT t3.session_id FROM trace_info t3 JOIN "
	               "assessments a ON a.trace_id = t3.request_id WHERE t3.experiment_id = t.experiment_id AND "
	               "t3.session_id IS NOT NULL AND %s AND a.assessment_metadata IS NOT NULL AND "
	               "instr(a.assessment_metadata, '%s') > 0))",
	               cond, TRACE_SESSION_MARK);
}

/* feedback.<name> / expectation.<name>: valid assessments of that type and
 * name, compared by value (JSON text: '=' matches the text or its JSON
 * string form) or, with < <= > >=, by their numeric aggregate. */
static enum mlf_status emit_trace_assessment(struct ctx *c, struct mlf_buf *b, enum trace_ent type,
                                             const struct clause *cl)
{
	if (!in_list(cl->op, trace_assessment_ops))
		return invalid(c,
		               "assessment.%s comparator '%s' not one of '{'!=', '=', '>', '>=', '<', '<=', 'LIKE', "
		               "'ILIKE', 'RLIKE', 'IS NULL', 'IS NOT NULL'}'",
		               cl->key, cl->op);
	struct mlf_buf f = {0}, v = {0};
	enum mlf_status st = MLF_OK;
	mlf_buf_printf(&f, "a.assessment_type = '%s' AND a.name = ?%d AND a.valid = 1",
	               type == TE_FEEDBACK ? "feedback" : "expectation", bind_text(c, cl->key));
	bool is_null = streq(cl->op, "IS NULL");
	if (is_null || streq(cl->op, "IS NOT NULL")) {
		mlf_buf_printf(b, "%sEXISTS (SELECT 1 FROM assessments a WHERE a.trace_id = t.request_id AND %s) %s ",
		               is_null ? "(NOT " : "(", f.data, is_null ? "AND NOT" : "OR");
		emit_session_covered(b, f.data);
		mlf_buf_putc(b, ')');
		goto out;
	}
	if (in_list(cl->op, trace_assessment_numeric_ops)) {
		mlf_buf_puts(&v, "a.is_numeric_value = 1 AND ");
		st = emit_cmp(c, &v, "a.aggregate_value", cl);
	} else if (streq(cl->op, "=") || streq(cl->op, "!=")) {
		struct mlf_buf js = {0};
		json_dumps_str(&js, cl->s);
		mlf_buf_printf(&v, "%s(a.value = ?%d OR a.value = ?%d)", streq(cl->op, "!=") ? "NOT " : "",
		               bind_text(c, cl->s), bind_text(c, mlf_arena_strdup(c->a, js.data)));
		mlf_buf_release(&js);
	} else {
		st = emit_cmp(c, &v, "a.value", cl);
	}
	if (st == MLF_OK) {
		mlf_buf_printf(&f, " AND %s", v.data);
		mlf_buf_printf(b, "(EXISTS (SELECT 1 FROM assessments a WHERE a.trace_id = t.request_id AND %s) OR ",
		               f.data);
		emit_session_covered(b, f.data);
		mlf_buf_putc(b, ')');
	}
out:
	mlf_buf_release(&f);
	mlf_buf_release(&v);
	return st;
}

/* span.<key>: one condition on a span row `s` (the caller wraps all of a
 * filter's span conditions in one EXISTS). */
static enum mlf_status emit_trace_span(struct ctx *c, struct mlf_buf *b, struct clause *cl)
{
	if (streq(cl->key, TRACE_SPAN_CONTENT)) {
		if (!in_list(cl->op, trace_span_content_ops))
			return invalid(c, "span.%s comparator '%s' not one of '{'LIKE', 'ILIKE'}'", cl->key, cl->op);
		return emit_cmp(c, b, "s.content", cl);
	}
	if (!in_list(cl->op, trace_string_ops))
		return invalid(c, "span.%s comparator '%s' not one of '%s'", cl->key, cl->op, TRACE_STRING_COMPARATORS);
	if (in_list(cl->key, trace_span_keys))
		return emit_cmp(c, b, mlf_arena_printf(c->a, "s.%s", cl->key), cl);
	/* span.attributes.<name>: MLflow matches '%"<name>"<value>%' against the content */
	if (cl->vk != V_STRING)
		return invalid(c, "span.%s comparator '%s' needs a quoted string value", cl->key, cl->op);
	struct clause pat = *cl;
	const char *name = trim_backticks(c->a, cl->key + 11);
	if (streq(cl->op, "RLIKE")) {
		/* MLflow's pattern: '"<name>": "\\"' then the user's pattern, its ^ and $
		 * moved to the value's escaped quotes */
		size_t n = strlen(cl->s);
		bool head = n > 0 && cl->s[0] == '^';
		bool tail = n > (size_t)head && cl->s[n - 1] == '$';
		pat.s = mlf_arena_printf(c->a, "\"%s\": %s%.*s%s", name, head ? "\"\\\\\"" : "\"\\\\\".*",
		                         (int)(n - head - tail), cl->s + head, tail ? "\\\\\"" : "");
	} else {
		pat.s = mlf_arena_printf(c->a, "%%\"%s\"%s%%", name, cl->s);
	}
	return emit_cmp(c, b, "s.content", &pat);
}

/* prompt = 'name/version': traces linked to that prompt version. */
static enum mlf_status emit_trace_prompt(struct ctx *c, struct mlf_buf *b, const struct clause *cl)
{
	if (!streq(cl->op, "="))
		return invalid(c,
		               "Invalid comparator '%s' for prompts filter. Only '=' is supported with format: prompt "
		               "= \"name/version\"",
		               cl->op);
	const char *slash = cl->vk == V_STRING ? strchr(cl->s, '/') : NULL;
	if (!slash || strchr(slash + 1, '/'))
		return invalid(c, "Invalid prompts filter value '%s'. Expected format: prompt = \"name/version\"",
		               cl->vk == V_STRING ? cl->s : "");
	mlf_buf_printf(b,
	               "EXISTS (SELECT 1 FROM entity_associations e WHERE e.source_type = 'trace' AND e.source_id = "
	               "t.request_id AND e.destination_type = 'prompt_version' AND e.destination_id = ?%d)",
	               bind_text(c, cl->s));
	return MLF_OK;
}

/* EXISTS over a key/value table of the trace (tags or metadata). */
static enum mlf_status emit_trace_kv(struct ctx *c, struct mlf_buf *b, const char *table, const char *key,
                                     const struct clause *cl)
{
	bool is_null = streq(cl->op, "IS NULL");
	if (is_null || streq(cl->op, "IS NOT NULL")) {
		mlf_buf_printf(b, "%sEXISTS (SELECT 1 FROM %s x WHERE x.request_id = t.request_id AND x.key = ?%d)",
		               is_null ? "NOT " : "", table, bind_text(c, key));
		return MLF_OK;
	}
	mlf_buf_printf(b, "EXISTS (SELECT 1 FROM %s x WHERE x.request_id = t.request_id AND x.key = ?%d AND ", table,
	               bind_text(c, key));
	enum mlf_status st = emit_cmp(c, b, "x.value", cl);
	mlf_buf_putc(b, ')');
	return st;
}

/* issue.id = '<issue id>': traces with a reference to that issue (an
 * assessment of type 'issue' named by the issue's id, valid or not, as
 * MLflow matches them); the key and comparator are checked after the
 * value, as MLflow's store does. */
static enum mlf_status emit_trace_issue(struct ctx *c, struct mlf_buf *b, const struct clause *cl)
{
	if (!streq(cl->key, "id"))
		return invalid(c, "Invalid issue attribute '%s'. Supported attributes: id", cl->key);
	if (!streq(cl->op, "="))
		return invalid(c, "issue.%s comparator '%s' not one of '{'='}'", cl->key, cl->op);
	mlf_buf_printf(b,
	               "EXISTS (SELECT 1 FROM assessments a WHERE a.trace_id = t.request_id AND a.assessment_type = "
	               "'issue' AND a.name = ?%d)",
	               bind_text(c, cl->s));
	return MLF_OK;
}

static enum mlf_status emit_trace_clause(struct ctx *c, struct mlf_buf *b, enum trace_ent type, struct clause *cl)
{
	if (type == TE_ISSUE)
		return emit_trace_issue(c, b, cl);
	if (type == TE_SPAN)
		return emit_trace_span(c, b, cl);
	if (type == TE_FEEDBACK || type == TE_EXPECTATION)
		return emit_trace_assessment(c, b, type, cl);
	if (type == TE_TAG && streq(cl->key, TRACE_LINKED_PROMPTS_TAG))
		return emit_trace_prompt(c, b, cl);
	if (type == TE_ATTR && in_list(cl->key, trace_numeric_keys)) {
		if (!in_list(cl->op, numeric_ops))
			return invalid(c, "Invalid comparator '%s' not one of '%s'", cl->op, METRIC_COMPARATORS);
		return emit_cmp(c, b, trace_column(cl->key), cl);
	}
	if (type == TE_ATTR) {
		if (!in_list(cl->op, trace_string_ops))
			return invalid(c, "Invalid comparator '%s' not one of '%s'", cl->op, TRACE_STRING_COMPARATORS);
		if (streq(cl->key, "run_id"))
			return emit_trace_kv(c, b, "trace_request_metadata", MLF_TRACE_META_SOURCE_RUN, cl);
		return emit_cmp(c, b, trace_column(cl->key), cl);
	}
	if (!in_list(cl->op, trace_tag_ops))
		return invalid(c, "Invalid comparator '%s' not one of '%s'", cl->op, TRACE_TAG_COMPARATORS);
	if (type == TE_TAG && streq(cl->key, MLF_TRACE_TAG_NAME)) {
		if (streq(cl->op, "IS NULL") || streq(cl->op, "IS NOT NULL")) {
			mlf_buf_printf(b, "t.trace_name %s", cl->op);
			return MLF_OK;
		}
		return emit_cmp(c, b, "t.trace_name", cl);
	}
	if (type == TE_META && streq(cl->key, MLF_TRACE_META_SESSION)) {
		if (streq(cl->op, "IS NULL") || streq(cl->op, "IS NOT NULL")) {
			mlf_buf_printf(b, "t.session_id %s", cl->op);
			return MLF_OK;
		}
		return emit_cmp(c, b, "t.session_id", cl);
	}
	return emit_trace_kv(c, b, type == TE_TAG ? "trace_tags" : "trace_request_metadata", cl->key, cl);
}

static enum mlf_status trace_value(struct ctx *c, enum trace_ent type, struct clause *cl, const struct token *t)
{
	char *raw = tok_str(c->a, t);
	if (type == TE_FEEDBACK || type == TE_EXPECTATION) {
		const char *what = type == TE_FEEDBACK ? "feedback" : "expectation";
		bool num = t->kind == TK_INT || t->kind == TK_FLOAT;
		if (in_list(cl->op, trace_assessment_numeric_ops)) {
			if (!num)
				return invalid(
				    c, "Expected a numeric value for %s when using comparator '%s'. Got value %s", what,
				    cl->op, raw);
			number_value(c, t, cl);
			return MLF_OK;
		}
		if (t->kind != TK_STRING && t->kind != TK_IDENT)
			return invalid(c, "Expected a quoted string value for %s (e.g. 'my-value'). Got value %s", what,
			               raw);
	}
	if (type == TE_ISSUE && t->kind != TK_STRING && t->kind != TK_IDENT)
		return invalid(c, "Expected a quoted string value for issue (e.g. 'my-value'). Got value %s", raw);
	if (type == TE_ATTR && in_list(cl->key, trace_numeric_keys)) {
		if (t->kind != TK_INT && t->kind != TK_FLOAT)
			return invalid(c, "Expected numeric value type for numeric attribute: %s. Found %s", cl->key,
			               raw);
		number_value(c, t, cl);
		return MLF_OK;
	}
	if (t->kind == TK_PAREN) {
		if (type != TE_ATTR && type != TE_SPAN)
			return invalid(c, "Expected a quoted string value for %s (e.g. 'my-value'). Got value %s",
			               type == TE_TAG    ? "tag"
			               : type == TE_META ? "metadata"
			                                 : "feedback",
			               raw);
		return parse_list(c, t, cl);
	}
	if (t->kind != TK_STRING && t->kind != TK_IDENT)
		return invalid(c, "Expected a quoted string value for %s. Got value %s",
		               type == TE_SPAN ? "span" : "attributes", raw);
	cl->s = strip_quotes(c->a, raw, true);
	if (!cl->s)
		return invalid(c,
		               "Parameter value is either not quoted or unidentified quote types used for string "
		               "value %s. Use either single or double quotes.",
		               raw);
	cl->vk = V_STRING;
	return MLF_OK;
}

static enum mlf_status compile_trace_order(struct ctx *c, const char *const *order_by, int n, const char **joins,
                                           const char **order)
{
	struct mlf_buf b = {0}, jb = {0};
	enum mlf_status st = MLF_OK;
	for (int i = 0; i < n && st == MLF_OK; i++) {
		const char *ident;
		bool asc;
		enum trace_ent type;
		const char *key;
		if ((st = parse_order_by(c, order_by[i], &ident, &asc)) != MLF_OK ||
		    (st = trace_identifier(c, ident, true, &type, &key)) != MLF_OK)
			break;
		const char *col;
		if (type == TE_ATTR && !streq(key, "run_id")) {
			col = trace_column(key);
		} else {
			const char *table = type == TE_TAG ? "trace_tags" : "trace_request_metadata";
			if (type == TE_ATTR)
				key = MLF_TRACE_META_SOURCE_RUN;
			mlf_buf_printf(&jb, " LEFT JOIN %s o%d ON o%d.request_id = t.request_id AND o%d.key = ?%d",
			               table, i, i, i, bind_text(c, key));
			col = mlf_arena_printf(c->a, "o%d.value", i);
		}
		mlf_buf_printf(&b, "%s(%s IS NULL), %s %s", b.len ? ", " : "", col, col, asc ? "ASC" : "DESC");
	}
	if (st == MLF_OK) {
		mlf_buf_printf(&b, "%st.timestamp_ms DESC, t.request_id ASC", b.len ? ", " : "");
		*order = mlf_arena_strdup(c->a, b.data);
		*joins = mlf_arena_strdup(c->a, jb.len ? jb.data : "");
	}
	mlf_buf_release(&b);
	mlf_buf_release(&jb);
	return st;
}

enum mlf_status mlf_search_traces_compile(struct mlf_arena *a, const char *filter, const char *const *order_by,
                                          int n_order_by, struct mlf_search_sql *out, struct mlf_error *err)
{
	struct ctx c = {.a = a, .err = err};
	struct toklist tl = {0};
	struct group *g = NULL;
	int ng = 0;
	enum mlf_status st;

	memset(out, 0, sizeof *out);
	out->where = "";
	/* binds of the ORDER BY joins come first: they precede WHERE in the SQL */
	if ((st = compile_trace_order(&c, order_by, order_by ? n_order_by : 0, &out->joins, &out->order)))
		return st;
	if (filter && *filter) {
		lex(a, filter, &tl);
		if (tl.n == 0)
			return invalid(&c, "Invalid filter '%s'. Could not be parsed.", filter);
		if ((st = group_tokens(&c, filter, &tl, &g, &ng)))
			return st;
		struct mlf_buf b = {0}, spans = {0};
		char **terms = mlf_arena_alloc(a, sizeof *terms * (size_t)(ng + 1));
		int nterms = 0;
		for (int k = 0; k < ng && st == MLF_OK; k++) {
			struct clause cl = {0};
			enum trace_ent type;
			if (g[k].left->kind != TK_IDENT) {
				st = invalid(&c, "Invalid comparison clause. Expected 'Identifier' found '%.*s'",
				             (int)g[k].left->n, g[k].left->p);
				break;
			}
			if ((st = trace_identifier(&c, tok_str(a, g[k].left), false, &type, &cl.key)))
				break;
			cl.op = upper_dup(a, g[k].op_text);
			if (g[k].right && (st = trace_value(&c, type, &cl, g[k].right)))
				break;
			if (!g[k].right && (type == TE_ATTR || type == TE_SPAN)) {
				st = invalid(
				    &c, "IS NULL / IS NOT NULL is only supported for tags and metadata, not for '%s'",
				    cl.key);
				break;
			}
			mlf_buf_reset(&b);
			if ((st = emit_trace_clause(&c, &b, type, &cl)) != MLF_OK)
				break;
			if (type == TE_SPAN)
				mlf_buf_printf(&spans, " AND %s", b.data);
			else
				terms[nterms++] = mlf_arena_strdup(a, b.data);
		}
		if (st == MLF_OK && spans.len)
			terms[nterms++] =
			    mlf_arena_printf(a,
			                     "EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.request_id "
			                     "AND s.experiment_id = t.experiment_id%s)",
			                     spans.data);
		if (st == MLF_OK) {
			mlf_buf_reset(&b);
			emit_and_tree(&b, terms, 0, nterms);
			out->where = mlf_arena_strdup(a, b.data);
		}
		mlf_buf_release(&b);
		mlf_buf_release(&spans);
		if (st)
			return st;
	}
	return finish(&c, out);
}
