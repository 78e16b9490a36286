/*
 * graphql.c: POST/GET /graphql, the GraphQL queries MLflow's web UI sends
 * (see graphql.h), answered as MLflow's graphene schema answers them:
 * {"data": ..., "errors": null | ["message", ...]}, camelCase fields,
 * int64 (LongString) fields as JSON strings, __typename on request, unset
 * fields as their protobuf defaults ("", "0", [], the enum's first value),
 * NaN metric values as null.
 *
 * The order of checks is MLflow's: parse, the query checker's limits
 * (depth, total selections, root fields, aliases), validation against the
 * schema (fields, arguments, variables), then execution, where a failing
 * resolver nulls its root field and adds its message to "errors".
 *
 * Resolvers call the REST handlers of the same resources (runs/get,
 * experiments/get, runs/search, metrics/get-history-bulk-interval) on a
 * sub-request, so validation, messages and storage reads are the REST
 * API's, and reshape their JSON through the selection set. A run's model
 * versions come from storage (run_model_versions.h).
 *
 * Request-level problems MLflow's server answers with an HTML 500 (a body
 * that is not a JSON object, a batched array, no query string, variables
 * that are not an object, a syntax error) get a 400 with MLflow's JSON
 * error body here instead.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/run_model_versions.h"
#include "api.h"
#include "graphql.h"

/* ---- schema ---- */

enum kind { K_STRING, K_LONG, K_FLOAT, K_NAN_FLOAT, K_INT, K_BOOL, K_ENUM, K_OBJECT };
enum special { SP_NONE, SP_API_ERROR, SP_EXPERIMENT, SP_MODEL_VERSIONS };

struct gtype;
struct gfield {
	const char *name; /* camelCase */
	const char *rest; /* the REST JSON key */
	enum kind kind;
	int list;
	const struct gtype *type; /* K_OBJECT */
	const char *type_name;    /* leaf types: for messages */
	const char *enum_default; /* K_ENUM: the protobuf default; K_STRING: the value when unset, "" if NULL */
	enum special special;
};
struct gtype {
	const char *name;
	const struct gfield *fields; /* ends with a NULL name */
};

#define STR(n, r)                                                \
	{                                                        \
		n, r, K_STRING, 0, NULL, "String", NULL, SP_NONE \
	}
#define LONG(n, r)                                                 \
	{                                                          \
		n, r, K_LONG, 0, NULL, "LongString", NULL, SP_NONE \
	}
#define OBJ(n, r, t)                                       \
	{                                                  \
		n, r, K_OBJECT, 0, &t, NULL, NULL, SP_NONE \
	}
#define OBJS(n, r, t)                                      \
	{                                                  \
		n, r, K_OBJECT, 1, &t, NULL, NULL, SP_NONE \
	}
#define END                                                        \
	{                                                          \
		NULL, NULL, K_STRING, 0, NULL, NULL, NULL, SP_NONE \
	}

static const struct gfield error_detail_fields[] = {STR("field", "field"), STR("message", "message"), END};
static const struct gtype t_error_detail = {"ErrorDetail", error_detail_fields};
static const struct gfield api_error_fields[] = {STR("code", "code"),
                                                 STR("message", "message"),
                                                 STR("helpUrl", "help_url"),
                                                 STR("traceId", "trace_id"),
                                                 OBJS("errorDetails", "error_details", t_error_detail),
                                                 END};
static const struct gtype t_api_error = {"ApiError", api_error_fields};
#define API_ERROR                                                                     \
	{                                                                             \
		"apiError", NULL, K_OBJECT, 0, &t_api_error, NULL, NULL, SP_API_ERROR \
	}

static const struct gfield kv_fields[] = {STR("key", "key"), STR("value", "value"), END};
static const struct gtype t_experiment_tag = {"MlflowExperimentTag", kv_fields};
static const struct gtype t_run_tag = {"MlflowRunTag", kv_fields};
static const struct gtype t_param = {"MlflowParam", kv_fields};
static const struct gtype t_input_tag = {"MlflowInputTag", kv_fields};

static const struct gfield experiment_fields[] = {
    STR("experimentId", "experiment_id"),
    STR("name", "name"),
    STR("artifactLocation", "artifact_location"),
    STR("lifecycleStage", "lifecycle_stage"),
    LONG("lastUpdateTime", "last_update_time"),
    LONG("creationTime", "creation_time"),
    OBJS("tags", "tags", t_experiment_tag),
    STR("effectiveTraceArchivalRetention", "effective_trace_archival_retention"),
    /* without workspaces MLflow answers the default one */
    {"workspace", "workspace", K_STRING, 0, NULL, "String", "default", SP_NONE},
    END};
static const struct gtype t_experiment = {"MlflowExperiment", experiment_fields};

static const struct gfield model_version_fields[] = {
    STR("name", "name"),
    STR("version", "version"),
    LONG("creationTimestamp", "creation_timestamp"),
    LONG("lastUpdatedTimestamp", "last_updated_timestamp"),
    STR("userId", "user_id"),
    STR("currentStage", "current_stage"),
    STR("description", "description"),
    STR("source", "source"),
    STR("runId", "run_id"),
    {"status", "status", K_ENUM, 0, NULL, "MlflowModelVersionStatus", "PENDING_REGISTRATION", SP_NONE},
    STR("statusMessage", "status_message"),
    STR("runLink", "run_link"),
    END};
