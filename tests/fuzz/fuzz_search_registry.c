/*
 * fuzz_search_registry.c: libFuzzer harness of the model registry's two
 * search compilers (storage/search.c) and their queries
 * (storage/registry.c). Input: the filter on the first line, order_by
 * clauses on the following ones; both search_registered_models and
 * search_model_versions run it on a small real store and must answer or
 * refuse it with INVALID_PARAMETER_VALUE.
 */
#include "fuzz_util.h"
#include "registry.h"

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
	struct mlf_registered_model *models;
	struct mlf_model_version *versions;
	int nfound;
	struct mlf_page_pos start = {0}, next;
	enum mlf_status s = mlf_rm_search(c, &a, lines[0], (const char *const *)lines + 1, n - 1, 5, &start, &models,
	                                  &nfound, &next, &err);
	fuzz_search_status(s, &err, "search_registered_models");
	memset(&err, 0, sizeof err);
	s = mlf_mv_search(c, &a, lines[0], (const char *const *)lines + 1, n - 1, 5, &start, &versions, &nfound, &next,
	                  &err);
	fuzz_search_status(s, &err, "search_model_versions");
	mlf_arena_release(&a);
	return 0;
}
