/*
 * test_search.c: unit tests of storage/search.c, the compiler from MLflow's
 * search language to SQL, and of page tokens.
 *
 * Most tests execute the compiled SQL against an in-memory SQLite database
 * created from storage/schema.sql (path in argv[1]; a minimal embedded
 * subset of the tables is used when no path is given) with
 * PRAGMA case_sensitive_like=ON, as the server's connections have, and
 * compare the returned ids and their order. Error tests compare MLflow's
 * messages (checked against mlflow 3.x search_utils.py).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "../../api/limits.h"
#include "base.h"
#include "search.h"
#include "unit.h"

static sqlite3 *db;
static char result[4096]; /* last query's ids, comma-separated, or "ERR: msg" */

/* The tables the compiler refers to, for runs without a schema path. */
static const char minimal_schema[] =
    "CREATE TABLE experiments (experiment_id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(256) NOT NULL,"
    " artifact_location VARCHAR(256), lifecycle_stage VARCHAR(32), creation_time BIGINT,"
    " last_update_time BIGINT, workspace VARCHAR(63) DEFAULT 'default' NOT NULL);"
    "CREATE TABLE experiment_tags (\"key\" VARCHAR(250) NOT NULL, value TEXT, experiment_id INTEGER NOT NULL,"
    " PRIMARY KEY (\"key\", experiment_id));"
    "CREATE TABLE runs (run_uuid VARCHAR(32) NOT NULL PRIMARY KEY, name VARCHAR(250), source_type VARCHAR(20),"
    " source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(9),"
    " start_time BIGINT, end_time BIGINT, source_version VARCHAR(50), lifecycle_stage VARCHAR(20),"
    " artifact_uri VARCHAR(200), experiment_id INTEGER, deleted_time BIGINT);"
    "CREATE TABLE latest_metrics (\"key\" VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT,"
    " step BIGINT NOT NULL, is_nan BOOLEAN NOT NULL, run_uuid VARCHAR(32) NOT NULL,"
    " PRIMARY KEY (\"key\", run_uuid));"
    "CREATE TABLE params (\"key\" VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL,"
    " run_uuid VARCHAR(32) NOT NULL, PRIMARY KEY (\"key\", run_uuid));"
    "CREATE TABLE tags (\"key\" VARCHAR(250) NOT NULL, value VARCHAR(8000), run_uuid VARCHAR(32) NOT NULL,"
    " PRIMARY KEY (\"key\", run_uuid));"
    "CREATE TABLE inputs (input_uuid VARCHAR(36) NOT NULL, source_type VARCHAR(36) NOT NULL,"
    " source_id VARCHAR(36) NOT NULL, destination_type VARCHAR(36) NOT NULL,"
    " destination_id VARCHAR(36) NOT NULL, step BIGINT DEFAULT '0' NOT NULL,"
    " PRIMARY KEY (source_type, source_id, destination_type, destination_id));"
    "CREATE TABLE input_tags (input_uuid VARCHAR(36) NOT NULL, name VARCHAR(255) NOT NULL,"
    " value VARCHAR(500) NOT NULL, PRIMARY KEY (input_uuid, name));"
    "CREATE TABLE datasets (dataset_uuid VARCHAR(36) NOT NULL, experiment_id INTEGER NOT NULL,"
    " name VARCHAR(500) NOT NULL, digest VARCHAR(36) NOT NULL, dataset_source_type VARCHAR(36) NOT NULL,"
    " dataset_source TEXT NOT NULL, dataset_schema TEXT, dataset_profile TEXT,"
    " PRIMARY KEY (experiment_id, name, digest));";

/* Fixture:
 *   r1 alpha  alice FINISHED start 100 end 200  acc 0.9, loss 0.5, "my metric" 1
 *      params lr=0.01 opt=Adam "a b"="x y"; tags runName alpha, team Core, env prod
 *      dataset train/d1 context training
 *   r2 beta   bob   RUNNING  start 300 end NULL acc NaN, loss 0.3; lr=0.1; team core
 *      dataset eval/d2 context eval
 *   r3 gamma  alice FAILED   start 200 end 250  acc 0.5; opt=SGD; runName Gamma-x, env NULL
 *      dataset eval/d2 context validation
 *   r4 (no name) carol KILLED start 200 end NULL; nothing logged
 *   r5 deleted-experiment run, in experiment 9 (never returned: queries filter exp 1)
 */
static const char fixture[] =
    "INSERT INTO experiments VALUES (0,'Default','a','active',10,10,'default'),"
    " (1,'exp-A','a','active',20,50,'default'), (2,'exp-b','a','active',20,30,'default'),"
    " (3,'Other','a','active',5,40,'default'), (9,'x','a','active',1,1,'default');"
    "INSERT INTO experiment_tags VALUES ('team','core',1), ('team','Core',2), ('note',NULL,2);"
    "INSERT INTO runs (run_uuid,name,user_id,status,start_time,end_time,lifecycle_stage,artifact_uri,"
    " experiment_id) VALUES"
    " ('r1','alpha','alice','FINISHED',100,200,'active','s3://b/r1',1),"
    " ('r2','beta','bob','RUNNING',300,NULL,'active','file:///r2',1),"
    " ('r3','gamma','alice','FAILED',200,250,'active','file:///r3',1),"
    " ('r4',NULL,'carol','KILLED',200,NULL,'active','file:///r4',1),"
    " ('r5','alpha','alice','FINISHED',100,200,'active','s3://b/r5',9);"
    "INSERT INTO latest_metrics VALUES ('acc',0.9,1,0,0,'r1'), ('loss',0.5,1,0,0,'r1'),"
    " ('my metric',1,1,0,0,'r1'), ('acc',0,1,0,1,'r2'), ('loss',0.3,1,0,0,'r2'), ('acc',0.5,1,0,0,'r3'),"
    " ('acc',0.9,1,0,0,'r5');"
    "INSERT INTO params VALUES ('lr','0.01','r1'), ('opt','Adam','r1'), ('a b','x y','r1'), ('lr','0.1','r2'),"
    " ('opt','SGD','r3'), ('lr','0.01','r5');"
    "INSERT INTO tags VALUES ('mlflow.runName','alpha','r1'), ('team','Core','r1'), ('env','prod','r1'),"
    " ('mlflow.runName','beta','r2'), ('team','core','r2'), ('mlflow.runName','Gamma-x','r3'),"
    " ('env',NULL,'r3'), ('quote','it''''s','r2');"
    "INSERT INTO datasets VALUES ('ds1',1,'train','d1','local','{}',NULL,NULL),"
    " ('ds2',1,'eval','d2','local','{}',NULL,NULL);"
    "INSERT INTO inputs VALUES ('i1','DATASET','ds1','RUN','r1',0), ('i2','DATASET','ds2','RUN','r2',0),"
    " ('i3','DATASET','ds2','RUN','r3',0);"
    "INSERT INTO input_tags VALUES ('i1','mlflow.data.context','training'), ('i2','mlflow.data.context','eval'),"
    " ('i3','mlflow.data.context','validation');";

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(f);
	return s;
}

