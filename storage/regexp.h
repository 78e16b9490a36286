/*
 * regexp.h: SQLite's REGEXP operator for the RLIKE comparator of trace
 * searches, as MLflow registers it on its SQLite connections: X REGEXP Y is
 * Python's re.search(Y, X) found (PCRE2 with UTF and Unicode properties
 * stands in for Python's re); NULL on either side or a pattern that does
 * not compile matches nothing.
 */
#ifndef MLF_REGEXP_H
#define MLF_REGEXP_H

#include <sqlite3.h>

/* Backtracking steps one match may take (PCRE2's match limit) and its
 * nesting depth; past them the row counts as not matching (Python's re has
 * no bound, and a pathological pattern would hold the request). */
#define MLF_REGEXP_MATCH_LIMIT 1000000
#define MLF_REGEXP_DEPTH_LIMIT 10000

/* Register regexp(pattern, text) on db; SQLITE_OK or SQLite's error. */
int mlf_regexp_register(sqlite3 *db);

#endif
