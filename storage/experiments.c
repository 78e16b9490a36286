/*
 * experiments.c: the experiments table and its tags, as MLflow's
 * SqlAlchemyStore keeps them: create (with the default artifact location
 * <root>/<id>), get by id or name, search, rename, soft delete and restore
 * (which carry the experiment's runs along), experiment tags, and the
 * dataset summaries the UI's dataset dropdown asks for.
 *
 * Writes are writer jobs (db.h): every read a write depends on happens on
 * the writer connection inside the job, so checks and changes are atomic.
 * Reads use the caller's read connection; every statement is reset before
 * returning so that no read transaction stays open.
 *
 * Syntactic validation (name length, tag key charset, artifact location
 * rules) is done by api/experiments.c; this file checks what needs the
 * database and answers with MLflow's codes and messages.
 *
 * This file knows nothing of JSON or HTTP.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../api/limits.h"
#include "search.h"
#include "tracking.h"

/* Tag prefix of the UI's saved custom views (MLflow's
 * MLFLOW_CUSTOM_VIEW_TAG_PREFIX); their number per experiment is capped. */
#define CUSTOM_VIEW_PREFIX "mlflow.customView.view"
/* MLflow's AssessmentMetadataKey.SOURCE_RUN_ID: assessments that a run
 * produced are deleted with the run. */
#define ASSESSMENT_SOURCE_RUN_KEY "mlflow.assessment.sourceRunId"
/* Last line of the IntegrityError text MLflow passes on in messages. */
#define SQLALCHEMY_BACKGROUND "(Background on this error at: https://sqlalche.me/e/21/gkpj)"

/* ======================================================================
 * Identifiers and artifact locations
 * ====================================================================== */

/*
 * Python's int() on text: surrounding whitespace, an optional sign, and
 * digits with single underscores between them. Returns 0 on success, -1 on
 * bad syntax, -2 when the value does not fit in 64 bits.
 */
static int parse_python_int(const char *s, int64_t *out)
{
	while (isspace((unsigned char)*s))
		s++;
	int neg = 0;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return -1;
	uint64_t v = 0;
	int overflow = 0;
	for (;;) {
		if (isdigit((unsigned char)*s)) {
			unsigned d = (unsigned)(*s++ - '0');
			if (v > (UINT64_MAX - d) / 10)
				overflow = 1;
			else
				v = v * 10 + d;
		} else if (*s == '_' && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[-1])) {
			s++;
		} else {
			break;
		}
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s)
		return -1;
	if (overflow || v > (uint64_t)INT64_MAX + (uint64_t)neg)
		return -2;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

enum mlf_status mlf_experiment_id_parse(const char *text, int64_t *out, struct mlf_error *err)
{
	int r = parse_python_int(text ? text : "", out);
	if (r == -2)
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid experiment ID '%s'. Experiment ID must be a valid integer "
		                "(this one is out of range).",
		                text);
	if (r < 0)
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid experiment ID '%s'. Experiment ID must be a valid integer.", text ? text : "");
	return MLF_OK;
}

/* Schemes for which Python's urlunparse writes "//" before an empty host
 * (urllib.parse.uses_netloc). */
static int uses_netloc(const char *scheme, size_t n)
{
	static const char *const names[] = {"ftp",      "http", "gopher", "nntp",    "telnet", "imap",
	                                    "wais",     "file", "mms",    "https",   "shttp",  "snews",
	                                    "prospero", "rtsp", "rtspu",  "rsync",   "svn",    "svn+ssh",
	                                    "sftp",     "nfs",  "git",    "git+ssh", "ws",     "wss"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strlen(names[i]) == n && !strncasecmp(names[i], scheme, n))
			return 1;
	return 0;
}

/* posixpath.join(prefix, suffix) with MLflow's twist: a leading "/" of the
 * suffix is dropped when the prefix is not empty. Appends to b. */
static void join_posix(struct mlf_buf *b, const char *prefix, size_t plen, const char *suffix)
{
	if (plen == 0) {
		mlf_buf_puts(b, suffix);
		return;
	}
	while (*suffix == '/')
		suffix++;
	mlf_buf_append(b, prefix, plen);
	if (prefix[plen - 1] != '/')
		mlf_buf_putc(b, '/');
	mlf_buf_puts(b, suffix);
}

