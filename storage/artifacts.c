/*
 * artifacts.c: the artifact filesystem (see artifacts.h). Every path below
 * a root is reached by walk_dirs(): one openat() per segment with
 * O_NOFOLLOW | O_DIRECTORY, starting from a descriptor of the root, so the
 * kernel refuses any symlink on the way, and segments were checked to be
 * plain names (no "..", no "/", no NUL) before any walk starts.
 */
#include "artifacts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/limits.h"

/* ---- path checks ---- */

static enum mlf_status invalid_path(struct mlf_error *err)
{
	return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "Invalid path");
}

enum mlf_status mlf_artifact_path_check(struct mlf_arena *a, const char *path, int allow_empty, const char **out,
                                        struct mlf_error *err)
{
	if (!path)
		path = "";
	size_t n = strlen(path);
	if (n > MLF_MAX_ARTIFACT_PATH_LENGTH)
		return invalid_path(err);
	if (n > 0 && path[n - 1] == '/')
		n--; /* one trailing slash names the same folder */
	if (n == 0) {
		if (!allow_empty)
			return invalid_path(err);
		*out = "";
		return MLF_OK;
	}
	if (path[0] == '/')
		return invalid_path(err);
	/* A URI scheme or a drive letter in front ("file:", "C:"). */
	size_t k = 0;
	while (k < n &&
	       ((path[k] >= 'a' && path[k] <= 'z') || (path[k] >= 'A' && path[k] <= 'Z') ||
	        (k > 0 && ((path[k] >= '0' && path[k] <= '9') || path[k] == '+' || path[k] == '-' || path[k] == '.'))))
		k++;
	if (k > 0 && k < n && path[k] == ':')
		return invalid_path(err);

	const unsigned char *s = (const unsigned char *)path;
	size_t seg_start = 0;
	int depth = 0;
	for (size_t i = 0; i <= n;) {
		if (i == n || s[i] == '/') {
			size_t len = i - seg_start;
			if (len == 0 || len > MLF_MAX_ARTIFACT_SEGMENT_LENGTH)
				return invalid_path(err);
			if ((len == 1 && s[seg_start] == '.') ||
			    (len == 2 && s[seg_start] == '.' && s[seg_start + 1] == '.'))
				return invalid_path(err);
			if (++depth > MLF_MAX_ARTIFACT_DEPTH)
				return invalid_path(err);
			i++;
			seg_start = i;
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7F || s[i] == '\\' || s[i] == '#')
			return invalid_path(err);
		int l = mlf_utf8_seq_len(s + i, n - i);
		if (l == 0)
			return invalid_path(err);
		i += (size_t)l;
	}
	*out = mlf_arena_strndup(a, path, n);
	return MLF_OK;
}

enum mlf_status mlf_artifact_client_path(struct mlf_arena *a, const char *in, int allow_empty, const char **out,
                                         struct mlf_error *err)
{
	if (strlen(in) > MLF_MAX_ARTIFACT_PATH_LENGTH * 3)
		return invalid_path(err);
	const char *cur = in;
	for (int round = 0;; round++) {
		if (round == MLF_ARTIFACT_DECODE_ROUNDS)
			return invalid_path(err);
		const char *next = mlf_unquote(a, cur);
		if (!next)
			return invalid_path(err);
		if (!strcmp(next, cur))
			break;
		cur = next;
	}
	return mlf_artifact_path_check(a, cur, allow_empty, out, err);
}

const char *mlf_artifact_path_join(struct mlf_arena *a, const char *base, const char *rel)
{
	if (!base || !*base)
		return rel ? rel : "";
	if (!rel || !*rel)
		return base;
	return mlf_arena_printf(a, "%s/%s", base, rel);
}

/* ---- walking ---- */

static int open_root(const char *root)
{
	/* The root itself is configuration (or a validated experiment
	 * location) and may be reached through links; nothing below it may. */
	return open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static enum mlf_status errno_status(int e, const char *what, const char *rel, struct mlf_error *err)
{
	switch (e) {
	case ENOENT: return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "No such artifact: '%.900s'", rel);
	case ENOTDIR: /* a file where a folder was expected */
		return mlf_fail(err, MLF_RESOURCE_DOES_NOT_EXIST, "No such artifact: '%.900s'", rel);
	case ELOOP: /* a symlink on the way: never followed */ return invalid_path(err);
	case ENOSPC:
	case EDQUOT: return mlf_fail(err, MLF_IO_ERROR, "No space left to store the artifact");
	default: return mlf_fail(err, MLF_IO_ERROR, "Cannot %s artifact '%.900s': %s", what, rel, strerror(e));
	}
}