static int setup(const char *schema_path)
{
	char *schema = schema_path ? read_file(schema_path) : NULL;
	char *errmsg = NULL;
	if (schema_path && !schema) {
		fprintf(stderr, "cannot read %s\n", schema_path);
		return -1;
	}
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return -1;
	if (sqlite3_exec(db, schema ? schema : minimal_schema, NULL, NULL, &errmsg) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA case_sensitive_like=ON;", NULL, NULL, &errmsg) != SQLITE_OK ||
	    sqlite3_exec(db, fixture, NULL, NULL, &errmsg) != SQLITE_OK) {
		fprintf(stderr, "setup: %s\n", errmsg ? errmsg : "?");
		sqlite3_free(errmsg);
		free(schema);
		return -1;
	}
	free(schema);
	return 0;
}

/* Run q and collect column 0 of every row into result. */
static void collect(const char *sql, const struct mlf_search_sql *q)
{
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	result[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(result, sizeof result, "SQLERR: %s", sqlite3_errmsg(db));
		fprintf(stderr, "SQL: %s\n", sql);
		return;
	}
	if (mlf_search_bind(st, q) != SQLITE_OK) {
		snprintf(result, sizeof result, "BINDERR");
		goto out;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		len += (size_t)snprintf(result + len, sizeof result - len, "%s%s", len ? "," : "", v ? v : "NULL");
		if (len >= sizeof result)
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		snprintf(result, sizeof result, "SQLERR: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
}

/* search_runs in experiment 1: the ids returned, or "ERR: message". */
static const char *runs_ob(const char *filter, const char *const *ob, int nob)
{
	struct mlf_arena a = {0};
	struct mlf_error err = {0};
	struct mlf_search_sql q;
	if (mlf_search_runs_compile(&a, filter, ob, nob, &q, &err) != MLF_OK) {
		snprintf(result, sizeof result, "ERR: %s", err.msg);
		if (err.status != MLF_INVALID_PARAMETER_VALUE)
			snprintf(result, sizeof result, "BADSTATUS");
	} else {
		char *sql =
		    mlf_arena_printf(&a, "SELECT r.run_uuid FROM runs r %s WHERE r.experiment_id = 1%s%s%s ORDER BY %s",
		                     q.joins, *q.where ? " AND (" : "", q.where, *q.where ? ")" : "", q.order);
		collect(sql, &q);
	}
	mlf_arena_release(&a);
	return result;
}

static const char *runs(const char *filter)
{
	return runs_ob(filter, NULL, 0);
}

static const char *runs1(const char *filter, const char *ob)
{
	return runs_ob(filter, &ob, 1);
}

/* search_experiments over experiments 0-3. */
static const char *exps_ob(const char *filter, const char *const *ob, int nob)
{
	struct mlf_arena a = {0};
	struct mlf_error err = {0};
	struct mlf_search_sql q;
	if (mlf_search_experiments_compile(&a, filter, ob, nob, &q, &err) != MLF_OK) {
		snprintf(result, sizeof result, "ERR: %s", err.msg);
		if (err.status != MLF_INVALID_PARAMETER_VALUE)
			snprintf(result, sizeof result, "BADSTATUS");
	} else {
		char *sql = mlf_arena_printf(
		    &a, "SELECT e.experiment_id FROM experiments e %s WHERE e.experiment_id < 9%s%s%s ORDER BY %s",
		    q.joins, *q.where ? " AND (" : "", q.where, *q.where ? ")" : "", q.order);
		collect(sql, &q);
	}
	mlf_arena_release(&a);
	return result;
}

static const char *exps(const char *filter)
{
	return exps_ob(filter, NULL, 0);
}

static const char *exps1(const char *filter, const char *ob)
{
	return exps_ob(filter, &ob, 1);
}

static int starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) == 0)
		return 1;
	fprintf(stderr, "got: %s\n", s);
	return 0;
}

/* ---- search_runs filters ---- */

TEST(test_runs_empty_filter_default_order)
{
	CHECK_STR(runs(NULL), "r2,r3,r4,r1");
	CHECK_STR(runs(""), "r2,r3,r4,r1");
	CHECK_STR(runs("   "), "ERR: Invalid filter '   '. Could not be parsed."); /* as MLflow */
}

