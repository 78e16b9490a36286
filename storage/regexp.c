/*
 * regexp.c: the regexp() SQL function behind RLIKE in trace searches (see
 * regexp.h). A statement compiles its pattern once: the compiled form is
 * kept as SQLite auxiliary data of the pattern argument.
 */
#include "regexp.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>

/* A compiled pattern with what its matches need; re is NULL for a pattern
 * that does not compile (remembered, so it is not compiled again per row). */
struct compiled {
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

static void compiled_free(void *p)
{
	struct compiled *c = p;
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->mc);
	pcre2_code_free(c->re);
	free(c);
}

static struct compiled *compile(sqlite3_value *pattern)
{
	struct compiled *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	const unsigned char *p = sqlite3_value_text(pattern);
	PCRE2_SIZE n = (PCRE2_SIZE)sqlite3_value_bytes(pattern);
	int code;
	PCRE2_SIZE off;
	c->re = p ? pcre2_compile((PCRE2_SPTR)p, n, PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL)
	          : NULL;
	if (c->re) {
		c->md = pcre2_match_data_create(1, NULL);
		c->mc = pcre2_match_context_create(NULL);
		if (!c->md || !c->mc) {
			compiled_free(c);
			return NULL;
		}
		pcre2_set_match_limit(c->mc, MLF_REGEXP_MATCH_LIMIT);
		pcre2_set_depth_limit(c->mc, MLF_REGEXP_DEPTH_LIMIT);
	}
	return c;
}

static void regexp_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	struct compiled *c = sqlite3_get_auxdata(ctx, 0);
	int fresh = !c;
	if (fresh && !(c = compile(argv[0]))) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	const unsigned char *text = sqlite3_value_text(argv[1]);
	PCRE2_SIZE n = (PCRE2_SIZE)sqlite3_value_bytes(argv[1]);
	/* an error (match limit, depth limit) counts as no match */
	int found = c->re && text && pcre2_match(c->re, (PCRE2_SPTR)text, n, 0, 0, c->md, c->mc) >= 0;
	sqlite3_result_int(ctx, found);
	if (fresh) /* SQLite owns c from here: kept for the next rows, or freed */
		sqlite3_set_auxdata(ctx, 0, c, compiled_free);
}

int mlf_regexp_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "regexp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, regexp_fn, NULL,
	                               NULL);
}
