/*
 * logged_models.c: MLflow 3 logged models and search_logged_models (see
 * logged_models.h). The filter compiler at the bottom turns MLflow's
 * logged-model filter grammar into SQL text with numbered parameters; user
 * text only ever reaches SQLite as a bound value.
 */
#include "logged_models.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../api/limits.h"
#include "search.h"

/* ---- status names ---- */

static const char *const status_names[] = {"LOGGED_MODEL_STATUS_UNSPECIFIED", "LOGGED_MODEL_PENDING",
                                           "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"};

const char *mlf_lm_status_name(int status)
{
	if (status < 0 || status > 3)
		status = 0;
	return status_names[status];
}

int mlf_lm_status_parse(const char *text, int *out)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(text, status_names[i])) {
			*out = i;
			return 1;
		}
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (*text && !*end && !errno && v >= 0 && v <= 3) {
		*out = (int)v;
		return 1;
	}
	return 0;
}

enum mlf_status mlf_logged_model_name_check(const char *name, struct mlf_error *err)
{
	if (!name || !*name || strpbrk(name, "/:.%\"'") || strlen(name) > MLF_MAX_LOGGED_MODEL_NAME_LENGTH)
		return mlf_fail(
		    err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid model name ('%.600s') provided. Model name must be a non-empty string and cannot "
		    "contain the following characters: ('/', ':', '.', '%%', '\"', \"'\")",
		    name ? name : "");
	return MLF_OK;
}

static enum mlf_status not_found(const char *model_id, struct mlf_error *err)
{
	return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Logged model with ID '%.200s' not found.", model_id);
}

/* ---- reading ---- */

#define MODEL_COLS                                                                            \
	"m.model_id, m.experiment_id, m.name, m.artifact_location, m.creation_timestamp_ms, " \
	"m.last_updated_timestamp_ms, m.status, m.lifecycle_stage, m.model_type, m.source_run_id, m.status_message"

static void model_from_row(struct mlf_arena *a, sqlite3_stmt *st, struct mlf_logged_model *o)
{
	memset(o, 0, sizeof *o);
	o->model_id = mlf_col_text(a, st, 0);
	o->experiment_id = sqlite3_column_int64(st, 1);
	o->name = mlf_col_text(a, st, 2);
	o->artifact_location = mlf_col_text(a, st, 3);
	o->creation_timestamp_ms = sqlite3_column_int64(st, 4);
	o->last_updated_timestamp_ms = sqlite3_column_int64(st, 5);
	o->status = sqlite3_column_int(st, 6);
	o->lifecycle_stage = mlf_col_text(a, st, 7);
	o->model_type = mlf_col_text(a, st, 8);
	o->source_run_id = mlf_col_text(a, st, 9);
	o->status_message = mlf_col_text(a, st, 10);
}

static const char SQL_TAGS[] = "SELECT tag_key, tag_value FROM logged_model_tags WHERE model_id = ?1 ORDER BY tag_key";
static const char SQL_PARAMS[] =
    "SELECT param_key, param_value FROM logged_model_params WHERE model_id = ?1 ORDER BY param_key";
static const char SQL_METRICS[] =
    "SELECT metric_name, metric_value, metric_timestamp_ms, metric_step, run_id, dataset_name, dataset_digest "
    "FROM logged_model_metrics WHERE model_id = ?1 ORDER BY metric_name, metric_timestamp_ms, metric_step, run_id";

static enum mlf_status load_kv(struct mlf_conn *c, struct mlf_arena *a, const char *sql, const char *id,
                               struct mlf_kv **out, int *n, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, id);
	int cap = 0, cnt = 0, rc;
	struct mlf_kv *v = NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			v = mlf_arena_grow(a, v, (size_t)cnt, (size_t)(cap ? cap * 2 : 8), sizeof *v);
			cap = cap ? cap * 2 : 8;
		}
		v[cnt].key = mlf_col_text(a, st, 0);
		v[cnt].value = mlf_col_text(a, st, 1);
		cnt++;
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	*out = v;
	*n = cnt;
	return MLF_OK;
}

