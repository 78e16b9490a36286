/*
 * test_wal_vfs.c: unit tests of storage/wal_vfs.c, the VFS that gathers WAL
 * appends into few large writes.
 *
 * Before the VFS registers, the test makes a VFS of its own the default:
 * SQLite's unix VFS with the WAL files' xWrite counted and, on demand,
 * failing with SQLITE_FULL. The VFS under test wraps it. Real database
 * files in a temporary folder; a second connection reads what the first
 * commits, and a copy of the database and its WAL taken while the writer is
 * open (as a crash would leave them) must recover every committed row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "unit.h"
#include "wal_vfs.h"

#define ROWS 400         /* rows of one transaction */
#define ROW_BYTES 900    /* blob bytes per row: about four rows per 4 KiB page */
#define DIR_MAX_LEN 64   /* the temporary folder's path */
#define PATH_MAX_LEN 128 /* a file in it */

static sqlite3_vfs counting_vfs;
static sqlite3_vfs *unix_vfs;
static sqlite3_io_methods wal_methods;         /* the unix methods, with xWrite counted */
static const sqlite3_io_methods *unix_methods; /* the methods of the first WAL file opened */
static int wal_writes, fail_wal_writes;
static char dir[DIR_MAX_LEN];

static int counting_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	wal_writes++;
	if (fail_wal_writes)
		return SQLITE_FULL;
	return unix_methods->xWrite(f, p, n, off);
}

static int counting_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
	(void)v;
	int rc = unix_vfs->xOpen(unix_vfs, name, f, flags, out);
	if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) && f->pMethods) {
		if (!unix_methods) {
			unix_methods = f->pMethods;
			wal_methods = *f->pMethods;
			wal_methods.xWrite = counting_write;
		}
		if (f->pMethods == unix_methods)
			f->pMethods = &wal_methods;
	}
	return rc;
}

static int setup(void)
{
	unix_vfs = sqlite3_vfs_find(NULL);
	counting_vfs = *unix_vfs;
	counting_vfs.zName = "counting";
	counting_vfs.xOpen = counting_open;
	snprintf(dir, sizeof dir, "/tmp/mlflowd-walvfs-XXXXXX");
	if (sqlite3_vfs_register(&counting_vfs, 1) != SQLITE_OK || !mkdtemp(dir) || mlf_wal_vfs_register() != SQLITE_OK)
		return -1;
	return 0;
}

static void path_of(char *out, const char *name)
{
	snprintf(out, PATH_MAX_LEN, "%s/%s", dir, name);
}

