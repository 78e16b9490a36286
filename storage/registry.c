/*
 * registry.c: the model registry in MLflow's tables (see registry.h).
 * Every statement names workspace 'default', the value MLflow 3.17.2
 * writes when workspaces are off, so rows written here and by stock
 * MLflow are the same rows.
 */
#include "registry.h"
#include "../api/limits.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "search.h"

#define WS "'default'"
/* mlflowd's index of model versions in MLflow's default search order (storage/db.c) */
#define MV_BY_UPDATE "mlflowd_model_versions_by_update"

/* ---- messages ---- */

static enum mlf_status rm_not_found(const char *name, struct mlf_error *err)
{
	return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Registered Model with name=%.500s not found", name);
}

static enum mlf_status mv_not_found(const char *name, int64_t version, struct mlf_error *err)
{
	return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Model Version (name=%.500s, version=%lld) not found", name,
	                (long long)version);
}

/* ---- small helpers ---- */

/* A JSON string (SQLite's json_each reads it back byte for byte). */
static void json_str(struct mlf_buf *b, const char *s)
{
	mlf_buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			mlf_buf_putc(b, '\\');
		if (ch < 0x20)
			mlf_buf_printf(b, "\\u%04x", ch);
		else
			mlf_buf_putc(b, (char)ch);
	}
	mlf_buf_putc(b, '"');
}

/* The JSON array a page's children are read with: names, or [name,
 * version] pairs when versions is not NULL. Arena-owned. */
static const char *json_keys(struct mlf_arena *a, const char *const *names, const int64_t *versions, int n)
{
	struct mlf_buf b = {0};
	mlf_buf_putc(&b, '[');
	for (int i = 0; i < n; i++) {
		if (i)
			mlf_buf_putc(&b, ',');
		if (versions)
			mlf_buf_putc(&b, '[');
		json_str(&b, names[i]);
		if (versions)
			mlf_buf_printf(&b, ",%lld]", (long long)versions[i]);
	}
	mlf_buf_putc(&b, ']');
	const char *out = mlf_arena_strndup(a, b.data, b.len);
	mlf_buf_release(&b);
	return out;
}

/* Rows (element index, text, text) of a cached statement with a JSON array
 * of n elements bound as ?1, ordered by index: element i's pairs into
 * lists[i], counts[i] (arrays of n the caller gives). One statement for a
 * whole page instead of one per row (search-registered-models: 400
 * statements per page of 100 before). */
static enum mlf_status load_pairs_of(struct mlf_conn *c, struct mlf_arena *a, const char *sql, const char *json, int n,
                                     struct mlf_kv **lists, int *counts, struct mlf_error *err)
{
	for (int i = 0; i < n; i++) {
		lists[i] = NULL;
		counts[i] = 0;
	}
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, json);
	struct mlf_kv *flat = NULL;
	int *idx = NULL, cnt = 0, cap = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t i = sqlite3_column_int64(st, 0);
		if (i < 0 || i >= n)
			continue;
		if (cnt == cap) {
			int ncap = cap ? cap * 2 : 64;
			flat = mlf_arena_grow(a, flat, (size_t)cnt, (size_t)ncap, sizeof *flat);
			idx = mlf_arena_grow(a, idx, (size_t)cnt, (size_t)ncap, sizeof *idx);
			cap = ncap;
		}
		idx[cnt] = (int)i;
		flat[cnt].key = mlf_col_text(a, st, 1);
		flat[cnt].value = mlf_col_text(a, st, 2);
		cnt++;
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	for (int k = 0; k < cnt; k++) {
		if (!counts[idx[k]])
			lists[idx[k]] = &flat[k];
		counts[idx[k]]++;
	}
	return MLF_OK;
}

/* Whether a statement with ?1 (and ?2) finds a row. -1 on error. */
static int exists(struct mlf_conn *c, const char *sql, const char *s1, const char *s2, int64_t i2,
                  struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return -1;
	mlf_bind_text(st, 1, s1);
	if (s2)
		mlf_bind_text(st, 2, s2);
	else if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, i2);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	mlf_db_error(c, rc, err);
	return -1;
}

static const char SQL_RM_EXISTS[] = "SELECT 1 FROM registered_models WHERE workspace = " WS " AND name = ?1";
static const char SQL_MV_LIVE[] = "SELECT 1 FROM model_versions WHERE workspace = " WS
                                  " AND name = ?1 AND version = ?2 AND current_stage != '" MLF_STAGE_DELETED "'";

static enum mlf_status need_rm(struct mlf_conn *c, const char *name, struct mlf_error *err)
{
	int e = exists(c, SQL_RM_EXISTS, name, NULL, 0, err);
	return e < 0 ? err->status : e ? MLF_OK : rm_not_found(name, err);
}

static enum mlf_status need_mv(struct mlf_conn *c, const char *name, int64_t version, struct mlf_error *err)
{
	int e = exists(c, SQL_MV_LIVE, name, NULL, version, err);
	return e < 0 ? err->status : e ? MLF_OK : mv_not_found(name, version, err);
}

static enum mlf_status exec_bound(struct mlf_conn *c, const char *sql, const char *s1, int64_t i2, const char *s3,
                                  const char *s4, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	int np = sqlite3_bind_parameter_count(st);
	mlf_bind_text(st, 1, s1);
	if (np >= 2)
		sqlite3_bind_int64(st, 2, i2);
	if (np >= 3)
		mlf_bind_text(st, 3, s3);
	if (np >= 4)
		mlf_bind_text(st, 4, s4);
	return mlf_step_done(c, st, err);
}

/* ---- reading model versions ---- */

#define MV_COLS                                                                                                \
	"v.name, v.version, v.creation_time, v.last_updated_time, v.description, v.user_id, v.current_stage, " \
	"v.source, v.run_id, v.status, v.status_message, v.run_link, v.storage_location"
#define MV_NCOLS 13

static void mv_from_row(struct mlf_arena *a, sqlite3_stmt *st, struct mlf_model_version *o)
{
	memset(o, 0, sizeof *o);
	o->name = mlf_col_text(a, st, 0);
	o->version = sqlite3_column_int64(st, 1);
	o->creation_time = sqlite3_column_int64(st, 2);
	o->last_updated_time = sqlite3_column_int64(st, 3);
	o->description = mlf_col_text(a, st, 4);
	o->user_id = mlf_col_text(a, st, 5);
	o->current_stage = mlf_col_text(a, st, 6);
	o->source = mlf_col_text(a, st, 7);
	o->run_id = mlf_col_text(a, st, 8);
	o->status = mlf_col_text(a, st, 9);
	o->status_message = mlf_col_text(a, st, 10);
	o->run_link = mlf_col_text(a, st, 11);
	o->storage_location = mlf_col_text(a, st, 12);
}

/* The tags (and aliases) of a list of versions, one statement each for
 * the whole list; the list is the outer loop (CROSS JOIN), each element a
 * lookup on the (workspace, name, version) index. */
static const char SQL_MV_TAGS_OF[] =
    "SELECT j.key, t.key, t.value FROM json_each(?1) j CROSS JOIN model_version_tags t ON t.workspace = " WS
    " AND t.name = json_extract(j.value, '$[0]') AND t.version = json_extract(j.value, '$[1]') ORDER BY j.key, "
    "t.key";