static enum mlf_status load_children(struct mlf_conn *c, struct mlf_arena *a, struct mlf_logged_model *m,
                                     struct mlf_error *err)
{
	enum mlf_status s = load_kv(c, a, SQL_TAGS, m->model_id, &m->tags, &m->ntags, err);
	if (s == MLF_OK)
		s = load_kv(c, a, SQL_PARAMS, m->model_id, &m->params, &m->nparams, err);
	if (s != MLF_OK)
		return s;
	sqlite3_stmt *st = mlf_stmt(c, SQL_METRICS, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, m->model_id);
	int cap = 0, cnt = 0, rc;
	struct mlf_lm_metric *v = NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			v = mlf_arena_grow(a, v, (size_t)cnt, (size_t)(cap ? cap * 2 : 8), sizeof *v);
			cap = cap ? cap * 2 : 8;
		}
		struct mlf_lm_metric *x = &v[cnt++];
		x->key = mlf_col_text(a, st, 0);
		x->is_null = sqlite3_column_type(st, 1) == SQLITE_NULL;
		x->value = sqlite3_column_double(st, 1);
		x->timestamp = sqlite3_column_int64(st, 2);
		x->step = sqlite3_column_int64(st, 3);
		x->run_id = mlf_col_text(a, st, 4);
		x->dataset_name = mlf_col_text(a, st, 5);
		x->dataset_digest = mlf_col_text(a, st, 6);
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	m->metrics = v;
	m->nmetrics = cnt;
	return MLF_OK;
}

static const char SQL_GET[] = "SELECT " MODEL_COLS " FROM logged_models m WHERE m.model_id = ?1";

enum mlf_status mlf_logged_model_get(struct mlf_conn *c, struct mlf_arena *a, const char *model_id, int allow_deleted,
                                     struct mlf_logged_model *out, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, SQL_GET, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, model_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? not_found(model_id, err) : mlf_db_error(c, rc, err);
	}
	model_from_row(a, st, out);
	sqlite3_reset(st);
	if (!allow_deleted && out->lifecycle_stage && !strcmp(out->lifecycle_stage, "deleted"))
		return not_found(model_id, err);
	return load_children(c, a, out, err);
}

/* ---- writing ---- */

/* Experiment id of an existing model (any lifecycle stage). */
static enum mlf_status model_experiment(struct mlf_conn *c, const char *model_id, int64_t *exp, struct mlf_error *err)
{
	static const char sql[] = "SELECT experiment_id FROM logged_models WHERE model_id = ?1";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, model_id);
	int rc = sqlite3_step(st);
	enum mlf_status s = MLF_OK;
	if (rc == SQLITE_ROW)
		*exp = sqlite3_column_int64(st, 0);
	else
		s = rc == SQLITE_DONE ? not_found(model_id, err) : mlf_db_error(c, rc, err);
	sqlite3_reset(st);
	return s;
}

static const char SQL_PARAM_UPSERT[] =
    "INSERT INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (model_id, param_key) DO UPDATE SET param_value = excluded.param_value";
static const char SQL_TAG_UPSERT[] =
    "INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (model_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value";

static enum mlf_status put_kvs(struct mlf_conn *c, const char *sql, const char *model_id, int64_t exp,
                               const struct mlf_kv *kv, int n, struct mlf_error *err)
{
	for (int i = 0; i < n; i++) {
		sqlite3_stmt *st = mlf_stmt(c, sql, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, model_id);
		sqlite3_bind_int64(st, 2, exp);
		mlf_bind_text(st, 3, kv[i].key);
		mlf_bind_text(st, 4, kv[i].value ? kv[i].value : "");
		enum mlf_status s = mlf_step_done(c, st, err);
		if (s != MLF_OK)
			return s;
	}
	return MLF_OK;
}

struct create_job {
	const struct mlf_logged_model_create *in;
	struct mlf_arena *a;
	struct mlf_logged_model *out;
};

/* append_to_uri_path(location, "models", id, "artifacts"). */
static const char *model_location(struct mlf_arena *a, const char *loc, const char *id)
{
	const char *q = strchr(loc, '?');
	size_t plen = q ? (size_t)(q - loc) : strlen(loc);
	int slash = plen > 0 && loc[plen - 1] == '/';
	return mlf_arena_printf(a, "%.*s%smodels/%s/artifacts%s", (int)plen, loc, slash ? "" : "/", id, q ? q : "");
}