/*
 * MLflow's append_to_uri_path(uri, segment): the segment is appended to the
 * path component, leaving scheme, host, params, query and fragment where
 * they are ("s3://b/p?x=1" + "3" -> "s3://b/p/3?x=1",
 * "mlflow-artifacts:/" + "3" -> "mlflow-artifacts:/3"). The result is a
 * heap string the caller frees.
 */
static char *append_to_uri_path(const char *uri, const char *segment)
{
	struct mlf_buf b = {0};
	size_t sl = mlf_uri_scheme_len(uri);
	if (sl == 0) {
		join_posix(&b, uri, strlen(uri), segment);
		mlf_buf_append(&b, "", 0);
		return b.data;
	}
	const char *p = uri + sl + 1;
	const char *netloc = NULL;
	size_t netloc_len = 0;
	if (p[0] == '/' && p[1] == '/') {
		netloc = p + 2;
		netloc_len = strcspn(netloc, "/?#");
		p = netloc + netloc_len;
	}
	size_t path_len = strcspn(p, "?#");
	/* ";params" of the last path segment stay after the path. */
	size_t params_at = path_len;
	const char *last_slash = NULL;
	for (size_t i = 0; i < path_len; i++)
		if (p[i] == '/')
			last_slash = p + i;
	const char *semi =
	    memchr(last_slash ? last_slash : p, ';', path_len - (size_t)((last_slash ? last_slash : p) - p));
	if (semi)
		params_at = (size_t)(semi - p);

	struct mlf_buf path = {0};
	join_posix(&path, p, params_at, segment);
	mlf_buf_append(&path, "", 0);

	mlf_buf_append(&b, uri, sl + 1);
	if (netloc_len || (uses_netloc(uri, sl) && strncmp(path.data, "//", 2) != 0)) {
		mlf_buf_puts(&b, "//");
		mlf_buf_append(&b, netloc ? netloc : "", netloc_len);
		if (path.len && path.data[0] != '/')
			mlf_buf_putc(&b, '/');
	}
	mlf_buf_puts(&b, path.data);
	mlf_buf_puts(&b, p + params_at);
	mlf_buf_release(&path);
	return b.data;
}

/* The default root recovered from experiment 0's location (as the server
 * sets it: <root>/0), for mlf_experiment_create. Heap string. */
static char *root_from_default_location(const char *loc0)
{
	size_t n = strlen(loc0);
	if (n >= 1 && loc0[n - 1] == '0' && (n == 1 || loc0[n - 2] == '/'))
		n--;
	char *r = malloc(n + 1);
	memcpy(r, loc0, n);
	r[n] = '\0';
	return r;
}

/* ======================================================================
 * Reading
 * ====================================================================== */

#define EXP_COLUMNS                                                                                              \
	"e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time, " \
	"e.workspace"

static const char SQL_GET_BY_ID[] = "SELECT " EXP_COLUMNS " FROM experiments e WHERE e.experiment_id = ?1";
static const char SQL_GET_BY_NAME[] = "SELECT " EXP_COLUMNS " FROM experiments e WHERE e.name = ?1";
static const char SQL_TAGS[] = "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1 ORDER BY rowid";

static void exp_from_row(struct mlf_arena *a, sqlite3_stmt *st, struct mlf_experiment *o)
{
	memset(o, 0, sizeof *o);
	o->id = sqlite3_column_int64(st, 0);
	o->name = mlf_col_text(a, st, 1);
	o->artifact_location = mlf_col_text(a, st, 2);
	o->lifecycle_stage = mlf_col_text(a, st, 3);
	o->creation_time = sqlite3_column_int64(st, 4);
	o->last_update_time = sqlite3_column_int64(st, 5);
	o->workspace = mlf_col_text(a, st, 6);
}

