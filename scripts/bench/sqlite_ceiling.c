/*
 * sqlite_ceiling.c: the raw SQLite insert rate into MLflow's metrics tables,
 * the physical ceiling that mlflowd's log-batch and log-metric figures are
 * compared against (docs/benchmarks.md, "Ceilings").
 *
 * It creates a fresh database from storage/schema.sql (MLflow's own tables),
 * adds one experiment and one run, and then measures, with one prepared
 * statement reused for every row (bind/step/reset):
 *
 *   batch:  POINTS metric points in transactions of GROUP x 1000 rows, each
 *           1000 shaped like a maximal log-batch (100 keys x 10 steps) and
 *           followed by one latest_metrics upsert per key (GROUP = 1: one
 *           log-batch per transaction; GROUP > 1: what group commit of GROUP
 *           concurrent log-batches could reach); the batches go to RUNS runs
 *           in turn, as the benchmark's W3 clients send them (its concurrency
 *           c logs to c runs), so that the (run_uuid, key, step) index is
 *           touched in as many places as under W3;
 *   commit: COMMITS transactions of one point each (the shape of one
 *           log-metric call), with the same latest_metrics upsert; each
 *           commit is timed, for the latency percentiles of a lone commit
 *           (SQLite's own checkpoints included, as they fall), and the
 *           commits slower than SLOW_COMMIT_MS are counted with the share
 *           of the time they took (while one commit waits that long, every
 *           request that arrives at a server waits too); with SPIN > 0,
 *           SPIN threads keep CPUs busy meanwhile (as a server's other
 *           threads do), which shows what a busy machine does to a commit's
 *           wait for the disk.
 *
 * Settings as mlflowd's writer uses them: SQLite in multi-thread mode
 * without memory statistics, journal_mode=WAL, foreign_keys=ON, the writer's
 * page cache (MLF_SQLITE_WRITER_CACHE_KIB in api/limits.h), the VFS that
 * gathers WAL writes (storage/wal_vfs.c, compiled in) and the synchronous
 * mode given on the command line (FULL by default).
 *
 * Usage: sqlite_ceiling SCHEMA.sql DB POINTS COMMITS [FULL|NORMAL|OFF] [GROUP] [SPIN] [RUNS]
 * Output: key=value lines on stdout, parsed by scripts/bench/bench.py.
 * This is a benchmark helper, not part of the server.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../api/limits.h"
#include "../../storage/wal_vfs.h"

#define KEYS_PER_BATCH 100
#define STEPS_PER_BATCH 10
#define ROWS_PER_TXN (KEYS_PER_BATCH * STEPS_PER_BATCH)
#define SLOW_COMMIT_MS 5.0 /* a commit slower than this counts as stalled */
#define MAX_RUNS 64        /* runs the batches rotate over */
#define RUN_ID_LEN 32

enum { MAX_SPIN = 16 };
static atomic_int spin_stop;

/* A thread that only burns CPU until spin_stop is set. */
static void *spin_main(void *arg)
{
	volatile unsigned long n = 0;
	(void)arg;
	while (!atomic_load_explicit(&spin_stop, memory_order_relaxed))
		n++;
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite_ceiling: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "sqlite_ceiling: %s: %s\n", sql, msg ? msg : "?");
		exit(1);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	buf[n] = 0;
	fclose(f);
	return buf;
}

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* A cheap deterministic PRNG (xorshift64*), so runs are repeatable. */
static unsigned long long rng = 88172645463325252ULL;

static double next_value(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

struct stmts {
	sqlite3_stmt *ins;    /* INSERT INTO metrics */
	sqlite3_stmt *latest; /* upsert into latest_metrics */
	sqlite3_stmt *begin, *commit;
};

static void prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		die(db, sql);
}

static void run_stmt(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die(db, what);
	sqlite3_reset(st);
}