static enum mlf_status create_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct create_job *j = arg;
	const struct mlf_logged_model_create *in = j->in;
	static const char exp_sql[] =
	    "SELECT artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = ?1";
	sqlite3_stmt *st = mlf_stmt(c, exp_sql, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, in->experiment_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%lld exists",
			                (long long)in->experiment_id);
		return mlf_db_error(c, rc, err);
	}
	char *location = mlf_col_text(j->a, st, 0);
	char *stage = mlf_col_text(j->a, st, 1);
	sqlite3_reset(st);
	if (!stage || strcmp(stage, "active"))
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                "The experiment %lld must be in the 'active' state. Current state is %s.",
		                (long long)in->experiment_id, stage ? stage : "None");

	struct mlf_logged_model *o = j->out;
	memset(o, 0, sizeof *o);
	char hex[33];
	mlf_uuid7_hex(hex);
	o->model_id = mlf_arena_printf(j->a, "m-%s", hex);
	o->experiment_id = in->experiment_id;
	if (in->name) {
		o->name = in->name;
	} else {
		char h2[33];
		mlf_uuid_hex(h2);
		o->name = mlf_arena_printf(j->a, "model-%.8s", h2);
	}
	o->artifact_location = model_location(j->a, location ? location : "", o->model_id);
	o->creation_timestamp_ms = o->last_updated_timestamp_ms = mlf_now_ms();
	o->status = MLF_LM_PENDING;
	o->lifecycle_stage = "active";
	o->model_type = in->model_type;
	o->source_run_id = in->source_run_id;

	static const char ins[] =
	    "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, "
	    "last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, 'active', ?7, ?8)";
	st = mlf_stmt(c, ins, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, o->model_id);
	sqlite3_bind_int64(st, 2, o->experiment_id);
	mlf_bind_text(st, 3, o->name);
	mlf_bind_text(st, 4, o->artifact_location);
	sqlite3_bind_int64(st, 5, o->creation_timestamp_ms);
	sqlite3_bind_int(st, 6, o->status);
	mlf_bind_text(st, 7, o->model_type);
	mlf_bind_text(st, 8, o->source_run_id);
	enum mlf_status s = mlf_step_done(c, st, err);
	if (s == MLF_OK)
		s = put_kvs(c, SQL_PARAM_UPSERT, o->model_id, o->experiment_id, in->params, in->nparams, err);
	if (s == MLF_OK)
		s = put_kvs(c, SQL_TAG_UPSERT, o->model_id, o->experiment_id, in->tags, in->ntags, err);
	return s;
}

enum mlf_status mlf_logged_model_create(struct mlf_db *db, struct mlf_arena *a,
                                        const struct mlf_logged_model_create *in, struct mlf_logged_model *out,
                                        struct mlf_error *err)
{
	struct create_job j = {in, a, out};
	enum mlf_status s = mlf_db_write(db, create_fn, &j, err);
	if (s != MLF_OK)
		return s;
	/* Answer what is stored (tags/params deduplicated, sorted). */
	struct mlf_conn *c = mlf_db_read(db, err);
	if (!c)
		return err->status;
	return mlf_logged_model_get(c, a, out->model_id, 1, out, err);
}

struct model_job {
	const char *model_id;
	int status;
	const struct mlf_kv *kv;
	int n;
	const char *key;
	int op; /* 0 finalize, 1 delete, 2 set tags, 3 delete tag, 4 params */
};

static enum mlf_status model_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	struct model_job *j = arg;
	int64_t exp = 0;
	enum mlf_status s = model_experiment(c, j->model_id, &exp, err);
	if (s != MLF_OK)
		return s;
	sqlite3_stmt *st;
	switch (j->op) {
	case 0: {
		static const char sql[] =
		    "UPDATE logged_models SET status = ?2, last_updated_timestamp_ms = ?3 WHERE model_id = ?1";
		if (!(st = mlf_stmt(c, sql, err)))
			return err->status;
		mlf_bind_text(st, 1, j->model_id);
		sqlite3_bind_int(st, 2, j->status);
		sqlite3_bind_int64(st, 3, mlf_now_ms());
		return mlf_step_done(c, st, err);
	}
	case 1: {
		static const char sql[] = "UPDATE logged_models SET lifecycle_stage = 'deleted', "
		                          "last_updated_timestamp_ms = ?2 WHERE model_id = ?1";
		if (!(st = mlf_stmt(c, sql, err)))
			return err->status;
		mlf_bind_text(st, 1, j->model_id);
		sqlite3_bind_int64(st, 2, mlf_now_ms());
		return mlf_step_done(c, st, err);
	}
	case 2: return put_kvs(c, SQL_TAG_UPSERT, j->model_id, exp, j->kv, j->n, err);
	case 3: {
		static const char sql[] = "DELETE FROM logged_model_tags WHERE model_id = ?1 AND tag_key = ?2";
		if (!(st = mlf_stmt(c, sql, err)))
			return err->status;
		mlf_bind_text(st, 1, j->model_id);
		mlf_bind_text(st, 2, j->key);
		s = mlf_step_done(c, st, err);
		if (s == MLF_OK && sqlite3_changes(c->db) == 0)
			return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST,
			                "No tag with key '%.300s' found for model with ID '%.100s'.", j->key,
			                j->model_id);
		return s;
	}
	default: return put_kvs(c, SQL_PARAM_UPSERT, j->model_id, exp, j->kv, j->n, err);
	}
}