/* errno for a failed openat(dirfd, name, O_NOFOLLOW...): ELOOP when name is
 * a symlink (Linux answers ENOTDIR for O_DIRECTORY on a link), else e. */
static int link_errno(int dirfd, const char *name, int e)
{
	struct stat st;
	if ((e == ENOTDIR || e == ELOOP) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
	return e;
}

/* Open the folder holding the last segment of rel (all segments but the
 * last, walked from rootfd), creating missing folders when create is set.
 * *last points at the last segment inside rel. Returns a descriptor or -1
 * with errno set. */
static int walk_dirs(int rootfd, const char *rel, int create, const char **last)
{
	int fd = dup(rootfd);
	if (fd < 0)
		return -1;
	const char *p = rel;
	char seg[MLF_MAX_ARTIFACT_SEGMENT_LENGTH + 1];
	for (;;) {
		const char *slash = strchr(p, '/');
		if (!slash) {
			*last = p;
			return fd;
		}
		size_t len = (size_t)(slash - p);
		if (len == 0 || len > MLF_MAX_ARTIFACT_SEGMENT_LENGTH) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		memcpy(seg, p, len);
		seg[len] = '\0';
		int next = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, seg, 0777) < 0 && errno != EEXIST) {
				int e = errno;
				close(fd);
				errno = e;
				return -1;
			}
			fsync(fd); /* the new folder's name is durable before files land in it */
			next = openat(fd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		int e = next < 0 ? link_errno(fd, seg, errno) : 0;
		close(fd);
		if (next < 0) {
			errno = e;
			return -1;
		}
		fd = next;
		p = slash + 1;
	}
}

enum mlf_status mlf_artifact_open(const char *root, const char *rel, struct mlf_artifact_file *out,
                                  struct mlf_error *err)
{
	out->fd = -1;
	out->is_dir = 0;
	out->size = 0;
	int rootfd = open_root(root);
	if (rootfd < 0)
		return errno_status(errno, "open", rel, err);
	if (!*rel) {
		out->is_dir = 1;
		close(rootfd);
		return MLF_OK;
	}
	const char *last;
	int dfd = walk_dirs(rootfd, rel, 0, &last);
	int e = errno;
	close(rootfd);
	if (dfd < 0)
		return errno_status(e, "open", rel, err);
	struct stat st;
	if (fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		close(dfd);
		return errno_status(e, "open", rel, err);
	}
	if (S_ISDIR(st.st_mode)) {
		close(dfd);
		out->is_dir = 1;
		return MLF_OK;
	}
	if (!S_ISREG(st.st_mode)) {
		close(dfd);
		return invalid_path(err); /* symlink, fifo, device: never opened */
	}
	int fd = openat(dfd, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	e = errno;
	close(dfd);
	if (fd < 0)
		return errno_status(e, "open", rel, err);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return invalid_path(err);
	}
	/* Reads of a regular file never block; drop O_NONBLOCK anyway. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	out->fd = fd;
	out->size = (int64_t)st.st_size;
	return MLF_OK;
}

static int cmp_entry(const void *x, const void *y)
{
	return strcmp(((const struct mlf_artifact_entry *)x)->name, ((const struct mlf_artifact_entry *)y)->name);
}

enum mlf_status mlf_artifact_list(struct mlf_arena *a, const char *root, const char *rel,
                                  struct mlf_artifact_entry **out, int *n, struct mlf_error *err)
{
	*out = NULL;
	*n = 0;
	int rootfd = open_root(root);
	if (rootfd < 0) {
		if (errno == ENOENT)
			return MLF_OK;
		return errno_status(errno, "list", rel, err);
	}
	int dirfd;
	if (!*rel) {
		dirfd = rootfd;
	} else {
		const char *last;
		int pfd = walk_dirs(rootfd, rel, 0, &last);
		int e = errno;
		close(rootfd);
		if (pfd < 0)
			return e == ENOENT || e == ENOTDIR ? MLF_OK : errno_status(e, "list", rel, err);
		dirfd = openat(pfd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		e = dirfd < 0 ? link_errno(pfd, last, errno) : 0;
		close(pfd);
		if (dirfd < 0)
			return e == ENOENT || e == ENOTDIR ? MLF_OK : errno_status(e, "list", rel, err);
	}
	DIR *d = fdopendir(dirfd);
	if (!d) {
		int e = errno;
		close(dirfd);
		return errno_status(e, "list", rel, err);
	}
	int cap = 16, cnt = 0;
	struct mlf_artifact_entry *v = mlf_arena_alloc(a, (size_t)cap * sizeof *v);
	struct dirent *de;
	enum mlf_status s = MLF_OK;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (!strcmp(nm, ".") || !strcmp(nm, "..") ||
		    !strncmp(nm, MLF_ARTIFACT_TEMP_PREFIX, sizeof MLF_ARTIFACT_TEMP_PREFIX - 1))
			continue;
		struct stat st;
		if (fstatat(dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* removed meanwhile */
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			continue; /* symlinks and specials are never listed */
		if (cnt == MLF_MAX_ARTIFACT_LISTING) {
			s = mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "Directory '%.900s' holds more than %d entries",
			             rel, MLF_MAX_ARTIFACT_LISTING);
			break;
		}
		if (cnt == cap) {
			v = mlf_arena_grow(a, v, (size_t)cnt, (size_t)cap * 2, sizeof *v);
			cap *= 2;
		}
		v[cnt].name = mlf_arena_strdup(a, nm);
		v[cnt].is_dir = S_ISDIR(st.st_mode);
		v[cnt].size = (int64_t)st.st_size;
		cnt++;
	}
	closedir(d); /* closes dirfd */
	if (s != MLF_OK)
		return s;
	qsort(v, (size_t)cnt, sizeof *v, cmp_entry);
	*out = v;
	*n = cnt;
	return MLF_OK;
}

