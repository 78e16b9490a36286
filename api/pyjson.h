/*
 * pyjson.h: JSON as Python's json module reads and writes it, for values
 * MLflow stores as text that Python wrote (the mlflow.log-model.history
 * tag): loads accepts what json.loads accepts (NaN, Infinity, -Infinity;
 * a repeated key keeps its first place and its last value), and dumps
 * writes what json.dumps writes by default (", " and ": " separators,
 * ASCII only with \uXXXX escapes, integers digit for digit, floats as
 * Python's repr). Strings are kept as UTF-16 code units, so lone
 * surrogates survive a round trip as they do in Python.
 *
 * Every value lives in the arena given to mlf_py_loads.
 */
#ifndef MLF_PYJSON_H
#define MLF_PYJSON_H

#include <stddef.h>
#include <stdint.h>

#include "../storage/base.h"

#define MLF_PYJSON_MAX_DEPTH 512 /* deeper nesting is refused (Python's recursion limit is near 1000) */

enum mlf_py_type {
	MLF_PY_NULL,
	MLF_PY_TRUE,
	MLF_PY_FALSE,
	MLF_PY_INT,
	MLF_PY_FLOAT,
	MLF_PY_STR,
	MLF_PY_LIST,
	MLF_PY_DICT
};

struct mlf_py {
	enum mlf_py_type type;
	const char *digits;    /* MLF_PY_INT: the integer's decimal text, "-" first when negative */
	double f;              /* MLF_PY_FLOAT */
	const uint16_t *s;     /* MLF_PY_STR: UTF-16 code units */
	size_t slen;           /* MLF_PY_STR: their number */
	struct mlf_py **items; /* MLF_PY_LIST / MLF_PY_DICT: values */
	struct mlf_py **keys;  /* MLF_PY_DICT: keys (strings), parallel to items */
	size_t n, cap;         /* items (and keys) */
};

/* Parse text (n bytes, UTF-8) as json.loads would; NULL when it would raise. */
struct mlf_py *mlf_py_loads(struct mlf_arena *a, const char *text, size_t n);

/* json.dumps(v) appended to b. */
void mlf_py_dumps(struct mlf_buf *b, const struct mlf_py *v);

/* str(v) of the Python value appended to b (UTF-8): a string as it is,
 * numbers, True/False/None, lists and dicts as Python's repr (printable
 * non-ASCII characters kept, ASCII control characters escaped). */
void mlf_py_str(struct mlf_buf *b, const struct mlf_py *v);

/* Python's truthiness of v. */
int mlf_py_truthy(const struct mlf_py *v);

/* The value of key (ASCII) in dict d; NULL when absent or d is no dict. */
struct mlf_py *mlf_py_get(const struct mlf_py *d, const char *key);

/* A new string / dict / null value in the arena; mlf_py_set adds or
 * replaces key (ASCII) in dict d. */
struct mlf_py *mlf_py_new(struct mlf_arena *a, enum mlf_py_type type);
struct mlf_py *mlf_py_new_str(struct mlf_arena *a, const char *utf8);
void mlf_py_set(struct mlf_arena *a, struct mlf_py *d, const char *key, struct mlf_py *v);
void mlf_py_append(struct mlf_arena *a, struct mlf_py *list, struct mlf_py *v);
/* Add key (a string value) and v at the end of dict d, without looking for key. */
void mlf_py_add(struct mlf_arena *a, struct mlf_py *d, struct mlf_py *key, struct mlf_py *v);
/* Is s the string ascii? */
int mlf_py_str_is(const struct mlf_py *s, const char *ascii);

#endif