enum mlf_status mlf_logged_model_finalize(struct mlf_db *db, const char *model_id, int status, struct mlf_error *err)
{
	struct model_job j = {.model_id = model_id, .status = status, .op = 0};
	return mlf_db_write(db, model_fn, &j, err);
}

enum mlf_status mlf_logged_model_delete(struct mlf_db *db, const char *model_id, struct mlf_error *err)
{
	struct model_job j = {.model_id = model_id, .op = 1};
	return mlf_db_write(db, model_fn, &j, err);
}

enum mlf_status mlf_logged_model_set_tags(struct mlf_db *db, const char *model_id, const struct mlf_kv *tags, int ntags,
                                          struct mlf_error *err)
{
	struct model_job j = {.model_id = model_id, .kv = tags, .n = ntags, .op = 2};
	return mlf_db_write(db, model_fn, &j, err);
}

enum mlf_status mlf_logged_model_delete_tag(struct mlf_db *db, const char *model_id, const char *key,
                                            struct mlf_error *err)
{
	struct model_job j = {.model_id = model_id, .key = key, .op = 3};
	return mlf_db_write(db, model_fn, &j, err);
}

enum mlf_status mlf_logged_model_log_params(struct mlf_db *db, const char *model_id, const struct mlf_kv *params,
                                            int nparams, struct mlf_error *err)
{
	struct model_job j = {.model_id = model_id, .kv = params, .n = nparams, .op = 4};
	return mlf_db_write(db, model_fn, &j, err);
}

/* ---- the search filter compiler ---- */

struct sqlb {
	struct mlf_arena *a;
	struct mlf_buf sql;
	struct mlf_bind *binds;
	int nbinds, cap;
};

static int bind_text(struct sqlb *b, const char *s)
{
	if (b->nbinds == b->cap) {
		b->binds = mlf_arena_grow(b->a, b->binds, (size_t)b->nbinds, (size_t)(b->cap ? b->cap * 2 : 16),
		                          sizeof *b->binds);
		b->cap = b->cap ? b->cap * 2 : 16;
	}
	b->binds[b->nbinds].type = MLF_BIND_TEXT;
	b->binds[b->nbinds].text = s;
	return ++b->nbinds;
}

static int bind_double(struct sqlb *b, double d)
{
	int i = bind_text(b, NULL);
	b->binds[i - 1].type = MLF_BIND_DOUBLE;
	b->binds[i - 1].d = d;
	return i;
}

static int bind_int(struct sqlb *b, int64_t v)
{
	int i = bind_text(b, NULL);
	b->binds[i - 1].type = MLF_BIND_INT;
	b->binds[i - 1].i = v;
	return i;
}

enum tok_kind { T_END, T_WORD, T_STRING, T_NUMBER, T_OP, T_LPAREN, T_RPAREN, T_COMMA };

struct lexer {
	const char *p;
	struct mlf_arena *a;
	enum tok_kind kind;
	char *text; /* arena copy of the token (strings unquoted) */
};

static int is_ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '`' || c == ':' || c == '/' || (c & 0x80);
}

