/*
 * db.h: the SQLite metadata store: opening (schema creation or check, see schema.h),
 * per-thread read connections, the single writer with group commit, and a
 * per-connection prepared-statement cache.
 *
 * Threading: mlf_db_read() hands out a connection owned by the calling
 * thread (read-only use; readers never wait on the writer thanks to WAL).
 * mlf_db_write() queues a job for the one writer thread, which folds the
 * jobs waiting in its queue into one IMMEDIATE transaction and commits (a
 * failing job rolls back alone: its group is then run again with a
 * savepoint per job, so a job must change nothing but the database); a
 * sync thread then fdatasyncs the WAL (while the writer runs the next
 * group) and only then wakes the callers: a returned MLF_OK means the
 * job's data is on disk.
 *
 * This header knows nothing of JSON or HTTP.
 */
#ifndef MLF_DB_H
#define MLF_DB_H

#include <sqlite3.h>
#include <stdint.h>

#include "base.h"

struct mlf_db;

/* One SQLite connection with its statement cache. */
struct mlf_conn {
	sqlite3 *db;
	struct mlf_db *owner;                     /* borrowed: the store it belongs to */
	void *read_cache;                         /* owned: a reader's cached result, freed by: */
	void (*read_cache_free)(void *cache);     /* set together with read_cache */
	void *registry_cache;                     /* owned: the registry's cache of this reader (registry.c), */
	void (*registry_cache_free)(void *cache); /* freed by this */
	uint64_t *marks;             /* owned (free()): the writer's set of summarized series (metric_blocks.c) */
	struct mlf_stmt_slot *slots; /* owned: statement cache */
	size_t nslots;
	int64_t budget_ticks; /* ticks of MLF_SEARCH_STEP_TICK steps left to a bounded statement; < 0: unbounded */
	int64_t budget_steps; /* the bound of the last bounded statement */
	int budget_exceeded;  /* the last bounded statement was stopped */
};

struct mlf_db_options {
	const char *path;                  /* database file; caller keeps ownership */
	const char *default_artifact_root; /* for experiment 0 when the file is new */
	int64_t search_steps;              /* SQLite steps one search may take; 0: MLF_SEARCH_MAX_VM_STEPS */
};

/* Open (creating if new) the store. On error returns NULL and fills err
 * with a one-line reason. The returned db is owned by the caller: free with
 * mlf_db_close(), which finishes queued writes first. */
struct mlf_db *mlf_db_open(const struct mlf_db_options *opt, struct mlf_error *err);
void mlf_db_close(struct mlf_db *db);

/* The calling thread's read connection (opened on first use, owned by the
 * db and freed by mlf_db_close). NULL on failure. */
struct mlf_conn *mlf_db_read(struct mlf_db *db, struct mlf_error *err);

/* Release per-thread resources of the calling thread (called by worker
 * threads as they exit). */
void mlf_db_thread_exit(struct mlf_db *db);

/* A write job: runs on the writer connection inside a transaction. Return
 * MLF_OK to keep its changes, anything else to roll them back. It may run
 * again after a rollback of its group, so it changes nothing outside the
 * database but the outputs it sets in arg. */
typedef enum mlf_status (*mlf_write_fn)(struct mlf_conn *c, void *arg, struct mlf_error *err);

/* Run fn(arg) as a write job and wait until its transaction is committed
 * (or rolled back). Thread-safe. arg is borrowed for the duration. Once an
 * fdatasync of the WAL has failed, that group and every later write get
 * MLF_INTERNAL_ERROR, until the process restarts. */
enum mlf_status mlf_db_write(struct mlf_db *db, mlf_write_fn fn, void *arg, struct mlf_error *err);

/* The write jobs waiting in the queue (not the group the writer is
 * running): for tests and diagnostics. Thread-safe. */
int mlf_db_queued(struct mlf_db *db);

/* Prepared statement for sql on c, cached by the address of sql (so sql
 * must be a string constant). The statement is reset and its bindings
 * cleared; it stays owned by the connection. NULL on error (err filled). */
sqlite3_stmt *mlf_stmt(struct mlf_conn *c, const char *sql, struct mlf_error *err);

/* Prepare a one-off statement (dynamic SQL such as a compiled search);
 * the caller finalizes it. */
sqlite3_stmt *mlf_stmt_dynamic(struct mlf_conn *c, const char *sql, struct mlf_error *err);

/* Map a SQLite result code to a status with message (busy -> 503,
 * constraint -> 400, others -> 500). */
enum mlf_status mlf_db_error(struct mlf_conn *c, int rc, struct mlf_error *err);

/* Bound the SQLite work c does from now until mlf_budget_end (one search
 * statement: MLF_SEARCH_MAX_VM_STEPS): past `steps` virtual-machine steps
 * (counted in ticks of MLF_SEARCH_STEP_TICK) the running statement stops
 * with SQLITE_INTERRUPT, which mlf_db_error answers with a 400 naming the
 * bound. Same thread as c. */
void mlf_budget_begin(struct mlf_conn *c, int64_t steps);
void mlf_budget_end(struct mlf_conn *c);
/* mlf_budget_begin with the store's bound of one search (the option
 * search_steps; every search of runs, experiments, logged models, the
 * registry and traces takes it around its page and the page's children). */
void mlf_budget_begin_search(struct mlf_conn *c);

/* Execute a statement with no result rows; MLF_OK when it is done. The
 * statement is reset afterwards. */
enum mlf_status mlf_step_done(struct mlf_conn *c, sqlite3_stmt *st, struct mlf_error *err);

/* End a loop over the rows of st: reset st, and with rc the last result of
 * sqlite3_step return 1 when the rows ended (SQLITE_DONE), else fill err
 * as mlf_db_error does and return 0. The caller keeps ownership of st (a
 * cached statement of c); use from the thread that owns c, like c itself. */
int mlf_rows_done(struct mlf_conn *c, sqlite3_stmt *st, int rc, struct mlf_error *err);

/* Begin a read transaction on c unless c already holds one: 1 when it
 * began one (end it with mlf_read_end), 0 when not, -1 on error (err set). */
int mlf_read_begin(struct mlf_conn *c, struct mlf_error *err);
/* A read on connection c for item i of arg (the pool's task index). */
typedef enum mlf_status (*mlf_read_fn)(struct mlf_conn *c, void *arg, int i, struct mlf_error *err);
/* Run fn on the calling thread's read connection (mlf_db_read) inside a
 * read transaction of its own: what a pool task reading for another
 * thread's request does. Returns fn's status, or the error of getting the
 * connection or beginning the transaction (err set either way). */
enum mlf_status mlf_db_read_in_txn(struct mlf_db *db, mlf_read_fn fn, void *arg, int i, struct mlf_error *err);
/* End the transaction mlf_read_begin began (own > 0); nothing otherwise. */
void mlf_read_end(struct mlf_conn *c, int own);
/* PRAGMA data_version of c: equal values read on one connection (inside
 * or outside a transaction) mean no other connection committed between
 * the two snapshots. err may be NULL. */
enum mlf_status mlf_data_version(struct mlf_conn *c, int64_t *version, struct mlf_error *err);
/* Bind helpers: text may be NULL (binds NULL). The text is copied. */
void mlf_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Column text copied into the arena (NULL for SQL NULL). */
char *mlf_col_text(struct mlf_arena *a, sqlite3_stmt *st, int i);

/* Default artifact root the store was opened with (for new experiments). */
const char *mlf_db_default_artifact_root(struct mlf_db *db);

#endif