static const char SQL_MV_ALIASES_OF[] =
    "SELECT j.key, a.alias, a.alias FROM json_each(?1) j CROSS JOIN registered_model_aliases a ON a.workspace = " WS
    " AND a.name = json_extract(j.value, '$[0]') AND a.version = json_extract(j.value, '$[1]') ORDER BY j.key, "
    "a.alias";

static enum mlf_status mv_children_of(struct mlf_conn *c, struct mlf_arena *a, struct mlf_model_version *v, int n,
                                      int with_aliases, struct mlf_error *err)
{
	if (n == 0)
		return MLF_OK;
	const char **names = mlf_arena_alloc(a, sizeof *names * (size_t)n);
	int64_t *versions = mlf_arena_alloc(a, sizeof *versions * (size_t)n);
	struct mlf_kv **lists = mlf_arena_alloc(a, sizeof *lists * (size_t)n);
	int *counts = mlf_arena_alloc(a, sizeof *counts * (size_t)n);
	for (int i = 0; i < n; i++) {
		names[i] = v[i].name;
		versions[i] = v[i].version;
	}
	const char *json = json_keys(a, names, versions, n);
	enum mlf_status s = load_pairs_of(c, a, SQL_MV_TAGS_OF, json, n, lists, counts, err);
	for (int i = 0; s == MLF_OK && i < n; i++) {
		v[i].tags = lists[i];
		v[i].ntags = counts[i];
	}
	if (s != MLF_OK || !with_aliases)
		return s;
	if ((s = load_pairs_of(c, a, SQL_MV_ALIASES_OF, json, n, lists, counts, err)) != MLF_OK)
		return s;
	for (int i = 0; i < n; i++) {
		v[i].aliases = mlf_arena_alloc(a, sizeof *v[i].aliases * (size_t)(counts[i] + 1));
		for (int k = 0; k < counts[i]; k++)
			v[i].aliases[k] = lists[i][k].key;
		v[i].naliases = counts[i];
	}
	return MLF_OK;
}

/* The sort key of a search's row: columns key0.. of st into p->key (p->nkey
 * = 0 when a value is neither integer nor text: that page's token is an
 * offset only). */
static void capture_key(struct mlf_arena *a, sqlite3_stmt *st, int key0, int nkeys, struct mlf_page_pos *p)
{
	p->nkey = nkeys;
	for (int k = 0; k < nkeys; k++) {
		struct mlf_bind *b = &p->key[k];
		memset(b, 0, sizeof *b);
		int t = sqlite3_column_type(st, key0 + k);
		if (t == SQLITE_INTEGER) {
			b->type = MLF_BIND_INT;
			b->i = sqlite3_column_int64(st, key0 + k);
		} else if (t == SQLITE_TEXT) {
			b->type = MLF_BIND_TEXT;
			b->text = mlf_col_text(a, st, key0 + k);
		} else
			p->nkey = 0;
	}
}

/* Rows of a model-version statement (already bound) into *out, with
 * their tags (and aliases). With key (a search), the sort key of the
 * limit-th row is read from the columns after MV_COLS. */
static enum mlf_status mv_rows(struct mlf_conn *c, struct mlf_arena *a, sqlite3_stmt *st, int dynamic, int64_t limit,
                               int with_aliases, struct mlf_model_version **out, int *n, int *more,
                               const struct mlf_search_sql *key, struct mlf_page_pos *key_out, struct mlf_error *err)
{
	int cap = 0, cnt = 0, rc;
	struct mlf_model_version *v = NULL;
	if (more)
		*more = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (limit >= 0 && cnt == limit) {
			if (more)
				*more = 1;
			break;
		}
		if (cnt == cap) {
			v = mlf_arena_grow(a, v, (size_t)cnt, (size_t)(cap ? cap * 2 : 8), sizeof *v);
			cap = cap ? cap * 2 : 8;
		}
		mv_from_row(a, st, &v[cnt++]);
		if (key && cnt == limit)
			capture_key(a, st, MV_NCOLS, key->nkeys, key_out);
	}
	enum mlf_status s = MLF_OK;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s = mlf_db_error(c, rc, err);
	if (dynamic)
		sqlite3_finalize(st);
	else
		sqlite3_reset(st);
	if (s == MLF_OK)
		s = mv_children_of(c, a, v, cnt, with_aliases, err);
	*out = v;
	*n = cnt;
	return s;
}

static const char SQL_MV_GET[] = "SELECT " MV_COLS " FROM model_versions v WHERE v.workspace = " WS
                                 " AND v.name = ?1 AND v.version = ?2 AND v.current_stage != '" MLF_STAGE_DELETED "'";

static enum mlf_status mv_get(struct mlf_conn *c, struct mlf_arena *a, const char *name, int64_t version,
                              int with_aliases, struct mlf_model_version *out, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, SQL_MV_GET, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, version);
	struct mlf_model_version *v;
	int n;
	enum mlf_status s = mv_rows(c, a, st, 0, 1, with_aliases, &v, &n, NULL, NULL, NULL, err);
	if (s != MLF_OK)
		return s;
	if (n == 0)
		return mv_not_found(name, version, err);
	*out = v[0];
	return MLF_OK;
}

enum mlf_status mlf_mv_get(struct mlf_conn *c, struct mlf_arena *a, const char *name, int64_t version, int with_aliases,
                           struct mlf_model_version *out, struct mlf_error *err)
{
	int own = mlf_read_begin(c, err);
	if (own < 0)
		return err->status;
	enum mlf_status s = mv_get(c, a, name, version, with_aliases, out, err);
	mlf_read_end(c, own);
	return s;
}

/* The latest live version of each stage of each model of a list, stages
 * in the order of their first version (the order MLflow's entity builds
 * them in). One pass over the models' versions picks them (in C: SQLite's
 * GROUP BY sorted every version first, twice as slow), then one rowid
 * lookup each. */
static const char SQL_STAGES_OF[] =
    "SELECT j.key, m.current_stage, m.version, m.rowid FROM json_each(?1) j CROSS JOIN model_versions m ON "
    "m.workspace = " WS " AND m.name = j.value AND m.current_stage != '" MLF_STAGE_DELETED "'";
static const char SQL_MV_BY_ROWID[] = "SELECT " MV_COLS ", j.key FROM json_each(?1) j CROSS JOIN model_versions v ON "
                                      "v.rowid = j.value";

struct stage_pick {
	const char *stage;
	int64_t max_version, max_rowid, min_version;
	int next; /* the model's next stage, -1 at the end */
};

/* names[i]'s latest versions into lists[i], counts[i] (arrays of n the
 * caller gives; the names distinct). */