/* Load the tags of every experiment in exps[0..n). */
static enum mlf_status load_tags(struct mlf_conn *c, struct mlf_arena *a, struct mlf_experiment *exps, int n,
                                 struct mlf_error *err)
{
	for (int i = 0; i < n; i++) {
		sqlite3_stmt *st = mlf_stmt(c, SQL_TAGS, err);
		if (!st)
			return err->status;
		sqlite3_bind_int64(st, 1, exps[i].id);
		int cap = 0, rc;
		exps[i].tags = NULL;
		exps[i].ntags = 0;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (exps[i].ntags == cap) {
				int ncap = cap ? cap * 2 : 8;
				exps[i].tags =
				    mlf_arena_grow(a, exps[i].tags, (size_t)cap, (size_t)ncap, sizeof *exps[i].tags);
				cap = ncap;
			}
			struct mlf_kv *kv = &exps[i].tags[exps[i].ntags++];
			kv->key = mlf_col_text(a, st, 0);
			kv->value = mlf_col_text(a, st, 1);
			if (!kv->value)
				kv->value = "";
		}
		if (!mlf_rows_done(c, st, rc, err))
			return err->status;
	}
	return MLF_OK;
}

/* One experiment by a cached single-row query bound to id or name. */
static enum mlf_status get_one(struct mlf_conn *c, struct mlf_arena *a, sqlite3_stmt *st, struct mlf_experiment *out,
                               int *found, struct mlf_error *err)
{
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		exp_from_row(a, st, out);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return mlf_db_error(c, rc, err);
	if (!*found)
		return MLF_OK;
	return load_tags(c, a, out, 1, err);
}

enum mlf_status mlf_experiment_get(struct mlf_conn *c, struct mlf_arena *a, int64_t id, struct mlf_experiment *out,
                                   struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, SQL_GET_BY_ID, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, id);
	int found;
	enum mlf_status s = get_one(c, a, st, out, &found, err);
	if (s == MLF_OK && !found)
		s = mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%lld exists", (long long)id);
	return s;
}

enum mlf_status mlf_experiment_get_by_name(struct mlf_conn *c, struct mlf_arena *a, const char *name,
                                           struct mlf_experiment *out, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, SQL_GET_BY_NAME, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, name);
	int found;
	enum mlf_status s = get_one(c, a, st, out, &found, err);
	if (s == MLF_OK && !found)
		s = mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "Could not find experiment with name '%s'", name);
	return s;
}

/* SQL condition on e.lifecycle_stage for a view type (constant text). */
static const char *view_condition(enum mlf_view_type view)
{
	switch (view) {
	case MLF_VIEW_DELETED_ONLY: return "e.lifecycle_stage IN ('deleted')";
	case MLF_VIEW_ALL: return "e.lifecycle_stage IN ('active', 'deleted')";
	case MLF_VIEW_ACTIVE_ONLY:
	default: return "e.lifecycle_stage IN ('active')";
	}
}

enum mlf_status mlf_experiment_search(struct mlf_conn *c, struct mlf_arena *a, enum mlf_view_type view,
                                      const char *filter, const char *const *order_by, int n_order_by,
                                      int64_t max_results, int64_t offset, struct mlf_experiment **out, int *n,
                                      int64_t *next_offset, struct mlf_error *err)
{
	*out = NULL;
	*n = 0;
	*next_offset = -1;
	if (max_results < 1)
		return mlf_fail(
		    err, MLF_INVALID_PARAMETER_VALUE,
		    "Invalid value %lld for parameter 'max_results' supplied. It must be a positive integer",
		    (long long)max_results);
	if (max_results > MLF_SEARCH_MAX_RESULTS_THRESHOLD)
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid value %lld for parameter 'max_results' supplied. It must be at most %d",
		                (long long)max_results, MLF_SEARCH_MAX_RESULTS_THRESHOLD);
	if (offset < 0)
		offset = 0;

	struct mlf_search_sql q;
	enum mlf_status s = mlf_search_experiments_compile(a, filter, order_by, n_order_by, &q, err);
	if (s != MLF_OK)
		return s;

	/* The compiler's parameters are ?1..?nbinds; limit and offset follow. */
	char *sql = mlf_arena_printf(a,
	                             "SELECT " EXP_COLUMNS " FROM experiments e %s WHERE %s%s%s%s ORDER BY %s "
	                             "LIMIT ?%d OFFSET ?%d",
	                             q.joins ? q.joins : "", view_condition(view), q.where && *q.where ? " AND (" : "",
	                             q.where ? q.where : "", q.where && *q.where ? ")" : "", q.order, q.nbinds + 1,
	                             q.nbinds + 2);
	sqlite3_stmt *st = mlf_stmt_dynamic(c, sql, err);
	if (!st)
		return err->status;
	int rc = mlf_search_bind(st, &q);
	if (rc != SQLITE_OK) {
		s = mlf_db_error(c, rc, err);
		sqlite3_finalize(st);
		return s;
	}
	sqlite3_bind_int64(st, q.nbinds + 1, max_results + 1);
	sqlite3_bind_int64(st, q.nbinds + 2, offset);
	mlf_budget_begin_search(c);

	struct mlf_experiment *exps = NULL;
	int count = 0, cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == max_results) {
			/* The extra row proves there is another page. */
			*next_offset = offset + max_results;
			break;
		}
		if (count == cap) {
			int ncap = cap ? cap * 2 : 16;
			exps = mlf_arena_grow(a, exps, (size_t)cap, (size_t)ncap, sizeof *exps);
			cap = ncap;
		}
		exp_from_row(a, st, &exps[count++]);
	}
	mlf_budget_end(c);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		s = mlf_db_error(c, rc, err);
	sqlite3_finalize(st);
	if (s != MLF_OK)
		return s;
	s = load_tags(c, a, exps, count, err);
	if (s != MLF_OK)
		return s;
	*out = exps;
	*n = count;
	return MLF_OK;
}

