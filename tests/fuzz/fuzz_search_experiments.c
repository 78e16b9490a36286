/*
 * fuzz_search_experiments.c: libFuzzer harness of the search_experiments
 * compiler (storage/search.c) and its query. Input: the filter on the
 * first line, order_by clauses on the following ones; the query runs on a
 * small real store and must answer or be refused with
 * INVALID_PARAMETER_VALUE.
 */
#include "fuzz_util.h"
#include "search.h"

#define MAX_ORDER_BY 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlf_db *db = fuzz_store();
	struct mlf_arena a = {0};
	char *lines[1 + MAX_ORDER_BY];
	int n = fuzz_lines(fuzz_cstr(&a, data, size), lines, 1 + MAX_ORDER_BY);
	struct mlf_error err = {0};
	struct mlf_conn *c = mlf_db_read(db, &err);
	FUZZ_REQUIRE(c, "%s", err.msg);
	struct mlf_experiment *exps;
	int nexps;
	int64_t next;
	enum mlf_status s = mlf_experiment_search(c, &a, MLF_VIEW_ALL, lines[0], (const char *const *)lines + 1, n - 1,
	                                          5, 0, &exps, &nexps, &next, &err);
	fuzz_search_status(s, &err, "search_experiments");
	mlf_arena_release(&a);
	return 0;
}