TEST(test_runs_metrics)
{
	CHECK_STR(runs("metrics.acc > 0.6"), "r1");
	CHECK_STR(runs("metric.acc >= 0.5"), "r3,r1");
	CHECK_STR(runs("metrics.acc < 1"), "r3,r1"); /* NaN never matches < */
	CHECK_STR(runs("metrics.acc <= 0.5"), "r3");
	CHECK_STR(runs("metrics.acc = 0"), "");         /* NaN is stored as 0 but must not match */
	CHECK_STR(runs("metrics.acc != 0.9"), "r2,r3"); /* NaN matches != */
	CHECK_STR(runs("metrics.acc = 0.9"), "r1");
	CHECK_STR(runs("metrics.loss < 0.4"), "r2");
	CHECK_STR(runs("metrics.loss > -1"), "r2,r1");
	CHECK_STR(runs("metrics.acc > -1.5e3"), "r3,r1");
	CHECK_STR(runs("metrics.acc >= .5"), "r3,r1");
	CHECK_STR(runs("metrics.`my metric` = 1"), "r1");
	CHECK_STR(runs("metrics.\"my metric\" = 1.0"), "r1");
	CHECK_STR(runs("metrics.missing > 0"), "");
	CHECK_STR(runs("metrics.acc>0.6"), "r1");
}

TEST(test_runs_params)
{
	CHECK_STR(runs("params.lr = '0.01'"), "r1");
	CHECK_STR(runs("param.lr = \"0.1\""), "r2");
	CHECK_STR(runs("params.lr != '0.01'"), "r2");
	CHECK_STR(runs("parameter.opt LIKE 'A%'"), "r1");
	CHECK_STR(runs("parameters.opt LIKE 'a%'"), ""); /* LIKE is case-sensitive */
	CHECK_STR(runs("params.opt ILIKE 'a%'"), "r1");
	CHECK_STR(runs("params.opt ilike '_GD'"), "r3");
	CHECK_STR(runs("params.`a b` = 'x y'"), "r1");
	CHECK_STR(runs("params.\"a b\" = \"x y\""), "r1");
	CHECK_STR(runs("params.lr IS NULL"), "r3,r4");
	CHECK_STR(runs("params.lr is not null"), "r2,r1");
	CHECK_STR(runs("params.opt = 'adam'"), ""); /* = is case-sensitive */
}

TEST(test_runs_tags)
{
	CHECK_STR(runs("tags.team = 'core'"), "r2");
	CHECK_STR(runs("tag.team != 'core'"), "r1");
	CHECK_STR(runs("tags.team ILIKE 'CORE'"), "r2,r1");
	CHECK_STR(runs("tags.team LIKE 'C%'"), "r1");
	CHECK_STR(runs("tags.env IS NULL"), "r2,r4"); /* r3's env exists with a NULL value */
	CHECK_STR(runs("tags.env IS NOT NULL"), "r3,r1");
	CHECK_STR(runs("tags.env != 'prod'"), ""); /* NULL values never compare */
	CHECK_STR(runs("tags.`mlflow.runName` = 'alpha'"), "r1");
	CHECK_STR(runs("tags.mlflow.runName LIKE '%a'"), "r2,r1");
	/* MLflow keeps escape sequences of string literals verbatim */
	CHECK_STR(runs("tags.quote = 'it''s'"), "r2");
	CHECK_STR(runs("tags.quote = 'it\\'s'"), "");
}

TEST(test_runs_attributes)
{
	CHECK_STR(runs("run_id = 'r1'"), "r1");
	CHECK_STR(runs("attributes.run_id IN ('r1', 'r3')"), "r3,r1");
	CHECK_STR(runs("attributes.run_id in (\"r1\",)"), "r1");
	CHECK_STR(runs("run_id NOT IN ('r1')"), "r2,r3,r4");
	CHECK_STR(runs("run_id not in ('r1', 'r2')"), "r3,r4");
	CHECK_STR(runs("run_name = 'alpha'"), "r1"); /* via tag mlflow.runName */
	CHECK_STR(runs("`Run name` LIKE 'G%'"), "r3");
	CHECK_STR(runs("attributes.`run name` ILIKE 'g%'"), "r3");
	CHECK_STR(runs("run_name != 'alpha'"), "r2,r3"); /* r4 has no name tag */
	CHECK_STR(runs("user_id = 'alice'"), "r3,r1");
	CHECK_STR(runs("attribute.status != 'RUNNING'"), "r3,r4,r1");
	CHECK_STR(runs("attr.artifact_uri LIKE 's3://%'"), "r1");
	CHECK_STR(runs("run.start_time >= 200"), "r2,r3,r4");
	CHECK_STR(runs("created < 200"), "r1");
	CHECK_STR(runs("Created = 200.0"), "r3,r4");
	CHECK_STR(runs("end_time > 0"), "r3,r1");
	CHECK_STR(runs("end_time != 200"), "r3"); /* NULL end_time never compares */
	CHECK_STR(runs("start_time = 200 AND user_id = 'carol'"), "r4");
	CHECK_STR(runs("start_time <= 99999999999999999999"), "r2,r3,r4,r1"); /* int64 overflow: compared as a double */
}

TEST(test_runs_datasets)
{
	CHECK_STR(runs("datasets.name = 'train'"), "r1");
	CHECK_STR(runs("dataset.digest IN ('d2')"), "r2,r3");
	CHECK_STR(runs("datasets.name NOT IN ('train')"), "r2,r3");
	CHECK_STR(runs("datasets.name != 'eval'"), "r1");
	CHECK_STR(runs("datasets.name LIKE 'ev%'"), "r2,r3");
	CHECK_STR(runs("datasets.name ILIKE 'EV%'"), "r2,r3");
	CHECK_STR(runs("datasets.context = 'training'"), "r1");
	CHECK_STR(runs("datasets.context LIKE 'val%'"), "r3");
	CHECK_STR(runs("datasets.context IN ('eval', 'training')"), "r2,r1");
	CHECK_STR(runs("datasets.name = 'eval' AND datasets.context = 'validation'"), "r3");
}

TEST(test_runs_and_combinations)
{
	CHECK_STR(runs("metrics.acc > 0.1 and params.opt like 'A%'"), "r1");
	CHECK_STR(runs("metrics.acc > 0.1 AND tags.env IS NOT NULL AND user_id = 'alice'"), "r3,r1");
	/* as in MLflow, juxtaposed comparisons and stray ANDs are accepted */
	CHECK_STR(runs("metrics.acc > 0.1 user_id = 'alice' AND"), "r3,r1");
	CHECK_STR(runs("AND AND metrics.acc > 0.6"), "r1");
}