static enum mlf_status latest_of(struct mlf_conn *c, struct mlf_arena *a, const char *const *names, int n,
                                 int with_aliases, struct mlf_model_version **lists, int *counts, struct mlf_error *err)
{
	for (int i = 0; i < n; i++) {
		lists[i] = NULL;
		counts[i] = 0;
	}
	if (n == 0)
		return MLF_OK;
	sqlite3_stmt *st = mlf_stmt(c, SQL_STAGES_OF, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, json_keys(a, names, NULL, n));
	int *head = mlf_arena_alloc(a, sizeof *head * (size_t)n);
	for (int i = 0; i < n; i++)
		head[i] = -1;
	struct stage_pick *p = NULL;
	int np = 0, cap = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t i = sqlite3_column_int64(st, 0);
		const char *stage = (const char *)sqlite3_column_text(st, 1);
		int64_t version = sqlite3_column_int64(st, 2), rowid = sqlite3_column_int64(st, 3);
		if (i < 0 || i >= n || !stage)
			continue;
		int k = head[i], last = -1;
		while (k >= 0 && strcmp(p[k].stage, stage)) {
			last = k;
			k = p[k].next;
		}
		if (k < 0) {
			if (np == cap) {
				p = mlf_arena_grow(a, p, (size_t)np, (size_t)(cap ? cap * 2 : 64), sizeof *p);
				cap = cap ? cap * 2 : 64;
			}
			k = np++;
			p[k] = (struct stage_pick){mlf_arena_strdup(a, stage), version, rowid, version, -1};
			if (last < 0)
				head[i] = k;
			else
				p[last].next = k;
			counts[i]++;
			continue;
		}
		if (version > p[k].max_version) {
			p[k].max_version = version;
			p[k].max_rowid = rowid;
		}
		if (version < p[k].min_version)
			p[k].min_version = version;
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	if (np == 0)
		return MLF_OK;
	/* the rows to read: each model's stages by their first version (a
	 * model has a handful: the smallest remaining one each time) */
	int64_t *rowids = mlf_arena_alloc(a, sizeof *rowids * (size_t)np);
	int nr = 0;
	for (int i = 0; i < n; i++)
		for (int m = 0; m < counts[i]; m++) {
			int best = -1;
			for (int k = head[i]; k >= 0; k = p[k].next)
				if (p[k].max_rowid != INT64_MIN && (best < 0 || p[k].min_version < p[best].min_version))
					best = k;
			rowids[nr++] = p[best].max_rowid;
			p[best].max_rowid = INT64_MIN;
		}
	struct mlf_buf b = {0};
	mlf_buf_putc(&b, '[');
	for (int k = 0; k < nr; k++)
		mlf_buf_printf(&b, "%s%lld", k ? "," : "", (long long)rowids[k]);
	mlf_buf_putc(&b, ']');
	const char *json = mlf_arena_strndup(a, b.data, b.len);
	mlf_buf_release(&b);
	if (!(st = mlf_stmt(c, SQL_MV_BY_ROWID, err)))
		return err->status;
	mlf_bind_text(st, 1, json);
	struct mlf_model_version *v = mlf_arena_alloc(a, sizeof *v * (size_t)nr);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t k = sqlite3_column_int64(st, MV_NCOLS);
		if (k >= 0 && k < nr)
			mv_from_row(a, st, &v[k]);
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	for (int k = 0; k < nr; k++)
		if (!v[k].name) /* cannot be: one snapshot */
			return mlf_fail(err, MLF_INTERNAL_ERROR, "a model version vanished during a read");
	enum mlf_status s = mv_children_of(c, a, v, nr, with_aliases, err);
	for (int i = 0, k = 0; s == MLF_OK && i < n; i++) {
		lists[i] = counts[i] ? &v[k] : NULL;
		k += counts[i];
	}
	return s;
}

/* ---- reading registered models ---- */

static const char SQL_RM_GET[] = "SELECT name, creation_time, last_updated_time, description FROM "
                                 "registered_models WHERE workspace = " WS " AND name = ?1";
static const char SQL_RM_TAGS_OF[] =
    "SELECT j.key, t.key, t.value FROM json_each(?1) j CROSS JOIN registered_model_tags t ON t.workspace = " WS
    " AND t.name = j.value ORDER BY j.key, t.key";
static const char SQL_RM_ALIASES_OF[] =
    "SELECT j.key, a.alias, CAST(a.version AS TEXT) FROM json_each(?1) j CROSS JOIN registered_model_aliases a ON "
    "a.workspace = " WS " AND a.name = j.value ORDER BY j.key, a.alias";

static void rm_from_row(struct mlf_arena *a, sqlite3_stmt *st, struct mlf_registered_model *o)
{
	memset(o, 0, sizeof *o);
	o->name = mlf_col_text(a, st, 0);
	o->creation_time = sqlite3_column_int64(st, 1);
	o->last_updated_time = sqlite3_column_int64(st, 2);
	o->description = mlf_col_text(a, st, 3);
}

/* Tags, aliases and latest versions of n models: three statements for
 * the lot. */
static enum mlf_status rm_children_of(struct mlf_conn *c, struct mlf_arena *a, struct mlf_registered_model *m, int n,
                                      struct mlf_error *err)
{
	if (n == 0)
		return MLF_OK;
	const char **names = mlf_arena_alloc(a, sizeof *names * (size_t)n);
	struct mlf_kv **lists = mlf_arena_alloc(a, sizeof *lists * (size_t)n);
	struct mlf_model_version **vlists = mlf_arena_alloc(a, sizeof *vlists * (size_t)n);
	int *counts = mlf_arena_alloc(a, sizeof *counts * (size_t)n);
	for (int i = 0; i < n; i++)
		names[i] = m[i].name;
	const char *json = json_keys(a, names, NULL, n);
	enum mlf_status s = load_pairs_of(c, a, SQL_RM_TAGS_OF, json, n, lists, counts, err);
	for (int i = 0; s == MLF_OK && i < n; i++) {
		m[i].tags = lists[i];
		m[i].ntags = counts[i];
	}
	if (s == MLF_OK)
		s = load_pairs_of(c, a, SQL_RM_ALIASES_OF, json, n, lists, counts, err);
	for (int i = 0; s == MLF_OK && i < n; i++) {
		m[i].aliases = lists[i];
		m[i].naliases = counts[i];
	}
	if (s == MLF_OK)
		s = latest_of(c, a, names, n, 0, vlists, counts, err);
	for (int i = 0; s == MLF_OK && i < n; i++) {
		m[i].latest = vlists[i];
		m[i].nlatest = counts[i];
	}
	return s;
}

enum mlf_status mlf_rm_get(struct mlf_conn *c, struct mlf_arena *a, const char *name, struct mlf_registered_model *out,
                           struct mlf_error *err)
{
	int own = mlf_read_begin(c, err);
	if (own < 0)
		return err->status;
	enum mlf_status s;
	sqlite3_stmt *st = mlf_stmt(c, SQL_RM_GET, err);
	if (!st) {
		s = err->status;
		goto out;
	}
	mlf_bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rm_from_row(a, st, out);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		s = rc == SQLITE_DONE ? rm_not_found(name, err) : mlf_db_error(c, rc, err);
		goto out;
	}
	s = rm_children_of(c, a, out, 1, err);
out:
	mlf_read_end(c, own);
	return s;
}

static const char SQL_RM_IS_PROMPT[] = "SELECT 1 FROM registered_model_tags WHERE workspace = " WS
                                       " AND name = ?1 AND key = '" MLF_PROMPT_TAG "' AND lower(value) = 'true'";

int mlf_rm_is_prompt(struct mlf_conn *c, const char *name)
{
	struct mlf_error err;
	return exists(c, SQL_RM_IS_PROMPT, name, NULL, 0, &err) == 1;
}