enum mlf_status mlf_experiment_search_datasets(struct mlf_conn *c, struct mlf_arena *a, const int64_t *exp_ids,
                                               int n_exp, struct mlf_dataset_summary **out, int *n,
                                               struct mlf_error *err)
{
	/* MLflow's _search_datasets: datasets reached through an input, with
	 * the input's mlflow.data.context tag when there is one (left join).
	 * The IN list has MLF_SEARCH_DATASETS_MAX_EXPERIMENTS slots; unused
	 * slots repeat the first id. */
	static const char sql[] =
	    "SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value FROM datasets d "
	    "JOIN inputs i ON i.source_id = d.dataset_uuid "
	    "LEFT OUTER JOIN input_tags t ON i.input_uuid = t.input_uuid AND t.name = 'mlflow.data.context' "
	    "WHERE d.experiment_id IN (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
	    "?18, ?19, ?20) LIMIT ?21";
	_Static_assert(MLF_SEARCH_DATASETS_MAX_EXPERIMENTS == 20, "the IN list above has 20 slots");
	*out = NULL;
	*n = 0;
	if (n_exp < 1)
		return MLF_OK;
	if (n_exp > MLF_SEARCH_DATASETS_MAX_EXPERIMENTS)
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                "SearchDatasets request cannot specify more than %d experiment_ids. Received %d "
		                "experiment_ids.",
		                MLF_SEARCH_DATASETS_MAX_EXPERIMENTS, n_exp);
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	for (int i = 0; i < MLF_SEARCH_DATASETS_MAX_EXPERIMENTS; i++)
		sqlite3_bind_int64(st, i + 1, exp_ids[i < n_exp ? i : 0]);
	sqlite3_bind_int(st, 21, MLF_SEARCH_DATASETS_MAX_RESULTS);
	int rc, cap = 0, count = 0;
	struct mlf_dataset_summary *res = NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			int ncap = cap ? cap * 2 : 16;
			res = mlf_arena_grow(a, res, (size_t)cap, (size_t)ncap, sizeof *res);
			cap = ncap;
		}
		struct mlf_dataset_summary *d = &res[count++];
		d->experiment_id = sqlite3_column_int64(st, 0);
		d->name = mlf_col_text(a, st, 1);
		d->digest = mlf_col_text(a, st, 2);
		d->context = mlf_col_text(a, st, 3);
	}
	if (!mlf_rows_done(c, st, rc, err))
		return err->status;
	*out = res;
	*n = count;
	return MLF_OK;
}

/* ======================================================================
 * Writing (writer jobs)
 * ====================================================================== */

/* The lifecycle stage of experiment id on c: 1 active, 0 deleted (or any
 * other stage), MLF_RESOURCE_DOES_NOT_EXIST when there is no such row. */
