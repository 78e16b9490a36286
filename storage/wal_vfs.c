/*
 * wal_vfs.c: the VFS that gathers WAL appends into few large writes. See
 * wal_vfs.h for when a buffer is written out, and why that is safe.
 *
 * Every file opened through this VFS is a struct wal_file followed, in the
 * same allocation SQLite makes of szOsFile bytes, by the default VFS's own
 * file object. A connection's main database file and its WAL file are
 * linked to each other, so the database file's shared-memory barrier can
 * write out its WAL's buffer first. The link is found from the WAL's name:
 * sqlite3_filename_database() of the name SQLite opens the WAL with is the
 * name it opened that connection's database file with. A WAL that finds no
 * database file is not buffered.
 */
#include "wal_vfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* From SQLite's documented WAL file format: a 32-byte file header, then
 * frames of a 24-byte header (page number, and for a commit frame the
 * database size in pages after the commit, at bytes 4-7) and one page. */
#define WAL_FILE_HEADER 32
#define WAL_FRAME_HEADER 24
#define WAL_FRAME_DB_SIZE_AT 4

struct wal_file {
	sqlite3_file base;     /* base.pMethods: &wal_io once the default VFS has opened real */
	sqlite3_file *real;    /* the default VFS's file object, in the same allocation, after this struct */
	const char *name;      /* borrowed from SQLite (main database files): the name it was opened with */
	struct wal_file *wal;  /* main database file: its connection's open WAL file, or NULL */
	struct wal_file *db;   /* WAL file: its connection's database file; NULL: writes go straight through */
	struct wal_file *next; /* in the list of open main database files (under files_mu) */
	char *buf;             /* owned (WAL files): MLF_WAL_WRITE_BUFFER bytes, allocated at the first write */
	size_t len;            /* bytes in buf, which go to the file at offset off */
	sqlite3_int64 off;
	int flush_next; /* the last write was a commit frame's header: write out after its page */
	int failed;     /* a write out failed with no caller to tell: this result code, for every later write */
};

#define HEAD_SIZE ((sizeof(struct wal_file) + 15) & ~(size_t)15) /* keeps real 16-byte aligned */

static sqlite3_vfs *parent; /* the default VFS at registration; never unregistered */
static sqlite3_vfs wal_vfs;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_rc;
static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wal_file *main_files; /* open main database files (under files_mu) */
static atomic_int backstop_failed;

int mlf_wal_vfs_failed(void)
{
	return atomic_load(&backstop_failed);
}

static sqlite3_file *real_of(sqlite3_file *f)
{
	return ((struct wal_file *)f)->real;
}

/* Write out w's buffer. On failure the buffered bytes are dropped: SQLite
 * is told through the operation that asked, and fails its transaction. */
static int write_out(struct wal_file *w)
{
	if (w->len == 0)
		return SQLITE_OK;
	int rc = w->real->pMethods->xWrite(w->real, w->buf, (int)w->len, w->off);
	w->len = 0;
	return rc;
}

static int x_close(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = write_out(w);
	pthread_mutex_lock(&files_mu);
	if (w->db)
		w->db->wal = NULL;
	if (w->wal) {
		/* Not expected (SQLite closes the WAL first); its WAL stops buffering. */
		int wrc = write_out(w->wal);
		if (wrc != SQLITE_OK && !w->wal->failed)
			w->wal->failed = wrc;
		w->wal->db = NULL;
	}
	for (struct wal_file **p = &main_files; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	pthread_mutex_unlock(&files_mu);
	int crc = w->real->pMethods->xClose(w->real);
	free(w->buf);
	w->buf = NULL;
	return rc != SQLITE_OK ? rc : crc;
}

static int x_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = write_out(w);
	return rc != SQLITE_OK ? rc : w->real->pMethods->xRead(w->real, p, n, off);
}

static int x_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	if (!w->db)
		return w->real->pMethods->xWrite(w->real, p, n, off);
	if (w->failed)
		return w->failed;
	int rc;
	if (w->len && (off != w->off + (sqlite3_int64)w->len || (size_t)n > MLF_WAL_WRITE_BUFFER - w->len) &&
	    (rc = write_out(w)) != SQLITE_OK)
		return rc;
	if (!w->buf)
		w->buf = malloc(MLF_WAL_WRITE_BUFFER);
	if (!w->buf || n < 0 || (size_t)n > MLF_WAL_WRITE_BUFFER) {
		w->flush_next = 0;
		return w->real->pMethods->xWrite(w->real, p, n, off);
	}
	if (w->len == 0)
		w->off = off;
	memcpy(w->buf + w->len, p, (size_t)n);
	w->len += (size_t)n;
	if (w->flush_next) {
		w->flush_next = 0;
		return write_out(w);
	}
	if (n == WAL_FRAME_HEADER && off >= WAL_FILE_HEADER) {
		const unsigned char *h = (const unsigned char *)p + WAL_FRAME_DB_SIZE_AT;
		w->flush_next = (h[0] | h[1] | h[2] | h[3]) != 0;
	}
	return SQLITE_OK;
}

static int x_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = write_out(w);
	return rc != SQLITE_OK ? rc : w->real->pMethods->xTruncate(w->real, size);
}

static int x_sync(sqlite3_file *f, int flags)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = w->failed ? w->failed : write_out(w);
	return rc != SQLITE_OK ? rc : w->real->pMethods->xSync(w->real, flags);
}

static int x_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = write_out(w);
	return rc != SQLITE_OK ? rc : w->real->pMethods->xFileSize(w->real, size);
}

