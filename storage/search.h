/*
 * search.h: the compiler from MLflow's search language (filter strings and
 * order_by clauses of search_runs, search_experiments and the model registry's
 * searches) to SQL, and the
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
#include <stdbool.h>
#include <stdint.h>

#include "base.h"

enum mlf_bind_type { MLF_BIND_TEXT, MLF_BIND_INT, MLF_BIND_DOUBLE };

struct mlf_bind {
	enum mlf_bind_type type;
	const char *text; /* MLF_BIND_TEXT; arena-owned */
	int64_t i;        /* MLF_BIND_INT */
	double d;         /* MLF_BIND_DOUBLE */
};

/* Most columns a registry search sorts by (every key at most once). */
#define MLF_SORT_KEYS_MAX 4

/* One column of a search's ORDER BY. */
struct mlf_sort_key {
	const char *col; /* e.g. "v.last_updated_time" (static text) */
	bool asc;
	bool nullable; /* the column may hold NULL (SQLite sorts NULL first) */
};

/* A compiled search. Runs are referenced as table alias `r` (runs),
 * experiments as alias `e` (experiments). */
struct mlf_search_sql {
	const char *joins; /* "" or LEFT JOIN clauses needed by the ORDER BY */
	const char *where; /* "" (match all) or a boolean SQL expression */
	const char *order; /* never empty: ORDER BY list incl. MLflow's tie-breaks */
	struct mlf_bind *binds;
	int nbinds;
	/* The registry searches only (else nkeys = 0): order as columns, ending
	 * in ones that make it a total order of the rows searched. */
	struct mlf_sort_key keys[MLF_SORT_KEYS_MAX];
	int nkeys;
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
/* The same for search_registered_models (table alias `m`,
 * registered_models) and search_model_versions (alias `v`,
 * model_versions): MLflow's registry grammar (attributes and tags, AND
 * only), its order_by keys and tie-breaks, and its prompt rule (rows
 * tagged mlflow.prompt.is_prompt = 'true' are left out unless the filter
 * asks for them). out->where is never empty; deleted versions are the
 * caller's to exclude. */
enum mlf_status mlf_search_registered_models_compile(struct mlf_arena *a, const char *filter,
                                                     const char *const *order_by, int n_order_by,
                                                     struct mlf_search_sql *out, struct mlf_error *err);
enum mlf_status mlf_search_model_versions_compile(struct mlf_arena *a, const char *filter, const char *const *order_by,
                                                  int n_order_by, struct mlf_search_sql *out, struct mlf_error *err);

/* Bind every value of q to st (parameters 1..q->nbinds). Returns a SQLite
 * result code. */
int mlf_search_bind(sqlite3_stmt *st, const struct mlf_search_sql *q);

/* Page tokens: base64 of {"offset": N}, as MLflow emits them. encode
 * returns an arena string; decode accepts NULL/"" (offset 0) and any token
 * encode produced, else MLF_INVALID_PARAMETER_VALUE. */
char *mlf_page_token_encode(struct mlf_arena *a, int64_t offset);
enum mlf_status mlf_page_token_decode(struct mlf_arena *a, const char *token, int64_t *offset, struct mlf_error *err);

/* A page position of a keyed search (the registry's): the offset as in
 * MLflow's tokens, and optionally the sort key of the row before the page,
 * so the next page starts with an index seek instead of skipping `offset`
 * rows. The key is used only by the search it came from (sig, a hash of
 * the compiled search); any other search reads the offset, as it would
 * from a stock token. */
struct mlf_page_pos {
	int64_t offset;
	uint64_t sig;
	int nkey; /* 0: offset only */
	struct mlf_bind key[MLF_SORT_KEYS_MAX];
};

/* Hash of a compiled search (where, order, bound values). */
uint64_t mlf_search_sig(const struct mlf_search_sql *q);
/* base64 of {"offset": N} without a key, else of {"offset": N,
 * "mlflowd_key": "..."}; stock clients pass it back unread. */
char *mlf_page_token_encode_pos(struct mlf_arena *a, const struct mlf_page_pos *p);
/* Accepts what mlf_page_token_decode accepts (nkey = 0) and what
 * mlf_page_token_encode_pos produced; anything else is
 * MLF_INVALID_PARAMETER_VALUE with MLflow's "Invalid page token" wording. */
enum mlf_status mlf_page_token_decode_pos(struct mlf_arena *a, const char *token, struct mlf_page_pos *p,
                                          struct mlf_error *err);

#endif