TEST(test_runs_binds_only)
{
	/* user text never reaches the SQL text */
	struct mlf_arena a = {0};
	struct mlf_error err = {0};
	struct mlf_search_sql q;
	const char *ob[] = {"params.`x'; DROP TABLE runs; --` DESC"};
	CHECK(mlf_search_runs_compile(&a, "tags.`a'b` = 'v\"; DROP TABLE runs' AND metrics.m > 1", ob, 1, &q, &err) ==
	      MLF_OK);
	CHECK(strstr(q.where, "DROP") == NULL);
	CHECK(strstr(q.joins, "DROP") == NULL);
	CHECK(strstr(q.order, "DROP") == NULL);
	CHECK(q.nbinds == 5);
	CHECK(q.binds[0].type == MLF_BIND_TEXT);
	CHECK_STR(q.binds[0].text, "x'; DROP TABLE runs; --");
	CHECK_STR(q.binds[1].text, "a'b");
	CHECK_STR(q.binds[2].text, "v\"; DROP TABLE runs");
	CHECK_STR(q.binds[3].text, "m");
	CHECK(q.binds[4].type == MLF_BIND_DOUBLE && q.binds[4].d == 1.0);
	CHECK(strstr(q.joins, "?1") != NULL);
	/* parameters are dense 1..n */
	CHECK(strstr(q.where, "?5") != NULL && strstr(q.where, "?6") == NULL);
	mlf_arena_release(&a);
}

TEST(test_runs_errors)
{
	CHECK_STR(runs("metrics.acc > 1 OR metrics.loss < 1"), "ERR: Invalid clause(s) in filter string: 'OR'");
	CHECK_STR(runs("metrics.acc > 1 or metrics.loss < 1"), "ERR: Invalid clause(s) in filter string: 'or'");
	CHECK_STR(runs("(metrics.acc > 1)"), "ERR: Invalid clause(s) in filter string: '(metrics.acc > 1)'");
	CHECK_STR(runs("metrics.a > 1 OR (metrics.b > 2)"),
	          "ERR: Invalid clause(s) in filter string: 'OR', '(metrics.b > 2)'");
	CHECK_STR(runs("NOT metrics.acc > 1"), "ERR: Invalid clause(s) in filter string: 'NOT'");
	CHECK_STR(runs("metrics.acc"), "ERR: Invalid clause(s) in filter string: 'metrics.acc'");
	CHECK_STR(runs("metrics.acc >"), "ERR: Invalid clause(s) in filter string: 'metrics.acc', '>'");
	CHECK_STR(runs("x"), "ERR: Invalid clause(s) in filter string: 'x'");
	CHECK_STR(runs("run_id in 'a'"), "ERR: Invalid clause(s) in filter string: 'run_id', 'in', ''a''");
	CHECK_STR(runs("metrics.a > 1;"), "ERR: Invalid clause(s) in filter string: ';'");
	CHECK_STR(runs("metrics.a > 1; metrics.b > 2"),
	          "ERR: Search filter contained multiple expression 'metrics.a > 1; metrics.b > 2'. Provide AND-ed "
	          "expression list.");
	CHECK_STR(runs("tags.a = x"),
	          "ERR: Parameter value is either not quoted or unidentified quote types used for string value x. "
	          "Use either single or double quotes.");
	CHECK_STR(runs("params.a = `x`"),
	          "ERR: Parameter value is either not quoted or unidentified quote types used for string value `x`. "
	          "Use either single or double quotes.");
	CHECK_STR(runs("foo.a = 1"),
	          "ERR: Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', "
	          "'dataset']");
	CHECK_STR(runs("Metrics.a = 1"),
	          "ERR: Invalid entity type 'Metrics'. Valid values are ['metric', 'parameter', 'tag', 'attribute', "
	          "'dataset']");
	CHECK(starts(runs("bogus = 'x'"), "ERR: Invalid attribute key 'bogus' specified. Valid keys are '{"));
	CHECK(starts(runs("datasets.foo = 'x'"), "ERR: Invalid dataset key 'foo' specified."));
	CHECK_STR(runs("metrics.acc = 'x'"), "ERR: Expected numeric value type for metric. Found 'x'");
	CHECK_STR(runs("metrics.acc = \"1\""), "ERR: Expected numeric value type for metric. Found \"1\"");
	CHECK_STR(runs("start_time = 'x'"),
	          "ERR: Expected numeric value type for numeric attribute: start_time. Found 'x'");
	CHECK_STR(runs("created > x"), "ERR: Expected numeric value type for numeric attribute: created. Found x");
	CHECK_STR(runs("status = 1"), "ERR: Expected a quoted string value for attributes. Got value 1");
	CHECK_STR(runs("tags.a != 1"), "ERR: Expected a quoted string value for tag (e.g. 'my-value'). Got value 1");
	CHECK_STR(runs("params.a = 1.5"),
	          "ERR: Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1.5");
	CHECK_STR(runs("datasets.name = 1"), "ERR: Expected a quoted string value for dataset attributes. Got value 1");
	CHECK_STR(runs("status IN ('a')"),
	          "ERR: Only ['run_id'] attributes support comparison with a list of quoted string values.");
	CHECK_STR(runs("run_id IN ()"),
	          "ERR: While parsing a list in the query, expected a non-empty list of string values, but got empty "
	          "list");
	CHECK_STR(runs("run_id IN (1, 2)"),
	          "ERR: While parsing a list in the query, expected string value, punctuation, or whitespace, but got "
	          "different type in list: (1, 2)");
	CHECK_STR(runs("run_id IN ('a' b)"),
	          "ERR: While parsing a list in the query, expected a non-empty list of string values, but got "
	          "ill-formed list.");
	CHECK_STR(runs("metrics.a IS NULL"),
	          "ERR: IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'a'");
	CHECK_STR(runs("start_time is not null"),
	          "ERR: IS NULL / IS NOT NULL is only supported for tags and params, not for 'attribute' "
	          "'start_time'");
	/* comparator checks (after parsing) */
	CHECK_STR(runs("metrics.acc LIKE 1"),
	          "ERR: Invalid comparator 'LIKE' not one of '{'>', '>=', '!=', '=', '<', '<='}");
	CHECK_STR(runs("metrics.acc == 1"),
	          "ERR: Invalid comparator '==' not one of '{'>', '>=', '!=', '=', '<', '<='}");
	CHECK_STR(runs("params.lr > '1'"),
	          "ERR: Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'");
	CHECK_STR(runs("tags.t < 'a'"),
	          "ERR: Invalid comparator '<' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}");
	CHECK_STR(runs("tags.t NOT LIKE 'a'"),
	          "ERR: Invalid comparator 'NOT LIKE' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT "
	          "NULL'}");
	CHECK_STR(runs("status > 'a'"),
	          "ERR: Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'");
	CHECK_STR(runs("start_time LIKE 1"),
	          "ERR: Invalid comparator 'LIKE' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}");
	CHECK_STR(runs("datasets.name > 'a'"),
	          "ERR: Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}");
	/* parse errors of a later clause win over comparator errors of an earlier one */
	CHECK_STR(runs("metrics.acc LIKE 1 AND foo.x = 1"),
	          "ERR: Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', "
	          "'dataset']");
	CHECK_STR(runs("1 < metrics.a"), "ERR: Invalid comparison clause. Expected 'Identifier' found '1'");
	CHECK_STR(runs("'x' = tags.a"), "ERR: Invalid comparison clause. Expected 'Identifier' found ''x''");
	CHECK_STR(runs("tags.a = 'unterminated"), "ERR: Invalid clause(s) in filter string: 'tags.a', '=', ''', "
	                                          "'unterminated'");
}