enum mlf_status mlf_rm_latest_versions(struct mlf_conn *c, struct mlf_arena *a, const char *name,
                                       const char *const *stages, int nstages, struct mlf_model_version **out, int *n,
                                       struct mlf_error *err)
{
	int own = mlf_read_begin(c, err);
	if (own < 0)
		return err->status;
	struct mlf_model_version *v = NULL;
	int cnt = 0;
	enum mlf_status s = need_rm(c, name, err);
	if (s == MLF_OK)
		s = latest_of(c, a, &name, 1, 1, &v, &cnt, err);
	mlf_read_end(c, own);
	if (s != MLF_OK)
		return s;
	int k = 0;
	for (int i = 0; i < cnt; i++) {
		int keep = nstages == 0;
		for (int j = 0; !keep && j < nstages; j++)
			keep = v[i].current_stage && !strcmp(v[i].current_stage, stages[j]);
		if (keep)
			v[k++] = v[i];
	}
	*out = v;
	*n = k;
	return MLF_OK;
}

/* ---- the two searches ---- */

/* Whether a position continues the search q (sig its signature) with
 * its key: 1 yes, 0 no (a stock token, or one of another search: its
 * offset is used), -1 a key of this search that cannot be one (err set). */
static int keyed(const struct mlf_search_sql *q, uint64_t sig, const struct mlf_page_pos *pos, struct mlf_error *err)
{
	if (pos->nkey == 0 || pos->sig != sig)
		return 0;
	bool fits = pos->nkey == q->nkeys;
	for (int k = 0; fits && k < q->nkeys; k++)
		if (!q->keys[k].nullable) /* name is text, version an integer */
			fits = (pos->key[k].type == MLF_BIND_INT) == !strcmp(q->keys[k].col, "v.version");
	if (fits)
		return 1;
	mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "Invalid page token, its position does not fit this search");
	return -1;
}

/* The rows after the key (parameters p0..): the first key after it, or
 * equal and the second after it, and so on; NULLs sort first in SQLite.
 * Led by a range on the first key (for an index in that order) where that
 * is exact: ascending, or descending when no_nulls says the column holds no
 * NULL. */
static const char *after_key(struct mlf_arena *a, const struct mlf_search_sql *q, int p0, bool no_nulls)
{
	const char *expr = NULL;
	for (int k = q->nkeys - 1; k >= 0; k--) {
		const struct mlf_sort_key *sk = &q->keys[k];
		const char *gt = sk->asc ? mlf_arena_printf(a, "%s > ?%d", sk->col, p0 + k)
		                 : sk->nullable && !(k == 0 && no_nulls)
		                     ? mlf_arena_printf(a, "(%s < ?%d OR %s IS NULL)", sk->col, p0 + k, sk->col)
		                     : mlf_arena_printf(a, "%s < ?%d", sk->col, p0 + k);
		expr = expr ? mlf_arena_printf(a, "(%s OR (%s = ?%d AND %s))", gt, sk->col, p0 + k, expr) : gt;
	}
	const struct mlf_sort_key *k0 = &q->keys[0];
	if (k0->asc || !k0->nullable || no_nulls)
		expr = mlf_arena_printf(a, "%s %s ?%d AND %s", k0->col, k0->asc ? ">=" : "<=", p0, expr);
	return expr;
}

/* ", k1, k2": the key columns a search also selects. */
static const char *key_cols(struct mlf_arena *a, const struct mlf_search_sql *q)
{
	const char *s = "";
	for (int k = 0; k < q->nkeys; k++)
		s = mlf_arena_printf(a, "%s, %s", s, q->keys[k].col);
	return s;
}

/* The statement of one search page: sql with q's values bound, then the
 * key of pos when use_key, then LIMIT and OFFSET. The caller finalizes it;
 * NULL with err set on failure. */
static sqlite3_stmt *page_stmt(struct mlf_conn *c, const char *sql, const struct mlf_search_sql *q, bool use_key,
                               const struct mlf_page_pos *pos, int64_t limit, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt_dynamic(c, sql, err);
	if (!st)
		return NULL;
	int rc = mlf_search_bind(st, q), p = q->nbinds + 1;
	for (int k = 0; use_key && rc == SQLITE_OK && k < pos->nkey; k++, p++)
		rc = pos->key[k].type == MLF_BIND_INT
		         ? sqlite3_bind_int64(st, p, pos->key[k].i)
		         : sqlite3_bind_text(st, p, pos->key[k].text, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, p, limit);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, p + 1, use_key ? 0 : pos->offset);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		mlf_db_error(c, rc, err);
		return NULL;
	}
	return st;
}

/* The next page's position before any row is read: the end (offset -1),
 * or where this page starts when it is empty (max_results 0). */
static void next_init(const struct mlf_search_sql *q, uint64_t sig, const struct mlf_page_pos *pos, bool use_key,
                      struct mlf_page_pos *next)
{
	memset(next, 0, sizeof *next);
	next->offset = -1;
	next->sig = sig;
	if (use_key) {
		next->nkey = q->nkeys;
		memcpy(next->key, pos->key, sizeof next->key);
	}
}

/* ---- the registered-model cache of a read connection ----
 *
 * A page of search-registered-models spends most of its time reading each
 * model's tags, aliases and latest versions (with their tags). A reader
 * keeps what it read, by name, for as long as PRAGMA data_version says no
 * connection has committed anything since (a write anywhere empties it);
 * the page's own rows are always read afresh. Bounded by RM_CACHE_BYTES
 * (about) per connection. */
#define RM_CACHE_BYTES (1u << 20)

struct rm_cache {
	int64_t version;        /* data_version the entries were read at */
	struct mlf_arena arena; /* owned: the entries' children */
	size_t bytes;           /* about what the entries hold */
	struct rm_slot {
		uint64_t hash;
		struct mlf_registered_model *m; /* in arena; NULL: free slot */
	} * slots;                              /* owned (malloc); nslots a power of 2, at most half full */
	size_t nslots, count;
};

static void rm_cache_free(void *p)
{
	struct rm_cache *rc = p;
	if (!rc)
		return;
	mlf_arena_release(&rc->arena);
	free(rc->slots);
	free(rc);
}