/* ---- uploads ---- */

enum mlf_status mlf_artifact_upload_begin(const char *root, const char *rel, struct mlf_artifact_upload *u,
                                          struct mlf_error *err)
{
	memset(u, 0, sizeof *u);
	u->dirfd = u->fd = -1;
	if (!*rel)
		return invalid_path(err);
	int rootfd = open_root(root);
	if (rootfd < 0)
		return errno_status(errno, "store", rel, err);
	const char *last;
	int dfd = walk_dirs(rootfd, rel, 1, &last);
	int e = errno;
	close(rootfd);
	if (dfd < 0)
		return errno_status(e, "store", rel, err);
	if (!strncmp(last, MLF_ARTIFACT_TEMP_PREFIX, sizeof MLF_ARTIFACT_TEMP_PREFIX - 1)) {
		close(dfd);
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                "Invalid artifact file name: '%.300s'. Artifact names starting with '%s' are reserved.",
		                last, MLF_ARTIFACT_TEMP_PREFIX);
	}
	struct stat st;
	if (fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))) {
		close(dfd);
		if (S_ISLNK(st.st_mode))
			return invalid_path(err);
		return mlf_fail(err, MLF_INVALID_PARAMETER_VALUE, "Artifact path refers to a directory: '%.900s'", rel);
	}
	for (int tries = 0; tries < 8; tries++) {
		char hex[33];
		mlf_uuid_hex(hex);
		snprintf(u->tmpname, sizeof u->tmpname, "%s%.16s", MLF_ARTIFACT_TEMP_PREFIX, hex);
		u->fd = openat(dfd, u->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (u->fd >= 0 || errno != EEXIST)
			break;
	}
	if (u->fd < 0) {
		e = errno;
		close(dfd);
		return errno_status(e, "store", rel, err);
	}
	u->dirfd = dfd;
	u->name = strdup(last);
	return MLF_OK;
}

enum mlf_status mlf_artifact_upload_write(struct mlf_artifact_upload *u, const void *p, size_t n, struct mlf_error *err)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(u->fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno_status(errno, "write", u->name, err);
		}
		c += w;
		n -= (size_t)w;
		u->written += w;
	}
	return MLF_OK;
}

static void upload_release(struct mlf_artifact_upload *u)
{
	if (u->fd >= 0)
		close(u->fd);
	if (u->dirfd >= 0)
		close(u->dirfd);
	free(u->name);
	u->fd = u->dirfd = -1;
	u->name = NULL;
}