/* ---- search_runs order_by ---- */

TEST(test_runs_order_by)
{
	CHECK_STR(runs1(NULL, "metrics.acc DESC"), "r1,r3,r2,r4"); /* NaN, then missing, last */
	CHECK_STR(runs1(NULL, "metrics.acc"), "r3,r1,r2,r4");
	CHECK_STR(runs1(NULL, "metrics.`acc` ASC"), "r3,r1,r2,r4");
	CHECK_STR(runs1(NULL, "metric.\"my metric\" desc"), "r1,r2,r3,r4");
	CHECK_STR(runs1(NULL, "params.lr"), "r1,r2,r3,r4");
	CHECK_STR(runs1(NULL, "params.lr DESC"), "r2,r1,r3,r4");
	CHECK_STR(runs1(NULL, "tags.team DESC"), "r2,r1,r3,r4");
	CHECK_STR(runs1(NULL, "tags.`mlflow.runName`"), "r3,r1,r2,r4"); /* 'Gamma-x' < 'alpha' < 'beta' */
	CHECK_STR(runs1(NULL, "start_time ASC"), "r1,r3,r4,r2");
	CHECK_STR(runs1(NULL, "attributes.start_time DESC"), "r2,r3,r4,r1");
	CHECK_STR(runs1(NULL, "created"), "r1,r3,r4,r2");
	CHECK_STR(runs1(NULL, "end_time DESC"), "r3,r1,r2,r4"); /* NULL attributes last too */
	CHECK_STR(runs1(NULL, "end_time"), "r1,r3,r2,r4");
	CHECK_STR(runs1(NULL, "run_name"), "r1,r2,r3,r4");
	CHECK_STR(runs1(NULL, "run_id DESC"), "r4,r3,r2,r1");
	CHECK_STR(runs1(NULL, "user_id DESC"), "r4,r2,r3,r1");
	CHECK_STR(runs1(NULL, "status"), "r3,r1,r4,r2");
	CHECK_STR(runs1(NULL, "metrics.'acc' `DESC`"), "r1,r3,r2,r4");
	const char *two[] = {"user_id", "metrics.acc DESC"};
	CHECK_STR(runs_ob(NULL, two, 2), "r1,r3,r2,r4");
	const char *three[] = {"params.opt", "tags.env", "metrics.loss DESC"};
	CHECK_STR(runs_ob(NULL, three, 3), "r1,r3,r2,r4");
	/* filter and order together: parameter numbering across joins and where */
	CHECK_STR(runs1("metrics.acc >= 0 AND params.lr IS NULL", "metrics.acc DESC"), "r3");
	CHECK_STR(runs1("tags.team ILIKE 'core'", "tags.team"), "r1,r2");
	/* a filter that requires the ordered metric takes the index-ordered form,
	 * with the same answers as the general one (NaN r2 and missing r4 excluded) */
	CHECK_STR(runs1("metrics.acc >= 0", "metrics.acc DESC"), "r1,r3");
	CHECK_STR(runs1("metrics.acc >= 0", "metrics.acc"), "r3,r1");
	CHECK_STR(runs1("metrics.acc != 0.5", "metrics.acc DESC"), "r1,r2"); /* != keeps NaN: general form */
	const char *tie[] = {"metrics.acc DESC", "params.lr"};
	CHECK_STR(runs_ob("metrics.acc > 0.1", tie, 2), "r1,r3");
}