/* Next token; returns 0 on a lexical error. */
static int lex(struct lexer *lx)
{
	const char *p = lx->p;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (!*p) {
		lx->kind = T_END;
		lx->p = p;
		return 1;
	}
	if (*p == '\'' || *p == '"') {
		char q = *p++;
		struct mlf_buf b = {0};
		for (;;) {
			if (!*p) {
				mlf_buf_release(&b);
				return 0;
			}
			if (*p == q) {
				if (p[1] == q) { /* doubled quote */
					mlf_buf_putc(&b, q);
					p += 2;
					continue;
				}
				p++;
				break;
			}
			if (*p == '\\' && p[1]) {
				mlf_buf_putc(&b, p[1]);
				p += 2;
				continue;
			}
			mlf_buf_putc(&b, *p++);
		}
		lx->text = mlf_arena_strndup(lx->a, b.data ? b.data : "", b.len);
		mlf_buf_release(&b);
		lx->kind = T_STRING;
		lx->p = p;
		return 1;
	}
	if (*p == '(' || *p == ')' || *p == ',') {
		lx->kind = *p == '(' ? T_LPAREN : *p == ')' ? T_RPAREN : T_COMMA;
		lx->p = p + 1;
		return 1;
	}
	if (strchr("<>=!", *p)) {
		const char *s = p;
		if ((p[0] == '<' || p[0] == '>' || p[0] == '!') && p[1] == '=')
			p += 2;
		else if (p[0] == '!')
			return 0;
		else
			p++;
		lx->text = mlf_arena_strndup(lx->a, s, (size_t)(p - s));
		lx->kind = T_OP;
		lx->p = p;
		return 1;
	}
	if (isdigit((unsigned char)*p) ||
	    ((*p == '-' || *p == '+' || *p == '.') && (isdigit((unsigned char)p[1]) || p[1] == '.'))) {
		char *end;
		strtod(p, &end);
		if (end == p)
			return 0;
		lx->text = mlf_arena_strndup(lx->a, p, (size_t)(end - p));
		lx->kind = T_NUMBER;
		lx->p = end;
		return 1;
	}
	if (is_ident_char((unsigned char)*p)) {
		const char *s = p;
		int in_bt = 0;
		while (*p && (in_bt || is_ident_char((unsigned char)*p))) {
			if (*p == '`')
				in_bt = !in_bt;
			p++;
		}
		if (in_bt)
			return 0;
		lx->text = mlf_arena_strndup(lx->a, s, (size_t)(p - s));
		lx->kind = T_WORD;
		lx->p = p;
		return 1;
	}
	return 0;
}

static const char *const attr_cols[] = {"model_id",
                                        "experiment_id",
                                        "name",
                                        "artifact_location",
                                        "creation_timestamp_ms",
                                        "last_updated_timestamp_ms",
                                        "status",
                                        "lifecycle_stage",
                                        "model_type",
                                        "source_run_id",
                                        "status_message"};

static const char *attr_alias(const char *k)
{
	if (!strcmp(k, "creation_time") || !strcmp(k, "creation_timestamp"))
		return "creation_timestamp_ms";
	if (!strcmp(k, "last_updated_timestamp"))
		return "last_updated_timestamp_ms";
	return k;
}

static int attr_known(const char *k)
{
	for (size_t i = 0; i < sizeof attr_cols / sizeof *attr_cols; i++)
		if (!strcmp(k, attr_cols[i]))
			return 1;
	return 0;
}

/* Strip backticks around a key. */
static char *strip_bt(struct mlf_arena *a, const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && *s == '`') {
		s++;
		n--;
	}
	while (n > 0 && s[n - 1] == '`')
		n--;
	return mlf_arena_strndup(a, s, n);
}

static enum mlf_status bad_filter(const char *f, struct mlf_error *err)
{
	return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
	                "Invalid filter string: '%.500s'. Expected a list of comparisons separated by 'AND' (e.g. "
	                "'metrics.loss > 0.1 AND params.lr = 0.01').",
	                f);
}

/* Append the dataset OR-filter on alias x to b (with a leading " AND "). */
static void dataset_filter(struct sqlb *b, const char *x, const struct mlf_lm_search *q)
{
	if (q->ndatasets == 0)
		return;
	mlf_buf_puts(&b->sql, " AND (");
	for (int i = 0; i < q->ndatasets; i++) {
		if (i)
			mlf_buf_puts(&b->sql, " OR ");
		mlf_buf_printf(&b->sql, "(%s.dataset_name = ?%d", x, bind_text(b, q->datasets[i].name));
		if (q->datasets[i].digest)
			mlf_buf_printf(&b->sql, " AND %s.dataset_digest = ?%d", x, bind_text(b, q->datasets[i].digest));
		mlf_buf_puts(&b->sql, ")");
	}
	mlf_buf_puts(&b->sql, ")");
}

