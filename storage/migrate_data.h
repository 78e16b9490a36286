/*
 * migrate_data.h: the data moves of MLflow's migrations that plain SQL
 * strings cannot carry (storage/migrate_data.c): the trace analytics
 * backfill of 75868b020152 and the issue categories of 8b6ad64cb8f5,
 * with the SQL functions they need (Python's number and string rules,
 * SHA-256) registered on the upgrade's connection.
 */
#ifndef MLF_MIGRATE_DATA_H
#define MLF_MIGRATE_DATA_H

#include <sqlite3.h>
#include <stddef.h>

/* Registers the mlflowd_* SQL functions the steps below use on db (the
 * upgrade's own connection). 0 or -1. */
int mlf_migrate_register(sqlite3 *db);

/* 75868b020152 (add_sql_trace_analytics_schema). refuse: 1 when the
 * store holds what MLflow's migration stops on (spans or assessments of a
 * trace that is gone, span dimension attributes other than model and
 * provider strings). before (old layout): keeps the spans' model and
 * provider, whose column the new layout drops. after (new layout): fills
 * the promoted trace, span and assessment columns and deletes the tags,
 * metadata and metrics they came from. 0 or -1 with msg. */
int mlf_trace_analytics_refuse(sqlite3 *db);
int mlf_trace_analytics_before(sqlite3 *db, char *msg, size_t n);
int mlf_trace_analytics_after(sqlite3 *db, char *msg, size_t n);

/* 8b6ad64cb8f5 (extend_issue_contract). refuse: 1 when an issue's
 * categories are not a JSON array of strings mlflowd can hash as MLflow
 * does. after: one issue_categories row per distinct category. */
int mlf_issue_categories_refuse(sqlite3 *db);
int mlf_issue_categories_after(sqlite3 *db, char *msg, size_t n);

#endif
