/*
 * test_regexp.c: unit tests of storage/regexp.c, the regexp() SQL function
 * behind RLIKE: Python re.search semantics for the patterns users write,
 * NULL and broken patterns matching nothing, and a pathological pattern
 * stopped by the match limit instead of holding the request.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "regexp.h"
#include "unit.h"

#define LONG_SUBJECT 40 /* 'a's before the final 'b' of the backtracking case */

static sqlite3 *db;

/* text REGEXP pattern: 1, 0, or -1 when the statement failed. */
static int rx(const char *text, const char *pattern)
{
	sqlite3_stmt *st = NULL;
	int out = -1;
	if (sqlite3_prepare_v2(db, "SELECT ?1 REGEXP ?2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	if (pattern)
		sqlite3_bind_text(st, 2, pattern, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return out;
}

TEST(test_search_semantics)
{
	CHECK(rx("lookup", "^look") == 1);
	CHECK(rx("a lookup", "^look") == 0);
	CHECK(rx("a lookup", "look") == 1); /* search, not a whole match */
	CHECK(rx("step-12", "\\d+$") == 1);
	CHECK(rx("step-x", "\\d") == 0);
	CHECK(rx("Answer", "answer") == 0);
	CHECK(rx("Answer", "(?i)answer") == 1);
	CHECK(rx("what is it", "\\bis\\b") == 1);
	CHECK(rx("caf\xc3\xa9", "^caf\\w$") == 1); /* Unicode word characters, as Python's str patterns */
	CHECK(rx("x", "(?P<n>x)(?P=n)?") == 1);    /* Python's named groups */
}

TEST(test_nothing_matches)
{
	CHECK(rx(NULL, "a") == 0);
	CHECK(rx("a", NULL) == 0);
	CHECK(rx("(", "(") == 0);          /* does not compile: no match, no error (Python's re.error) */
	CHECK(rx("\xff\xfe a", "a") == 1); /* invalid UTF-8 in the text: still searched */
}

TEST(test_match_limit)
{
	char subject[LONG_SUBJECT + 2];
	memset(subject, 'a', LONG_SUBJECT);
	subject[LONG_SUBJECT] = 'b';
	subject[LONG_SUBJECT + 1] = '\0';
	CHECK(rx(subject, "^(a+)+$") == 0); /* exponential backtracking, stopped by the limit */
	CHECK(rx(subject, "^(a+)+b$") == 1);
}

TEST(test_many_rows_one_pattern)
{
	sqlite3_stmt *st = NULL;
	CHECK(sqlite3_prepare_v2(db,
	                         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
	                         "SELECT count(*) FROM n WHERE ('row-' || i) REGEXP '^row-[0-9]*7$'",
	                         -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 100);
	sqlite3_finalize(st);
}

int main(void)
{
	if (sqlite3_open(":memory:", &db) != SQLITE_OK || mlf_regexp_register(db) != SQLITE_OK) {
		fprintf(stderr, "cannot open an in-memory database\n");
		return 1;
	}
	RUN(test_search_semantics);
	RUN(test_nothing_matches);
	RUN(test_match_limit);
	RUN(test_many_rows_one_pattern);
	sqlite3_close(db);
	DONE();
}
