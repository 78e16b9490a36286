/*
 * fuzz_search_logged_models.c: libFuzzer harness of the search_logged_models
 * filter compiler (storage/logged_models.c) and its query. Input: the
 * filter on the first line; each following line is one order_by field
 * (a leading '-' makes it descending). The query runs on a small real
 * store and must answer or be refused with INVALID_PARAMETER_VALUE.
 */
#include "fuzz_util.h"

#define MAX_ORDER_BY 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlf_db *db = fuzz_store();
	struct mlf_arena a = {0};
	char *lines[1 + MAX_ORDER_BY];
	int n = fuzz_lines(fuzz_cstr(&a, data, size), lines, 1 + MAX_ORDER_BY);
	struct mlf_lm_order order[MAX_ORDER_BY];
	for (int i = 1; i < n; i++) {
		const char *f = lines[i];
		order[i - 1] = (struct mlf_lm_order){.field_name = f[0] == '-' ? f + 1 : f, .ascending = f[0] != '-'};
	}
	struct mlf_error err = {0};
	struct mlf_conn *c = mlf_db_read(db, &err);
	FUZZ_REQUIRE(c, "%s", err.msg);
	struct mlf_lm_search q = {.experiment_ids = fuzz_exp_ids,
	                          .nexp = 2,
	                          .filter = lines[0],
	                          .order_by = order,
	                          .norder = n - 1,
	                          .max_results = 3};
	struct mlf_logged_model *models;
	int nmodels;
	int64_t next;
	enum mlf_status s = mlf_logged_model_search(c, &a, &q, &models, &nmodels, &next, &err);
	fuzz_search_status(s, &err, "search_logged_models");
	mlf_arena_release(&a);
	return 0;
}