static void insert_point(sqlite3 *db, struct stmts *s, const char *run, const char *key, double v, long long ts,
                         long long step)
{
	sqlite3_bind_text(s->ins, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_double(s->ins, 2, v);
	sqlite3_bind_int64(s->ins, 3, ts);
	sqlite3_bind_text(s->ins, 4, run, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->ins, 5, step);
	run_stmt(db, s->ins, "insert metric");
}

static void upsert_latest(sqlite3 *db, struct stmts *s, const char *run, const char *key, double v, long long ts,
                          long long step)
{
	sqlite3_bind_text(s->latest, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_double(s->latest, 2, v);
	sqlite3_bind_int64(s->latest, 3, ts);
	sqlite3_bind_int64(s->latest, 4, step);
	sqlite3_bind_text(s->latest, 5, run, -1, SQLITE_STATIC);
	run_stmt(db, s->latest, "upsert latest_metrics");
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s SCHEMA.sql DB POINTS COMMITS [FULL|NORMAL|OFF] [GROUP] [SPIN] [RUNS]\n",
		        argv[0]);
		return 2;
	}
	const char *schema_path = argv[1], *path = argv[2];
	long long points = atoll(argv[3]), commits = atoll(argv[4]);
	const char *sync = argc > 5 ? argv[5] : "FULL";
	int group = argc > 6 ? atoi(argv[6]) : 1;
	if (group < 1)
		group = 1;
	int spin = argc > 7 ? atoi(argv[7]) : 0;
	if (spin < 0 || spin > MAX_SPIN)
		spin = 0;
	int nruns = argc > 8 ? atoi(argv[8]) : 1;
	if (nruns < 1 || nruns > MAX_RUNS)
		nruns = 1;
	char wal[4096], shm[4096], pragma[128];
	snprintf(wal, sizeof wal, "%s-wal", path);
	snprintf(shm, sizeof shm, "%s-shm", path);
	unlink(path);
	unlink(wal);
	unlink(shm);

	sqlite3 *db = NULL;
	sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (mlf_wal_vfs_register() != SQLITE_OK ||
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, MLF_WAL_VFS_NAME) != SQLITE_OK)
		die(db, "open");
	exec(db, "PRAGMA cache_size=" MLF_SQLITE_WRITER_CACHE_KIB);
	exec(db, "PRAGMA journal_mode=WAL");
	snprintf(pragma, sizeof pragma, "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s", sync);
	exec(db, pragma);
	char *schema = slurp(schema_path);
	exec(db, "BEGIN");
	exec(db, schema);
	exec(db, "INSERT INTO experiments(experiment_id, name, artifact_location, lifecycle_stage, "
	         "creation_time, last_update_time) VALUES (1, 'ceiling', '/tmp', 'active', 0, 0)");
	char sql[512];
	char run_ids[MAX_RUNS][RUN_ID_LEN + 1];
	for (int r = 0; r < nruns; r++) {
		snprintf(run_ids[r], sizeof run_ids[r], "%0*x", RUN_ID_LEN, 0xc0ffee00 + r);
		snprintf(
		    sql, sizeof sql,
		    "INSERT INTO runs(run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
		    "start_time, source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES "
		    "('%.*s', 'r', 'UNKNOWN', '', '', 'u', 'RUNNING', 0, '', 'active', '/tmp', 1)",
		    RUN_ID_LEN, run_ids[r]);
		exec(db, sql);
	}
	exec(db, "COMMIT");
	free(schema);

	struct stmts s;
	prep(db, "INSERT INTO metrics(key, value, timestamp, run_uuid, step, is_nan) VALUES (?1, ?2, ?3, ?4, ?5, 0)",
	     &s.ins);
	prep(db,
	     "INSERT INTO latest_metrics(key, value, timestamp, step, is_nan, run_uuid) "
	     "VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT(key, run_uuid) DO UPDATE SET "
	     "value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, is_nan = 0 "
	     "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND "
	     "excluded.timestamp >= latest_metrics.timestamp)",
	     &s.latest);
	prep(db, "BEGIN IMMEDIATE", &s.begin);
	prep(db, "COMMIT", &s.commit);

	char keys[KEYS_PER_BATCH][32];
	for (int k = 0; k < KEYS_PER_BATCH; k++)
		snprintf(keys[k], sizeof keys[k], "metric_%03d", k);

	/* batch: 1000-row transactions, 100 keys x 10 steps, like one full log-batch. */
	long long ts0 = 1700000000000LL, step = 0, done = 0, txns = 0;
	double t0 = now_s();
	while (done < points) {
		run_stmt(db, s.begin, "begin");
		for (int g = 0; g < group && done < points; g++) {
			const char *run = run_ids[done / ROWS_PER_TXN % nruns];
			for (int j = 0; j < STEPS_PER_BATCH; j++, step++)
				for (int k = 0; k < KEYS_PER_BATCH; k++)
					insert_point(db, &s, run, keys[k], next_value(), ts0 + step, step);
			for (int k = 0; k < KEYS_PER_BATCH; k++)
				upsert_latest(db, &s, run, keys[k], next_value(), ts0 + step - 1, step - 1);
			done += ROWS_PER_TXN;
		}
		run_stmt(db, s.commit, "commit");
		txns++;
	}
	double t_batch = now_s() - t0;

	/* Size on disk per million points, after folding the WAL back in. */
	exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	long long bytes = file_size(path) + file_size(wal);

	/* commit: one point per transaction, like one log-metric call, on one run. */
	double *lat = malloc((size_t)(commits > 0 ? commits : 1) * sizeof *lat);
	if (!lat) {
		fprintf(stderr, "sqlite_ceiling: out of memory\n");
		return 1;
	}
	pthread_t spinners[MAX_SPIN];
	for (int i = 0; i < spin; i++)
		if (pthread_create(&spinners[i], NULL, spin_main, NULL) != 0) {
			fprintf(stderr, "sqlite_ceiling: cannot start a spinning thread\n");
			return 1;
		}
	t0 = now_s();
	for (long long i = 0; i < commits; i++, step++) {
		const char *key = keys[i % KEYS_PER_BATCH];
		double v = next_value();
		double t1 = now_s();
		run_stmt(db, s.begin, "begin");
		insert_point(db, &s, run_ids[0], key, v, ts0 + step, step);
		upsert_latest(db, &s, run_ids[0], key, v, ts0 + step, step);
		run_stmt(db, s.commit, "commit");
		lat[i] = now_s() - t1;
	}
	double t_commit = now_s() - t0;
	atomic_store(&spin_stop, 1);
	for (int i = 0; i < spin; i++)
		pthread_join(spinners[i], NULL);
	long long slow = 0;
	double slow_s = 0;
	for (long long i = 0; i < commits; i++)
		if (lat[i] * 1e3 > SLOW_COMMIT_MS) {
			slow++;
			slow_s += lat[i];
		}
	qsort(lat, (size_t)commits, sizeof *lat, cmp_double);

	printf("sqlite_version=%s\n", sqlite3_libversion());
	printf("cache_size=%s\n", MLF_SQLITE_WRITER_CACHE_KIB);
	printf("vfs=%s\n", MLF_WAL_VFS_NAME);
	printf("synchronous=%s\n", sync);
	printf("group=%d\n", group);
	printf("spin=%d\n", spin);
	printf("runs=%d\n", nruns);
	printf("batch_points=%lld\n", done);
	printf("batch_seconds=%.6f\n", t_batch);
	printf("batch_points_per_s=%.1f\n", (double)done / t_batch);
	printf("batch_txn_per_s=%.1f\n", (double)txns / t_batch);
	printf("bytes_per_million_points=%.0f\n", (double)bytes / (double)done * 1e6);
	printf("commit_txns=%lld\n", commits);
	printf("commit_seconds=%.6f\n", t_commit);
	printf("commit_txn_per_s=%.1f\n", commits > 0 ? (double)commits / t_commit : 0.0);
	if (commits > 0) {
		printf("commit_p50_ms=%.3f\n", lat[(commits - 1) / 2] * 1e3);
		printf("commit_p99_ms=%.3f\n", lat[(commits - 1) * 99 / 100] * 1e3);
		printf("commit_p999_ms=%.3f\n", lat[(commits - 1) * 999 / 1000] * 1e3);
		printf("commit_max_ms=%.3f\n", lat[commits - 1] * 1e3);
		printf("commit_slow_per_s=%.2f\n", (double)slow / t_commit);
		printf("commit_slow_time_pct=%.2f\n", 100.0 * slow_s / t_commit);
	}
	free(lat);

	sqlite3_finalize(s.ins);
	sqlite3_finalize(s.latest);
	sqlite3_finalize(s.begin);
	sqlite3_finalize(s.commit);
	sqlite3_close(db);
	unlink(path);
	unlink(wal);
	unlink(shm);
	return 0;
}
