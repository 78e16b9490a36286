/*
 * db.c: opening the SQLite store, per-thread read connections, the single
 * writer thread with group commit, and the statement cache. See db.h.
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../api/limits.h"
#include "metric_blocks.h"
#include "regexp.h"
#include "schema.h"
#include "wal_vfs.h"

static const char *wal_vfs; /* the VFS every connection opens with (configure_sqlite) */

#define STMT_CACHE_SLOTS 256 /* per connection; more distinct statements are prepared per use */

struct mlf_stmt_slot {
	const char *key;
	sqlite3_stmt *st;
};

struct write_job {
	mlf_write_fn fn;
	void *arg;
	struct mlf_error *err;
	enum mlf_status status;
	sem_t done; /* posted by the writer once the job's transaction ended */
	struct write_job *next;
};

struct mlf_db {
	char *path;
	char *default_root;
	int64_t search_steps; /* the bound of one search (mlf_budget_begin_search) */
	struct mlf_conn writer;

	pthread_t writer_thread;
	pthread_mutex_t mu;
	pthread_cond_t queue_cv; /* signalled when a job is queued or on stop */
	struct write_job *head, *tail;
	int stopping;

	/* Checkpoints run on their own thread and connection, so the writer
	 * never copies the WAL back into the database while callers wait. */
	pthread_t ckpt_thread;
	struct mlf_conn ckpt;
	pthread_cond_t ckpt_cv; /* signalled when the WAL has grown, on stop, or when the writer yields (under mu) */
	pthread_cond_t ckpt_idle_cv; /* signalled when the checkpoint thread leaves a round (under mu) */
	int ckpt_wanted, ckpt_stop, ckpt_started;
	int ckpt_running; /* the checkpoint thread is in a round (under mu) */
	int ckpt_held;    /* the writer checkpoints itself: no round may start (under mu) */
	int ckpt_next;    /* WAL pages at which to wake the checkpointer next (writer thread only) */
	int wal_pages;    /* WAL pages after the last commit (writer thread only) */

	/* Durability, pipelined: the writer commits with synchronous=NORMAL
	 * (SQLite then syncs only around checkpoints) and hands the committed
	 * group to the sync thread, which makes the WAL durable with one
	 * fdatasync and only then wakes the group's callers. The next group's
	 * SQL runs while the previous group's pages go to disk; the writer
	 * hands over the next group once the sync thread has taken this one. */
	pthread_t sync_thread;
	int wal_fd;                 /* owned: the -wal file; -1 when commits sync themselves (synchronous=FULL) */
	pthread_cond_t sync_cv;     /* signalled when a group committed, or on stop (under mu) */
	pthread_cond_t synced_cv;   /* signalled when the sync thread took the committed groups */
	struct write_job *unsynced; /* the committed group the sync thread has not taken yet */
	int sync_stop, sync_started;
	/* errno of the first failed fdatasync of the WAL, 0 while none failed
	 * (under mu). The kernel may have dropped the failed pages and report
	 * the next sync as a success, and SQLite drops every WAL frame after a
	 * missing one when it recovers, so no later commit is durable either:
	 * from then on every write is refused, until a restart recovers the
	 * database from what reached the disk. */
	int sync_failed;

	pthread_mutex_t readers_mu;
	struct mlf_conn **readers; /* owned: every read connection handed out */
	size_t nreaders, capreaders;
};

static _Thread_local struct {
	struct mlf_db *db;
	struct mlf_conn *conn;
} tls;

/* ---- statements ---- */

static size_t slot_hash(const char *key)
{
	uintptr_t v = (uintptr_t)key;
	return (size_t)((v >> 3) ^ (v >> 11)) % STMT_CACHE_SLOTS;
}

sqlite3_stmt *mlf_stmt_dynamic(struct mlf_conn *c, const char *sql, struct mlf_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		mlf_db_error(c, rc, err);
		return NULL;
	}
	return st;
}

sqlite3_stmt *mlf_stmt(struct mlf_conn *c, const char *sql, struct mlf_error *err)
{
	if (!c->slots) {
		c->slots = calloc(STMT_CACHE_SLOTS, sizeof *c->slots);
		c->nslots = STMT_CACHE_SLOTS;
	}
	size_t h = slot_hash(sql);
	for (size_t i = 0; i < c->nslots; i++) {
		struct mlf_stmt_slot *s = &c->slots[(h + i) % c->nslots];
		if (s->key == sql) {
			sqlite3_reset(s->st);
			sqlite3_clear_bindings(s->st);
			return s->st;
		}
		if (!s->key) {
			sqlite3_stmt *st = NULL;
			int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
			if (rc != SQLITE_OK) {
				mlf_db_error(c, rc, err);
				return NULL;
			}
			s->key = sql;
			s->st = st;
			return st;
		}
	}
	mlf_fail(err, MLF_INTERNAL_ERROR, "statement cache full");
	return NULL;
}

