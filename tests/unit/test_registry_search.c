/*
 * test_registry_search.c: unit tests of the model registry's entities of
 * storage/search.c (search_registered_models, search_model_versions): the
 * compiled SQL runs against an in-memory database made from
 * storage/schema.sql (path in argv[1]) and the returned names, versions and
 * their order are compared; error tests compare MLflow's messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "base.h"
#include "search.h"
#include "unit.h"

static sqlite3 *db;
static char result[4096]; /* "name,name" / "name/1,name/2" or "ERR: msg" */

/* Fixture: models a (tags team=x, idx=1), b (team=y), c (team=x), and the
 * prompt p (mlflow.prompt.is_prompt=true); versions a/1..3 (a/3 deleted,
 * a/2 tagged env=prod), b/1 (run r1, source s3://b/1), p/1 (prompt). */
static const char fixture[] =
    "INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES ('a', 1, 30), ('b', 2, 20),"
    " ('c', 3, 10), ('p', 4, 40);"
    "INSERT INTO registered_model_tags (key, value, name) VALUES ('team', 'x', 'a'), ('idx', '1', 'a'),"
    " ('team', 'y', 'b'), ('team', 'x', 'c'), ('mlflow.prompt.is_prompt', 'true', 'p');"
    "INSERT INTO model_versions (name, version, creation_time, last_updated_time, current_stage, source, run_id)"
    " VALUES ('a', 1, 1, 100, 'None', 's3://a/1', 'r0'), ('a', 2, 2, 300, 'Production', 's3://a/2', 'r0'),"
    " ('a', 3, 3, 400, 'Deleted_Internal', 'REDACTED-SOURCE-PATH', 'REDACTED-RUN-ID'),"
    " ('b', 1, 4, 200, 'None', 's3://b/1', 'r1'), ('p', 1, 5, 500, 'None', 'prompt-template', '');"
    "INSERT INTO model_version_tags (key, value, name, version) VALUES ('env', 'prod', 'a', 2),"
    " ('mlflow.prompt.is_prompt', 'true', 'p', 1);";

static int setup(const char *schema_path)
{
	if (!schema_path) {
		fprintf(stderr, "usage: test_registry_search storage/schema.sql\n");
		return -1;
	}
	FILE *f = fopen(schema_path, "rb");
	if (!f)
		return -1;
	static char sql[1 << 20];
	size_t n = fread(sql, 1, sizeof sql - 1, f);
	fclose(f);
	sql[n] = '\0';
	char *msg = NULL;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA case_sensitive_like=ON;", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, fixture, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "setup: %s\n", msg ? msg : sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Run a registry search; result holds the rows or the error. */
static const char *search(int versions, const char *filter, const char *const *order_by, int n)
{
	struct mlf_arena a = {0};
	struct mlf_error err = {0};
	struct mlf_search_sql q;
	enum mlf_status s = versions ? mlf_search_model_versions_compile(&a, filter, order_by, n, &q, &err)
	                             : mlf_search_registered_models_compile(&a, filter, order_by, n, &q, &err);
	if (s != MLF_OK) {
		snprintf(result, sizeof result, "ERR: %s", err.msg);
		mlf_arena_release(&a);
		return result;
	}
	char *sql = versions ? mlf_arena_printf(&a,
	                                        "SELECT v.name || '/' || v.version FROM model_versions v WHERE "
	                                        "v.current_stage != 'Deleted_Internal' AND %s ORDER BY %s",
	                                        q.where, q.order)
	                     : mlf_arena_printf(&a, "SELECT m.name FROM registered_models m WHERE %s ORDER BY %s",
	                                        q.where, q.order);
	sqlite3_stmt *st;
	result[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(result, sizeof result, "SQL: %s", sqlite3_errmsg(db));
		mlf_arena_release(&a);
		return result;
	}
	mlf_search_bind(st, &q);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (result[0])
			strncat(result, ",", sizeof result - strlen(result) - 1);
		strncat(result, (const char *)sqlite3_column_text(st, 0), sizeof result - strlen(result) - 1);
	}
	sqlite3_finalize(st);
	mlf_arena_release(&a);
	return result;
}

#define RM(filter) search(0, filter, NULL, 0)
#define MV(filter) search(1, filter, NULL, 0)

TEST(test_registered_model_filters)
{
	CHECK_STR(RM(NULL), "a,b,c"); /* the prompt is left out; by name */
	CHECK_STR(RM("name = 'b'"), "b");
	CHECK_STR(RM("name != 'b'"), "a,c");
	CHECK_STR(RM("name LIKE 'A%'"), "");
	CHECK_STR(RM("name ILIKE 'A%'"), "a");
	CHECK_STR(RM("name IN ('a', 'c', 'p')"), "a,c");
	CHECK_STR(RM("name NOT IN ('a')"), "b,c");
	CHECK_STR(RM("tags.team = 'x'"), "a,c");
	CHECK_STR(RM("tag.team = 'x' AND tags.idx = '1'"), "a");
	CHECK_STR(RM("tags.`team` != 'x'"), "b");
	CHECK_STR(RM("tags.team LIKE '%'"), "a,b,c");
	CHECK_STR(RM("attribute.name = 'c'"), "c");
	/* prompts only when asked for */
	CHECK_STR(RM("tags.`mlflow.prompt.is_prompt` = 'true'"), "p");
	CHECK_STR(RM("tags.`mlflow.prompt.is_prompt` != 'false'"), "p");
	CHECK_STR(RM("tags.`mlflow.prompt.is_prompt` = 'false'"), "a,b,c");
	CHECK_STR(RM("name = 'p'"), "");
}

