/*
 * json.h: a streaming JSON writer for responses. It emits MLflow's wire
 * forms directly: int64 as JSON numbers, doubles in shortest round-trip
 * form with NaN/Infinity as the strings "NaN", "Infinity", "-Infinity"
 * (protobuf JSON), and strings escaped as JSON requires.
 *
 * The writer owns its buffer (mlf_json_release frees it).
 */
#ifndef MLF_JSON_H
#define MLF_JSON_H

#include <stdint.h>

#include "../storage/base.h"

#define MLF_JSON_MAX_DEPTH 64

struct mlf_json {
	struct mlf_buf buf;
	int depth;
	unsigned char first[MLF_JSON_MAX_DEPTH]; /* 1 while the container at that depth is empty */
	int after_key;
};

void mlf_json_obj_begin(struct mlf_json *j);
void mlf_json_obj_end(struct mlf_json *j);
void mlf_json_arr_begin(struct mlf_json *j);
void mlf_json_arr_end(struct mlf_json *j);
void mlf_json_key(struct mlf_json *j, const char *key);
void mlf_json_str(struct mlf_json *j, const char *s);
void mlf_json_strn(struct mlf_json *j, const char *s, size_t n);
void mlf_json_int(struct mlf_json *j, int64_t v);
void mlf_json_double(struct mlf_json *j, double v);
void mlf_json_bool(struct mlf_json *j, int v);
void mlf_json_null(struct mlf_json *j);
/* Write the elements 0..n-1 of an array (j is inside it) with fn. From
 * split_from elements on, when the pool (storage/pool.h) has helpers, the
 * second half is written on another thread into a buffer of its own and
 * then appended; fn must then be safe to run on two threads at once. */
typedef void (*mlf_json_elem_fn)(struct mlf_json *j, const void *ctx, int i);
void mlf_json_elems(struct mlf_json *j, int n, int split_from, mlf_json_elem_fn fn, const void *ctx);
/* Append already-encoded JSON text as one value. */
void mlf_json_raw(struct mlf_json *j, const char *text);
/* The writer's buffer, after the separator, for one value that the caller
 * writes whole (hot paths writing an object by hand); nesting is unchanged. */
struct mlf_buf *mlf_json_raw_value(struct mlf_json *j);
/* A double as mlf_json_double writes it (NaN/Infinity quoted), onto b. */
void mlf_json_put_double(struct mlf_buf *b, double v);

/* key + value; the _str form writes nothing when s is NULL (unset fields
 * are omitted, as MLflow does). */
void mlf_json_kv_str(struct mlf_json *j, const char *key, const char *s);
void mlf_json_kv_int(struct mlf_json *j, const char *key, int64_t v);
void mlf_json_kv_double(struct mlf_json *j, const char *key, double v);
void mlf_json_kv_bool(struct mlf_json *j, const char *key, int v);

/* Escape s as a JSON string literal (with quotes) onto b. */
void mlf_json_escape(struct mlf_buf *b, const char *s, size_t n);

/* Format v the way MLflow's JSON does (shortest round-trip; integral
 * values as "1.0"); NaN/Inf become "NaN"/"Infinity"/"-Infinity" without
 * quotes. Returns the length written into out[32]. */
int mlf_format_double(char out[32], double v);

/* MLflow's error body onto b: {"error_code", "message", "sqlstate",
 * "error_class"} as MlflowException.serialize_as_json writes it (the last
 * two derived from the code as MLflow derives them, absent for codes it
 * has no class for). Bytes of msg that are not UTF-8 (a message cut short,
 * user text echoed) are written as U+FFFD, so the body is always JSON. */
void mlf_json_error_body(struct mlf_buf *b, enum mlf_status st, const char *msg);

void mlf_json_reset(struct mlf_json *j);
void mlf_json_release(struct mlf_json *j);

#endif