static void rm_cache_clear(struct rm_cache *rc)
{
	mlf_arena_release(&rc->arena);
	memset(rc->slots, 0, sizeof *rc->slots * rc->nslots);
	rc->bytes = rc->count = 0;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct rm_slot *rm_cache_slot(struct rm_cache *rc, const char *name, uint64_t h)
{
	for (size_t i = h & (rc->nslots - 1);; i = (i + 1) & (rc->nslots - 1))
		if (!rc->slots[i].m || (rc->slots[i].hash == h && !strcmp(rc->slots[i].m->name, name)))
			return &rc->slots[i];
}

static void rm_cache_put(struct rm_cache *rc, struct mlf_registered_model *m)
{
	if ((rc->count + 1) * 2 > rc->nslots) {
		struct rm_slot *old = rc->slots;
		size_t n = rc->nslots;
		rc->nslots = n ? n * 2 : 256;
		rc->slots = calloc(rc->nslots, sizeof *rc->slots);
		if (!rc->slots)
			abort();
		for (size_t i = 0; i < n; i++)
			if (old[i].m)
				*rm_cache_slot(rc, old[i].m->name, old[i].hash) = old[i];
		free(old);
	}
	uint64_t h = name_hash(m->name);
	struct rm_slot *sl = rm_cache_slot(rc, m->name, h);
	if (!sl->m)
		rc->count++;
	sl->hash = h;
	sl->m = m;
}

static size_t slen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static size_t mv_bytes(const struct mlf_model_version *v)
{
	size_t b = sizeof *v + slen(v->name) + slen(v->description) + slen(v->user_id) + slen(v->current_stage) +
	           slen(v->source) + slen(v->run_id) + slen(v->status) + slen(v->status_message) + slen(v->run_link) +
	           slen(v->storage_location);
	for (int k = 0; k < v->ntags; k++)
		b += sizeof v->tags[k] + slen(v->tags[k].key) + slen(v->tags[k].value);
	return b;
}

static size_t rm_bytes(const struct mlf_registered_model *m)
{
	size_t b = sizeof *m + slen(m->name);
	for (int k = 0; k < m->ntags; k++)
		b += sizeof m->tags[k] + slen(m->tags[k].key) + slen(m->tags[k].value);
	for (int k = 0; k < m->naliases; k++)
		b += sizeof m->aliases[k] + slen(m->aliases[k].key) + slen(m->aliases[k].value);
	for (int k = 0; k < m->nlatest; k++)
		b += mv_bytes(&m->latest[k]);
	return b;
}

/* c's cache, emptied when a commit happened since it was filled; NULL
 * (no cache) if that cannot be told. */
static struct rm_cache *rm_cache_of(struct mlf_conn *c)
{
	int64_t version;
	if (mlf_data_version(c, &version, NULL) != MLF_OK)
		return NULL;
	struct rm_cache *rc = c->registry_cache_free == rm_cache_free ? c->registry_cache : NULL;
	if (!rc) {
		if (c->registry_cache && c->registry_cache_free)
			c->registry_cache_free(c->registry_cache);
		if (!(rc = calloc(1, sizeof *rc)))
			return NULL;
		c->registry_cache = rc;
		c->registry_cache_free = rm_cache_free;
		rc->version = version;
	}
	if (rc->version != version || rc->bytes > RM_CACHE_BYTES) {
		rm_cache_clear(rc);
		rc->version = version;
	}
	return rc;
}

/* The children of the page's models m[0..n): from c's cache, the others
 * read (rm_children_of) and kept. What the cache holds stays valid until
 * the next search on c. */
static enum mlf_status rm_children_cached(struct mlf_conn *c, struct mlf_arena *a, struct mlf_registered_model *m,
                                          int n, struct mlf_error *err)
{
	struct rm_cache *rc = n ? rm_cache_of(c) : NULL;
	if (!rc)
		return rm_children_of(c, a, m, n, err);
	int *miss = mlf_arena_alloc(a, sizeof *miss * (size_t)n), nmiss = 0;
	for (int i = 0; i < n; i++) {
		struct rm_slot *sl = rc->nslots ? rm_cache_slot(rc, m[i].name, name_hash(m[i].name)) : NULL;
		if (!sl || !sl->m) {
			miss[nmiss++] = i;
			continue;
		}
		m[i].tags = sl->m->tags;
		m[i].ntags = sl->m->ntags;
		m[i].aliases = sl->m->aliases;
		m[i].naliases = sl->m->naliases;
		m[i].latest = sl->m->latest;
		m[i].nlatest = sl->m->nlatest;
	}
	if (!nmiss)
		return MLF_OK;
	struct mlf_registered_model *fresh = mlf_arena_alloc(&rc->arena, sizeof *fresh * (size_t)nmiss);
	for (int k = 0; k < nmiss; k++)
		fresh[k].name = mlf_arena_strdup(&rc->arena, m[miss[k]].name);
	enum mlf_status s = rm_children_of(c, &rc->arena, fresh, nmiss, err);
	if (s != MLF_OK) {
		rm_cache_clear(rc);
		return s;
	}
	for (int k = 0; k < nmiss; k++) {
		struct mlf_registered_model *d = &m[miss[k]];
		d->tags = fresh[k].tags;
		d->ntags = fresh[k].ntags;
		d->aliases = fresh[k].aliases;
		d->naliases = fresh[k].naliases;
		d->latest = fresh[k].latest;
		d->nlatest = fresh[k].nlatest;
		rc->bytes += rm_bytes(&fresh[k]);
		rm_cache_put(rc, &fresh[k]);
	}
	return MLF_OK;
}

enum mlf_status mlf_rm_search(struct mlf_conn *c, struct mlf_arena *a, const char *filter, const char *const *order_by,
                              int n_order_by, int64_t max_results, const struct mlf_page_pos *pos,
                              struct mlf_registered_model **out, int *n, struct mlf_page_pos *next,
                              struct mlf_error *err)
{
	struct mlf_search_sql q;
	*out = NULL;
	*n = 0;
	memset(next, 0, sizeof *next);
	next->offset = -1;
	enum mlf_status s = mlf_search_registered_models_compile(a, filter, order_by, n_order_by, &q, err);
	if (s != MLF_OK)
		return s;
	uint64_t sig = mlf_search_sig(&q);
	int use_key = keyed(&q, sig, pos, err);
	if (use_key < 0)
		return err->status;
	char *sql = mlf_arena_printf(a,
	                             "SELECT m.name, m.creation_time, m.last_updated_time, m.description%s FROM "
	                             "registered_models m WHERE m.workspace = " WS " AND %s%s%s ORDER BY %s LIMIT ?%d "
	                             "OFFSET ?%d",
	                             key_cols(a, &q), q.where, use_key ? " AND " : "",
	                             use_key ? after_key(a, &q, q.nbinds + 1, false) : "", q.order,
	                             q.nbinds + 1 + (use_key ? q.nkeys : 0), q.nbinds + 2 + (use_key ? q.nkeys : 0));
	int own = mlf_read_begin(c, err);
	if (own < 0)
		return err->status;
	mlf_budget_begin_search(c); /* the page and its children */
	sqlite3_stmt *st = page_stmt(c, sql, &q, use_key, pos, max_results + 1, err);
	if (!st) {
		s = err->status;
		goto out;
	}
	next_init(&q, sig, pos, use_key, next);
	int cap = 0, cnt = 0;
	struct mlf_registered_model *v = NULL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == max_results) {
			next->offset = pos->offset + max_results;
			break;
		}
		if (cnt == cap) {
			v = mlf_arena_grow(a, v, (size_t)cnt, (size_t)(cap ? cap * 2 : 16), sizeof *v);
			cap = cap ? cap * 2 : 16;
		}
		rm_from_row(a, st, &v[cnt++]);
		if (cnt == max_results)
			capture_key(a, st, 4, q.nkeys, next);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s = mlf_db_error(c, rc, err);
	sqlite3_finalize(st);
	if (s == MLF_OK)
		s = rm_children_cached(c, a, v, cnt, err);
	*out = v;
	*n = cnt;
out:
	mlf_budget_end(c);
	mlf_read_end(c, own);
	return s;
}

/* Whether any version lacks last_updated_time (a seek on mlflowd's index
 * of the default order): then that order's key has no exact range. */
static int mv_update_nulls(struct mlf_conn *c, struct mlf_error *err)
{
	static const char sql[] =
	    "SELECT 1 FROM model_versions INDEXED BY " MV_BY_UPDATE " WHERE last_updated_time IS NULL LIMIT 1";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc == SQLITE_ROW;
	mlf_db_error(c, rc, err);
	return -1;
}