/* Compile the filter into " AND ..." clauses on alias m. */
static enum mlf_status compile_filter(struct sqlb *b, const struct mlf_lm_search *q, struct mlf_error *err)
{
	const char *f = q->filter;
	int has_metric = 0, lookups = 0;
	if (f && *f) {
		if (strlen(f) > MLF_MAX_FILTER_LENGTH)
			return bad_filter(f, err);
		struct lexer lx = {.p = f, .a = b->a};
		int first = 1;
		for (;;) {
			if (!lex(&lx))
				return bad_filter(f, err);
			if (lx.kind == T_END)
				break;
			if (!first) {
				if (lx.kind != T_WORD || strcasecmp(lx.text, "AND"))
					return bad_filter(f, err);
				if (!lex(&lx))
					return bad_filter(f, err);
			}
			first = 0;
			if (lx.kind != T_WORD)
				return bad_filter(f, err);
			/* entity */
			const char *ident = lx.text;
			const char *type = "attributes", *key;
			const char *dot = strchr(ident, '.');
			int prefixed = 0;
			if (dot) {
				size_t tl = (size_t)(dot - ident);
				int lower = tl > 0;
				for (size_t i = 0; i < tl; i++)
					if (ident[i] < 'a' || ident[i] > 'z')
						lower = 0;
				if (lower && dot[1]) {
					type = mlf_arena_strndup(b->a, ident, tl);
					prefixed = 1;
				}
			}
			key = strip_bt(b->a, prefixed ? dot + 1 : ident);
			if (strcmp(type, "attributes") && strcmp(type, "metrics") && strcmp(type, "params") &&
			    strcmp(type, "tags"))
				return mlf_fail(
				    err, MLF_INVALID_PARAMETER_VALUE,
				    "Invalid entity type: '%.100s'. Expected one of ['attributes', 'metrics', "
				    "'params', 'tags'].",
				    type);
			int is_attr = !strcmp(type, "attributes");
			if (is_attr) {
				key = attr_alias(key);
				if (!attr_known(key))
					return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
					                "Invalid attribute key '%.200s' specified.", key);
			}
			int numeric =
			    !strcmp(type, "metrics") || (is_attr && (!strcmp(key, "creation_timestamp_ms") ||
			                                             !strcmp(key, "last_updated_timestamp_ms")));
			/* operator */
			if (!lex(&lx))
				return bad_filter(f, err);
			char op[8];
			if (lx.kind == T_OP) {
				snprintf(op, sizeof op, "%s", lx.text);
			} else if (lx.kind == T_WORD && (!strcasecmp(lx.text, "LIKE") ||
			                                 !strcasecmp(lx.text, "ILIKE") || !strcasecmp(lx.text, "IN"))) {
				snprintf(op, sizeof op, "%s", lx.text);
				for (char *c = op; *c; c++)
					*c = (char)toupper((unsigned char)*c);
			} else if (lx.kind == T_WORD && !strcasecmp(lx.text, "NOT")) {
				if (!lex(&lx) || lx.kind != T_WORD || strcasecmp(lx.text, "IN"))
					return bad_filter(f, err);
				snprintf(op, sizeof op, "NOT IN");
			} else {
				return bad_filter(f, err);
			}
			static const char *const num_ops[] = {"<", "<=", ">", ">=", "=", "!="};
			static const char *const str_ops[] = {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"};
			int ok = 0;
			for (int i = 0; i < 6; i++)
				if (!strcmp(op, numeric ? num_ops[i] : str_ops[i]))
					ok = 1;
			if (!ok)
				return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
				                "Invalid comparison operator for %s.%.200s: '%s'. Expected one of %s.",
				                type, key, op,
				                numeric ? "('<', '<=', '>', '>=', '=', '!=')"
				                        : "('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN')");
			/* column expression */
			const char *col;
			if (is_attr) {
				col = mlf_arena_printf(b->a, "m.%s", key);
				mlf_buf_puts(&b->sql, " AND ");
			} else if (!strcmp(type, "metrics")) {
				has_metric = 1;
				mlf_buf_printf(
				    &b->sql,
				    " AND EXISTS (SELECT 1 FROM logged_model_metrics x WHERE x.model_id = m.model_id "
				    "AND x.metric_name = ?%d",
				    bind_text(b, key));
				dataset_filter(b, "x", q);
				mlf_buf_puts(&b->sql, " AND ");
				col = "x.metric_value";
			} else if (!strcmp(type, "params")) {
				mlf_buf_printf(
				    &b->sql,
				    " AND EXISTS (SELECT 1 FROM logged_model_params x WHERE x.model_id = m.model_id "
				    "AND x.param_key = ?%d AND ",
				    bind_text(b, key));
				col = "x.param_value";
			} else {
				mlf_buf_printf(
				    &b->sql,
				    " AND EXISTS (SELECT 1 FROM logged_model_tags x WHERE x.model_id = m.model_id "
				    "AND x.tag_key = ?%d AND ",
				    bind_text(b, key));
				col = "x.tag_value";
			}
			/* value */
			if (!lex(&lx))
				return bad_filter(f, err);
			if (numeric) {
				if (lx.kind != T_NUMBER && lx.kind != T_STRING)
					return bad_filter(f, err);
				char *end;
				double d = strtod(lx.text, &end);
				if (end == lx.text || *end)
					return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
					                "could not convert string to float: '%.200s'", lx.text);
				mlf_buf_printf(&b->sql, "%s %s ?%d", col, op, bind_double(b, d));
			} else if (!strcmp(op, "IN") || !strcmp(op, "NOT IN")) {
				if (lx.kind != T_LPAREN)
					return bad_filter(f, err);
				mlf_buf_printf(&b->sql, "%s %s (", col, op);
				for (int i = 0;; i++) {
					if (!lex(&lx) || lx.kind != T_STRING)
						return bad_filter(f, err);
					mlf_buf_printf(&b->sql, "%s?%d", i ? ", " : "", bind_text(b, lx.text));
					if (!lex(&lx))
						return bad_filter(f, err);
					if (lx.kind == T_RPAREN)
						break;
					if (lx.kind != T_COMMA)
						return bad_filter(f, err);
				}
				mlf_buf_puts(&b->sql, ")");
			} else {
				if (lx.kind != T_STRING && lx.kind != T_NUMBER && lx.kind != T_WORD)
					return bad_filter(f, err);
				int p = bind_text(b, lx.text);
				if (!strcmp(op, "ILIKE"))
					mlf_buf_printf(&b->sql, "lower(%s) LIKE lower(?%d)", col, p);
				else if (is_attr && (!strcmp(key, "experiment_id") || !strcmp(key, "status")))
					mlf_buf_printf(&b->sql, "CAST(%s AS TEXT) %s ?%d", col, op, p);
				else
					mlf_buf_printf(&b->sql, "%s %s ?%d", col, op, p);
			}
			if (!is_attr)
				mlf_buf_puts(&b->sql, ")");
			lookups += !is_attr;
		}
	}
	if (lookups > MLF_SEARCH_MAX_LOOKUP_CLAUSES)
		return mlf_fail(
		    err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid filter: %d comparisons of metrics, params or tags; at most %d are supported in "
		    "one search (MLflow cannot run more either)",
		    lookups, MLF_SEARCH_MAX_LOOKUP_CLAUSES);
	if (q->ndatasets > 0 && !has_metric) {
		mlf_buf_puts(&b->sql,
		             " AND EXISTS (SELECT 1 FROM logged_model_metrics x WHERE x.model_id = m.model_id");
		dataset_filter(b, "x", q);
		mlf_buf_puts(&b->sql, ")");
	}
	return MLF_OK;
}