TEST(test_runs_order_by_errors)
{
	const char *dup[] = {"metrics.acc", "metrics.acc DESC"};
	CHECK_STR(runs_ob(NULL, dup, 2),
	          "ERR: `order_by` contains duplicate fields: ['metrics.acc', 'metrics.acc DESC']");
	const char *dup2[] = {"start_time", "created DESC"};
	CHECK_STR(runs_ob(NULL, dup2, 2), "ERR: `order_by` contains duplicate fields: ['start_time', 'created DESC']");
	const char *dup3[] = {"metrics.`a`", "metrics.a"};
	CHECK_STR(runs_ob(NULL, dup3, 2), "ERR: `order_by` contains duplicate fields: ['metrics.`a`', 'metrics.a']");
	const char *notdup[] = {"metrics.a", "params.a", "tags.a"};
	CHECK_STR(runs_ob(NULL, notdup, 3), "r2,r3,r4,r1");
	CHECK_STR(runs1(NULL, "metrics.a foo"), "ERR: Invalid ordering key in order_by clause 'metrics.a foo'.");
	CHECK_STR(runs1(NULL, "metrics.a DESC extra"),
	          "ERR: Invalid order_by clause 'metrics.a DESC extra'. Could not be parsed.");
	CHECK_STR(runs1(NULL, ""), "ERR: Invalid order_by clause ''. Could not be parsed.");
	CHECK_STR(runs1(NULL, " start_time"), "ERR: Invalid order_by clause ' start_time'. Could not be parsed.");
	CHECK_STR(runs1(NULL, "start_time DESC "),
	          "ERR: Invalid order_by clause 'start_time DESC '. Could not be parsed.");
	CHECK_STR(runs1(NULL, "metrics.a,metrics.b"),
	          "ERR: Invalid order_by clause 'metrics.a,metrics.b'. Could not be parsed.");
	CHECK_STR(runs1(NULL, "metrics.`a"), "ERR: Invalid order_by clause 'metrics.`a'. Could not be parsed.");
	CHECK(starts(runs1(NULL, "bogus"), "ERR: Invalid attribute key 'bogus' specified."));
	CHECK(starts(runs1(NULL, "`Run name`"), "ERR: Invalid attribute key 'Run name' specified."));
	CHECK_STR(runs1(NULL, "datasets.name"), "ERR: Invalid identifier type 'dataset'");
	CHECK_STR(runs1(NULL, "foo.bar"),
	          "ERR: Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', "
	          "'dataset']");
	/* MLflow's error order: filter parse, then order_by, then comparators */
	CHECK_STR(runs1("foo.x = 1", "bar.y"),
	          "ERR: Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', "
	          "'dataset']");
	CHECK_STR(runs1("metrics.a LIKE 1", "metrics.a foo"),
	          "ERR: Invalid ordering key in order_by clause 'metrics.a foo'.");
}

TEST(test_runs_sql_shape)
{
	struct mlf_arena a = {0};
	struct mlf_error err = {0};
	struct mlf_search_sql q;
	CHECK(mlf_search_runs_compile(&a, NULL, NULL, 0, &q, &err) == MLF_OK);
	CHECK_STR(q.joins, "");
	CHECK_STR(q.where, "");
	CHECK_STR(q.order, "r.start_time DESC, r.run_uuid");
	CHECK(q.nbinds == 0);
	const char *ob[] = {"start_time"};
	CHECK(mlf_search_runs_compile(&a, "params.x ILIKE 'A%'", ob, 1, &q, &err) == MLF_OK);
	CHECK_STR(q.order, "CASE WHEN r.start_time IS NULL THEN 1 ELSE 0 END, r.start_time, r.run_uuid");
	CHECK(strstr(q.where, "LOWER(x.value) LIKE LOWER(?2)") != NULL);
	mlf_arena_release(&a);
}