static void conn_close(struct mlf_conn *c)
{
	if (c->slots) {
		for (size_t i = 0; i < c->nslots; i++)
			if (c->slots[i].st)
				sqlite3_finalize(c->slots[i].st);
		free(c->slots);
		c->slots = NULL;
	}
	if (c->read_cache && c->read_cache_free)
		c->read_cache_free(c->read_cache);
	c->read_cache = NULL;
	if (c->registry_cache && c->registry_cache_free)
		c->registry_cache_free(c->registry_cache);
	c->registry_cache = NULL;
	free(c->marks);
	c->marks = NULL;
	if (c->db)
		sqlite3_close_v2(c->db);
	c->db = NULL;
}

/* Progress handler of every connection: counts down a bounded statement's
 * ticks and stops it (non-zero) when they are used up. */
static int budget_tick(void *arg)
{
	struct mlf_conn *c = arg;
	if (c->budget_ticks < 0)
		return 0;
	if (c->budget_ticks == 0) {
		c->budget_exceeded = 1;
		return 1;
	}
	c->budget_ticks--;
	return 0;
}

void mlf_budget_begin(struct mlf_conn *c, int64_t steps)
{
	c->budget_ticks = steps / MLF_SEARCH_STEP_TICK;
	c->budget_steps = steps;
	c->budget_exceeded = 0;
}

void mlf_budget_begin_search(struct mlf_conn *c)
{
	mlf_budget_begin(c, c->owner ? c->owner->search_steps : MLF_SEARCH_MAX_VM_STEPS);
}

void mlf_budget_end(struct mlf_conn *c)
{
	c->budget_ticks = -1;
}

enum mlf_status mlf_db_error(struct mlf_conn *c, int rc, struct mlf_error *err)
{
	const char *msg = c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
	if ((rc & 0xff) == SQLITE_INTERRUPT && c && c->budget_exceeded)
		return mlf_fail(
		    err, MLF_INVALID_PARAMETER_VALUE,
		    "The search was stopped: it needed more than %lld steps of the database engine "
		    "(MLF_SEARCH_MAX_VM_STEPS). Narrow the filter, the experiments searched or max_results.",
		    (long long)c->budget_steps);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return mlf_fail(err, MLF_TEMPORARILY_UNAVAILABLE, "database is busy: %s", msg);
	case SQLITE_CONSTRAINT: return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "constraint violated: %s", msg);
	case SQLITE_FULL: return mlf_fail(err, MLF_IO_ERROR, "disk full: %s", msg);
	case SQLITE_ERROR:
		/* A LIKE pattern over SQLITE_LIMIT_LIKE_PATTERN_LENGTH: the client's input. */
		if (strstr(msg, "pattern too complex"))
			return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
			                "Invalid filter: a LIKE or ILIKE pattern is longer than %d bytes",
			                MLF_MAX_LIKE_PATTERN_BYTES);
		return mlf_fail(err, MLF_INTERNAL_ERROR, "database error: %s", msg);
	default: return mlf_fail(err, MLF_INTERNAL_ERROR, "database error: %s", msg);
	}
}

enum mlf_status mlf_step_done(struct mlf_conn *c, sqlite3_stmt *st, struct mlf_error *err)
{
	int rc = sqlite3_step(st);
	enum mlf_status s = MLF_OK;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		s = mlf_db_error(c, rc, err);
	sqlite3_reset(st);
	return s;
}

int mlf_rows_done(struct mlf_conn *c, sqlite3_stmt *st, int rc, struct mlf_error *err)
{
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		mlf_db_error(c, rc, err);
		return 0;
	}
	return 1;
}

void mlf_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