enum mlf_status mlf_artifact_upload_commit(struct mlf_artifact_upload *u, struct mlf_error *err)
{
	enum mlf_status s = MLF_OK;
	if (fsync(u->fd) < 0 || close(u->fd) < 0) {
		u->fd = -1;
		s = errno_status(errno, "sync", u->name, err);
		unlinkat(u->dirfd, u->tmpname, 0);
		upload_release(u);
		return s;
	}
	u->fd = -1;
	/* renameat replaces a symlink at the final name itself, never its target. */
	if (renameat(u->dirfd, u->tmpname, u->dirfd, u->name) < 0) {
		int e = errno;
		unlinkat(u->dirfd, u->tmpname, 0);
		s = e == EISDIR ? mlf_fail(err, MLF_INVALID_PARAMETER_VALUE,
		                           "Artifact path refers to a directory: '%.900s'", u->name)
		                : errno_status(e, "store", u->name, err);
		upload_release(u);
		return s;
	}
	if (fsync(u->dirfd) < 0)
		s = errno_status(errno, "sync", u->name, err);
	upload_release(u);
	return s;
}

void mlf_artifact_upload_abort(struct mlf_artifact_upload *u)
{
	if (u->fd >= 0) {
		close(u->fd);
		u->fd = -1;
	}
	if (u->dirfd >= 0)
		unlinkat(u->dirfd, u->tmpname, 0);
	upload_release(u);
}

/* ---- deletion ---- */

/* Remove everything inside the folder dirfd (consumed). depth bounds the
 * recursion. */
static int remove_tree(int dirfd, int depth)
{
	if (depth > MLF_MAX_ARTIFACT_DEPTH * 2) {
		close(dirfd);
		errno = ELOOP;
		return -1;
	}
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return -1;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (!strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0 || remove_tree(sub, depth + 1) < 0 || unlinkat(dirfd, nm, AT_REMOVEDIR) < 0)
				rc = -1;
		} else if (unlinkat(dirfd, nm, 0) < 0) {
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

/* The sweep below dirfd (owned: closed here), depth levels down. */
static int sweep_dir(int dirfd, int depth)
{
	DIR *d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return 0;
	}
	int removed = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (!strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) &&
		    !strncmp(nm, MLF_ARTIFACT_TEMP_PREFIX, sizeof MLF_ARTIFACT_TEMP_PREFIX - 1)) {
			removed += unlinkat(dirfd, nm, 0) == 0;
		} else if (S_ISDIR(st.st_mode) && depth < MLF_MAX_ARTIFACT_DEPTH) {
			int sub = openat(dirfd, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				removed += sweep_dir(sub, depth + 1);
		}
	}
	closedir(d);
	return removed;
}

int mlf_artifact_sweep_uploads(const char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? 0 : sweep_dir(fd, 0);
}

