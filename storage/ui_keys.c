/*
 * ui_keys.c: distinct param, metric and tag keys of an experiment's runs,
 * for the web UI's runs table. See ui_keys.h.
 */
#include "ui_keys.h"

#include <sqlite3.h>

/* One kind of key: the distinct keys of table t over the experiment's runs.
 * The runs come from the (experiment_id, ...) index, each run's keys from
 * the table's run_uuid index. */
static enum mlf_status read_keys(struct mlf_conn *c, struct mlf_arena *a, const char *sql, int64_t id,
                                 const char ***out, int *n, int *truncated, struct mlf_error *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, MLF_EXPERIMENT_KEYS_MAX + 1);
	int rc, cap = 0, count = 0;
	const char **res = NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == MLF_EXPERIMENT_KEYS_MAX) {
			*truncated = 1;
			continue;
		}
		if (count == cap) {
			int ncap = cap ? cap * 2 : 32;
			res = mlf_arena_grow(a, res, (size_t)cap, (size_t)ncap, sizeof *res);
			cap = ncap;
		}
		res[count++] = mlf_col_text(a, st, 0);
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	*out = res;
	*n = count;
	return MLF_OK;
}

enum mlf_status mlf_experiment_keys(struct mlf_conn *c, struct mlf_arena *a, int64_t id,
                                    struct mlf_experiment_keys *out, struct mlf_error *err)
{
	static const char params_sql[] = "SELECT DISTINCT p.key FROM runs r JOIN params p ON p.run_uuid = r.run_uuid "
	                                 "WHERE r.experiment_id = ?1 ORDER BY 1 LIMIT ?2";
	static const char metrics_sql[] = "SELECT DISTINCT m.key FROM runs r JOIN latest_metrics m ON m.run_uuid = "
	                                  "r.run_uuid WHERE r.experiment_id = ?1 ORDER BY 1 LIMIT ?2";
	static const char tags_sql[] = "SELECT DISTINCT t.key FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid "
	                               "WHERE r.experiment_id = ?1 ORDER BY 1 LIMIT ?2";
	*out = (struct mlf_experiment_keys){0};
	int own = mlf_read_begin(c, err);
	if (own < 0)
		return err->status;
	enum mlf_status s = read_keys(c, a, params_sql, id, &out->params, &out->nparams, &out->truncated, err);
	if (s == MLF_OK)
		s = read_keys(c, a, metrics_sql, id, &out->metrics, &out->nmetrics, &out->truncated, err);
	if (s == MLF_OK)
		s = read_keys(c, a, tags_sql, id, &out->tags, &out->ntags, &out->truncated, err);
	mlf_read_end(c, own);
	return s;
}
