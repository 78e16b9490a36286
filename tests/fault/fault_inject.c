/*
 * fault_inject.c: an LD_PRELOAD library for the fault-injection tests
 * (tests/compat/test_faults.py). It wraps open, open64, fdatasync,
 * pthread_create, pwrite and pwrite64 and makes them fail (or slow) only
 * where MLFLOWD_FAULT asks:
 *
 *   wal_open     opening a path ending in "-wal" read-only fails with EACCES.
 *                Only mlflowd's sync descriptor opens the WAL read-only;
 *                SQLite opens it read-write and is left alone.
 *   sync_thread  the first pthread_create after such a read-only open of a
 *                WAL fails with EAGAIN: mlflowd starts its sync thread right
 *                after opening that descriptor.
 *   fdatasync    fdatasync of a read-only descriptor of a "-wal" file (again
 *                mlflowd's own, never SQLite's) fails with EIO while the file
 *                named by MLFLOWD_FAULT_TRIGGER exists, or always when that
 *                variable is unset.
 *   slow_checkpoint  every write of mlflowd's checkpoint thread (thread name
 *                "mlflowd-ckpt") to the database file waits
 *                MLFLOWD_FAULT_DELAY_MS (default 20) first: a checkpoint
 *                thread starved by the scheduler on a busy machine, holding
 *                SQLite's checkpoint lock mid-round.
 *
 * Every injected failure appends one line ("<fault> <path>") to the file
 * named by MLFLOWD_FAULT_LOG, when set, so a test can tell that its fault
 * was hit. Without MLFLOWD_FAULT every call goes straight through.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FAULT_PATH_MAX 4096 /* paths of the trigger, the log and a descriptor's file */
#define FAULT_LINE_MAX 4200 /* one log line: a fault name and a path */

enum fault { FAULT_NONE, FAULT_WAL_OPEN, FAULT_SYNC_THREAD, FAULT_FDATASYNC, FAULT_SLOW_CHECKPOINT };

static enum fault fault;
static char trigger_path[FAULT_PATH_MAX];
static char log_path[FAULT_PATH_MAX];
static atomic_int sync_thread_armed; /* a read-only WAL open happened; fail the next pthread_create */
static long delay_ms = 20;           /* slow_checkpoint: wait before each write */
static atomic_int slow_noted;        /* slow_checkpoint: logged once */

typedef int (*open_fn)(const char *, int, ...);
typedef int (*fdatasync_fn)(int);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static void *next_symbol(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (!f) {
		fprintf(stderr, "fault_inject: no next definition of %s\n", name);
		abort();
	}
	return f;
}

static open_fn real_open(void)
{
	static _Atomic(open_fn) f;
	if (!f)
		f = (open_fn)next_symbol("open");
	return f;
}

static open_fn real_open64(void)
{
	static _Atomic(open_fn) f;
	if (!f)
		f = (open_fn)next_symbol("open64");
	return f;
}

__attribute__((constructor)) static void fault_init(void)
{
	const char *name = getenv("MLFLOWD_FAULT");
	const char *trigger = getenv("MLFLOWD_FAULT_TRIGGER");
	const char *log = getenv("MLFLOWD_FAULT_LOG");
	if (!name || !*name)
		fault = FAULT_NONE;
	else if (strcmp(name, "wal_open") == 0)
		fault = FAULT_WAL_OPEN;
	else if (strcmp(name, "sync_thread") == 0)
		fault = FAULT_SYNC_THREAD;
	else if (strcmp(name, "fdatasync") == 0)
		fault = FAULT_FDATASYNC;
	else if (strcmp(name, "slow_checkpoint") == 0)
		fault = FAULT_SLOW_CHECKPOINT;
	else {
		fprintf(stderr, "fault_inject: unknown MLFLOWD_FAULT=%s\n", name);
		abort();
	}
	const char *delay = getenv("MLFLOWD_FAULT_DELAY_MS");
	if (delay && *delay)
		delay_ms = atol(delay);
	snprintf(trigger_path, sizeof trigger_path, "%s", trigger ? trigger : "");
	snprintf(log_path, sizeof log_path, "%s", log ? log : "");
}

static void note(const char *what, const char *path)
{
	if (!log_path[0])
		return;
	char line[FAULT_LINE_MAX];
	int n = snprintf(line, sizeof line, "%s %s\n", what, path);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = (int)sizeof line - 1;
	int fd = real_open()(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	ssize_t w = write(fd, line, (size_t)n);
	(void)w;
	close(fd);
}

static int is_wal_path(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	return n >= 4 && strcmp(path + n - 4, "-wal") == 0;
}

/* Decides about an open(path, flags): returns -1 with errno set when the
 * open is to fail, else 0. */
static int on_open(const char *path, int flags)
{
	if (fault != FAULT_WAL_OPEN && fault != FAULT_SYNC_THREAD)
		return 0;
	if ((flags & O_ACCMODE) != O_RDONLY || !is_wal_path(path))
		return 0;
	if (fault == FAULT_SYNC_THREAD) {
		atomic_store(&sync_thread_armed, 1);
		return 0;
	}
	note("wal_open", path);
	errno = EACCES;
	return -1;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = open_mode(flags, ap);
	va_end(ap);
	if (on_open(path, flags) < 0)
		return -1;
	return real_open()(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = open_mode(flags, ap);
	va_end(ap);
	if (on_open(path, flags) < 0)
		return -1;
	return real_open64()(path, flags, mode);
}

int fdatasync(int fd)
{
	static _Atomic(fdatasync_fn) real;
	if (!real)
		real = (fdatasync_fn)next_symbol("fdatasync");
	if (fault == FAULT_FDATASYNC && (!trigger_path[0] || access(trigger_path, F_OK) == 0)) {
		int flags = fcntl(fd, F_GETFL);
		char link[64], path[FAULT_PATH_MAX];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, path, sizeof path - 1);
		if (flags >= 0 && (flags & O_ACCMODE) == O_RDONLY && n > 0) {
			path[n] = '\0';
			if (is_wal_path(path)) {
				note("fdatasync", path);
				errno = EIO;
				return -1;
			}
		}
	}
	return real(fd);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
	static _Atomic(pthread_create_fn) real;
	if (!real)
		real = (pthread_create_fn)next_symbol("pthread_create");
	if (fault == FAULT_SYNC_THREAD && atomic_exchange(&sync_thread_armed, 0)) {
		note("sync_thread", "-");
		return EAGAIN;
	}
	return real(thread, attr, start, arg);
}

/* slow_checkpoint: the calling thread is the checkpoint thread and fd is
 * the database file itself (not its -wal or -shm): wait first. */
static void maybe_slow(int fd)
{
	if (fault != FAULT_SLOW_CHECKPOINT)
		return;
	char name[16] = "";
	if (pthread_getname_np(pthread_self(), name, sizeof name) != 0 || strcmp(name, "mlflowd-ckpt") != 0)
		return;
	char link[64], path[FAULT_PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return;
	path[n] = '\0';
	if (is_wal_path(path) || (n >= 4 && strcmp(path + n - 4, "-shm") == 0))
		return;
	if (!atomic_exchange(&slow_noted, 1))
		note("slow_checkpoint", path);
	struct timespec d = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
	nanosleep(&d, NULL);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static _Atomic(pwrite_fn) real;
	if (!real)
		real = (pwrite_fn)next_symbol("pwrite");
	maybe_slow(fd);
	return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	static _Atomic(pwrite_fn) real;
	if (!real)
		real = (pwrite_fn)next_symbol("pwrite64");
	maybe_slow(fd);
	return real(fd, buf, n, off);
}
