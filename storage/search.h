/*
 * search.h: the compiler from MLflow's search language (filter strings and
 * order_by clauses of search_runs and search_experiments) to SQL, and the
 * page tokens of every paged listing.
 *
 * The compiler never pastes user text into SQL: it emits SQL text with
 * numbered parameters (?1, ?2, ...) and a separate list of values to bind.
 * Parameter numbers start at 1 and are dense, so a caller can append its
 * own parameters numbered from nbinds + 1.
 *
 * Everything returned is allocated in the caller's arena.
 * This header knows nothing of JSON or HTTP.
 */
#ifndef MLF_SEARCH_H
#define MLF_SEARCH_H

#include <sqlite3.h>
#include <stdint.h>

#include "base.h"

enum mlf_bind_type { MLF_BIND_TEXT, MLF_BIND_INT, MLF_BIND_DOUBLE };

struct mlf_bind {
	enum mlf_bind_type type;
	const char *text; /* MLF_BIND_TEXT; arena-owned */
	int64_t i;        /* MLF_BIND_INT */
	double d;         /* MLF_BIND_DOUBLE */
};

/* A compiled search. Runs are referenced as table alias `r` (runs),
 * experiments as alias `e` (experiments). */
struct mlf_search_sql {
	const char *joins; /* "" or LEFT JOIN clauses needed by the ORDER BY */
	const char *where; /* "" (match all) or a boolean SQL expression */
	const char *order; /* never empty: ORDER BY list incl. MLflow's tie-breaks */
	struct mlf_bind *binds;
	int nbinds;
};

/* Compile a search_runs filter (may be NULL or "") and order_by clauses.
 * Errors are MLF_INVALID_PARAMETER_VALUE with MLflow's messages. */
enum mlf_status mlf_search_runs_compile(struct mlf_arena *a, const char *filter, const char *const *order_by,
                                        int n_order_by, struct mlf_search_sql *out, struct mlf_error *err);

/* The same for search_experiments. */
enum mlf_status mlf_search_experiments_compile(struct mlf_arena *a, const char *filter, const char *const *order_by,
                                               int n_order_by, struct mlf_search_sql *out, struct mlf_error *err);

/* The same for search_traces (trace_info as alias `t`): attributes, tags
 * and request metadata; joins holds the LEFT JOINs its ORDER BY needs,
 * whose parameters come first. */
enum mlf_status mlf_search_traces_compile(struct mlf_arena *a, const char *filter, const char *const *order_by,
                                          int n_order_by, struct mlf_search_sql *out, struct mlf_error *err);

/* Bind every value of q to st (parameters 1..q->nbinds). Returns a SQLite
 * result code. */
int mlf_search_bind(sqlite3_stmt *st, const struct mlf_search_sql *q);

/* Page tokens: base64 of {"offset": N}, as MLflow emits them. encode
 * returns an arena string; decode accepts NULL/"" (offset 0) and any token
 * encode produced, else MLF_INVALID_PARAMETER_VALUE. */
char *mlf_page_token_encode(struct mlf_arena *a, int64_t offset);
enum mlf_status mlf_page_token_decode(struct mlf_arena *a, const char *token, int64_t *offset, struct mlf_error *err);

#endif