static const struct gtype t_model_version = {"MlflowModelVersion", model_version_fields};

static const struct gfield run_info_fields[] = {
    STR("runId", "run_id"),
    STR("runUuid", "run_uuid"),
    STR("runName", "run_name"),
    STR("experimentId", "experiment_id"),
    STR("userId", "user_id"),
    {"status", "status", K_ENUM, 0, NULL, "MlflowRunStatus", "RUNNING", SP_NONE},
    LONG("startTime", "start_time"),
    LONG("endTime", "end_time"),
    STR("artifactUri", "artifact_uri"),
    STR("lifecycleStage", "lifecycle_stage"),
    END};
static const struct gtype t_run_info = {"MlflowRunInfo", run_info_fields};

static const struct gfield metric_fields[] = {STR("key", "key"),
                                              {"value", "value", K_NAN_FLOAT, 0, NULL, "Float", NULL, SP_NONE},
                                              LONG("timestamp", "timestamp"),
                                              LONG("step", "step"),
                                              STR("datasetName", "dataset_name"),
                                              STR("datasetDigest", "dataset_digest"),
                                              STR("modelId", "model_id"),
                                              STR("runId", "run_id"),
                                              END};
static const struct gtype t_metric = {"MlflowMetricExtension", metric_fields};

static const struct gfield run_data_fields[] = {OBJS("metrics", "metrics", t_metric), OBJS("params", "params", t_param),
                                                OBJS("tags", "tags", t_run_tag), END};
static const struct gtype t_run_data = {"MlflowRunData", run_data_fields};

static const struct gfield dataset_fields[] = {STR("name", "name"),
                                               STR("digest", "digest"),
                                               STR("sourceType", "source_type"),
                                               STR("source", "source"),
                                               STR("schema", "schema"),
                                               STR("profile", "profile"),
                                               END};
static const struct gtype t_dataset = {"MlflowDataset", dataset_fields};
static const struct gfield dataset_input_fields[] = {OBJS("tags", "tags", t_input_tag),
                                                     OBJ("dataset", "dataset", t_dataset), END};
static const struct gtype t_dataset_input = {"MlflowDatasetInput", dataset_input_fields};
static const struct gfield model_input_fields[] = {STR("modelId", "model_id"), END};
static const struct gtype t_model_input = {"MlflowModelInput", model_input_fields};
static const struct gfield run_inputs_fields[] = {OBJS("datasetInputs", "dataset_inputs", t_dataset_input),
                                                  OBJS("modelInputs", "model_inputs", t_model_input), END};
static const struct gtype t_run_inputs = {"MlflowRunInputs", run_inputs_fields};
static const struct gfield model_output_fields[] = {STR("modelId", "model_id"), LONG("step", "step"), END};
static const struct gtype t_model_output = {"MlflowModelOutput", model_output_fields};
static const struct gfield run_outputs_fields[] = {OBJS("modelOutputs", "model_outputs", t_model_output), END};
static const struct gtype t_run_outputs = {"MlflowRunOutputs", run_outputs_fields};

static const struct gfield run_fields[] = {
    OBJ("info", "info", t_run_info),
    OBJ("data", "data", t_run_data),
    OBJ("inputs", "inputs", t_run_inputs),
    OBJ("outputs", "outputs", t_run_outputs),
    {"experiment", NULL, K_OBJECT, 0, &t_experiment, NULL, NULL, SP_EXPERIMENT},
    {"modelVersions", NULL, K_OBJECT, 1, &t_model_version, NULL, NULL, SP_MODEL_VERSIONS},
    END};
static const struct gtype t_run = {"MlflowRunExtension", run_fields};

static const struct gfield get_run_response_fields[] = {OBJ("run", "run", t_run), API_ERROR, END};
static const struct gtype t_get_run_response = {"MlflowGetRunResponse", get_run_response_fields};
static const struct gfield get_experiment_response_fields[] = {OBJ("experiment", "experiment", t_experiment), API_ERROR,
                                                               END};
static const struct gtype t_get_experiment_response = {"MlflowGetExperimentResponse", get_experiment_response_fields};
static const struct gfield search_runs_response_fields[] = {OBJS("runs", "runs", t_run),
                                                            STR("nextPageToken", "next_page_token"), API_ERROR, END};
static const struct gtype t_search_runs_response = {"MlflowSearchRunsResponse", search_runs_response_fields};
static const struct gfield metric_with_run_id_fields[] = {STR("key", "key"),
                                                          {"value", "value", K_FLOAT, 0, NULL, "Float", NULL, SP_NONE},
                                                          LONG("timestamp", "timestamp"),
                                                          LONG("step", "step"),
                                                          STR("runId", "run_id"),
                                                          END};
static const struct gtype t_metric_with_run_id = {"MlflowMetricWithRunId", metric_with_run_id_fields};
static const struct gfield bulk_interval_response_fields[] = {OBJS("metrics", "metrics", t_metric_with_run_id),
                                                              API_ERROR, END};