TEST(test_registered_model_order)
{
	const char *desc[] = {"name DESC"};
	CHECK_STR(search(0, NULL, desc, 1), "c,b,a");
	const char *ts[] = {"timestamp DESC"};
	CHECK_STR(search(0, NULL, ts, 1), "a,b,c");
	const char *lu[] = {"last_updated_timestamp"};
	CHECK_STR(search(0, NULL, lu, 1), "c,b,a");
	const char *bad[] = {"creation_timestamp"};
	CHECK_STR(search(0, NULL, bad, 1),
	          "ERR: Invalid order by key 'creation_timestamp' specified. Valid keys are '{'name', 'timestamp'}'");
	const char *dup[] = {"timestamp", "last_updated_timestamp DESC"};
	CHECK_STR(search(0, NULL, dup, 2),
	          "ERR: `order_by` contains duplicate fields: ['timestamp', 'last_updated_timestamp DESC']");
}

TEST(test_model_version_filters)
{
	/* default order: last_updated_timestamp DESC, name ASC, version DESC */
	CHECK_STR(MV(NULL), "a/2,b/1,a/1");
	CHECK_STR(MV("name = 'a'"), "a/2,a/1");
	CHECK_STR(MV("version_number = 2"), "a/2");
	CHECK_STR(MV("version_number >= 1 AND name = 'a'"), "a/2,a/1");
	CHECK_STR(MV("version_number = '1'"), "b/1,a/1");
	CHECK_STR(MV("run_id = 'r1'"), "b/1");
	CHECK_STR(MV("run_id IN ('r0', 'r1')"), "a/2,b/1,a/1");
	CHECK_STR(MV("source_path LIKE 's3://a/%'"), "a/2,a/1");
	CHECK_STR(MV("tags.env = 'prod'"), "a/2");
	CHECK_STR(MV("name = 'p'"), "");
	CHECK_STR(MV("name = 'p' AND tags.`mlflow.prompt.is_prompt` = 'true'"), "p/1");
	const char *ob[] = {"version_number ASC", "name DESC"};
	CHECK_STR(search(1, NULL, ob, 2), "b/1,a/1,a/2");
	const char *ct[] = {"creation_timestamp DESC"};
	CHECK_STR(search(1, NULL, ct, 1), "b/1,a/2,a/1");
}

TEST(test_registry_errors)
{
	CHECK_STR(RM("name = 'a' OR name = 'b'"), "ERR: Invalid clause(s) in filter string: OR");
	CHECK_STR(RM("foo = 'a'"), "ERR: Invalid attribute key 'foo' specified. Valid keys are '{'name'}'");
	CHECK_STR(RM("metrics.x > 1"),
	          "ERR: Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')");
	CHECK_STR(RM("tags.t > 'a'"), "ERR: Invalid comparator for tag: >");
	CHECK_STR(RM("name > 'a'"), "ERR: Invalid comparator for attribute: >");
	CHECK_STR(RM("name = 5"),
	          "ERR: Expected a quoted string value or a list of quoted string values for attributes. Got value 5");
	CHECK_STR(RM("tags.t = 5"), "ERR: Expected a quoted string value for tag (e.g. 'my-value'). Got value 5");
	CHECK_STR(RM("tags.t IS NULL"), "ERR: Invalid comparison clause. Expected 3 tokens found 2");
	CHECK_STR(MV("version_number = 1.5"), "ERR: Invalid value for numeric attribute 'version_number': 1.5");
	CHECK_STR(MV("version_number = 'x'"), "ERR: Invalid value for numeric attribute 'version_number': 'x'");
	CHECK_STR(MV("version_number LIKE '1'"), "ERR: Invalid comparator for attribute version_number: LIKE");
	CHECK_STR(MV("source_path IN ('a')"),
	          "ERR: Only ['name', 'run_id'] attributes support comparison with a list of quoted string values.");
	CHECK_STR(MV("source_path = 1"), "ERR: Only the '{'creation_timestamp', 'last_updated_timestamp', "
	                                 "'version_number'}' attributes support comparison with numeric values.");
	CHECK_STR(MV("creation_timestamp > 1"),
	          "ERR: Invalid attribute key 'creation_timestamp' specified. Valid keys are '{'name', 'run_id', "
	          "'source_path', 'version_number'}'");
	const char *bad[] = {"bogus"};
	CHECK_STR(search(1, NULL, bad, 1),
	          "ERR: Invalid attribute key 'bogus' specified. Valid keys are '{'creation_timestamp', "
	          "'last_updated_timestamp', 'name', 'version_number'}'");
	const char *tag[] = {"tags.x"};
	CHECK_STR(search(1, NULL, tag, 1),
	          "ERR: Invalid order by key 'x' specified. Valid keys are {'creation_timestamp', "
	          "'last_updated_timestamp', 'name', 'version_number'}");
}

int main(int argc, char **argv)
{
	if (setup(argc > 1 ? argv[1] : NULL) != 0)
		return 2;
	RUN(test_registered_model_filters);
	RUN(test_registered_model_order);
	RUN(test_model_version_filters);
	RUN(test_registry_errors);
	sqlite3_close(db);
	DONE();
}