static int x_lock(sqlite3_file *f, int level)
{
	return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int x_unlock(sqlite3_file *f, int level)
{
	return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int x_check_reserved_lock(sqlite3_file *f, int *out)
{
	return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int x_file_control(sqlite3_file *f, int op, void *arg)
{
	return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int x_sector_size(sqlite3_file *f)
{
	return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int x_device_characteristics(sqlite3_file *f)
{
	return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

static int x_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **pp)
{
	sqlite3_file *r = real_of(f);
	return r->pMethods->iVersion >= 2 ? r->pMethods->xShmMap(r, region, size, extend, pp) : SQLITE_IOERR_SHMMAP;
}

static int x_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	sqlite3_file *r = real_of(f);
	return r->pMethods->iVersion >= 2 ? r->pMethods->xShmLock(r, offset, n, flags) : SQLITE_IOERR_SHMLOCK;
}

/* SQLite calls this before it writes a wal-index header, which makes
 * committed frames visible: the connection's WAL buffer goes out first. */
static void x_shm_barrier(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	if (w->wal && w->wal->len) {
		int rc = write_out(w->wal);
		if (rc != SQLITE_OK) {
			if (!w->wal->failed)
				w->wal->failed = rc;
			int none = 0;
			atomic_compare_exchange_strong(&backstop_failed, &none, rc);
		}
	}
	if (w->real->pMethods->iVersion >= 2)
		w->real->pMethods->xShmBarrier(w->real);
}

static int x_shm_unmap(sqlite3_file *f, int delete_flag)
{
	sqlite3_file *r = real_of(f);
	return r->pMethods->iVersion >= 2 ? r->pMethods->xShmUnmap(r, delete_flag) : SQLITE_OK;
}

static int x_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	sqlite3_file *r = real_of(f);
	if (r->pMethods->iVersion >= 3)
		return r->pMethods->xFetch(r, off, n, pp);
	*pp = NULL;
	return SQLITE_OK;
}

static int x_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	sqlite3_file *r = real_of(f);
	return r->pMethods->iVersion >= 3 ? r->pMethods->xUnfetch(r, off, p) : SQLITE_OK;
}

static const sqlite3_io_methods wal_io = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

static int x_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out_flags)
{
	(void)vfs;
	struct wal_file *w = (struct wal_file *)f;
	memset(w, 0, sizeof *w);
	w->real = (sqlite3_file *)((char *)f + HEAD_SIZE);
	int rc = parent->xOpen(parent, name, w->real, flags, out_flags);
	/* SQLite calls xClose whenever pMethods is set, even after a failure. */
	f->pMethods = w->real->pMethods ? &wal_io : NULL;
	if (rc != SQLITE_OK || !w->real->pMethods || !name)
		return rc;
	pthread_mutex_lock(&files_mu);
	if (flags & SQLITE_OPEN_MAIN_DB) {
		w->name = name;
		w->next = main_files;
		main_files = w;
	} else if (flags & SQLITE_OPEN_WAL) {
		const char *db_name = sqlite3_filename_database(name);
		for (struct wal_file *m = main_files; m; m = m->next)
			if (m->name == db_name && !m->wal) {
				m->wal = w;
				w->db = m;
				break;
			}
	}
	pthread_mutex_unlock(&files_mu);
	return SQLITE_OK;
}

/* The rest of the VFS is the default one's. */
static int x_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	(void)v;
	return parent->xDelete(parent, name, sync_dir);
}

static int x_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return parent->xAccess(parent, name, flags, out);
}

static int x_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return parent->xFullPathname(parent, name, n, out);
}

static void *x_dl_open(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return parent->xDlOpen(parent, name);
}

static void x_dl_error(sqlite3_vfs *v, int n, char *msg)
{
	(void)v;
	parent->xDlError(parent, n, msg);
}

static void (*x_dl_sym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return parent->xDlSym(parent, h, sym);
}

static void x_dl_close(sqlite3_vfs *v, void *h)
{
	(void)v;
	parent->xDlClose(parent, h);
}

static int x_randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return parent->xRandomness(parent, n, out);
}

static int x_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return parent->xSleep(parent, us);
}

static int x_current_time(sqlite3_vfs *v, double *t)
{
	(void)v;
	return parent->xCurrentTime(parent, t);
}

static int x_get_last_error(sqlite3_vfs *v, int n, char *msg)
{
	(void)v;
	return parent->xGetLastError ? parent->xGetLastError(parent, n, msg) : 0;
}

static int x_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *t)
{
	(void)v;
	if (parent->iVersion >= 2 && parent->xCurrentTimeInt64)
		return parent->xCurrentTimeInt64(parent, t);
	double d = 0;
	int rc = parent->xCurrentTime(parent, &d);
	*t = (sqlite3_int64)(d * 86400000.0);
	return rc;
}

static void do_register(void)
{
	parent = sqlite3_vfs_find(NULL);
	if (!parent) {
		register_rc = SQLITE_ERROR;
		return;
	}
	wal_vfs = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = (int)(HEAD_SIZE + (size_t)parent->szOsFile),
	    .mxPathname = parent->mxPathname,
	    .zName = MLF_WAL_VFS_NAME,
	    .xOpen = x_open,
	    .xDelete = x_delete,
	    .xAccess = x_access,
	    .xFullPathname = x_full_pathname,
	    .xDlOpen = x_dl_open,
	    .xDlError = x_dl_error,
	    .xDlSym = x_dl_sym,
	    .xDlClose = x_dl_close,
	    .xRandomness = x_randomness,
	    .xSleep = x_sleep,
	    .xCurrentTime = x_current_time,
	    .xGetLastError = x_get_last_error,
	    .xCurrentTimeInt64 = x_current_time_int64,
	};
	register_rc = sqlite3_vfs_register(&wal_vfs, 0);
}

int mlf_wal_vfs_register(void)
{
	pthread_once(&register_once, do_register);
	return register_rc;
}