static const struct gtype t_bulk_interval_response = {"MlflowGetMetricHistoryBulkIntervalResponse",
                                                      bulk_interval_response_fields};

/* Input types: their fields and the REST request fields they become. */
struct ginput_field {
	const char *name, *rest;
	enum kind kind; /* K_STRING, K_INT or K_ENUM (ViewType) */
	int list;
	const char *type_name;
	int ignored; /* checked, then left out of the REST request (see below) */
};
struct ginput {
	const char *name;
	const struct ginput_field *fields;
};
static const struct ginput_field get_run_input_fields[] = {{"runId", "run_id", K_STRING, 0, "String", 0},
                                                           {"runUuid", "run_uuid", K_STRING, 0, "String", 0},
                                                           {NULL, NULL, 0, 0, NULL, 0}};
static const struct ginput_field get_experiment_input_fields[] = {
    {"experimentId", "experiment_id", K_STRING, 0, "String", 0}, {NULL, NULL, 0, 0, NULL, 0}};
static const struct ginput_field search_runs_input_fields[] = {
    {"experimentIds", "experiment_ids", K_STRING, 1, "String", 0},
    {"filter", "filter", K_STRING, 0, "String", 0},
    {"runViewType", "run_view_type", K_ENUM, 0, "MlflowViewType", 0},
    {"maxResults", "max_results", K_INT, 0, "Int", 0},
    {"orderBy", "order_by", K_STRING, 1, "String", 0},
    {"pageToken", "page_token", K_STRING, 0, "String", 0},
    {NULL, NULL, 0, 0, NULL, 0}};
static const struct ginput_field bulk_interval_input_fields[] = {
    {"runIds", "run_ids", K_STRING, 1, "String", 0},
    {"metricKey", "metric_key", K_STRING, 0, "String", 0},
    /* MLflow's resolver reads these three from the /graphql URL's query string
     * (request.args), never from the input: the UI's values change nothing. */
    {"startStep", "start_step", K_INT, 0, "Int", 1},
    {"endStep", "end_step", K_INT, 0, "Int", 1},
    {"maxResults", "max_results", K_INT, 0, "Int", 1},
    {NULL, NULL, 0, 0, NULL, 0}};
static const struct ginput in_get_run = {"MlflowGetRunInput", get_run_input_fields};
static const struct ginput in_get_experiment = {"MlflowGetExperimentInput", get_experiment_input_fields};
static const struct ginput in_search_runs = {"MlflowSearchRunsInput", search_runs_input_fields};
static const struct ginput in_bulk_interval = {"MlflowGetMetricHistoryBulkIntervalInput", bulk_interval_input_fields};

struct groot {
	const char *name;
	int query, mutation; /* under which root type */
	const struct gtype *type;
	const struct ginput *input;
	mlf_handler_fn handler;
	const char *method;
};
static const struct groot roots[] = {
    {"mlflowGetRun", 1, 0, &t_get_run_response, &in_get_run, mlf_api_runs_get, "GET"},
    {"mlflowGetExperiment", 1, 0, &t_get_experiment_response, &in_get_experiment, mlf_api_experiments_get, "GET"},
    {"mlflowSearchRuns", 1, 1, &t_search_runs_response, &in_search_runs, mlf_api_runs_search, "POST"},
    {"mlflowGetMetricHistoryBulkInterval", 1, 0, &t_bulk_interval_response, &in_bulk_interval,
     mlf_api_metrics_get_history_bulk_interval, "GET"},
};
/* Root fields of MLflow's schema that mlflowd does not answer. */
static const char *const unsupported_roots[] = {"mlflowListArtifacts", "mlflowSearchModelVersions",
                                                "mlflowSearchDatasets", "test", "testMutation"};

static const char *const view_types[] = {"ACTIVE_ONLY", "DELETED_ONLY", "ALL"};

/* ---- execution state ---- */

#define MAX_ERRORS 64

struct exec {
	struct mlf_req *req;
	const struct mlf_gql_op *op;
	cJSON *vars; /* the request's variables object (borrowed), or NULL */
	const char *errors[MAX_ERRORS];
	int nerrors;
	/* the last experiment a run resolved (runs of a search share it) */
	char exp_id[32];
	cJSON *exp_json; /* owned */
	const char *exp_err;
};

static void add_error(struct exec *x, const char *msg)
{
	if (x->nerrors < MAX_ERRORS)
		x->errors[x->nerrors++] = mlf_arena_strdup(&x->req->arena, msg);
}

