/*
 * run_model_versions.c: see run_model_versions.h.
 */
#include "run_model_versions.h"

#include <sqlite3.h>

#define XSTR(x) #x
#define STR(x) XSTR(x)

static const char SQL_BY_RUN[] =
    "SELECT name, version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, "
    "status, status_message, run_link FROM model_versions WHERE workspace = 'default' AND run_id = ?1 "
    "AND current_stage != 'Deleted_Internal' ORDER BY last_updated_time DESC, name ASC, version DESC "
    "LIMIT " STR(MLF_RUN_MODEL_VERSIONS_MAX);

enum mlf_status mlf_run_model_versions(struct mlf_conn *c, struct mlf_arena *a, const char *run_id,
                                       struct mlf_model_version **out, int *n, struct mlf_error *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = mlf_stmt(c, SQL_BY_RUN, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, run_id);
	int cap = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			int ncap = cap ? cap * 2 : 4;
			*out = mlf_arena_grow(a, *out, (size_t)cap, (size_t)ncap, sizeof **out);
			cap = ncap;
		}
		struct mlf_model_version *v = &(*out)[(*n)++];
		v->name = mlf_col_text(a, st, 0);
		v->version = sqlite3_column_int64(st, 1);
		v->creation_time = sqlite3_column_int64(st, 2);
		v->last_updated_time = sqlite3_column_int64(st, 3);
		v->description = mlf_col_text(a, st, 4);
		v->user_id = mlf_col_text(a, st, 5);
		v->current_stage = mlf_col_text(a, st, 6);
		v->source = mlf_col_text(a, st, 7);
		v->run_id = mlf_col_text(a, st, 8);
		v->status = mlf_col_text(a, st, 9);
		v->status_message = mlf_col_text(a, st, 10);
		v->run_link = mlf_col_text(a, st, 11);
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	return MLF_OK;
}
