/*
 * base.h: foundation types shared by every layer of mlflowd.
 *
 * - enum mlf_status mirrors MLflow's ErrorCode names; struct mlf_error carries
 *   a status plus a human-readable message (the "message" of MLflow's error
 *   JSON). Fallible functions return a status and fill a caller-provided
 *   struct mlf_error.
 * - struct mlf_arena is a per-request bump allocator: everything a request
 *   allocates from it is freed at once by mlf_arena_release().
 * - struct mlf_buf is a growable byte buffer (heap-owned).
 *
 * This header knows nothing of JSON, HTTP or SQL.
 */
#ifndef MLF_BASE_H
#define MLF_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* MLflow's error codes (databricks.proto names). MLF_OK is success. */
enum mlf_status {
	MLF_OK = 0,
	MLF_INTERNAL_ERROR,
	MLF_INVALID_STATE,
	MLF_NOT_IMPLEMENTED,
	MLF_TEMPORARILY_UNAVAILABLE,
	MLF_BAD_REQUEST,
	MLF_INVALID_PARAMETER_VALUE,
	MLF_RESOURCE_ALREADY_EXISTS,
	MLF_RESOURCE_DOES_NOT_EXIST,
	MLF_ENDPOINT_NOT_FOUND,
	MLF_PERMISSION_DENIED,
	MLF_REQUEST_LIMIT_EXCEEDED,
	MLF_IO_ERROR,
	MLF_STATUS_COUNT
};

/* Longest error message kept; longer ones are cut. */
#define MLF_ERROR_MSG_MAX 1024

struct mlf_error {
	enum mlf_status status;
	char msg[MLF_ERROR_MSG_MAX];
};

/* Fill err with a printf-style message and return status (for `return
 * mlf_fail(err, ...)`). err may be NULL. */
enum mlf_status mlf_fail(struct mlf_error *err, enum mlf_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* MLflow's error_code string for a status ("RESOURCE_DOES_NOT_EXIST"). */
const char *mlf_status_name(enum mlf_status status);

/* HTTP status MLflow answers for that error code. */
int mlf_status_http(enum mlf_status status);

/* ---- arena ---- */

struct mlf_arena_chunk;

struct mlf_arena {
	struct mlf_arena_chunk *head; /* owned: list of chunks, newest first */
};

/* Allocate n zeroed bytes, aligned for any type. Aborts on out-of-memory
 * (a server cannot answer sensibly without memory). The memory lives until
 * mlf_arena_release(). */
void *mlf_arena_alloc(struct mlf_arena *a, size_t n);
/* Copy of s (or of its first n bytes, NUL-terminated) in the arena. */
char *mlf_arena_strdup(struct mlf_arena *a, const char *s);
char *mlf_arena_strndup(struct mlf_arena *a, const char *s, size_t n);
/* printf into the arena. */
char *mlf_arena_printf(struct mlf_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grow an arena array: returns a new block of new_n elements holding the
 * first old_n of old (old stays valid until release). */
void *mlf_arena_grow(struct mlf_arena *a, void *old, size_t old_n, size_t new_n, size_t elem);
/* Free every chunk; the arena may be reused afterwards. */
void mlf_arena_release(struct mlf_arena *a);
/* Move every chunk of src into dst: what was allocated from src then
 * lives until dst is released; src is left empty. */
void mlf_arena_adopt(struct mlf_arena *dst, struct mlf_arena *src);

/* ---- growable buffer ---- */

struct mlf_buf {
	char *data; /* owned; NUL-terminated when len > 0 or after any append */
	size_t len;
	size_t cap;
};

/* Make room for extra more bytes and the NUL (the slow path of the
 * appends below, which the JSON writer calls per character). */
void mlf_buf_grow(struct mlf_buf *b, size_t extra);

static inline void mlf_buf_append(struct mlf_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap)
		mlf_buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void mlf_buf_putc(struct mlf_buf *b, char c)
{
	if (b->len + 2 > b->cap)
		mlf_buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void mlf_buf_puts(struct mlf_buf *b, const char *s);
/* Decimal digits of v (printf's %lld without printf). */
void mlf_buf_put_i64(struct mlf_buf *b, int64_t v);

/* Writes the decimal digits of u backwards, ending just before end, and
 * returns where they start (at most 20 bytes before end). */
char *mlf_u64_digits(char *end, uint64_t u);
void mlf_buf_printf(struct mlf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mlf_buf_vprintf(struct mlf_buf *b, const char *fmt, va_list ap);
void mlf_buf_reset(struct mlf_buf *b);   /* len = 0, keeps memory */
void mlf_buf_release(struct mlf_buf *b); /* frees memory */

/* Milliseconds since the Unix epoch (wall clock). */
int64_t mlf_now_ms(void);

/* 32 lowercase hex characters of a random UUID4 into out[33]. */
void mlf_uuid_hex(char out[33]);
/* 32 lowercase hex characters of a time-ordered UUID7 (RFC 9562: 48 bits
 * of Unix milliseconds, then 74 random bits) into out[33]. Used for run
 * and logged-model ids: the rows keyed by a new id then go near the end of
 * the run_uuid-led indexes instead of at a random place, so those indexes
 * stay fuller and a recent run's rows share pages. */
void mlf_uuid7_hex(char out[33]);
/* Canonical 36-character UUID4 text into out[37]. */
void mlf_uuid_str(char out[37]);

/* Standard base64 encode/decode into the arena. decode returns NULL on bad
 * input; *out_len receives the decoded length. */
char *mlf_base64_encode(struct mlf_arena *a, const void *p, size_t n);
char *mlf_base64_decode(struct mlf_arena *a, const char *s, size_t *out_len);

/* ---- text ---- */

/* Length (1..4) of the well-formed UTF-8 sequence at s, of which avail
 * bytes may be read; 0 when it is not one: a stray continuation byte, a
 * truncated sequence, an overlong form, a surrogate (U+D800..DFFF) or a
 * code point above U+10FFFF. */
int mlf_utf8_seq_len(const unsigned char *s, size_t avail);
/* Offset of the first byte of s[0..n) that does not start a well-formed
 * UTF-8 sequence, or n when all of it is UTF-8. A NUL byte is valid here. */
size_t mlf_utf8_valid_prefix(const char *s, size_t n);
/* Drops, in place, every byte of s (NUL-terminated) that is not part of a
 * whole UTF-8 sequence: what "%.200s" or a full buffer leaves when it cuts a
 * character in two. Error messages pass through it before a client sees them. */
void mlf_utf8_scrub(char *s);

/* ---- URI text ---- */

/* Value of a hex digit, -1 for any other character. */
int mlf_hex_digit(int c);
/* One round of percent-decoding as Python's unquote does it (malformed
 * escapes kept as they are), into the arena. NULL when the result would
 * hold a NUL byte (%00), which no path or URI may contain. */
char *mlf_unquote(struct mlf_arena *a, const char *s);
/* Length of the scheme of a URI as Python's urlsplit finds it ("s3" in
 * "s3://b/p"), 0 when there is none. */
size_t mlf_uri_scheme_len(const char *u);

#endif