static enum mlf_status stage_of(struct mlf_conn *c, int64_t id, int *active, struct mlf_error *err)
{
	static const char sql[] = "SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?1";
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	enum mlf_status s = MLF_OK;
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		*active = t && !strcmp((const char *)t, "active");
	} else if (rc == SQLITE_DONE) {
		s = mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%lld exists", (long long)id);
	} else {
		s = mlf_db_error(c, rc, err);
	}
	sqlite3_reset(st);
	return s;
}

/* MLflow's _check_experiment_is_active. */
static enum mlf_status require_active(struct mlf_conn *c, int64_t id, struct mlf_error *err)
{
	int active = 0;
	enum mlf_status s = stage_of(c, id, &active, err);
	if (s == MLF_OK && !active)
		s = mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		             "The experiment %lld must be in the 'active' state. Current state is deleted.",
		             (long long)id);
	return s;
}

struct create_job {
	const char *root;
	const char *name;
	const char *location;
	const struct mlf_kv *tags;
	int ntags;
	int64_t id;
};

static enum mlf_status create_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	static const char ins[] = "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
	                          "last_update_time) VALUES (?1, ?2, 'active', ?3, ?3)";
	static const char set_loc[] = "UPDATE experiments SET artifact_location = ?2 WHERE experiment_id = ?1";
	static const char ins_tag[] = "INSERT INTO experiment_tags (key, value, experiment_id) VALUES (?1, ?2, ?3)";
	struct create_job *j = arg;
	j->id = 0;
	int has_loc = j->location && *j->location;

	sqlite3_stmt *st = mlf_stmt(c, ins, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, j->name);
	/* MLflow inserts "" and sets the default location after the insert. */
	mlf_bind_text(st, 2, has_loc ? j->location : "");
	int64_t now = mlf_now_ms();
	sqlite3_bind_int64(st, 3, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	j->id = sqlite3_last_insert_rowid(c->db);

	if (!has_loc) {
		char id_text[24];
		snprintf(id_text, sizeof id_text, "%lld", (long long)j->id);
		char *loc = append_to_uri_path(j->root, id_text);
		st = mlf_stmt(c, set_loc, err);
		if (!st) {
			free(loc);
			return err->status;
		}
		sqlite3_bind_int64(st, 1, j->id);
		mlf_bind_text(st, 2, loc);
		free(loc);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	for (int i = 0; i < j->ntags; i++) {
		st = mlf_stmt(c, ins_tag, err);
		if (!st)
			return err->status;
		mlf_bind_text(st, 1, j->tags[i].key);
		mlf_bind_text(st, 2, j->tags[i].value ? j->tags[i].value : "");
		sqlite3_bind_int64(st, 3, j->id);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	return MLF_OK;
fail:
	/* MLflow answers any integrity error of the create (duplicate name,
	 * duplicate tag key) as RESOURCE_ALREADY_EXISTS. */
	if ((rc & 0xff) == SQLITE_CONSTRAINT && j->id == 0)
		return mlf_fail(err, MLF_RESOURCE_ALREADY_EXISTS,
		                "Experiment(name=%s) already exists. Error: (sqlite3.IntegrityError) %s\n"
		                "[SQL: INSERT INTO experiments (name, workspace, artifact_location, lifecycle_stage, "
		                "creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)]\n"
		                "[parameters: ('%s', 'default', '%s', 'active', %lld, %lld)]\n" SQLALCHEMY_BACKGROUND,
		                j->name, sqlite3_errmsg(c->db), j->name, has_loc ? j->location : "", (long long)now,
		                (long long)now);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return mlf_fail(err, MLF_RESOURCE_ALREADY_EXISTS,
		                "Experiment(name=%s) already exists. Error: (sqlite3.IntegrityError) %s", j->name,
		                sqlite3_errmsg(c->db));
	return mlf_db_error(c, rc, err);
}

enum mlf_status mlf_experiment_create_with_root(struct mlf_db *db, const char *default_root, const char *name,
                                                const char *artifact_location, const struct mlf_kv *tags, int ntags,
                                                int64_t *out_id, struct mlf_error *err)
{
	struct create_job j = {.root = default_root ? default_root : "",
	                       .name = name,
	                       .location = artifact_location,
	                       .tags = tags,
	                       .ntags = ntags};
	enum mlf_status s = mlf_db_write(db, create_fn, &j, err);
	if (s == MLF_OK && out_id)
		*out_id = j.id;
	return s;
}

enum mlf_status mlf_experiment_create(struct mlf_db *db, const char *name, const char *artifact_location,
                                      const struct mlf_kv *tags, int ntags, int64_t *out_id, struct mlf_error *err)
{
	char *root = root_from_default_location(mlf_db_default_artifact_root(db));
	enum mlf_status s =
	    mlf_experiment_create_with_root(db, root, name, artifact_location, tags, ntags, out_id, err);
	free(root);
	return s;
}

struct rename_job {
	int64_t id;
	const char *name;
};

static enum mlf_status rename_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	static const char sql[] = "UPDATE experiments SET name = ?2, last_update_time = ?3 WHERE experiment_id = ?1";
	struct rename_job *j = arg;
	int active = 0;
	enum mlf_status s = stage_of(c, j->id, &active, err);
	if (s != MLF_OK)
		return s;
	if (!active)
		return mlf_fail(err, MLF_INVALID_STATE, "Cannot rename a non-active experiment.");
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, j->id);
	mlf_bind_text(st, 2, j->name);
	int64_t now = mlf_now_ms();
	sqlite3_bind_int64(st, 3, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return MLF_OK;
	/* MLflow lets the IntegrityError through as BAD_REQUEST. */
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return mlf_fail(
		    err, MLF_BAD_REQUEST,
		    "(sqlite3.IntegrityError) %s\n[SQL: UPDATE experiments SET name=?, last_update_time=? "
		    "WHERE experiments.experiment_id = ?]\n[parameters: ('%s', %lld, %lld)]\n" SQLALCHEMY_BACKGROUND,
		    sqlite3_errmsg(c->db), j->name, (long long)now, (long long)j->id);
	return mlf_db_error(c, rc, err);
}

enum mlf_status mlf_experiment_rename(struct mlf_db *db, int64_t id, const char *new_name, struct mlf_error *err)
{
	struct rename_job j = {.id = id, .name = new_name};
	return mlf_db_write(db, rename_fn, &j, err);
}

struct delete_job {
	int64_t id;
	int deleted;
};

/* Soft delete / restore, MLflow's delete_experiment and
 * restore_experiment: the experiment must be in the opposite stage (else
 * "No Experiment with id=N exists"), its last_update_time moves, and every
 * run of it follows (deleted runs get deleted_time; a delete also removes
 * the assessments those runs produced). */
static enum mlf_status delete_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	static const char set_exp[] =
	    "UPDATE experiments SET lifecycle_stage = ?2, last_update_time = ?3 WHERE experiment_id = ?1";
	static const char del_runs[] =
	    "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ?2 WHERE experiment_id = ?1";
	static const char restore_runs[] =
	    "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ?1";
	static const char del_assessments[] =
	    "DELETE FROM assessments WHERE assessment_metadata IS NOT NULL AND EXISTS (SELECT 1 FROM runs r "
	    "WHERE r.experiment_id = ?1 AND instr(assessments.assessment_metadata, '\"" ASSESSMENT_SOURCE_RUN_KEY
	    "\": \"' || r.run_uuid || '\"') > 0)";
	struct delete_job *j = arg;
	int active = 0;
	enum mlf_status s = stage_of(c, j->id, &active, err);
	if (s != MLF_OK)
		return s;
	if (active != j->deleted)
		return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "No Experiment with id=%lld exists",
		                (long long)j->id);
	int64_t now = mlf_now_ms();

	sqlite3_stmt *st = mlf_stmt(c, set_exp, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, j->id);
	mlf_bind_text(st, 2, j->deleted ? "deleted" : "active");
	sqlite3_bind_int64(st, 3, now);
	if ((s = mlf_step_done(c, st, err)) != MLF_OK)
		return s;

	if (j->deleted) {
		st = mlf_stmt(c, del_assessments, err);
		if (!st)
			return err->status;
		sqlite3_bind_int64(st, 1, j->id);
		if ((s = mlf_step_done(c, st, err)) != MLF_OK)
			return s;
	}
	st = mlf_stmt(c, j->deleted ? del_runs : restore_runs, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, j->id);
	if (j->deleted)
		sqlite3_bind_int64(st, 2, now);
	return mlf_step_done(c, st, err);
}