enum mlf_status mlf_mv_search(struct mlf_conn *c, struct mlf_arena *a, const char *filter, const char *const *order_by,
                              int n_order_by, int64_t max_results, const struct mlf_page_pos *pos,
                              struct mlf_model_version **out, int *n, struct mlf_page_pos *next, struct mlf_error *err)
{
	struct mlf_search_sql q;
	*out = NULL;
	*n = 0;
	memset(next, 0, sizeof *next);
	next->offset = -1;
	enum mlf_status s = mlf_search_model_versions_compile(a, filter, order_by, n_order_by, &q, err);
	if (s != MLF_OK)
		return s;
	uint64_t sig = mlf_search_sig(&q);
	int use_key = keyed(&q, sig, pos, err);
	if (use_key < 0)
		return err->status;
	/* Without a filter and in MLflow's default order (last_updated_timestamp
	 * DESC, name, version DESC), mlflowd's index of that order (storage/db.c)
	 * ends the scan after the page instead of sorting every version: the first
	 * page of 100 among 100,000 versions in 0.2 ms instead of 70 ms. A keyed
	 * position starts the scan at the page (offset 50,000: 6 ms -> 0.4 ms). */
	bool no_filter = true;
	for (const char *f = filter; f && *f && no_filter; f++)
		no_filter = isspace((unsigned char)*f);
	bool by_update = no_filter && (n_order_by == 0 || !order_by);
	int own = mlf_read_begin(c, err);
	if (own < 0)
		return err->status;
	mlf_budget_begin_search(c); /* the page and its children */
	int nulls = use_key && by_update ? mv_update_nulls(c, err) : 1;
	if (nulls < 0) {
		s = err->status;
		goto out;
	}
	char *sql = mlf_arena_printf(
	    a,
	    "SELECT " MV_COLS "%s FROM model_versions v%s WHERE v.workspace = " WS
	    " AND v.current_stage != '" MLF_STAGE_DELETED "' AND %s%s%s ORDER BY %s LIMIT ?%d OFFSET ?%d",
	    key_cols(a, &q), by_update ? " INDEXED BY " MV_BY_UPDATE : "", q.where, use_key ? " AND " : "",
	    use_key ? after_key(a, &q, q.nbinds + 1, !nulls) : "", q.order, q.nbinds + 1 + (use_key ? q.nkeys : 0),
	    q.nbinds + 2 + (use_key ? q.nkeys : 0));
	sqlite3_stmt *st = page_stmt(c, sql, &q, use_key, pos, max_results + 1, err);
	if (!st) {
		s = err->status;
		goto out;
	}
	next_init(&q, sig, pos, use_key, next);
	int more;
	s = mv_rows(c, a, st, 1, max_results, 0, out, n, &more, &q, next, err);
	if (s == MLF_OK && more)
		next->offset = pos->offset + max_results;
out:
	mlf_budget_end(c);
	mlf_read_end(c, own);
	return s;
}

enum mlf_status mlf_alias_get(struct mlf_conn *c, struct mlf_arena *a, const char *name, const char *alias,
                              struct mlf_model_version *out, struct mlf_error *err)
{
	static const char sql_alias[] =
	    "SELECT version FROM registered_model_aliases WHERE workspace = " WS " AND name = ?1 AND alias = ?2";
	static const char sql_max[] = "SELECT max(version) FROM model_versions WHERE workspace = " WS
	                              " AND name = ?1 AND current_stage != '" MLF_STAGE_DELETED "'";
	int own = mlf_read_begin(c, err);
	if (own < 0)
		return err->status;
	enum mlf_status s = need_rm(c, name, err);
	if (s != MLF_OK)
		goto out;
	int is_latest = !strcasecmp(alias, "latest");
	sqlite3_stmt *st = mlf_stmt(c, is_latest ? sql_max : sql_alias, err);
	if (!st) {
		s = err->status;
		goto out;
	}
	mlf_bind_text(st, 1, name);
	if (!is_latest)
		mlf_bind_text(st, 2, alias);
	int rc = sqlite3_step(st);
	int found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
	int64_t version = found ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		s = mlf_db_error(c, rc, err);
		goto out;
	}
	if (!found) {
		s = is_latest
		        ? mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Latest version not found for model %.500s.", name)
		        : mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "Registered model alias %.300s not found.", alias);
		goto out;
	}
	s = mv_get(c, a, name, version, 1, out, err);
out:
	mlf_read_end(c, own);
	return s;
}

/* ---- writing ---- */

enum rm_op {
	OP_RM_CREATE,
	OP_RM_UPDATE,
	OP_RM_RENAME,
	OP_RM_DELETE,
	OP_RM_SET_TAG,
	OP_RM_DEL_TAG,
	OP_ALIAS_SET,
	OP_ALIAS_DEL,
	OP_MV_CREATE,
	OP_MV_UPDATE,
	OP_MV_STAGE,
	OP_MV_DELETE,
	OP_MV_SET_TAG,
	OP_MV_DEL_TAG
};

struct reg_job {
	enum rm_op op;
	const char *name, *other; /* other: new name, tag key, alias, stage */
	const char *value;        /* tag value, description */
	int64_t version;
	int flag; /* archive_existing_versions */
	const struct kvs {
		const struct mlf_kv *v;
		int n;
	} * tags;
	const struct mlf_mv_create *mv;
	int64_t out_version;
};

static const char SQL_RM_TAG_UPSERT[] =
    "INSERT INTO registered_model_tags (workspace, key, value, name) VALUES (" WS ", ?3, ?4, ?1) "
    "ON CONFLICT (workspace, key, name) DO UPDATE SET value = excluded.value";
static const char SQL_MV_TAG_UPSERT[] =
    "INSERT INTO model_version_tags (workspace, key, value, name, version) VALUES (" WS ", ?3, ?4, ?1, ?2) "
    "ON CONFLICT (workspace, key, name, version) DO UPDATE SET value = excluded.value";
static const char SQL_RM_TOUCH[] =
    "UPDATE registered_models SET last_updated_time = ?2 WHERE workspace = " WS " AND name = ?1";

static enum mlf_status rm_create_fn(struct mlf_conn *c, struct reg_job *j, struct mlf_error *err)
{
	int e = exists(c, SQL_RM_EXISTS, j->name, NULL, 0, err);
	if (e < 0)
		return err->status;
	if (e) {
		/* MLflow's has_prompt_tag: the key's presence, whatever its value */
		static const char sql_has[] = "SELECT 1 FROM registered_model_tags WHERE workspace = " WS
		                              " AND name = ?1 AND key = '" MLF_PROMPT_TAG "'";
		int old_prompt = exists(c, sql_has, j->name, NULL, 0, err) == 1;
		int new_prompt = 0;
		for (int i = 0; i < j->tags->n; i++)
			if (!strcmp(j->tags->v[i].key, MLF_PROMPT_TAG))
				new_prompt = 1;
		if (old_prompt != new_prompt)
			return mlf_fail(
			    err, MLF_RESOURCE_ALREADY_EXISTS,
			    "Tried to create a %s with name '%.500s', but the name is already taken by a %s. "
			    "MLflow does not allow creating a model and a prompt with the same name.",
			    new_prompt ? "prompt" : "registered model", j->name,
			    old_prompt ? "prompt" : "registered model");
		return mlf_fail(err, MLF_RESOURCE_ALREADY_EXISTS, "%s (name=%.500s) already exists.",
		                new_prompt ? "Prompt" : "Registered Model", j->name);
	}
	static const char ins[] = "INSERT INTO registered_models (name, creation_time, last_updated_time, description, "
	                          "workspace) VALUES (?1, ?2, ?2, ?3, " WS ")";
	int64_t now = mlf_now_ms();
	enum mlf_status s = exec_bound(c, ins, j->name, now, j->value, NULL, err);
	for (int i = 0; s == MLF_OK && i < j->tags->n; i++)
		s = exec_bound(c, SQL_RM_TAG_UPSERT, j->name, 0, j->tags->v[i].key,
		               j->tags->v[i].value ? j->tags->v[i].value : "", err);
	return s;
}