TEST(test_runs_large_filter)
{
	/* a 64 KiB filter of AND-ed clauses compiles and runs (SQLite's
	 * expression depth limit must not be hit) */
	static char big[65537];
	const char *clause = "attributes.start_time > -1 AND ";
	size_t n = 0, cl = strlen(clause);
	while (n + cl + 20 < sizeof big - 1) {
		memcpy(big + n, clause, cl);
		n += cl;
	}
	memcpy(big + n, "metrics.acc > -2", 17);
	CHECK_STR(runs(big), "r3,r1");
	/* comparisons that each look a value up elsewhere: as many as MLflow
	 * can run (63), and a 400 from 64 on */
	n = 0;
	for (int i = 0; i < MLF_SEARCH_MAX_LOOKUP_CLAUSES; i++)
		n += (size_t)sprintf(big + n, "%s",
		                     i % 3 == 0   ? "metrics.acc > -1 AND "
		                     : i % 3 == 1 ? "params.p != 'zz' AND "
		                                  : "tags.t != 'zz' AND ");
	n -= 5;
	big[n] = '\0';
	CHECK(!starts(runs(big), "ERR: "));
	strcpy(big + n, " AND attributes.run_name != 'x'");
	CHECK(
	    starts(runs(big),
	           "ERR: Invalid filter: 64 comparisons of metrics, params, tags, datasets or run names; at most 63"));
	/* pathological input: deep or unbalanced parentheses, many quotes */
	memset(big, '(', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK(starts(runs(big), "ERR: Invalid clause(s) in filter string: '('"));
	for (size_t i = 0; i < sizeof big - 1; i++)
		big[i] = i % 2 ? ')' : '(';
	CHECK(starts(runs(big), "ERR: Invalid clause(s) in filter string: '()'"));
	memset(big, '\'', sizeof big - 1);
	CHECK(starts(runs(big), "ERR: Invalid clause(s)"));
	memset(big, '`', sizeof big - 1);
	big[sizeof big - 2] = 'x';
	CHECK(starts(runs(big), "ERR: "));
}

/* ---- search_experiments ---- */

TEST(test_experiments_filters)
{
	CHECK_STR(exps(NULL), "1,2,0,3"); /* creation_time DESC, experiment_id ASC */
	CHECK_STR(exps("name = 'Other'"), "3");
	CHECK_STR(exps("attribute.name != 'Other'"), "1,2,0");
	CHECK_STR(exps("name LIKE 'exp%'"), "1,2");
	CHECK_STR(exps("name LIKE 'Exp%'"), "");
	CHECK_STR(exps("name ILIKE 'EXP-%'"), "1,2");
	CHECK_STR(exps("creation_time > 10"), "1,2");
	CHECK_STR(exps("last_update_time <= 30"), "2,0");
	CHECK_STR(exps("creation_time = 20 and last_update_time >= 50"), "1");
	CHECK_STR(exps("experiment_id = '1'"), "1");
	CHECK_STR(exps("experiment_id != '1'"), "2,0,3");
	CHECK_STR(exps("experiment_id IN ('1', '3')"), "1,3");
	CHECK_STR(exps("experiment_id not in ('1')"), "2,0,3");
	CHECK_STR(exps("tags.team = 'core'"), "1");
	CHECK_STR(exps("tag.team ILIKE 'core'"), "1,2");
	CHECK_STR(exps("tags.`team` LIKE 'C%'"), "2");
	CHECK_STR(exps("tags.note IS NULL"), "1,0,3");
	CHECK_STR(exps("tags.note IS NOT NULL"), "2");
	CHECK_STR(exps("tags.note = 'x'"), "");
}

TEST(test_experiments_errors)
{
	CHECK_STR(exps("name like 'x'"),
	          "ERR: Invalid comparator 'like' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'");
	CHECK_STR(exps("tags.a like 'x'"), "ERR: Invalid comparator for tag: like");
	CHECK_STR(exps("creation_time like 1"),
	          "ERR: Invalid comparator 'like' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}");
	CHECK_STR(exps("creation_time > 1.5"), "ERR: Invalid value for numeric attribute 'creation_time': '1.5'");
	CHECK_STR(exps("creation_time > 1e3"), "ERR: Invalid value for numeric attribute 'creation_time': '1000.0'");
	CHECK_STR(exps("experiment_id = 1"), "ERR: Expected a quoted string value for attributes. Got value 1");
	CHECK_STR(exps("experiment_id in ('1')"), "ERR: Invalid comparator for experiment_id: in");
	CHECK_STR(exps("experiment_id > '1'"), "ERR: Invalid comparator for experiment_id: >");
	CHECK_STR(exps("experiment_id = 'abc'"),
	          "ERR: Invalid experiment ID 'abc'. Experiment ID must be a valid integer.");
	CHECK_STR(exps("name IN ('a')"),
	          "ERR: Only ['experiment_id'] attributes support comparison with a list of quoted string values.");
	CHECK_STR(exps("attributes.name = 'x'"),
	          "ERR: Invalid entity type 'attributes'. Valid entity types are ('attribute', 'tag', 'tags')");
	CHECK_STR(exps("metrics.a > 1"),
	          "ERR: Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')");
	CHECK_STR(exps("foo = 'x'"),
	          "ERR: Invalid attribute key 'foo' specified. Valid keys are '{'name', 'experiment_id', "
	          "'creation_time', 'last_update_time'}'");
	CHECK_STR(exps("name is null"),
	          "ERR: IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'");
	CHECK_STR(exps("name = 'a' OR name = 'b'"), "ERR: Invalid clause(s) in filter string: OR");
	CHECK_STR(exps("(name = 'a')"), "ERR: Invalid clause(s) in filter string: (name = 'a')");
}

TEST(test_experiments_order_by)
{
	CHECK_STR(exps1(NULL, "name"), "0,3,1,2");
	CHECK_STR(exps1(NULL, "name DESC"), "2,1,3,0");
	CHECK_STR(exps1(NULL, "last_update_time DESC"), "1,3,2,0");
	CHECK_STR(exps1(NULL, "creation_time"), "3,0,2,1"); /* tie-break experiment_id DESC */
	CHECK_STR(exps1(NULL, "attribute.experiment_id"), "0,1,2,3");
	const char *two[] = {"creation_time DESC", "experiment_id DESC"};
	CHECK_STR(exps_ob(NULL, two, 2), "2,1,0,3");
	CHECK_STR(exps1("name LIKE 'exp%'", "name"), "1,2");
	CHECK_STR(exps1(NULL, "tags.a"), "ERR: Invalid order_by entity: tag");
	CHECK_STR(exps1(NULL, "name foo"), "ERR: Invalid ordering key in order_by clause 'name foo'.");
	CHECK_STR(exps1(NULL, "name asc desc"), "ERR: Invalid order_by clause 'name asc desc'. Could not be parsed.");
	CHECK(starts(exps1(NULL, "start_time"), "ERR: Invalid attribute key 'start_time' specified."));

	struct mlf_arena a = {0};
	struct mlf_error err = {0};
	struct mlf_search_sql q;
	CHECK(mlf_search_experiments_compile(&a, NULL, NULL, 0, &q, &err) == MLF_OK);
	CHECK_STR(q.joins, "");
	CHECK_STR(q.where, "");
	CHECK_STR(q.order, "e.creation_time DESC, e.experiment_id ASC");
	mlf_arena_release(&a);
}

/* ---- page tokens ---- */

TEST(test_page_tokens)
{
	struct mlf_arena a = {0};
	struct mlf_error err = {0};
	int64_t off = -1;

	CHECK_STR(mlf_page_token_encode(&a, 1000), "eyJvZmZzZXQiOiAxMDAwfQ==");
	CHECK(mlf_page_token_decode(&a, "eyJvZmZzZXQiOiAxMDAwfQ==", &off, &err) == MLF_OK && off == 1000);
	const int64_t vals[] = {0, 1, 7, 100, 123456789012345LL, INT64_MAX};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		char *t = mlf_page_token_encode(&a, vals[i]);
		off = -1;
		CHECK(mlf_page_token_decode(&a, t, &off, &err) == MLF_OK);
		CHECK(off == vals[i]);
	}
	off = -1;
	CHECK(mlf_page_token_decode(&a, NULL, &off, &err) == MLF_OK && off == 0);
	off = -1;
	CHECK(mlf_page_token_decode(&a, "", &off, &err) == MLF_OK && off == 0);
	/* whitespace variations of the JSON, and a quoted number */
	const char *json[] = {"{\"offset\":5}", " { \"offset\" :\t5 } ", "{\"offset\": \"5\"}"};
	for (size_t i = 0; i < 3; i++) {
		char *t = mlf_base64_encode(&a, json[i], strlen(json[i]));
		off = -1;
		CHECK(mlf_page_token_decode(&a, t, &off, &err) == MLF_OK && off == 5);
	}
	/* garbage */
	CHECK(mlf_page_token_decode(&a, "!!!not base64", &off, &err) == MLF_INVALID_PARAMETER_VALUE);
	CHECK_STR(err.msg, "Invalid page token, could not base64-decode");
	CHECK(mlf_page_token_decode(&a, "aGVsbG8=", &off, &err) == MLF_INVALID_PARAMETER_VALUE);
	CHECK_STR(err.msg, "Invalid page token, decoded value=b'hello'");
	char *t = mlf_base64_encode(&a, "{\"offset\": -3}", 14);
	CHECK(mlf_page_token_decode(&a, t, &off, &err) == MLF_INVALID_PARAMETER_VALUE);
	t = mlf_base64_encode(&a, "{\"offset\": 5", 12);
	CHECK(mlf_page_token_decode(&a, t, &off, &err) == MLF_INVALID_PARAMETER_VALUE);
	t = mlf_base64_encode(&a, "{\"offset\": 5}x", 14);
	CHECK(mlf_page_token_decode(&a, t, &off, &err) == MLF_INVALID_PARAMETER_VALUE);
	t = mlf_base64_encode(&a, "{\"offset\": 99999999999999999999}", 32);
	CHECK(mlf_page_token_decode(&a, t, &off, &err) == MLF_INVALID_PARAMETER_VALUE);
	t = mlf_base64_encode(&a, "{\"offset\"\0: 5}", 14);
	CHECK(mlf_page_token_decode(&a, t, &off, &err) == MLF_INVALID_PARAMETER_VALUE);
	mlf_arena_release(&a);
}

