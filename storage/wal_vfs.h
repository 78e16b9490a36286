/*
 * wal_vfs.h: a SQLite VFS over the default one that gathers a connection's
 * appends to its write-ahead log into few large writes.
 *
 * SQLite writes each WAL frame with two pwrite calls, its 24-byte header
 * and its page: a 1000-point log-batch costs about 1,100 system calls. This
 * VFS keeps a connection's consecutive WAL writes in a buffer of
 * MLF_WAL_WRITE_BUFFER bytes and writes it out when it is full, when a
 * transaction's commit frame has been written (so a failed write fails that
 * commit), before any other operation on the WAL (read, sync, size,
 * truncate, close, a write elsewhere) and, as a backstop, before SQLite
 * publishes committed frames to other connections (the shared-memory
 * barrier on the database file that precedes every wal-index header
 * update). Every other file and operation goes straight to the default VFS.
 * No frame is visible to a reader, a checkpoint or a sync before it has
 * been written.
 *
 * A write that fails at that backstop has no caller to report to: it is
 * kept in mlf_wal_vfs_failed(), which the store checks after each sync
 * (db.c), as it checks a failed fdatasync.
 *
 * This header knows nothing of JSON or HTTP.
 */
#ifndef MLF_WAL_VFS_H
#define MLF_WAL_VFS_H

/* Bytes of WAL writes gathered per connection before they are written: 31
 * pages. The unix VFS writes at most 128 KiB - 1 bytes per call. */
#define MLF_WAL_WRITE_BUFFER (31 * 4096)

/* The VFS's name, for sqlite3_open_v2(). */
#define MLF_WAL_VFS_NAME "mlflowd-wal"

/* Register the VFS (not as the default) once per process; later calls do
 * nothing. Returns a SQLite result code. Thread-safe. */
int mlf_wal_vfs_register(void);

/* 0 while every buffered WAL write reached the file; otherwise the SQLite
 * result code of the first that failed where no caller could be told. */
int mlf_wal_vfs_failed(void);

#endif
