/*
 * migrations.h: MLflow's chain of alembic revisions as mlflowd's own table
 * of upgrade steps (storage/migrations.c), used by storage/schema.c.
 */
#ifndef MLF_MIGRATIONS_H
#define MLF_MIGRATIONS_H

#include <sqlite3.h>
#include <stddef.h>

/* One alembic revision of MLflow's schema. Its table and index changes
 * need no SQL of their own: the upgrade rebuilds every table to the newest
 * layout (storage/schema.sql) at the end. What a step carries is the data
 * the migration moves, in SQL run inside the upgrade's transaction. */
struct mlf_migration {
	const char *head;   /* the revision this step brings the store to */
	const char *what;   /* MLflow's name for the migration */
	const char *before; /* SQL on the store's old layout, before the tables are rebuilt; or NULL */
	const char *after;  /* SQL on the newest layout, after the rebuild; or NULL */
	/* A query on the old layout: before and after run only when it returns
	 * a row (the store had what the migration changes); NULL: always. */
	const char *when;
	/* A query on the old layout that returns a row when mlflowd cannot do
	 * this step's data move (refuse_why says what), or NULL. */
	const char *refuse_if;
	const char *refuse_why;
	/* Or a check in C, same meaning (storage/migrate_data.h); or NULL. */
	int (*refuse_fn)(sqlite3 *db);
	/* Data moves in C, run after before and after after (when selected);
	 * 0 or -1 with msg. Or NULL. */
	int (*before_fn)(sqlite3 *db, char *msg, size_t n);
	int (*after_fn)(sqlite3 *db, char *msg, size_t n);
};

/* Every revision, oldest first (static storage). */
extern const struct mlf_migration mlf_migrations[];
extern const int mlf_nmigrations;

#endif