/* keyed positions (the registry's searches) */
TEST(test_page_positions)
{
	struct mlf_arena a = {0};
	struct mlf_error err = {0};
	struct mlf_page_pos p = {.offset = 50100, .sig = 0x0123456789abcdefULL, .nkey = 3}, q;
	p.key[0] = (struct mlf_bind){.type = MLF_BIND_INT, .i = -1700000000000LL};
	p.key[1] = (struct mlf_bind){.type = MLF_BIND_TEXT, .text = "na;me \"q\" \xc3\xa9"};
	p.key[2] = (struct mlf_bind){.type = MLF_BIND_INT, .i = INT64_MAX};
	char *t = mlf_page_token_encode_pos(&a, &p);
	CHECK(mlf_page_token_decode_pos(&a, t, &q, &err) == MLF_OK);
	CHECK(q.offset == 50100 && q.sig == p.sig && q.nkey == 3);
	CHECK(q.key[0].type == MLF_BIND_INT && q.key[0].i == -1700000000000LL);
	CHECK(q.key[1].type == MLF_BIND_TEXT);
	CHECK_STR(q.key[1].text, p.key[1].text);
	CHECK(q.key[2].type == MLF_BIND_INT && q.key[2].i == INT64_MAX);
	/* a stock client reads it as MLflow's token: the offset is there */
	size_t n;
	char *json = mlf_base64_decode(&a, t, &n);
	CHECK(strncmp(json, "{\"offset\": 50100, ", 18) == 0);
	/* without a key it is MLflow's own token; stock tokens decode with nkey 0 */
	p.nkey = 0;
	CHECK_STR(mlf_page_token_encode_pos(&a, &p), mlf_page_token_encode(&a, 50100));
	CHECK(mlf_page_token_decode_pos(&a, "eyJvZmZzZXQiOiAxMDAwfQ==", &q, &err) == MLF_OK);
	CHECK(q.offset == 1000 && q.nkey == 0);
	CHECK(mlf_page_token_decode_pos(&a, NULL, &q, &err) == MLF_OK && q.offset == 0 && q.nkey == 0);
	/* anything else: MLflow's errors */
	const char *bad[] = {
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef\"}",                /* no value */
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcde;i1\"}",              /* short signature */
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef;i\"}",              /* empty number */
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef;i1x\"}",            /* not a number */
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef;s!!!!\"}",          /* not base64 */
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef;x1\"}",             /* unknown type */
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef;\"}",               /* no type */
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef;i1;\"}",            /* no type */
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef;",                  /* cut */
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef;i1;i1;i1;i1;i1\"}", /* too many */
	    "{\"offset\": -5, \"mlflowd_key\": \"0123456789abcdef;i1\"}",
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef;i1\"} ",
	    "{\"offset\": 5, \"mlflowd_key\": \"0123456789abcdef;i99999999999999999999\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		t = mlf_base64_encode(&a, bad[i], strlen(bad[i]));
		memset(&err, 0, sizeof err);
		CHECK(mlf_page_token_decode_pos(&a, t, &q, &err) == MLF_INVALID_PARAMETER_VALUE);
		CHECK(strncmp(err.msg, "Invalid page token", 18) == 0);
	}
	mlf_arena_release(&a);
}

int main(int argc, char **argv)
{
	if (setup(argc > 1 ? argv[1] : NULL) != 0)
		return 2;
	RUN(test_runs_empty_filter_default_order);
	RUN(test_runs_metrics);
	RUN(test_runs_params);
	RUN(test_runs_tags);
	RUN(test_runs_attributes);
	RUN(test_runs_datasets);
	RUN(test_runs_and_combinations);
	RUN(test_runs_binds_only);
	RUN(test_runs_errors);
	RUN(test_runs_order_by);
	RUN(test_runs_order_by_errors);
	RUN(test_runs_sql_shape);
	RUN(test_runs_large_filter);
	RUN(test_experiments_filters);
	RUN(test_experiments_errors);
	RUN(test_experiments_order_by);
	RUN(test_page_tokens);
	RUN(test_page_positions);
	sqlite3_close(db);
	DONE();
}