static enum mlf_status mv_create_fn(struct mlf_conn *c, struct reg_job *j, struct mlf_error *err)
{
	const struct mlf_mv_create *in = j->mv;
	enum mlf_status s = need_rm(c, in->name, err);
	if (s != MLF_OK)
		return s;
	int64_t now = mlf_now_ms();
	if ((s = exec_bound(c, SQL_RM_TOUCH, in->name, now, NULL, NULL, err)) != MLF_OK)
		return s;
	static const char sql_max[] = "SELECT max(version) FROM model_versions WHERE workspace = " WS " AND name = ?1";
	sqlite3_stmt *st = mlf_stmt(c, sql_max, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, in->name);
	int rc = sqlite3_step(st);
	int64_t version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) + 1 : 1;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return mlf_db_error(c, rc, err);
	static const char ins[] =
	    "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, "
	    "current_stage, source, run_id, status, status_message, run_link, storage_location, workspace) VALUES "
	    "(?1, ?2, ?3, ?3, ?4, NULL, '" MLF_STAGE_NONE "', ?5, ?6, 'READY', NULL, ?7, ?8, " WS ")";
	if (!(st = mlf_stmt(c, ins, err)))
		return err->status;
	mlf_bind_text(st, 1, in->name);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_int64(st, 3, now);
	mlf_bind_text(st, 4, in->description);
	mlf_bind_text(st, 5, in->source);
	mlf_bind_text(st, 6, in->run_id);
	mlf_bind_text(st, 7, in->run_link);
	mlf_bind_text(st, 8, in->storage_location);
	if ((s = mlf_step_done(c, st, err)) != MLF_OK)
		return s;
	for (int i = 0; s == MLF_OK && i < in->ntags; i++)
		s = exec_bound(c, SQL_MV_TAG_UPSERT, in->name, version, in->tags[i].key,
		               in->tags[i].value ? in->tags[i].value : "", err);
	j->out_version = version;
	return s;
}

static enum mlf_status reg_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct reg_job *j = arg;
	enum mlf_status s;
	int64_t now = mlf_now_ms();
	switch (j->op) {
	case OP_RM_CREATE: return rm_create_fn(c, j, err);
	case OP_MV_CREATE: return mv_create_fn(c, j, err);
	default: break;
	}
	/* every other operation needs the registered model */
	if ((s = need_rm(c, j->name, err)) != MLF_OK)
		return s;
	switch (j->op) {
	case OP_RM_UPDATE: {
		static const char sql[] = "UPDATE registered_models SET description = ?3, last_updated_time = ?2 WHERE "
		                          "workspace = " WS " AND name = ?1";
		return exec_bound(c, sql, j->name, now, j->value, NULL, err);
	}
	case OP_RM_RENAME: {
		if (strcmp(j->name, j->other)) {
			int e = exists(c, SQL_RM_EXISTS, j->other, NULL, 0, err);
			if (e < 0)
				return err->status;
			if (e)
				return mlf_fail(err, MLF_RESOURCE_ALREADY_EXISTS,
				                "Registered Model (name=%.500s) already exists.", j->other);
		}
		/* the foreign keys (ON UPDATE CASCADE) carry versions, tags and
		 * aliases over to the new name */
		static const char sql[] = "UPDATE registered_models SET name = ?3, last_updated_time = ?2 WHERE "
		                          "workspace = " WS " AND name = ?1";
		static const char sql_mv[] =
		    "UPDATE model_versions SET last_updated_time = ?2 WHERE workspace = " WS " AND name = ?1";
		s = exec_bound(c, sql, j->name, now, j->other, NULL, err);
		if (s == MLF_OK)
			s = exec_bound(c, sql_mv, j->other, now, NULL, NULL, err);
		return s;
	}
	case OP_RM_DELETE: {
		static const char *const sqls[] = {
		    "DELETE FROM model_version_tags WHERE workspace = " WS " AND name = ?1",
		    "DELETE FROM registered_model_aliases WHERE workspace = " WS " AND name = ?1",
		    "DELETE FROM model_versions WHERE workspace = " WS " AND name = ?1",
		    "DELETE FROM registered_model_tags WHERE workspace = " WS " AND name = ?1",
		    "DELETE FROM registered_models WHERE workspace = " WS " AND name = ?1"};
		for (size_t i = 0; i < sizeof sqls / sizeof *sqls; i++)
			if ((s = exec_bound(c, sqls[i], j->name, 0, NULL, NULL, err)) != MLF_OK)
				return s;
		return MLF_OK;
	}
	case OP_RM_SET_TAG: return exec_bound(c, SQL_RM_TAG_UPSERT, j->name, 0, j->other, j->value, err);
	case OP_RM_DEL_TAG: {
		static const char sql[] =
		    "DELETE FROM registered_model_tags WHERE workspace = " WS " AND name = ?1 AND key = ?3";
		return exec_bound(c, sql, j->name, 0, j->other, NULL, err);
	}
	case OP_ALIAS_SET: {
		if ((s = need_mv(c, j->name, j->version, err)) != MLF_OK)
			return s;
		static const char sql[] =
		    "INSERT INTO registered_model_aliases (alias, version, name, workspace) VALUES (?3, ?2, ?1, " WS
		    ") "
		    "ON CONFLICT (workspace, name, alias) DO UPDATE SET version = excluded.version";
		return exec_bound(c, sql, j->name, j->version, j->other, NULL, err);
	}
	case OP_ALIAS_DEL: {
		static const char sql[] =
		    "DELETE FROM registered_model_aliases WHERE workspace = " WS " AND name = ?1 AND alias = ?3";
		return exec_bound(c, sql, j->name, 0, j->other, NULL, err);
	}
	case OP_MV_UPDATE: {
		if ((s = need_mv(c, j->name, j->version, err)) != MLF_OK)
			return s;
		static const char sql[] = "UPDATE model_versions SET description = ?3, last_updated_time = ?4 WHERE "
		                          "workspace = " WS " AND name = ?1 AND version = ?2";
		sqlite3_stmt *st = mlf_stmt(c, sql, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, j->name);
		sqlite3_bind_int64(st, 2, j->version);
		mlf_bind_text(st, 3, j->value);
		sqlite3_bind_int64(st, 4, now);
		return mlf_step_done(c, st, err);
	}
	case OP_MV_STAGE: {
		if (j->flag) {
			static const char sql[] = "UPDATE model_versions SET current_stage = '" MLF_STAGE_ARCHIVED
			                          "', last_updated_time = ?2 WHERE workspace = " WS
			                          " AND name = ?1 AND version != ?3 AND current_stage = ?4";
			sqlite3_stmt *st = mlf_stmt(c, sql, err);
			if (!st)
				return err->status;
			mlf_bind_text(st, 1, j->name);
			sqlite3_bind_int64(st, 2, now);
			sqlite3_bind_int64(st, 3, j->version);
			mlf_bind_text(st, 4, j->other);
			if ((s = mlf_step_done(c, st, err)) != MLF_OK)
				return s;
		}
		if ((s = need_mv(c, j->name, j->version, err)) != MLF_OK)
			return s;
		static const char sql[] = "UPDATE model_versions SET current_stage = ?3, last_updated_time = ?4 WHERE "
		                          "workspace = " WS " AND name = ?1 AND version = ?2";
		sqlite3_stmt *st = mlf_stmt(c, sql, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, j->name);
		sqlite3_bind_int64(st, 2, j->version);
		mlf_bind_text(st, 3, j->other);
		sqlite3_bind_int64(st, 4, now);
		if ((s = mlf_step_done(c, st, err)) != MLF_OK)
			return s;
		return exec_bound(c, SQL_RM_TOUCH, j->name, now, NULL, NULL, err);
	}
	case OP_MV_DELETE: {
		if ((s = need_mv(c, j->name, j->version, err)) != MLF_OK)
			return s;
		static const char sql_alias[] =
		    "DELETE FROM registered_model_aliases WHERE workspace = " WS " AND name = ?1 AND version = ?2";
		static const char sql[] =
		    "UPDATE model_versions SET current_stage = '" MLF_STAGE_DELETED "', last_updated_time = ?3, "
		    "description = NULL, user_id = NULL, source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID', "
		    "run_link = 'REDACTED-RUN-LINK', status_message = NULL WHERE workspace = " WS
		    " AND name = ?1 AND version = ?2";
		if ((s = exec_bound(c, SQL_RM_TOUCH, j->name, now, NULL, NULL, err)) != MLF_OK ||
		    (s = exec_bound(c, sql_alias, j->name, j->version, NULL, NULL, err)) != MLF_OK)
			return s;
		sqlite3_stmt *st = mlf_stmt(c, sql, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, j->name);
		sqlite3_bind_int64(st, 2, j->version);
		sqlite3_bind_int64(st, 3, now);
		return mlf_step_done(c, st, err);
	}
	case OP_MV_SET_TAG:
		if ((s = need_mv(c, j->name, j->version, err)) != MLF_OK)
			return s;
		return exec_bound(c, SQL_MV_TAG_UPSERT, j->name, j->version, j->other, j->value, err);
	case OP_MV_DEL_TAG: {
		if ((s = need_mv(c, j->name, j->version, err)) != MLF_OK)
			return s;
		static const char sql[] = "DELETE FROM model_version_tags WHERE workspace = " WS
		                          " AND name = ?1 AND version = ?2 AND key = ?3";
		return exec_bound(c, sql, j->name, j->version, j->other, NULL, err);
	}
	default: return mlf_fail(err, MLF_INTERNAL_ERROR, "unknown registry operation");
	}
}