enum mlf_status mlf_experiment_set_deleted(struct mlf_db *db, int64_t id, int deleted, struct mlf_error *err)
{
	struct delete_job j = {.id = id, .deleted = deleted ? 1 : 0};
	return mlf_db_write(db, delete_fn, &j, err);
}

struct tag_job {
	int64_t id;
	const char *key;
	const char *value; /* NULL: delete the tag */
};

/* The UI's custom views are capped per experiment; only adding a new one
 * counts (overwriting keeps the number). */
static enum mlf_status check_custom_views(struct mlf_conn *c, const struct tag_job *j, struct mlf_error *err)
{
	static const char sql[] =
	    "SELECT count(*), coalesce(sum(key = ?2), 0) FROM experiment_tags WHERE experiment_id = ?1 AND "
	    "substr(key, 1, length('" CUSTOM_VIEW_PREFIX "')) = '" CUSTOM_VIEW_PREFIX "'";
	if (strncmp(j->key, CUSTOM_VIEW_PREFIX, strlen(CUSTOM_VIEW_PREFIX)) != 0)
		return MLF_OK;
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, j->id);
	mlf_bind_text(st, 2, j->key);
	int rc = sqlite3_step(st);
	int64_t count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	int64_t exists = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return mlf_db_error(c, rc, err);
	if (!exists && count >= MLF_MAX_CUSTOM_VIEWS_PER_EXPERIMENT)
		return mlf_fail(
		    err, MLF_INVALID_PARAMETER_VALUE,
		    "Unable to create another custom view for experiment %lld; the maximum number of custom "
		    "views per experiment is %d. Delete an existing custom view before creating a new one.",
		    (long long)j->id, MLF_MAX_CUSTOM_VIEWS_PER_EXPERIMENT);
	return MLF_OK;
}