enum mlf_status mlf_artifact_delete(const char *root, const char *rel, struct mlf_error *err)
{
	if (!*rel)
		return invalid_path(err);
	int rootfd = open_root(root);
	if (rootfd < 0)
		return errno == ENOENT ? MLF_OK : errno_status(errno, "delete", rel, err);
	const char *last;
	int dfd = walk_dirs(rootfd, rel, 0, &last);
	int e = errno;
	close(rootfd);
	if (dfd < 0)
		return e == ENOENT ? MLF_OK : errno_status(e, "delete", rel, err);
	struct stat st;
	enum mlf_status s = MLF_OK;
	if (fstatat(dfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		close(dfd);
		return e == ENOENT ? MLF_OK : errno_status(e, "delete", rel, err);
	}
	if (S_ISLNK(st.st_mode)) {
		close(dfd);
		return invalid_path(err);
	}
	if (S_ISDIR(st.st_mode)) {
		int sub = openat(dfd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || remove_tree(sub, 0) < 0 || unlinkat(dfd, last, AT_REMOVEDIR) < 0)
			s = errno_status(errno, "delete", rel, err);
	} else if (unlinkat(dfd, last, 0) < 0) {
		s = errno_status(errno, "delete", rel, err);
	}
	if (s == MLF_OK)
		fsync(dfd);
	close(dfd);
	return s;
}

/* ---- locations ---- */

/* The path of a URI after "scheme:" and an optional "//authority". */
static const char *after_authority(const char *p)
{
	if (p[0] == '/' && p[1] == '/') {
		p += 2;
		while (*p && *p != '/')
			p++;
	}
	return p;
}

/* An absolute path p with "." and ".." segments resolved and repeated
 * slashes folded, in place, as Python's os.path.normpath writes it ("/.."
 * is "/"): a stored location such as "/srv/x/../y" (what MLflow stores for
 * an experiment created with "x/../y") names the folder the OS would. */
static char *normalize_abs(char *p)
{
	size_t o = 0; /* output length; p[0] == '/' stays */
	for (size_t i = 0; p[i];) {
		while (p[i] == '/')
			i++;
		size_t start = i;
		while (p[i] && p[i] != '/')
			i++;
		size_t len = i - start;
		if (len == 0 || (len == 1 && p[start] == '.'))
			continue;
		if (len == 2 && p[start] == '.' && p[start + 1] == '.') {
			while (o > 0 && p[o - 1] != '/')
				o--; /* drop the last segment */
			if (o > 0)
				o--; /* and its slash */
			continue;
		}
		p[o++] = '/';
		memmove(p + o, p + start, len);
		o += len;
	}
	if (o == 0)
		o = 1; /* the root itself */
	p[0] = '/';
	p[o] = '\0';
	return p;
}

enum mlf_status mlf_artifact_locate(struct mlf_arena *a, const char *uri, enum mlf_artifact_loc_kind *kind,
                                    const char **root, const char **rel, struct mlf_error *err)
{
	*root = NULL;
	*rel = "";
	const char *proxied = NULL;
	if (!strncmp(uri, "mlflow-artifacts:", 17)) {
		proxied = after_authority(uri + 17);
	} else if (!strncasecmp(uri, "http://", 7) || !strncasecmp(uri, "https://", 8)) {
		const char *m = strstr(uri, "/mlflow-artifacts/artifacts");
		if (m) {
			proxied = m + strlen("/mlflow-artifacts/artifacts");
		} else {
			*kind = MLF_LOC_OTHER;
			return MLF_OK;
		}
	}
	if (proxied) {
		while (*proxied == '/')
			proxied++;
		char *p = mlf_arena_strdup(a, proxied);
		char *cut = strpbrk(p, "?#");
		if (cut)
			*cut = '\0';
		*kind = MLF_LOC_PROXIED;
		return mlf_artifact_path_check(a, p, 1, rel, err);
	}
	const char *path = NULL;
	if (!strncmp(uri, "file:", 5)) {
		path = after_authority(uri + 5);
	} else if (uri[0] == '/') {
		path = uri;
	} else {
		*kind = MLF_LOC_OTHER;
		return MLF_OK;
	}
	char *dec = mlf_unquote(a, path);
	if (!dec || dec[0] != '/')
		return invalid_path(err);
	*root = normalize_abs(dec);
	*kind = MLF_LOC_LOCAL;
	return MLF_OK;
}

/* ---- content types ---- */

static const struct {
	const char *ext;
	const char *type;
} mime_types[] = {
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"svg", "image/svg+xml"},
    {"webp", "image/webp"},
    {"bmp", "image/bmp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"pdf", "application/pdf"},
    {"html", "text/html"},
    {"htm", "text/html"},
    {"css", "text/css"},
    {"gz", "application/gzip"},
    {"zip", "application/zip"},
    {"tar", "application/x-tar"},
    {"mp4", "video/mp4"},
    {"mp3", "audio/mpeg"},
    {"wav", "audio/x-wav"},
    {"parquet", "application/octet-stream"},
    {"pkl", "application/octet-stream"},
    {"geojson", "application/geo+json"},
};

/* MLflow's get_text_extensions(): served as text/plain. */
static const char *const text_exts[] = {
    "txt", "log", "err",  "cfg", "conf", "cnf", "cf",  "ini", "properties", "prop", "hocon", "toml",    "yaml",
    "yml", "xml", "json", "js",  "py",   "py3", "csv", "tsv", "md",         "rst",  "ipynb", "MLmodel", "MLproject"};

const char *mlf_artifact_mime_type(const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	const char *dot = strrchr(base, '.');
	const char *ext = dot ? dot + 1 : base; /* MLmodel, MLproject have no extension */
	for (size_t i = 0; i < sizeof text_exts / sizeof *text_exts; i++)
		if (!strcmp(ext, text_exts[i]))
			return "text/plain";
	if (dot)
		for (size_t i = 0; i < sizeof mime_types / sizeof *mime_types; i++)
			if (!strcasecmp(ext, mime_types[i].ext))
				return mime_types[i].type;
	return "application/octet-stream";
}