static enum mlf_status run(struct mlf_db *db, struct reg_job *j, struct mlf_error *err)
{
	static const struct kvs none = {NULL, 0};
	if (!j->tags)
		j->tags = &none;
	return mlf_db_write(db, reg_fn, j, err);
}

enum mlf_status mlf_rm_create(struct mlf_db *db, const char *name, const char *description, const struct mlf_kv *tags,
                              int ntags, struct mlf_error *err)
{
	struct kvs t = {tags, ntags};
	struct reg_job j = {.op = OP_RM_CREATE, .name = name, .value = description, .tags = &t};
	return run(db, &j, err);
}

enum mlf_status mlf_rm_update(struct mlf_db *db, const char *name, const char *description, struct mlf_error *err)
{
	struct reg_job j = {.op = OP_RM_UPDATE, .name = name, .value = description};
	return run(db, &j, err);
}

enum mlf_status mlf_rm_rename(struct mlf_db *db, const char *name, const char *new_name, struct mlf_error *err)
{
	struct reg_job j = {.op = OP_RM_RENAME, .name = name, .other = new_name};
	return run(db, &j, err);
}

enum mlf_status mlf_rm_delete(struct mlf_db *db, const char *name, struct mlf_error *err)
{
	struct reg_job j = {.op = OP_RM_DELETE, .name = name};
	return run(db, &j, err);
}

enum mlf_status mlf_rm_set_tag(struct mlf_db *db, const char *name, const char *key, const char *value,
                               struct mlf_error *err)
{
	struct reg_job j = {.op = OP_RM_SET_TAG, .name = name, .other = key, .value = value ? value : ""};
	return run(db, &j, err);
}

enum mlf_status mlf_rm_delete_tag(struct mlf_db *db, const char *name, const char *key, struct mlf_error *err)
{
	struct reg_job j = {.op = OP_RM_DEL_TAG, .name = name, .other = key};
	return run(db, &j, err);
}

enum mlf_status mlf_alias_set(struct mlf_db *db, const char *name, const char *alias, int64_t version,
                              struct mlf_error *err)
{
	struct reg_job j = {.op = OP_ALIAS_SET, .name = name, .other = alias, .version = version};
	return run(db, &j, err);
}

enum mlf_status mlf_alias_delete(struct mlf_db *db, const char *name, const char *alias, struct mlf_error *err)
{
	struct reg_job j = {.op = OP_ALIAS_DEL, .name = name, .other = alias};
	return run(db, &j, err);
}

enum mlf_status mlf_mv_create(struct mlf_db *db, const struct mlf_mv_create *in, int64_t *version,
                              struct mlf_error *err)
{
	struct reg_job j = {.op = OP_MV_CREATE, .name = in->name, .mv = in};
	enum mlf_status s = run(db, &j, err);
	*version = j.out_version;
	return s;
}

enum mlf_status mlf_mv_update(struct mlf_db *db, const char *name, int64_t version, const char *description,
                              struct mlf_error *err)
{
	struct reg_job j = {.op = OP_MV_UPDATE, .name = name, .version = version, .value = description};
	return run(db, &j, err);
}

enum mlf_status mlf_mv_transition(struct mlf_db *db, const char *name, int64_t version, const char *stage, int archive,
                                  struct mlf_error *err)
{
	struct reg_job j = {.op = OP_MV_STAGE, .name = name, .version = version, .other = stage, .flag = archive};
	return run(db, &j, err);
}

enum mlf_status mlf_mv_delete(struct mlf_db *db, const char *name, int64_t version, struct mlf_error *err)
{
	struct reg_job j = {.op = OP_MV_DELETE, .name = name, .version = version};
	return run(db, &j, err);
}

enum mlf_status mlf_mv_set_tag(struct mlf_db *db, const char *name, int64_t version, const char *key, const char *value,
                               struct mlf_error *err)
{
	struct reg_job j = {
	    .op = OP_MV_SET_TAG, .name = name, .version = version, .other = key, .value = value ? value : ""};
	return run(db, &j, err);
}

enum mlf_status mlf_mv_delete_tag(struct mlf_db *db, const char *name, int64_t version, const char *key,
                                  struct mlf_error *err)
{
	struct reg_job j = {.op = OP_MV_DEL_TAG, .name = name, .version = version, .other = key};
	return run(db, &j, err);
}
