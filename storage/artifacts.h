/*
 * artifacts.h: the artifact filesystem. Every file operation starts from a
 * root directory (the artifact destination, or a local artifact location
 * an experiment was created with) and a relative path that has passed
 * mlf_artifact_path_check(). Paths are resolved by walking one segment at
 * a time with openat(O_NOFOLLOW | O_DIRECTORY) from a descriptor of the
 * root, so no symlink anywhere below the root is ever followed and no ".."
 * can exist: a file outside the root is never opened, created or removed.
 *
 * Uploads go to a temporary file (".artifact.uploading.<random>", the
 * prefix MLflow uses and hides from listings) in the target folder, which
 * is synced, renamed over the final name and followed by a sync of the
 * folder: a reader sees either the old file, or the whole new one.
 *
 * This header knows nothing of JSON or HTTP; strings returned live in the
 * caller's arena.
 */
#ifndef MLF_ARTIFACTS_H
#define MLF_ARTIFACTS_H

#include <stdint.h>

#include "base.h"

/* Prefix of in-flight upload files (MLflow's _TEMP_ARTIFACT_PREFIX). */
#define MLF_ARTIFACT_TEMP_PREFIX ".artifact.uploading."

/* Check a relative artifact path and return its canonical form in *out
 * (arena): segments joined by '/', no leading '/', one trailing '/'
 * dropped, "" for the root (only when allow_empty). Refused with
 * MLF_INVALID_PARAMETER_VALUE "Invalid path": absolute paths, empty, "."
 * or ".." segments, '\\', '#', NUL and other control characters, invalid
 * or overlong UTF-8 (surrogates included), a URI scheme or drive prefix
 * ("file:", "C:"), over-long paths or segments (limits.h). */
enum mlf_status mlf_artifact_path_check(struct mlf_arena *a, const char *path, int allow_empty, const char **out,
                                        struct mlf_error *err);

/* A path as a client sent it: percent-decoded until stable (at most
 * MLF_ARTIFACT_DECODE_ROUNDS rounds, as MLflow's _decode; still changing
 * after them, or decoding to a NUL, is refused), then checked by
 * mlf_artifact_path_check. */
enum mlf_status mlf_artifact_client_path(struct mlf_arena *a, const char *in, int allow_empty, const char **out,
                                         struct mlf_error *err);

/* "a/b" + "c/d" -> "a/b/c/d" (either may be ""); both must be checked. */
const char *mlf_artifact_path_join(struct mlf_arena *a, const char *base, const char *rel);

/* ---- reading ---- */

struct mlf_artifact_file {
	int fd; /* owned by the caller: close() it; -1 for a directory */
	int is_dir;
	int64_t size; /* bytes of a regular file */
};

/* Open root/rel for reading. Missing: MLF_RESOURCE_DOES_NOT_EXIST "No such
 * artifact: '<rel>'". A symlink on the way: MLF_INVALID_PARAMETER_VALUE.
 * A directory answers is_dir = 1 (and no descriptor). */
enum mlf_status mlf_artifact_open(const char *root, const char *rel, struct mlf_artifact_file *out,
                                  struct mlf_error *err);

struct mlf_artifact_entry {
	const char *name; /* basename */
	int is_dir;
	int64_t size; /* files only */
};

/* Entries of the directory root/rel sorted by name, without upload
 * temporaries or symlinks. A missing path or a file lists nothing
 * (*n = 0), as MLflow's local repository does. */
enum mlf_status mlf_artifact_list(struct mlf_arena *a, const char *root, const char *rel,
                                  struct mlf_artifact_entry **out, int *n, struct mlf_error *err);

/* ---- writing ---- */

struct mlf_artifact_upload {
	int dirfd; /* the target folder */
	int fd;    /* the temporary file */
	char tmpname[64];
	char *name; /* final basename (heap) */
	int64_t written;
};

/* Create the folders of root/rel as needed and open a temporary file next
 * to its final name. rel must be non-empty. On success the caller must end
 * with exactly one of commit or abort. */
enum mlf_status mlf_artifact_upload_begin(const char *root, const char *rel, struct mlf_artifact_upload *u,
                                          struct mlf_error *err);
enum mlf_status mlf_artifact_upload_write(struct mlf_artifact_upload *u, const void *p, size_t n,
                                          struct mlf_error *err);
/* fsync, rename into place, fsync the folder; releases u. */
enum mlf_status mlf_artifact_upload_commit(struct mlf_artifact_upload *u, struct mlf_error *err);
/* Remove the temporary file; releases u. */
void mlf_artifact_upload_abort(struct mlf_artifact_upload *u);

/* Remove the temporary files of uploads that never finished (a crash or
 * kill midway: MLF_ARTIFACT_TEMP_PREFIX names) anywhere under root, without
 * following symlinks or going deeper than MLF_MAX_ARTIFACT_DEPTH. For the
 * start of the server, before it serves anything. Returns how many were
 * removed. */
int mlf_artifact_sweep_uploads(const char *root);

/* Delete root/rel recursively (a missing path is not an error; rel must be
 * non-empty). Symlinks met are removed themselves, never followed. */
enum mlf_status mlf_artifact_delete(const char *root, const char *rel, struct mlf_error *err);

/* ---- locations ---- */

enum mlf_artifact_loc_kind {
	MLF_LOC_PROXIED, /* under the artifact destination (mlflow-artifacts: or the server's own URL) */
	MLF_LOC_LOCAL,   /* a local folder (absolute path or file: URI) */
	MLF_LOC_OTHER    /* a store mlflowd cannot read (s3:, ...) */
};

/* Where the bytes of an artifact URI live: for MLF_LOC_PROXIED, *rel is
 * the checked path below the destination; for MLF_LOC_LOCAL, *root is the
 * folder (arena) and *rel "". */
enum mlf_status mlf_artifact_locate(struct mlf_arena *a, const char *uri, enum mlf_artifact_loc_kind *kind,
                                    const char **root, const char **rel, struct mlf_error *err);

/* Content type MLflow's server guesses for a file name. */
const char *mlf_artifact_mime_type(const char *name);

#endif