static sqlite3 *open_db(const char *path, const char *vfs)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) != SQLITE_OK) {
		fprintf(stderr, "open %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static long long one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* One transaction: ROWS rows from id `first`, each a ROW_BYTES blob. */
static int insert_rows(sqlite3 *db, int first)
{
	char sql[256];
	snprintf(sql, sizeof sql,
	         "WITH RECURSIVE n(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
	         "INSERT INTO t SELECT i, i, randomblob(%d) FROM n",
	         first, first + ROWS - 1, ROW_BYTES);
	return exec(db, sql);
}

static sqlite3 *writer_at(const char *name, const char *sync)
{
	char path[PATH_MAX_LEN], sql[128];
	path_of(path, name);
	sqlite3 *w = open_db(path, MLF_WAL_VFS_NAME);
	snprintf(sql, sizeof sql, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=%s", sync);
	if (w && (exec(w, sql) != SQLITE_OK ||
	          exec(w, "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, b BLOB)") != SQLITE_OK)) {
		sqlite3_close(w);
		return NULL;
	}
	return w;
}

/* Copy the database and its WAL as they are on disk now, open the copy
 * with SQLite's default VFS (which recovers from the WAL) and return its
 * row count, or -1 when the copy fails its integrity check. */
static long long rows_after_crash(const char *name)
{
	char src[PATH_MAX_LEN], dst[PATH_MAX_LEN], cmd[8 * PATH_MAX_LEN];
	path_of(src, name);
	path_of(dst, "crash-copy.db");
	snprintf(cmd, sizeof cmd, "rm -f '%s' '%s-wal' '%s-shm' && cp '%s' '%s' && cp '%s-wal' '%s-wal'", dst, dst, dst,
	         src, dst, src, dst);
	if (system(cmd) != 0)
		return -2;
	sqlite3 *c = open_db(dst, "unix");
	if (!c)
		return -3;
	sqlite3_stmt *st = NULL;
	int ok = sqlite3_prepare_v2(c, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
	         sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	sqlite3_finalize(st);
	long long n = ok ? one(c, "SELECT count(*) FROM t") : -1;
	sqlite3_close(c);
	return n;
}

TEST(test_wal_writes_are_gathered)
{
	sqlite3 *w = writer_at("gather.db", "NORMAL");
	CHECK(w != NULL);
	if (!w)
		return;
	wal_writes = 0;
	CHECK(insert_rows(w, 1) == SQLITE_OK);
	/* ROWS * ROW_BYTES is about 90 pages: 180 writes of SQLite's own. */
	int pages = ROWS * ROW_BYTES / 4096;
	CHECK(wal_writes > 0);
	CHECK(wal_writes <= pages * 4120 / MLF_WAL_WRITE_BUFFER + 3);
	/* what was committed is visible to another connection at once */
	char path[PATH_MAX_LEN];
	path_of(path, "gather.db");
	sqlite3 *r = open_db(path, MLF_WAL_VFS_NAME);
	CHECK(r && one(r, "SELECT count(*) FROM t") == ROWS);
	CHECK(insert_rows(w, ROWS + 1) == SQLITE_OK);
	CHECK(r && one(r, "SELECT count(*) FROM t") == 2 * ROWS);
	CHECK(rows_after_crash("gather.db") == 2 * ROWS);
	CHECK(mlf_wal_vfs_failed() == 0);
	sqlite3_close(r);
	sqlite3_close(w);
}

/* A page cache far smaller than a transaction makes SQLite spill frames to
 * the WAL long before the commit frame, in many bursts, and may make it
 * write frames of the transaction again in place. */
TEST(test_spilling_transactions_survive_a_crash)
{
	sqlite3 *w = writer_at("spill.db", "NORMAL");
	CHECK(w != NULL);
	if (!w)
		return;
	CHECK(exec(w, "PRAGMA cache_size=10") == SQLITE_OK);
	char path[PATH_MAX_LEN];
	path_of(path, "spill.db");
	sqlite3 *r = open_db(path, MLF_WAL_VFS_NAME);
	long long sum = 0;
	for (int round = 0; round < 5; round++) {
		CHECK(exec(w, "BEGIN") == SQLITE_OK);
		CHECK(insert_rows(w, round * ROWS + 1) == SQLITE_OK);
		CHECK(exec(w, "UPDATE t SET n = n + 1, b = randomblob(900)") == SQLITE_OK);
		CHECK(exec(w, "UPDATE t SET n = n + 1 WHERE id % 3 = 0") == SQLITE_OK);
		CHECK(exec(w, "COMMIT") == SQLITE_OK);
		long long rows = (long long)(round + 1) * ROWS;
		sum = one(w, "SELECT sum(n) FROM t");
		CHECK(r && one(r, "SELECT sum(n) FROM t") == sum);
		CHECK(rows_after_crash("spill.db") == rows);
	}
	CHECK(sum > 0);
	CHECK(mlf_wal_vfs_failed() == 0);
	sqlite3_close(r);
	sqlite3_close(w);
}

TEST(test_a_failed_wal_write_fails_its_commit)
{
	sqlite3 *w = writer_at("fail.db", "NORMAL");
	CHECK(w != NULL);
	if (!w)
		return;
	CHECK(insert_rows(w, 1) == SQLITE_OK);
	fail_wal_writes = 1;
	int rc = insert_rows(w, ROWS + 1);
	fail_wal_writes = 0;
	CHECK(rc != SQLITE_OK);
	CHECK(one(w, "SELECT count(*) FROM t") == ROWS);
	CHECK(rows_after_crash("fail.db") == ROWS);
	/* the connection goes on once writes succeed again */
	CHECK(insert_rows(w, ROWS + 1) == SQLITE_OK);
	CHECK(one(w, "SELECT count(*) FROM t") == 2 * ROWS);
	CHECK(rows_after_crash("fail.db") == 2 * ROWS);
	CHECK(mlf_wal_vfs_failed() == 0);
	sqlite3_close(w);
}

/* With synchronous=FULL the commit's sync writes the buffer out. */
TEST(test_full_sync_commits_are_on_disk)
{
	sqlite3 *w = writer_at("full.db", "FULL");
	CHECK(w != NULL);
	if (!w)
		return;
	for (int i = 0; i < 3; i++) {
		CHECK(insert_rows(w, i * ROWS + 1) == SQLITE_OK);
		CHECK(rows_after_crash("full.db") == (long long)(i + 1) * ROWS);
	}
	sqlite3_close(w);
}

int main(void)
{
	if (setup() != 0) {
		fprintf(stderr, "setup failed\n");
		return 2;
	}
	RUN(test_wal_writes_are_gathered);
	RUN(test_spilling_transactions_survive_a_crash);
	RUN(test_a_failed_wal_write_fails_its_commit);
	RUN(test_full_sync_commits_are_on_disk);
	char cmd[DIR_MAX_LEN + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	DONE();
}