enum mlf_status mlf_logged_model_search(struct mlf_conn *c, struct mlf_arena *a, const struct mlf_lm_search *q,
                                        struct mlf_logged_model **out, int *n, int64_t *next_offset,
                                        struct mlf_error *err)
{
	*out = NULL;
	*n = 0;
	*next_offset = -1;
	for (int i = 0; i < q->ndatasets; i++)
		if (!q->datasets[i].name || !*q->datasets[i].name)
			return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
			                "`dataset_name` in the `datasets` clause must be specified.");
	if (q->nexp == 0)
		return MLF_OK;

	struct sqlb b = {.a = a};
	struct mlf_buf joins = {0}, order = {0};
	enum mlf_status s = MLF_OK;
	int has_ct = 0, has_id = 0;

	/* ORDER BY first: its joins come before WHERE in the text, so their
	 * parameters are numbered first. */
	for (int i = 0; i < q->norder && s == MLF_OK; i++) {
		const struct mlf_lm_order *ob = &q->order_by[i];
		const char *fn = ob->field_name ? ob->field_name : "";
		const char *dir = ob->ascending ? "ASC" : "DESC";
		if (!strchr(fn, '.')) {
			const char *name = attr_alias(fn);
			if (!attr_known(name)) {
				s = mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "Invalid order by field name: %.200s",
				             fn);
				break;
			}
			if (!strcmp(name, "creation_timestamp_ms"))
				has_ct = 1;
			if (!strcmp(name, "model_id"))
				has_id = 1;
			mlf_buf_printf(&order, "%s(m.%s IS NULL) ASC, m.%s %s", order.len ? ", " : "", name, name, dir);
			continue;
		}
		if (strncmp(fn, "metrics.", 8)) {
			s = mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
			             "Invalid order by field name: %.200s. Only metrics are supported.", fn);
			break;
		}
		mlf_buf_printf(
		    &b.sql,
		    " LEFT JOIN (SELECT model_id, metric_value FROM (SELECT model_id, metric_value, row_number() "
		    "OVER (PARTITION BY model_id ORDER BY metric_timestamp_ms DESC, metric_step DESC, run_id ASC) "
		    "AS rn FROM logged_model_metrics WHERE metric_name = ?%d",
		    bind_text(&b, strip_bt(a, fn + 8)));
		if (ob->dataset_name)
			mlf_buf_printf(&b.sql, " AND dataset_name = ?%d", bind_text(&b, ob->dataset_name));
		if (ob->dataset_digest)
			mlf_buf_printf(&b.sql, " AND dataset_digest = ?%d", bind_text(&b, ob->dataset_digest));
		mlf_buf_printf(&b.sql, ") WHERE rn = 1) o%d ON o%d.model_id = m.model_id", i, i);
		mlf_buf_printf(&order, "%s(o%d.metric_value IS NULL) ASC, o%d.metric_value %s", order.len ? ", " : "",
		               i, i, dir);
	}
	if (s == MLF_OK) {
		mlf_buf_puts(&joins, b.sql.data ? b.sql.data : "");
		mlf_buf_reset(&b.sql);
		mlf_buf_puts(&b.sql, " WHERE m.lifecycle_stage != 'deleted' AND m.experiment_id IN (");
		for (int i = 0; i < q->nexp; i++)
			mlf_buf_printf(&b.sql, "%s?%d", i ? ", " : "", bind_int(&b, q->experiment_ids[i]));
		mlf_buf_puts(&b.sql, ")");
		s = compile_filter(&b, q, err);
	}
	if (s != MLF_OK) {
		mlf_buf_release(&b.sql);
		mlf_buf_release(&joins);
		mlf_buf_release(&order);
		return s;
	}
	if (!has_ct)
		mlf_buf_printf(&order, "%sm.creation_timestamp_ms DESC", order.len ? ", " : "");
	if (!has_id)
		mlf_buf_printf(&order, "%sm.model_id ASC", order.len ? ", " : "");
	int plimit = bind_int(&b, q->max_results + 1);
	int poff = bind_int(&b, q->offset);
	char *sql =
	    mlf_arena_printf(a, "SELECT " MODEL_COLS " FROM logged_models m%s%s ORDER BY %s LIMIT ?%d OFFSET ?%d",
	                     joins.data ? joins.data : "", b.sql.data, order.data, plimit, poff);
	mlf_buf_release(&b.sql);
	mlf_buf_release(&joins);
	mlf_buf_release(&order);

	sqlite3_stmt *st = mlf_stmt_dynamic(c, sql, err);
	if (!st)
		return err->status;
	struct mlf_search_sql bq = {.binds = b.binds, .nbinds = b.nbinds};
	int rc = mlf_search_bind(st, &bq);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return mlf_db_error(c, rc, err);
	}
	int cap = 0, cnt = 0;
	struct mlf_logged_model *v = NULL;
	mlf_budget_begin_search(c);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == q->max_results) {
			*next_offset = q->offset + q->max_results;
			break;
		}
		if (cnt == cap) {
			v = mlf_arena_grow(a, v, (size_t)cnt, (size_t)(cap ? cap * 2 : 16), sizeof *v);
			cap = cap ? cap * 2 : 16;
		}
		model_from_row(a, st, &v[cnt++]);
	}
	mlf_budget_end(c);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		s = mlf_db_error(c, rc, err);
		sqlite3_finalize(st);
		return s;
	}
	sqlite3_finalize(st);
	for (int i = 0; i < cnt; i++) {
		s = load_children(c, a, &v[i], err);
		if (s != MLF_OK)
			return s;
	}
	*out = v;
	*n = cnt;
	return MLF_OK;
}
