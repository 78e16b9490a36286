/*
 * schema.h: which MLflow schemas mlflowd serves, and `mlflowd db upgrade`.
 *
 * mlflowd creates new stores at the newest MLflow layout it knows
 * (storage/schema.sql, MLF_ALEMBIC_HEAD). It serves a store at any alembic
 * head whose tables and columns it uses are there as it expects, judged
 * from the file's own schema (PRAGMA table_info), not from the head's
 * name: a newer head that only adds tables or nullable columns is served
 * as it is. mlflowd never changes a schema on its own; mlf_schema_upgrade
 * (the `db upgrade` command) brings an older store to the newest layout.
 *
 * This header knows nothing of JSON or HTTP.
 */
#ifndef MLF_SCHEMA_H
#define MLF_SCHEMA_H

#include <sqlite3.h>
#include <stddef.h>

/* The alembic head mlflowd creates new stores at (MLflow 3.18.0's). */
extern const char MLF_ALEMBIC_HEAD[];
/* The MLflow release of MLF_ALEMBIC_HEAD, for messages. */
extern const char MLF_ALEMBIC_HEAD_RELEASE[];

/* The schema text, generated at build time from storage/schema.sql. */
extern const char mlf_schema_sql[];

#define MLF_SCHEMA_MSG_MAX 1024     /* room for one message of the functions below */
#define MLF_SQLITE_HEADER_BYTES 100 /* SQLite's file header, read before opening a store */
/* A store up to this size gets SQLite's quick_check at start. The check
 * reads the whole file: from a cold page cache about 7 ms per MiB here
 * (a 43 MB store: 300 ms), so it is kept to stores it adds at most ~30 ms
 * to, within the start-time target (< 50 ms on a seeded store, cold).
 * Larger stores are checked as they are read: a damaged page answers its
 * request with SQLite's "database disk image is malformed". */
#define MLF_QUICK_CHECK_MAX_BYTES (4LL << 20)

/* Position of head in MLflow's chain of alembic revisions, oldest first;
 * -1 when mlflowd does not know it. */
int mlf_schema_head_index(const char *head);

enum mlf_schema_verdict {
	MLF_SCHEMA_SERVE,   /* every table and column mlflowd uses is there as it expects */
	MLF_SCHEMA_EMPTY,   /* no tables at all: a new store */
	MLF_SCHEMA_OLDER,   /* a known older head lacking something: `mlflowd db upgrade` */
	MLF_SCHEMA_REFUSED, /* not an MLflow store, or changed where mlflowd reads or writes */
};

/* Judge the open connection db (read-only use) of the file path. Fills msg
 * (n bytes; one line, without "mlflowd: ") unless the verdict is SERVE or
 * EMPTY; head (hn bytes) gets the store's alembic head or "". */
enum mlf_schema_verdict mlf_schema_check(sqlite3 *db, const char *path, char *head, size_t hn, char *msg, size_t n);

/* `mlflowd db upgrade path`: copies the file to path.bak-<head> (fsynced),
 * then brings the store from its head to MLF_ALEMBIC_HEAD in one
 * transaction: MLflow's migrations written as mlflowd's own SQL (the
 * data each migration moves, keyed by head, in storage/migrations.c),
 * then every table whose layout differs is rebuilt the way alembic's
 * batch mode does on SQLite (new table, copy, drop, rename) and indexes
 * and triggers follow the newest layout. Nothing changes when it fails.
 * Returns 0 on success (msg then says what was done, or that nothing was
 * to do), -1 with msg. */
int mlf_schema_upgrade(const char *path, char *msg, size_t n);

/* Runs sql (one or more statements) on db; 0, or -1 with "<what>: <SQLite's
 * message>" in msg (n bytes). The steps of an upgrade are run with it. */
int mlf_schema_exec(sqlite3 *db, const char *sql, char *msg, size_t n, const char *what);

#endif
