/*
 * graphql.h: the small GraphQL subset mlflowd answers at /graphql, the
 * queries MLflow's own web UI sends (mlflowGetRun, mlflowGetExperiment,
 * mlflowSearchRuns, mlflowGetMetricHistoryBulkInterval).
 *
 * graphql_parse.c turns a query text into the tree below: operations with
 * variable definitions and directives, fields with aliases, arguments and
 * selection sets, and argument values (literals, lists, input objects,
 * variables). It refuses fragments, field directives and block strings,
 * which the UI never sends. graphql.c checks the tree against MLflow's
 * limits and schema and executes it on the store.
 *
 * Every node and string lives in the arena given to the parser.
 */
#ifndef MLF_GRAPHQL_H
#define MLF_GRAPHQL_H

#include <stddef.h>

#include "../storage/base.h"

/* MLflow's query checker (mlflow/server/graphql/graphql_no_batching.py and
 * the MLFLOW_SERVER_GRAPHQL_MAX_* defaults). */
#define MLF_GQL_MAX_DEPTH 10
#define MLF_GQL_MAX_SELECTIONS 1000
#define MLF_GQL_MAX_ROOT_FIELDS 10
#define MLF_GQL_MAX_ALIASES 10
/* mlflowd's own: nesting of selection sets and of values the parser follows
 * (a deeper query is refused as too deep before it can use the stack). */
#define MLF_GQL_MAX_NESTING 64
/* Length of a parse error message. */
#define MLF_GQL_MSG_MAX 512

enum mlf_gql_value_kind {
	MLF_GQL_NULL,
	MLF_GQL_BOOL,
	MLF_GQL_INT,
	MLF_GQL_FLOAT,
	MLF_GQL_STRING,
	MLF_GQL_ENUM,
	MLF_GQL_VAR,
	MLF_GQL_LIST,
	MLF_GQL_OBJECT,
};

struct mlf_gql_value {
	enum mlf_gql_value_kind kind;
	const char *text; /* STRING: decoded; INT/FLOAT: literal; ENUM: name; VAR: name; BOOL: "true"/"false" */
	const char *name; /* the field name, for the fields of an OBJECT */
	struct mlf_gql_value *items; /* LIST elements or OBJECT fields */
	struct mlf_gql_value *next;
};

struct mlf_gql_arg {
	const char *name;
	struct mlf_gql_value *value;
	struct mlf_gql_arg *next;
};

struct mlf_gql_field {
	const char *alias; /* NULL without one */
	const char *name;
	struct mlf_gql_arg *args;
	int has_directives;
	int has_selection;
	struct mlf_gql_field *selection; /* first field of its selection set */
	struct mlf_gql_field *next;      /* next sibling */
};

struct mlf_gql_var_def {
	const char *name;
	const char *type;                    /* as written, normalized: "MlflowGetRunInput!", "[String]" */
	const char *base;                    /* the named type inside: "MlflowGetRunInput" */
	int non_null;                        /* outermost type is non-null */
	struct mlf_gql_value *default_value; /* NULL without one */
	struct mlf_gql_var_def *next;
};

struct mlf_gql_op {
	int mutation;     /* 0: query */
	const char *name; /* NULL when anonymous */
	struct mlf_gql_var_def *vars;
	struct mlf_gql_field *selection;
	struct mlf_gql_op *next;
};

struct mlf_gql_doc {
	struct mlf_gql_op *ops;
};

enum mlf_gql_parse_result {
	MLF_GQL_PARSED,
	MLF_GQL_SYNTAX_ERROR, /* msg: "Syntax Error: ..." */
	MLF_GQL_TOO_DEEP,     /* nested past MLF_GQL_MAX_NESTING */
	MLF_GQL_UNSUPPORTED,  /* valid GraphQL outside the subset (fragments, ...) */
};

/* Parse text[0..n) into *doc. On failure msg holds one line saying why. */
enum mlf_gql_parse_result mlf_gql_parse(struct mlf_arena *a, const char *text, size_t n, struct mlf_gql_doc *doc,
                                        char msg[MLF_GQL_MSG_MAX]);

#endif