char *mlf_col_text(struct mlf_arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	if (!t)
		return NULL;
	return mlf_arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

/* ---- read transactions ---- */

static enum mlf_status run_simple(struct mlf_conn *c, const char *sql, int64_t *out, struct mlf_error *err)
{
	sqlite3_stmt *st = mlf_stmt(c, sql, err);
	if (!st)
		return err ? err->status : MLF_INTERNAL_ERROR;
	int rc = sqlite3_step(st);
	if (out && rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? MLF_OK : mlf_db_error(c, rc, err);
}

int mlf_read_begin(struct mlf_conn *c, struct mlf_error *err)
{
	if (!sqlite3_get_autocommit(c->db))
		return 0;
	return run_simple(c, "BEGIN", NULL, err) == MLF_OK ? 1 : -1;
}

enum mlf_status mlf_db_read_in_txn(struct mlf_db *db, mlf_read_fn fn, void *arg, int i, struct mlf_error *err)
{
	struct mlf_conn *c = mlf_db_read(db, err);
	int own = c ? mlf_read_begin(c, err) : -1;
	if (own < 0)
		return err->status;
	enum mlf_status s = fn(c, arg, i, err);
	mlf_read_end(c, own);
	return s;
}

void mlf_read_end(struct mlf_conn *c, int own)
{
	if (own > 0)
		run_simple(c, "COMMIT", NULL, NULL);
}

enum mlf_status mlf_data_version(struct mlf_conn *c, int64_t *version, struct mlf_error *err)
{
	return run_simple(c, "PRAGMA data_version", version, err);
}

/* ---- opening ---- */

static int exec(sqlite3 *db, const char *sql, char *msg, size_t n)
{
	char *e = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &e);
	if (rc != SQLITE_OK && msg)
		snprintf(msg, n, "%s", e ? e : sqlite3_errstr(rc));
	sqlite3_free(e);
	return rc;
}

static int open_conn(struct mlf_db *db, struct mlf_conn *c, int create, struct mlf_error *err)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	c->owner = db;
	int rc = sqlite3_open_v2(db->path, &c->db, flags, wal_vfs);
	if (rc != SQLITE_OK) {
		mlf_fail(err, MLF_INTERNAL_ERROR, "cannot open database %s: %s", db->path,
		         c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		conn_close(c);
		return -1;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, MLF_BUSY_TIMEOUT_MS);
	c->budget_ticks = -1;
	sqlite3_progress_handler(c->db, MLF_SEARCH_STEP_TICK, budget_tick, c);
	sqlite3_limit(c->db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, MLF_MAX_LIKE_PATTERN_BYTES);
	char msg[512];
	if (mlf_regexp_register(c->db) != SQLITE_OK) {
		mlf_fail(err, MLF_INTERNAL_ERROR, "cannot open database %s: %s", db->path, sqlite3_errmsg(c->db));
		conn_close(c);
		return -1;
	}
	if (exec(c->db,
	         "PRAGMA foreign_keys=ON; PRAGMA case_sensitive_like=ON; PRAGMA synchronous=FULL; "
	         "PRAGMA temp_store=MEMORY; PRAGMA cache_size=" MLF_SQLITE_CACHE_KIB ";",
	         msg, sizeof msg) != SQLITE_OK) {
		int code = sqlite3_errcode(c->db) & 0xff;
		mlf_fail(err, MLF_INTERNAL_ERROR,
		         code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? "%s is a damaged SQLite database: %s"
		                                                         : "cannot use %s as a database: %s",
		         db->path, msg);
		conn_close(c);
		return -1;
	}
	return 0;
}

/* Create MLflow's tables, the default workspace and experiment 0. */
static int create_schema(struct mlf_db *db, struct mlf_error *err)
{
	sqlite3 *h = db->writer.db;
	char msg[512];
	if (exec(h, "BEGIN IMMEDIATE", msg, sizeof msg) != SQLITE_OK)
		goto fail;
	/* Another process may have created it meanwhile. */
	sqlite3_stmt *st = NULL;
	int n = 0;
	if (sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (n == 0) {
		if (exec(h, mlf_schema_sql, msg, sizeof msg) != SQLITE_OK)
			goto rollback;
		char *sql = sqlite3_mprintf(
		    "INSERT INTO alembic_version(version_num) VALUES (%Q);"
		    "INSERT INTO workspaces(name, description) VALUES ('default', 'Default workspace for legacy "
		    "resources');"
		    "INSERT INTO experiments(experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
		    "last_update_time, workspace) VALUES (0, 'Default', %Q, 'active', %lld, %lld, 'default');",
		    MLF_ALEMBIC_HEAD, db->default_root, (long long)mlf_now_ms(), (long long)mlf_now_ms());
		int rc = exec(h, sql, msg, sizeof msg);
		sqlite3_free(sql);
		if (rc != SQLITE_OK)
			goto rollback;
	}
	if (exec(h, "COMMIT", msg, sizeof msg) != SQLITE_OK)
		goto rollback;
	return 0;
rollback:
	exec(h, "ROLLBACK", NULL, 0);
fail:
	mlf_fail(err, MLF_INTERNAL_ERROR, "cannot create the schema in %s: %s", db->path, msg);
	return -1;
}

/* Refuse, before SQLite opens it, a file that is not an SQLite database
 * or is shorter than its header says (truncated): SQLite would read such
 * a file as far as it goes, and the first write would make it worse. A
 * missing or empty file is a new store. */
static int precheck_file(const char *path, struct mlf_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* missing: created by the open, or its error reported there */
	unsigned char hdr[MLF_SQLITE_HEADER_BYTES];
	struct stat sb;
	ssize_t got = fstat(fd, &sb) == 0 ? read(fd, hdr, sizeof hdr) : -1;
	close(fd);
	if (got == 0)
		return 0;
	static const char magic[] = "SQLite format 3";
	if (got < (ssize_t)sizeof hdr || memcmp(hdr, magic, sizeof magic) != 0) {
		mlf_fail(err, MLF_INTERNAL_ERROR,
		         "%s is not an SQLite database (it does not start with SQLite's header)", path);
		return -1;
	}
	uint32_t page = (uint32_t)hdr[16] << 8 | hdr[17];
	if (page == 1)
		page = 65536;
	uint32_t pages = (uint32_t)hdr[28] << 24 | (uint32_t)hdr[29] << 16 | (uint32_t)hdr[30] << 8 | hdr[31];
	int count_valid = pages != 0 && !memcmp(hdr + 24, hdr + 92, 4);
	if (page < 512 || (page & (page - 1)) != 0) {
		mlf_fail(err, MLF_INTERNAL_ERROR, "%s is a damaged SQLite database (page size %u in its header)", path,
		         page);
		return -1;
	}
	if (count_valid && (uint64_t)sb.st_size < (uint64_t)pages * page) {
		mlf_fail(
		    err, MLF_INTERNAL_ERROR,
		    "%s is truncated: its header counts %u pages of %u bytes (%llu bytes), the file has %lld bytes",
		    path, pages, page, (unsigned long long)pages * page, (long long)sb.st_size);
		return -1;
	}
	return 0;
}

/* SQLite's quick_check on a store small enough to read at start (up to
 * MLF_QUICK_CHECK_MAX_BYTES): a damaged store is refused at start rather
 * than failing requests later. */
static int quick_check(sqlite3 *h, const char *path, struct mlf_error *err)
{
	struct stat sb;
	if (stat(path, &sb) != 0 || sb.st_size > MLF_QUICK_CHECK_MAX_BYTES)
		return 0;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(h, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int ok = rc == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
	if (!ok)
		mlf_fail(err, MLF_INTERNAL_ERROR, "%s is a damaged SQLite database: %s", path,
		         rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : sqlite3_errmsg(h));
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

static void *writer_main(void *p);
static void *checkpoint_main(void *p);
static void start_sync(struct mlf_db *db);
static void stop_sync(struct mlf_db *db);
static int wal_hook(void *p, sqlite3 *h, const char *schema, int pages);
static void stop_checkpoints(struct mlf_db *db);

/* Indexes mlflowd adds beside MLflow's own (allowed: they change no table). */
static const char extra_indexes[] =
    "DROP INDEX IF EXISTS mlflowd_latest_metrics_key_value;"
    "DROP INDEX IF EXISTS mlflowd_latest_metrics_key_value_run;"
    "CREATE INDEX IF NOT EXISTS mlflowd_latest_metrics_by_value ON latest_metrics (key, value);"
    "CREATE INDEX IF NOT EXISTS mlflowd_runs_experiment_start ON runs (experiment_id, start_time);"
    /* search-model-versions in its default order (storage/registry.c); no
     * workspace prefix, so SQLite never picks it over the primary key for a
     * filtered search on its own */
    "CREATE INDEX IF NOT EXISTS mlflowd_model_versions_by_update ON model_versions "
    "(last_updated_time DESC, name, version DESC, workspace, current_stage);"
    /* search-traces with a status filter in the default order
     * (storage/traces.c): the first page is the index's first rows, where
     * MLflow's (experiment_id, timestamp_ms) reads every trace of the
     * experiment down to the page's last match */
    "CREATE INDEX IF NOT EXISTS mlflowd_trace_info_by_status ON trace_info "
    "(experiment_id, status, timestamp_ms DESC, request_id);";

/* Process-wide SQLite settings, before SQLite initializes: every
 * connection is used by one thread at a time (per-thread readers, one
 * writer), so SQLite's own connection mutexes and the global memory
 * statistics (a global mutex on every allocation) are not needed. */
static void configure_sqlite(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_initialize();
	/* The WAL-write gathering VFS, when it registers; SQLite's default otherwise. */
	wal_vfs = mlf_wal_vfs_register() == SQLITE_OK ? MLF_WAL_VFS_NAME : NULL;
}

struct mlf_db *mlf_db_open(const struct mlf_db_options *opt, struct mlf_error *err)
{
	configure_sqlite();
	struct mlf_db *db = calloc(1, sizeof *db);
	db->path = strdup(opt->path);
	db->default_root = strdup(opt->default_artifact_root ? opt->default_artifact_root : "mlflow-artifacts:/0");
	db->search_steps = opt->search_steps > 0 ? opt->search_steps : MLF_SEARCH_MAX_VM_STEPS;
	pthread_mutex_init(&db->mu, NULL);
	pthread_cond_init(&db->queue_cv, NULL);
	pthread_cond_init(&db->ckpt_cv, NULL);
	pthread_cond_init(&db->ckpt_idle_cv, NULL);
	pthread_cond_init(&db->sync_cv, NULL);
	pthread_cond_init(&db->synced_cv, NULL);
	db->wal_fd = -1;
	pthread_mutex_init(&db->readers_mu, NULL);

	if (precheck_file(db->path, err) < 0)
		goto fail;
	if (open_conn(db, &db->writer, 1, err) < 0)
		goto fail;
	sqlite3 *h = db->writer.db;
	char msg[512];
	/* Judge the file before anything writes to it: a refused file stays
	 * byte for byte as it was. */
	char head[64], why[MLF_SCHEMA_MSG_MAX];
	enum mlf_schema_verdict verdict = mlf_schema_check(h, db->path, head, sizeof head, why, sizeof why);
	if (verdict == MLF_SCHEMA_OLDER || verdict == MLF_SCHEMA_REFUSED) {
		mlf_fail(err, MLF_INTERNAL_ERROR, "%s", why);
		goto fail;
	}
	if (verdict == MLF_SCHEMA_SERVE && quick_check(h, db->path, err) < 0)
		goto fail;
	if (exec(h, "PRAGMA journal_mode=WAL", msg, sizeof msg) != SQLITE_OK) {
		mlf_fail(err, MLF_INTERNAL_ERROR, "cannot write to %s: %s", db->path, msg);
		goto fail;
	}
	if (verdict == MLF_SCHEMA_EMPTY) {
		if (create_schema(db, err) < 0)
			goto fail;
		/* another process may have created a store meanwhile */
		verdict = mlf_schema_check(h, db->path, head, sizeof head, why, sizeof why);
		if (verdict != MLF_SCHEMA_SERVE) {
			mlf_fail(err, MLF_INTERNAL_ERROR, "%s", why);
			goto fail;
		}
	}
	/* Prove the file is writable now rather than at the first request. */
	if (exec(h, extra_indexes, msg, sizeof msg) != SQLITE_OK) {
		mlf_fail(err, MLF_INTERNAL_ERROR, "cannot write to %s: %s", db->path, msg);
		goto fail;
	}
	/* The metric block summaries and their triggers (metric_blocks.h). */
	if (mlf_metric_blocks_install(h, msg, sizeof msg) < 0) {
		mlf_fail(err, MLF_INTERNAL_ERROR, "cannot write to %s: %s", db->path, msg);
		goto fail;
	}
	/* No trigger runs on the writer: the block triggers are for other
	 * programs writing the file, mlflowd merges its own batches' blocks
	 * (a trigger costs every inserted row a sub-program frame: log-batch
	 * throughput -30% with it). MLflow's one trigger guards its secrets
	 * table, which mlflowd never writes. */
	sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
	/* Checkpoints: asked for by wal_hook, run by checkpoint_main. */
	if (open_conn(db, &db->ckpt, 0, err) < 0)
		goto fail;
	exec(h, "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=" MLF_SQLITE_WRITER_CACHE_KIB, NULL, 0);
	sqlite3_wal_hook(h, wal_hook, db);
	if (pthread_create(&db->ckpt_thread, NULL, checkpoint_main, db) != 0) {
		mlf_fail(err, MLF_INTERNAL_ERROR, "cannot start the checkpoint thread");
		goto fail;
	}
	db->ckpt_started = 1;
	db->ckpt_next = MLF_WAL_CHECKPOINT_PAGES;
	start_sync(db);
	if (pthread_create(&db->writer_thread, NULL, writer_main, db) != 0) {
		mlf_fail(err, MLF_INTERNAL_ERROR, "cannot start the writer thread");
		goto fail;
	}
	return db;
fail:
	stop_sync(db);
	stop_checkpoints(db);
	conn_close(&db->ckpt);
	conn_close(&db->writer);
	free(db->path);
	free(db->default_root);
	free(db);
	return NULL;
}

const char *mlf_db_default_artifact_root(struct mlf_db *db)
{
	return db->default_root;
}

void mlf_db_close(struct mlf_db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&db->mu);
	db->stopping = 1;
	pthread_cond_signal(&db->queue_cv);
	pthread_mutex_unlock(&db->mu);
	pthread_join(db->writer_thread, NULL);
	stop_sync(db);
	stop_checkpoints(db);
	conn_close(&db->ckpt);
	for (size_t i = 0; i < db->nreaders; i++) {
		conn_close(db->readers[i]);
		free(db->readers[i]);
	}
	free(db->readers);
	conn_close(&db->writer);
	pthread_mutex_destroy(&db->mu);
	pthread_cond_destroy(&db->queue_cv);
	pthread_cond_destroy(&db->ckpt_cv);
	pthread_cond_destroy(&db->ckpt_idle_cv);
	pthread_cond_destroy(&db->sync_cv);
	pthread_cond_destroy(&db->synced_cv);
	pthread_mutex_destroy(&db->readers_mu);
	free(db->path);
	free(db->default_root);
	free(db);
}

struct mlf_conn *mlf_db_read(struct mlf_db *db, struct mlf_error *err)
{
	if (tls.db == db && tls.conn)
		return tls.conn;
	struct mlf_conn *c = calloc(1, sizeof *c);
	if (open_conn(db, c, 0, err) < 0) {
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&db->readers_mu);
	if (db->nreaders == db->capreaders) {
		db->capreaders = db->capreaders ? db->capreaders * 2 : 16;
		db->readers = realloc(db->readers, db->capreaders * sizeof *db->readers);
	}
	db->readers[db->nreaders++] = c;
	pthread_mutex_unlock(&db->readers_mu);
	tls.db = db;
	tls.conn = c;
	return c;
}

void mlf_db_thread_exit(struct mlf_db *db)
{
	if (tls.db != db || !tls.conn)
		return;
	pthread_mutex_lock(&db->readers_mu);
	for (size_t i = 0; i < db->nreaders; i++)
		if (db->readers[i] == tls.conn) {
			db->readers[i] = db->readers[--db->nreaders];
			break;
		}
	pthread_mutex_unlock(&db->readers_mu);
	conn_close(tls.conn);
	free(tls.conn);
	tls.conn = NULL;
	tls.db = NULL;
}

/* ---- the writer ---- */

static enum mlf_status refuse_write(int sync_errno, struct mlf_error *err)
{
	return mlf_fail(err, MLF_INTERNAL_ERROR,
	                "writes are refused: the write-ahead log could not be synced (%s); restart mlflowd",
	                strerror(sync_errno));
}

enum mlf_status mlf_db_write(struct mlf_db *db, mlf_write_fn fn, void *arg, struct mlf_error *err)
{
	struct write_job job = {.fn = fn, .arg = arg, .err = err};
	sem_init(&job.done, 0, 0);
	pthread_mutex_lock(&db->mu);
	if (db->stopping || db->sync_failed) {
		int failed = db->sync_failed;
		pthread_mutex_unlock(&db->mu);
		sem_destroy(&job.done);
		return failed ? refuse_write(failed, err)
		              : mlf_fail(err, MLF_TEMPORARILY_UNAVAILABLE, "server is shutting down");
	}
	if (db->tail)
		db->tail->next = &job;
	else
		db->head = &job;
	db->tail = &job;
	pthread_cond_signal(&db->queue_cv);
	pthread_mutex_unlock(&db->mu);
	/* Each caller is woken alone, when its own transaction has ended. */
	while (sem_wait(&job.done) != 0)
		;
	sem_destroy(&job.done);
	return job.status;
}

int mlf_db_queued(struct mlf_db *db)
{
	int n = 0;
	pthread_mutex_lock(&db->mu);
	for (struct write_job *j = db->head; j; j = j->next)
		n++;
	pthread_mutex_unlock(&db->mu);
	return n;
}

static int run_sql(struct mlf_conn *c, sqlite3_stmt **cache, const char *sql)
{
	if (!*cache && sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, cache, NULL) != SQLITE_OK)
		return sqlite3_errcode(c->db);
	int rc = sqlite3_step(*cache);
	sqlite3_reset(*cache);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The writer's checkpoint at the WAL's bound was refused because the
 * checkpoint thread is mid-round. That thread runs below the writer's
 * priority, so on a busy machine it can be starved while it holds
 * SQLite's checkpoint lock, and the WAL would grow without bound (it
 * reached 192 MiB against a bound of 128). So the writer stops the round
 * (sqlite3_interrupt, repeated until the thread has left it: an interrupt
 * that lands before the round's first page is cleared by SQLite), keeps
 * the next one from starting, and copies the WAL itself. */

/* Stop the checkpoint thread's round, if it is in one, and wait until it
 * has left it (under db->mu). */
static void end_checkpoint_round(struct mlf_db *db)
{
	while (db->ckpt_running) {
		sqlite3_interrupt(db->ckpt.db);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += MLF_CHECKPOINT_INTERRUPT_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&db->ckpt_idle_cv, &db->mu, &until);
	}
}

static void checkpoint_in_place_of_the_thread(struct mlf_db *db, sqlite3 *h, const char *schema)
{
	pthread_mutex_lock(&db->mu);
	db->ckpt_held = 1;
	end_checkpoint_round(db);
	pthread_mutex_unlock(&db->mu);
	sqlite3_wal_checkpoint_v2(h, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	pthread_mutex_lock(&db->mu);
	db->ckpt_held = 0;
	pthread_cond_signal(&db->ckpt_cv);
	pthread_mutex_unlock(&db->mu);
}

/* Called by SQLite on the writer's connection after each commit with the
 * number of pages in the WAL. */
static int wal_hook(void *p, sqlite3 *h, const char *schema, int pages)
{
	struct mlf_db *db = p;
	/* A WAL shorter than after the last commit has started over. (Its
	 * length alone does not tell: one commit of a busy group can write
	 * more pages than MLF_WAL_CHECKPOINT_PAGES, and the checkpointer would
	 * then sleep until the WAL reached its bound.) */
	if (pages < db->wal_pages)
		db->ckpt_next = MLF_WAL_CHECKPOINT_PAGES;
	db->wal_pages = pages;
	if (pages >= MLF_WAL_MAX_PAGES) {
		/* The checkpointer cannot keep up (or readers hold old snapshots):
		 * bound the WAL the way SQLite's own auto-checkpoint would. */
		if (sqlite3_wal_checkpoint_v2(h, schema, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_BUSY)
			checkpoint_in_place_of_the_thread(db, h, schema);
	} else if (pages >= db->ckpt_next) {
		/* one checkpoint per MLF_WAL_CHECKPOINT_PAGES new pages, as
		 * SQLite's auto-checkpoint would run, but off this thread */
		db->ckpt_next = pages + MLF_WAL_CHECKPOINT_PAGES;
		pthread_mutex_lock(&db->mu);
		if (!db->ckpt_wanted) {
			db->ckpt_wanted = 1;
			pthread_cond_signal(&db->ckpt_cv);
		}
		pthread_mutex_unlock(&db->mu);
	}
	return SQLITE_OK;
}

/* PASSIVE checkpoints on their own connection: they copy committed pages
 * into the database file while the writer keeps appending to the WAL;
 * once a checkpoint has caught up, the next write starts the WAL over. */
static void *checkpoint_main(void *p)
{
	struct mlf_db *db = p;
	pthread_setname_np(pthread_self(), "mlflowd-ckpt");
	/* Background work: below the writer, which it would otherwise preempt
	 * on a busy machine (the kernel caps the nice value at 19). Best
	 * effort: it keeps the process's priority when a call fails. */
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (errno == 0)
		setpriority(PRIO_PROCESS, (id_t)gettid(), nice + MLF_CHECKPOINT_NICE);
	for (;;) {
		pthread_mutex_lock(&db->mu);
		while ((!db->ckpt_wanted || db->ckpt_held) && !db->ckpt_stop)
			pthread_cond_wait(&db->ckpt_cv, &db->mu);
		int stop = db->ckpt_stop;
		db->ckpt_wanted = 0;
		db->ckpt_running = !stop;
		pthread_mutex_unlock(&db->mu);
		if (stop)
			break;
		/* SQLITE_INTERRUPT when the writer takes over (see
		 * checkpoint_in_place_of_the_thread) */
		sqlite3_wal_checkpoint_v2(db->ckpt.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&db->mu);
		db->ckpt_running = 0;
		pthread_cond_broadcast(&db->ckpt_idle_cv);
		pthread_mutex_unlock(&db->mu);
	}
	return NULL;
}

/* Stops a helper thread that waits on cv under db->mu: raises its stop
 * flag, wakes it and joins it (when it was started). */
static void stop_helper(struct mlf_db *db, pthread_t thread, int *started, int *stop, pthread_cond_t *cv)
{
	if (!*started)
		return;
	pthread_mutex_lock(&db->mu);
	*stop = 1;
	pthread_cond_signal(cv);
	pthread_mutex_unlock(&db->mu);
	pthread_join(thread, NULL);
	*started = 0;
}

static void stop_checkpoints(struct mlf_db *db)
{
	/* a round in progress is cut short: shutting down need not wait for a
	 * starved checkpoint thread (the last connection to close checkpoints) */
	pthread_mutex_lock(&db->mu);
	db->ckpt_stop = 1;
	end_checkpoint_round(db);
	pthread_mutex_unlock(&db->mu);
	stop_helper(db, db->ckpt_thread, &db->ckpt_started, &db->ckpt_stop, &db->ckpt_cv);
}

static void wake_callers(struct write_job *batch)
{
	for (struct write_job *j = batch, *next; j; j = next) {
		next = j->next; /* j lives on its caller's stack until posted */
		sem_post(&j->done);
	}
}

/* The sync thread: an fdatasync of the WAL per committed group, whose
 * callers are woken after it returned. */
static void *sync_main(void *p)
{
	struct mlf_db *db = p;
	pthread_setname_np(pthread_self(), "mlflowd-sync");
	for (;;) {
		pthread_mutex_lock(&db->mu);
		while (!db->unsynced && !db->sync_stop)
			pthread_cond_wait(&db->sync_cv, &db->mu);
		struct write_job *batch = db->unsynced;
		db->unsynced = NULL;
		pthread_cond_signal(&db->synced_cv);
		pthread_mutex_unlock(&db->mu);
		if (!batch)
			break; /* stopping, and nothing left */
		int e = fdatasync(db->wal_fd) != 0 ? errno : 0;
		/* a WAL write that failed where SQLite could not be told (wal_vfs.h) */
		if (!e && mlf_wal_vfs_failed())
			e = EIO;
		pthread_mutex_lock(&db->mu);
		if (e && !db->sync_failed)
			db->sync_failed = e;
		int failed = db->sync_failed;
		pthread_mutex_unlock(&db->mu);
		/* A group committed after a failed sync follows WAL frames that may
		 * be lost: it is not durable even when its own sync succeeds. */
		for (struct write_job *j = batch; failed && j; j = j->next)
			if (j->status == MLF_OK)
				j->status =
				    mlf_fail(j->err, MLF_INTERNAL_ERROR,
				             "committed, but the write-ahead log could not be synced (%s), so it "
				             "may not survive a crash; writes are refused until mlflowd restarts",
				             strerror(failed));
		wake_callers(batch);
	}
	return NULL;
}

/* Pipelined durability when the WAL file can be opened beside the
 * database; otherwise every commit syncs itself (synchronous=FULL). */
static void start_sync(struct mlf_db *db)
{
	char *wal = sqlite3_mprintf("%s-wal", db->path);
	db->wal_fd = wal ? open(wal, O_RDONLY | O_CLOEXEC) : -1;
	sqlite3_free(wal);
	if (db->wal_fd < 0)
		return;
	if (exec(db->writer.db, "PRAGMA synchronous=NORMAL", NULL, 0) != SQLITE_OK ||
	    pthread_create(&db->sync_thread, NULL, sync_main, db) != 0) {
		exec(db->writer.db, "PRAGMA synchronous=FULL", NULL, 0);
		close(db->wal_fd);
		db->wal_fd = -1;
		return;
	}
	db->sync_started = 1;
}

/* After the writer has stopped: the last groups are synced and woken. */
static void stop_sync(struct mlf_db *db)
{
	stop_helper(db, db->sync_thread, &db->sync_started, &db->sync_stop, &db->sync_cv);
	if (db->wal_fd >= 0) {
		close(db->wal_fd);
		db->wal_fd = -1;
	}
}

/* The writer's transaction-control statements, prepared on first use. */
struct writer_stmts {
	sqlite3_stmt *begin, *commit, *rollback, *sp, *release, *undo;
};

/* Runs the jobs of batch in one transaction; each job's status is set. With
 * savepoints, a failing job's changes are undone alone and the others
 * still commit. Without, the first failing job stops the group, which is
 * rolled back whole: returns 0 then (to be run again with savepoints if
 * it held more than that job). */
static int run_group(struct mlf_conn *c, struct writer_stmts *w, struct write_job *batch, int savepoints)
{
	int rc = run_sql(c, &w->begin, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK) {
		for (struct write_job *j = batch; j; j = j->next)
			j->status = mlf_db_error(c, rc, j->err);
		return 1;
	}
	int any_ok = 0;
	for (struct write_job *j = batch; j; j = j->next) {
		if (savepoints)
			run_sql(c, &w->sp, "SAVEPOINT job");
		j->status = j->fn(c, j->arg, j->err);
		if (j->status != MLF_OK && !savepoints) {
			run_sql(c, &w->rollback, "ROLLBACK");
			return 0;
		}
		if (savepoints) {
			if (j->status != MLF_OK)
				run_sql(c, &w->undo, "ROLLBACK TO job");
			run_sql(c, &w->release, "RELEASE job");
		}
		if (j->status == MLF_OK)
			any_ok = 1;
	}
	if (!any_ok) {
		run_sql(c, &w->rollback, "ROLLBACK");
		return 1;
	}
	rc = run_sql(c, &w->commit, "COMMIT");
	if (rc != SQLITE_OK) {
		for (struct write_job *j = batch; j; j = j->next)
			if (j->status == MLF_OK)
				j->status = mlf_db_error(c, rc, j->err);
		run_sql(c, &w->rollback, "ROLLBACK");
	}
	return 1;
}

static void *writer_main(void *p)
{
	struct mlf_db *db = p;
	pthread_setname_np(pthread_self(), "mlflowd-writer");
	struct mlf_conn *c = &db->writer;
	struct writer_stmts w = {0};
	for (;;) {
		pthread_mutex_lock(&db->mu);
		/* While a committed group waits for the sync thread, jobs gather
		 * in the queue: one commit per sync, not one per job. */
		while (db->unsynced)
			pthread_cond_wait(&db->synced_cv, &db->mu);
		while (!db->head && !db->stopping)
			pthread_cond_wait(&db->queue_cv, &db->mu);
		if (!db->head && db->stopping) {
			pthread_mutex_unlock(&db->mu);
			break;
		}
		struct write_job *batch = db->head, *last = batch;
		int n = 1;
		while (last->next && n < MLF_GROUP_COMMIT_MAX) {
			last = last->next;
			n++;
		}
		db->head = last->next;
		if (!db->head)
			db->tail = NULL;
		last->next = NULL;
		int failed = db->sync_failed;
		pthread_mutex_unlock(&db->mu);
		if (failed) { /* queued before the failure: not run */
			for (struct write_job *j = batch; j; j = j->next)
				j->status = refuse_write(failed, j->err);
			wake_callers(batch);
			continue;
		}

		/* A group's jobs first run without savepoints: a savepoint makes
		 * SQLite copy every page a job touches first into its statement
		 * journal (raw SQLite inserts log-batches 10-25% slower so). Jobs
		 * seldom fail, and a job changes nothing but the database, so a
		 * group with a failing job is rolled back and run again with a
		 * savepoint per job. A lone job needs none: its failure rolls back
		 * its own transaction. */
		if (!run_group(c, &w, batch, 0) && n > 1)
			run_group(c, &w, batch, 1);
		if (db->sync_started) {
			pthread_mutex_lock(&db->mu);
			db->unsynced = batch; /* empty: the writer waited for that above */
			pthread_cond_signal(&db->sync_cv);
			pthread_mutex_unlock(&db->mu);
		} else {
			wake_callers(batch);
		}
	}
	sqlite3_finalize(w.begin);
	sqlite3_finalize(w.commit);
	sqlite3_finalize(w.rollback);
	sqlite3_finalize(w.sp);
	sqlite3_finalize(w.release);
	sqlite3_finalize(w.undo);
	return NULL;
}