static void add_errorf(struct exec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_errorf(struct exec *x, const char *fmt, ...)
{
	char msg[MLF_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	add_error(x, msg);
}

/* ---- the query checker (MLflow's graphql_no_batching.py) ---- */

static void scan(const struct mlf_gql_field *sel, int depth, int *max_depth, long *selections, int *max_aliases)
{
	if (depth > *max_depth)
		*max_depth = depth;
	int aliases = 0;
	for (const struct mlf_gql_field *f = sel; f; f = f->next) {
		(*selections)++;
		if (f->alias)
			aliases++;
		if (f->has_selection)
			scan(f->selection, depth + 1, max_depth, selections, max_aliases);
	}
	if (aliases > *max_aliases)
		*max_aliases = aliases;
}

static int check_limits(struct exec *x, const struct mlf_gql_doc *doc)
{
	int max_depth = 0, max_aliases = 0, roots_n = 0;
	long selections = 0;
	for (const struct mlf_gql_op *op = doc->ops; op; op = op->next) {
		scan(op->selection, 1, &max_depth, &selections, &max_aliases);
		for (const struct mlf_gql_field *f = op->selection; f; f = f->next)
			roots_n++;
	}
	if (max_depth > MLF_GQL_MAX_DEPTH)
		add_errorf(x, "Query exceeds maximum depth of %d", MLF_GQL_MAX_DEPTH);
	else if (selections > MLF_GQL_MAX_SELECTIONS)
		add_errorf(x, "Query exceeds maximum total selections of %d", MLF_GQL_MAX_SELECTIONS);
	else if (roots_n > MLF_GQL_MAX_ROOT_FIELDS)
		add_errorf(x,
		           "GraphQL queries should have at most %d root fields, got %d root fields. To increase the "
		           "limit, set the MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS environment variable.",
		           MLF_GQL_MAX_ROOT_FIELDS, roots_n);
	else if (max_aliases > MLF_GQL_MAX_ALIASES)
		add_errorf(x,
		           "GraphQL queries should have at most %d aliases, got %d aliases. To increase the limit, set "
		           "the MLFLOW_SERVER_GRAPHQL_MAX_ALIASES environment variable.",
		           MLF_GQL_MAX_ALIASES, max_aliases);
	return x->nerrors == 0;
}

/* ---- validation ---- */

static const struct gfield *find_field(const struct gtype *t, const char *name)
{
	for (const struct gfield *f = t->fields; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

static const struct groot *find_root(const char *name, int mutation)
{
	for (size_t i = 0; i < sizeof roots / sizeof *roots; i++)
		if (!strcmp(roots[i].name, name) && (mutation ? roots[i].mutation : roots[i].query))
			return &roots[i];
	return NULL;
}

static const struct mlf_gql_var_def *find_var(const struct mlf_gql_op *op, const char *name)
{
	for (const struct mlf_gql_var_def *d = op->vars; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

/* A variable used where type `expect` (a named type) is expected. */
static void check_var_use(struct exec *x, const char *var, const char *expect, int list)
{
	const struct mlf_gql_var_def *d = find_var(x->op, var);
	if (!d) {
		if (x->op->name)
			add_errorf(x, "Variable '$%.100s' is not defined by operation '%.100s'.", var, x->op->name);
		else
			add_errorf(x, "Variable '$%.100s' is not defined.", var);
		return;
	}
	int d_list = d->type[0] == '[';
	if (strcmp(d->base, expect) || (d_list && !list))
		add_errorf(x, "Variable '$%.100s' of type '%.100s' used in position expecting type '%s%s%s'.", var,
		           d->type, list ? "[" : "", expect, list ? "]" : "");
}

static void validate_input_literal(struct exec *x, const struct ginput *in, const struct mlf_gql_value *v)
{
	if (v->kind == MLF_GQL_VAR) {
		check_var_use(x, v->text, in->name, 0);
		return;
	}
	if (v->kind == MLF_GQL_NULL)
		return;
	if (v->kind != MLF_GQL_OBJECT) {
		add_errorf(x, "Expected value of type '%s', found %s.", in->name, v->text ? v->text : "a list");
		return;
	}
	for (const struct mlf_gql_value *f = v->items; f; f = f->next) {
		const struct ginput_field *fd = NULL;
		for (const struct ginput_field *g = in->fields; g->name; g++)
			if (!strcmp(g->name, f->name))
				fd = g;
		if (!fd) {
			add_errorf(x, "Field '%.100s' is not defined by type '%s'.", f->name, in->name);
			continue;
		}
		if (f->kind == MLF_GQL_VAR)
			check_var_use(x, f->text, fd->type_name, fd->list);
		for (const struct mlf_gql_value *e = f->kind == MLF_GQL_LIST ? f->items : NULL; e; e = e->next)
			if (e->kind == MLF_GQL_VAR)
				check_var_use(x, e->text, fd->type_name, 0);
	}
}

static void validate_selection(struct exec *x, const struct gtype *t, const struct mlf_gql_field *sel)
{
	for (const struct mlf_gql_field *f = sel; f; f = f->next) {
		if (f->has_directives) {
			add_error(x, "Directives on fields are not supported by mlflowd's GraphQL endpoint.");
			continue;
		}
		if (!strcmp(f->name, "__typename")) {
			if (f->args)
				add_errorf(x, "Unknown argument '%.100s' on field '%s.__typename'.", f->args->name,
				           t->name);
			continue;
		}
		const struct gfield *fd = find_field(t, f->name);
		if (!fd) {
			add_errorf(x, "Cannot query field '%.100s' on type '%s'.", f->name, t->name);
			continue;
		}
		if (f->args)
			add_errorf(x, "Unknown argument '%.100s' on field '%s.%s'.", f->args->name, t->name, fd->name);
		if (fd->kind == K_OBJECT) {
			if (!f->has_selection)
				add_errorf(x,
				           "Field '%s' of type '%s%s%s' must have a selection of subfields. Did you "
				           "mean '%s { "
				           "... }'?",
				           fd->name, fd->list ? "[" : "", fd->type->name, fd->list ? "!]" : "",
				           fd->name);
			else
				validate_selection(x, fd->type, f->selection);
		} else if (f->has_selection) {
			add_errorf(x, "Field '%s' must not have a selection since type '%s' has no subfields.",
			           fd->name, fd->type_name);
		}
	}
}

static void validate_root(struct exec *x)
{
	const char *root_type = x->op->mutation ? "Mutation" : "Query";
	for (const struct mlf_gql_field *f = x->op->selection; f; f = f->next) {
		if (f->has_directives) {
			add_error(x, "Directives on fields are not supported by mlflowd's GraphQL endpoint.");
			continue;
		}
		if (!strcmp(f->name, "__typename"))
			continue;
		const struct groot *r = find_root(f->name, x->op->mutation);
		if (!r) {
			int known = 0;
			for (size_t i = 0; i < sizeof unsupported_roots / sizeof *unsupported_roots; i++)
				known |= !strcmp(unsupported_roots[i], f->name);
			if (known)
				add_errorf(x, "Field '%s.%.100s' is not supported by mlflowd's GraphQL endpoint.",
				           root_type, f->name);
			else if (!strncmp(f->name, "__", 2))
				add_error(x, "Introspection is not supported by mlflowd's GraphQL endpoint.");
			else
				add_errorf(x, "Cannot query field '%.100s' on type '%s'.", f->name, root_type);
			continue;
		}
		for (const struct mlf_gql_arg *a = f->args; a; a = a->next) {
			if (strcmp(a->name, "input"))
				add_errorf(x, "Unknown argument '%.100s' on field '%s.%s'.", a->name, root_type,
				           r->name);
			else
				validate_input_literal(x, r->input, a->value);
		}
		if (!f->has_selection)
			add_errorf(
			    x, "Field '%s' of type '%s' must have a selection of subfields. Did you mean '%s { ... }'?",
			    r->name, r->type->name, r->name);
		else
			validate_selection(x, r->type, f->selection);
	}
	/* Variables declared non-null must be given (or have a default). */
	for (const struct mlf_gql_var_def *d = x->op->vars; d; d = d->next) {
		cJSON *v = x->vars ? cJSON_GetObjectItemCaseSensitive(x->vars, d->name) : NULL;
		if (d->non_null && !d->default_value && (!v || cJSON_IsNull(v)))
			add_errorf(x, "Variable '$%.100s' of required type '%.100s' was not provided.", d->name,
			           d->type);
	}
}

/* ---- input coercion: GraphQL input -> REST request object ---- */

static int coerce_scalar(struct exec *x, const struct ginput *in, const struct ginput_field *fd, cJSON *v, cJSON **out)
{
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 1;
	switch (fd->kind) {
	case K_STRING:
		if (!cJSON_IsString(v)) {
			add_errorf(x, "Invalid value for '%s.%s': String cannot represent a non string value.",
			           in->name, fd->name);
			return 0;
		}
		*out = cJSON_CreateString(v->valuestring);
		return 1;
	case K_INT:
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble > 2147483647.0 ||
		    v->valuedouble < -2147483648.0) {
			add_errorf(x,
			           "Invalid value for '%s.%s': Int cannot represent a non 32-bit signed integer value.",
			           in->name, fd->name);
			return 0;
		}
		*out = cJSON_CreateNumber(v->valuedouble);
		return 1;
	default: /* K_ENUM: MlflowViewType */
		if (cJSON_IsString(v))
			for (size_t i = 0; i < sizeof view_types / sizeof *view_types; i++)
				if (!strcmp(v->valuestring, view_types[i])) {
					*out = cJSON_CreateString(v->valuestring);
					return 1;
				}
		add_errorf(x, "Invalid value for '%s.%s': Value does not exist in 'MlflowViewType' enum.", in->name,
		           fd->name);
		return 0;
	}
}

/* A literal value as JSON, with variables replaced (NULL for null). */
static cJSON *literal_json(struct exec *x, const struct mlf_gql_value *v, int depth)
{
	if (depth > MLF_GQL_MAX_NESTING)
		return NULL;
	switch (v->kind) {
	case MLF_GQL_NULL: return NULL;
	case MLF_GQL_BOOL: return cJSON_CreateBool(!strcmp(v->text, "true"));
	case MLF_GQL_INT:
	case MLF_GQL_FLOAT: return cJSON_CreateNumber(strtod(v->text, NULL));
	case MLF_GQL_STRING:
	case MLF_GQL_ENUM: return cJSON_CreateString(v->text);
	case MLF_GQL_VAR: {
		cJSON *val = x->vars ? cJSON_GetObjectItemCaseSensitive(x->vars, v->text) : NULL;
		if (!val || cJSON_IsNull(val)) {
			const struct mlf_gql_var_def *d = find_var(x->op, v->text);
			return d && d->default_value ? literal_json(x, d->default_value, depth + 1) : NULL;
		}
		return cJSON_Duplicate(val, 1);
	}
	case MLF_GQL_LIST: {
		cJSON *arr = cJSON_CreateArray();
		for (const struct mlf_gql_value *e = v->items; e; e = e->next) {
			cJSON *j = literal_json(x, e, depth + 1);
			cJSON_AddItemToArray(arr, j ? j : cJSON_CreateNull());
		}
		return arr;
	}
	case MLF_GQL_OBJECT: {
		cJSON *obj = cJSON_CreateObject();
		for (const struct mlf_gql_value *e = v->items; e; e = e->next) {
			cJSON *j = literal_json(x, e, depth + 1);
			cJSON_AddItemToObject(obj, e->name, j ? j : cJSON_CreateNull());
		}
		return obj;
	}
	}
	return NULL;
}

/* The REST request object of a root field's `input` argument; NULL after
 * adding an error. */
static cJSON *build_input(struct exec *x, const struct groot *r, const struct mlf_gql_field *f)
{
	cJSON *gin = NULL;
	for (const struct mlf_gql_arg *a = f->args; a; a = a->next)
		if (!strcmp(a->name, "input"))
			gin = literal_json(x, a->value, 0);
	cJSON *rest = cJSON_CreateObject();
	if (!gin)
		return rest;
	if (!cJSON_IsObject(gin)) {
		add_errorf(x, "Expected type '%s' to be a dict.", r->input->name);
		cJSON_Delete(gin);
		cJSON_Delete(rest);
		return NULL;
	}
	int ok = 1;
	for (cJSON *e = gin->child; e && ok; e = e->next) {
		const struct ginput_field *fd = NULL;
		for (const struct ginput_field *g = r->input->fields; g->name; g++)
			if (!strcmp(g->name, e->string))
				fd = g;
		if (!fd) {
			add_errorf(x, "Field '%.100s' is not defined by type '%s'.", e->string, r->input->name);
			ok = 0;
			break;
		}
		cJSON *val = NULL;
		if (fd->list && cJSON_IsArray(e)) {
			val = cJSON_CreateArray();
			for (cJSON *it = e->child; it && ok; it = it->next) {
				cJSON *one;
				ok = coerce_scalar(x, r->input, fd, it, &one);
				if (one)
					cJSON_AddItemToArray(val, one);
			}
		} else {
			cJSON *one;
			ok = coerce_scalar(x, r->input, fd, e, &one);
			if (one && fd->list) {
				val = cJSON_CreateArray();
				cJSON_AddItemToArray(val, one);
			} else {
				val = one;
			}
		}
		if (val && fd->ignored)
			cJSON_Delete(val);
		else if (val)
			cJSON_AddItemToObject(rest, fd->rest, val);
	}
	cJSON_Delete(gin);
	if (!ok) {
		cJSON_Delete(rest);
		return NULL;
	}
	return rest;
}

/* Run a REST handler on a sub-request. Returns its JSON answer (the
 * caller's) or NULL with *msg (arena) set. */
static cJSON *call_rest(struct exec *x, mlf_handler_fn fn, const char *method, cJSON *in, const char **msg)
{
	struct mlf_req sub = {
	    .method = method, .path = "", .prefix = "/ajax-api/2.0", .in = in, .db = x->req->db, .cfg = x->req->cfg};
	cJSON *out = NULL;
	enum mlf_status st = fn(&sub);
	if (st == MLF_OK) {
		out = sub.out.buf.len ? cJSON_ParseWithLength(sub.out.buf.data, sub.out.buf.len) : cJSON_CreateObject();
		if (!out)
			*msg = "Internal error: the answer could not be read back";
	} else {
		*msg = mlf_arena_strdup(&x->req->arena, sub.err.msg);
	}
	mlf_json_release(&sub.out);
	mlf_arena_release(&sub.arena);
	return out;
}

/* ---- rendering ---- */

static void render_object(struct exec *x, struct mlf_json *j, const struct gtype *t, const cJSON *obj,
                          const struct mlf_gql_field *sel, const cJSON *parent);

/* Skip a field whose response key an earlier sibling already wrote. */
static int seen_before(const struct mlf_gql_field *sel, const struct mlf_gql_field *f)
{
	const char *key = f->alias ? f->alias : f->name;
	for (const struct mlf_gql_field *g = sel; g != f; g = g->next)
		if (!strcmp(g->alias ? g->alias : g->name, key))
			return 1;
	return 0;
}

static void render_long(struct mlf_json *j, const cJSON *v)
{
	if (cJSON_IsString(v)) {
		mlf_json_str(j, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		char s[40];
		snprintf(s, sizeof s, "%.0f", v->valuedouble);
		mlf_json_str(j, s);
	} else {
		mlf_json_str(j, "0");
	}
}

static void render_float(struct mlf_json *j, const cJSON *v)
{
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
		mlf_json_double(j, v->valuedouble);
	else if (!v)
		mlf_json_double(j, 0.0);
	else
		mlf_json_null(j); /* "NaN", "Infinity": GraphQL's Float has no such values */
}

static void render_leaf(struct mlf_json *j, const struct gfield *fd, const cJSON *v)
{
	switch (fd->kind) {
	case K_LONG: render_long(j, v); return;
	case K_FLOAT:
	case K_NAN_FLOAT: render_float(j, v); return;
	case K_ENUM: mlf_json_str(j, cJSON_IsString(v) ? v->valuestring : fd->enum_default); return;
	case K_INT: mlf_json_int(j, cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0); return;
	case K_BOOL: mlf_json_bool(j, cJSON_IsTrue(v)); return;
	default:
		if (cJSON_IsString(v))
			mlf_json_str(j, v->valuestring);
		else if (cJSON_IsNumber(v))
			render_long(j, v); /* ids the REST API writes as numbers */
		else
			mlf_json_str(j, fd->enum_default ? fd->enum_default : "");
	}
}

/* The experiment of a run (cached across the runs of one answer). */
static void render_run_experiment(struct exec *x, struct mlf_json *j, const struct gfield *fd, const cJSON *run,
                                  const struct mlf_gql_field *sel)
{
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(run, "info");
	const cJSON *eid = info ? cJSON_GetObjectItemCaseSensitive(info, "experiment_id") : NULL;
	const char *id = cJSON_IsString(eid) ? eid->valuestring : "0";
	if (!x->exp_json && !x->exp_err ? 1 : strcmp(x->exp_id, id) != 0) {
		cJSON_Delete(x->exp_json);
		x->exp_json = NULL;
		x->exp_err = NULL;
		snprintf(x->exp_id, sizeof x->exp_id, "%s", id);
		cJSON *in = cJSON_CreateObject();
		cJSON_AddStringToObject(in, "experiment_id", id);
		x->exp_json = call_rest(x, mlf_api_experiments_get, "GET", in, &x->exp_err);
		cJSON_Delete(in);
	}
	if (!x->exp_json) {
		add_error(x, x->exp_err);
		mlf_json_null(j);
		return;
	}
	render_object(x, j, fd->type, cJSON_GetObjectItemCaseSensitive(x->exp_json, "experiment"), sel, NULL);
}

/* The registered model versions of a run, read from storage. */
static void render_model_versions(struct exec *x, struct mlf_json *j, const struct gfield *fd, const cJSON *run,
                                  const struct mlf_gql_field *sel)
{
	const cJSON *info = cJSON_GetObjectItemCaseSensitive(run, "info");
	const cJSON *rid = info ? cJSON_GetObjectItemCaseSensitive(info, "run_id") : NULL;
	struct mlf_model_version *mv = NULL;
	int n = 0;
	struct mlf_error err = {0};
	struct mlf_conn *c = mlf_db_read(x->req->db, &err);
	if (!c || mlf_run_model_versions(c, &x->req->arena, cJSON_IsString(rid) ? rid->valuestring : "", &mv, &n,
	                                 &err) != MLF_OK) {
		add_error(x, err.msg);
		mlf_json_null(j);
		return;
	}
	mlf_json_arr_begin(j);
	for (int i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		char num[24];
		if (mv[i].name)
			cJSON_AddStringToObject(o, "name", mv[i].name);
		snprintf(num, sizeof num, "%lld", (long long)mv[i].version);
		cJSON_AddStringToObject(o, "version", num);
		snprintf(num, sizeof num, "%lld", (long long)mv[i].creation_time);
		cJSON_AddStringToObject(o, "creation_timestamp", num);
		snprintf(num, sizeof num, "%lld", (long long)mv[i].last_updated_time);
		cJSON_AddStringToObject(o, "last_updated_timestamp", num);
		const char *const strs[][2] = {{"description", mv[i].description},
		                               {"user_id", mv[i].user_id},
		                               {"current_stage", mv[i].current_stage},
		                               {"source", mv[i].source},
		                               {"run_id", mv[i].run_id},
		                               {"status", mv[i].status},
		                               {"status_message", mv[i].status_message},
		                               {"run_link", mv[i].run_link}};
		for (size_t k = 0; k < sizeof strs / sizeof *strs; k++)
			if (strs[k][1])
				cJSON_AddStringToObject(o, strs[k][0], strs[k][1]);
		render_object(x, j, fd->type, o, sel, NULL);
		cJSON_Delete(o);
	}
	mlf_json_arr_end(j);
}

static void render_object(struct exec *x, struct mlf_json *j, const struct gtype *t, const cJSON *obj,
                          const struct mlf_gql_field *sel, const cJSON *parent)
{
	(void)parent;
	mlf_json_obj_begin(j);
	for (const struct mlf_gql_field *f = sel; f; f = f->next) {
		if (seen_before(sel, f))
			continue;
		mlf_json_key(j, f->alias ? f->alias : f->name);
		if (!strcmp(f->name, "__typename")) {
			mlf_json_str(j, t->name);
			continue;
		}
		const struct gfield *fd = find_field(t, f->name);
		switch (fd->special) {
		case SP_API_ERROR: mlf_json_null(j); continue; /* MLflow's server never fills it */
		case SP_EXPERIMENT: render_run_experiment(x, j, fd, obj, f->selection); continue;
		case SP_MODEL_VERSIONS: render_model_versions(x, j, fd, obj, f->selection); continue;
		default: break;
		}
		const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, fd->rest) : NULL;
		if (fd->kind != K_OBJECT) {
			render_leaf(j, fd, v);
		} else if (fd->list) {
			mlf_json_arr_begin(j);
			const cJSON *e;
			if (cJSON_IsArray(v))
				cJSON_ArrayForEach(e, v) render_object(x, j, fd->type, e, f->selection, obj);
			mlf_json_arr_end(j);
		} else {
			render_object(x, j, fd->type, cJSON_IsObject(v) ? v : NULL, f->selection, obj);
		}
	}
	mlf_json_obj_end(j);
}

static void execute(struct exec *x, struct mlf_json *data)
{
	mlf_json_obj_begin(data);
	for (const struct mlf_gql_field *f = x->op->selection; f; f = f->next) {
		if (seen_before(x->op->selection, f))
			continue;
		mlf_json_key(data, f->alias ? f->alias : f->name);
		if (!strcmp(f->name, "__typename")) {
			mlf_json_str(data, x->op->mutation ? "Mutation" : "Query");
			continue;
		}
		const struct groot *r = find_root(f->name, x->op->mutation);
		cJSON *in = build_input(x, r, f);
		if (!in) {
			mlf_json_null(data);
			continue;
		}
		const char *msg = NULL;
		cJSON *answer = call_rest(x, r->handler, r->method, in, &msg);
		cJSON_Delete(in);
		if (!answer) {
			add_error(x, msg);
			mlf_json_null(data);
			continue;
		}
		render_object(x, data, r->type, answer, f->selection, NULL);
		cJSON_Delete(answer);
	}
	mlf_json_obj_end(data);
}

/* ---- the handler ---- */

static enum mlf_status bad_request(struct mlf_req *req, const char *what)
{
	return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "%s", what);
}

static void write_answer(struct mlf_req *req, struct exec *x, const struct mlf_buf *data)
{
	struct mlf_buf *b = &req->out.buf;
	mlf_buf_puts(b, "{\"data\": ");
	if (data)
		mlf_buf_append(b, data->data, data->len);
	else
		mlf_buf_puts(b, "null");
	mlf_buf_puts(b, ", \"errors\": ");
	if (!x->nerrors) {
		mlf_buf_puts(b, "null}");
		return;
	}
	mlf_buf_putc(b, '[');
	for (int i = 0; i < x->nerrors; i++) {
		if (i)
			mlf_buf_puts(b, ", ");
		mlf_json_escape(b, x->errors[i], strlen(x->errors[i]));
	}
	mlf_buf_puts(b, "]}");
}

enum mlf_status mlf_api_graphql(struct mlf_req *req)
{
	cJSON *q = cJSON_GetObjectItemCaseSensitive(req->in, "query");
	if (!cJSON_IsString(q))
		return bad_request(req, "A GraphQL request is a JSON object with a 'query' string (batched requests "
		                        "are not supported).");
	cJSON *vars = cJSON_GetObjectItemCaseSensitive(req->in, "variables");
	if (vars && !cJSON_IsNull(vars) && !cJSON_IsObject(vars))
		return bad_request(req, "GraphQL 'variables' must be a JSON object.");
	cJSON *opname = cJSON_GetObjectItemCaseSensitive(req->in, "operationName");
	if (opname && !cJSON_IsNull(opname) && !cJSON_IsString(opname))
		return bad_request(req, "GraphQL 'operationName' must be a string.");

	struct exec x = {.req = req, .vars = cJSON_IsObject(vars) ? vars : NULL};
	struct mlf_gql_doc doc;
	char msg[MLF_GQL_MSG_MAX];
	enum mlf_gql_parse_result pr = mlf_gql_parse(&req->arena, q->valuestring, strlen(q->valuestring), &doc, msg);
	if (pr == MLF_GQL_SYNTAX_ERROR)
		return mlf_fail(&req->err, MLF_INVALID_PARAMETER_VALUE, "%s", msg);
	if (pr != MLF_GQL_PARSED) {
		add_error(&x, msg);
		write_answer(req, &x, NULL);
		return MLF_OK;
	}
	if (!check_limits(&x, &doc)) {
		write_answer(req, &x, NULL);
		return MLF_OK;
	}
	/* The operation to run. */
	int nops = 0;
	for (const struct mlf_gql_op *op = doc.ops; op; op = op->next)
		nops++;
	if (cJSON_IsString(opname)) {
		for (const struct mlf_gql_op *op = doc.ops; op && !x.op; op = op->next)
			if (op->name && !strcmp(op->name, opname->valuestring))
				x.op = op;
		if (!x.op)
			add_errorf(&x, "Unknown operation named '%.200s'.", opname->valuestring);
	} else if (nops > 1) {
		add_error(&x, "Must provide operation name if query contains multiple operations.");
	} else {
		x.op = doc.ops;
	}
	if (x.op)
		validate_root(&x);
	if (x.nerrors) {
		write_answer(req, &x, NULL);
		return MLF_OK;
	}
	struct mlf_json data = {0};
	execute(&x, &data);
	cJSON_Delete(x.exp_json);
	write_answer(req, &x, &data.buf);
	mlf_json_release(&data);
	return MLF_OK;
}
