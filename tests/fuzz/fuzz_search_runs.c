/*
 * fuzz_search_runs.c: libFuzzer harness of the search_runs compiler
 * (storage/search.c) and the query it builds. Input: the filter on the
 * first line, order_by clauses on the following ones. The compiled query
 * runs on a small real store; it must either answer or be refused with
 * INVALID_PARAMETER_VALUE (never an SQL error, a crash or a sanitizer
 * report).
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
	struct mlf_run *runs;
	int nruns;
	int64_t next;
	enum mlf_status s = mlf_run_search(c, &a, fuzz_exp_ids, 2, MLF_VIEW_ALL, lines[0],
	                                   (const char *const *)lines + 1, n - 1, 3, 0, &runs, &nruns, &next, &err);
	fuzz_search_status(s, &err, "search_runs");
	if (s == MLF_OK)
		FUZZ_REQUIRE(nruns >= 0 && nruns <= 3, "%d runs", nruns);
	mlf_arena_release(&a);
	return 0;
}