static enum mlf_status set_tag_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	static const char sql[] = "INSERT INTO experiment_tags (key, value, experiment_id) VALUES (?1, ?2, ?3) "
	                          "ON CONFLICT (key, experiment_id) DO UPDATE SET value = excluded.value";
	struct tag_job *j = arg;
	int active = 0;
	enum mlf_status s = stage_of(c, j->id, &active, err);
	if (s != MLF_OK)
		return s;
	if ((s = check_custom_views(c, j, err)) != MLF_OK)
		return s;
	if (!active)
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                "The experiment %lld must be in the 'active' state. Current state is deleted.",
		                (long long)j->id);
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	mlf_bind_text(st, 1, j->key);
	mlf_bind_text(st, 2, j->value);
	sqlite3_bind_int64(st, 3, j->id);
	return mlf_step_done(c, st, err);
}

enum mlf_status mlf_experiment_set_tag(struct mlf_db *db, int64_t id, const char *key, const char *value,
                                       struct mlf_error *err)
{
	struct tag_job j = {.id = id, .key = key, .value = value ? value : ""};
	return mlf_db_write(db, set_tag_fn, &j, err);
}

static enum mlf_status delete_tag_fn(struct mlf_conn *c, void *arg, struct mlf_error *err)
{
	static const char sql[] = "DELETE FROM experiment_tags WHERE experiment_id = ?1 AND key = ?2";
	struct tag_job *j = arg;
	enum mlf_status s = require_active(c, j->id, err);
	if (s != MLF_OK)
		return s;
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err->status;
	sqlite3_bind_int64(st, 1, j->id);
	mlf_bind_text(st, 2, j->key);
	if ((s = mlf_step_done(c, st, err)) != MLF_OK)
		return s;
	if (sqlite3_changes(c->db) == 0)
		return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "No tag with name: %s in experiment with id %lld",
		                j->key, (long long)j->id);
	return MLF_OK;
}

enum mlf_status mlf_experiment_delete_tag(struct mlf_db *db, int64_t id, const char *key, struct mlf_error *err)
{
	struct tag_job j = {.id = id, .key = key};
	return mlf_db_write(db, delete_tag_fn, &j, err);
}
