/*
 * traces.h: MLflow 3 traces in MLflow's own tables (trace_info, trace_tags,
 * trace_request_metadata, spans, assessments, entity_associations): trace
 * creation as StartTraceV3 does it, reads, search, tags, deletion, links to
 * runs and prompts, and assessments.
 *
 * Reads take a read connection; writes run as writer jobs (a returned
 * MLF_OK means committed). Everything returned lives in the caller's arena.
 * This header knows nothing of JSON or HTTP: the api layer decodes MLflow's
 * JSON fields (token usage and cost maps, assessment values) and passes
 * them here as plain values or as already-encoded JSON text.
 */
#ifndef MLF_TRACES_H
#define MLF_TRACES_H

#include <stdint.h>

#include "base.h"
#include "db.h"
#include "tracking.h"

/* Tags and metadata keys with a meaning of their own to the store. */
#define MLF_TRACE_TAG_NAME "mlflow.traceName"
#define MLF_TRACE_TAG_ARTIFACT_LOCATION "mlflow.artifactLocation"
#define MLF_TRACE_TAG_SPANS_LOCATION "mlflow.trace.spansLocation"
/* Its value for spans kept in the spans table. */
#define MLF_TRACE_SPANS_IN_STORE "TRACKING_STORE"
#define MLF_TRACE_META_SESSION "mlflow.trace.session"
#define MLF_TRACE_META_TOKEN_USAGE "mlflow.trace.tokenUsage"
#define MLF_TRACE_META_COST "mlflow.trace.cost"
#define MLF_TRACE_META_FINALIZED "mlflow.trace.infoFinalized"
#define MLF_TRACE_META_SOURCE_RUN "mlflow.sourceRun"
#define MLF_TRACE_META_USER "mlflow.trace.user"
/* Span attributes the store reads when spans arrive (MLflow's
 * SpanAttributeKey): a span's token usage and cost maps (JSON objects,
 * summed into the trace's columns), its model and provider; OpenTelemetry's
 * user.id names the trace's user. */
#define MLF_SPAN_ATTR_USAGE "mlflow.chat.tokenUsage"
#define MLF_SPAN_ATTR_COST "mlflow.llm.cost"
#define MLF_SPAN_ATTR_MODEL "mlflow.llm.model"
#define MLF_SPAN_ATTR_PROVIDER "mlflow.llm.provider"
#define MLF_SPAN_ATTR_USER "user.id"
/* Characters of a span's model name or provider kept in its own column. */
#define MLF_SPAN_MODEL_MAX 500

/* The token-usage columns of trace_info, in MLflow's order (the order of
 * the keys of the mlflow.trace.tokenUsage map it rebuilds from them). */
#define MLF_TRACE_NTOKENS 6
extern const char *const mlf_trace_token_keys[MLF_TRACE_NTOKENS];
/* The cost columns, in MLflow's order (mlflow.trace.cost map). */
#define MLF_TRACE_NCOSTS 3
extern const char *const mlf_trace_cost_keys[MLF_TRACE_NCOSTS];

struct mlf_assessment {
	const char *assessment_id;
	const char *trace_id;
	const char *name;
	const char *type;  /* "feedback" or "expectation" */
	const char *value; /* JSON text of the value (as MLflow stores it) */
	const char *error; /* JSON text or NULL */
	int64_t created_ms, updated_ms;
	const char *source_type, *source_id; /* source_id may be NULL */
	const char *run_id, *span_id;        /* may be NULL */
	const char *rationale;               /* may be NULL */
	const char *overrides;               /* assessment id this one overrides, or NULL */
	int valid;
	const char *metadata; /* JSON object text or NULL */
	double aggregate;     /* with has_aggregate */
	int has_aggregate, is_numeric;
};

struct mlf_trace_info {
	const char *trace_id;
	int64_t experiment_id;
	int64_t request_time_ms;
	int64_t execution_ms;
	int has_execution;
	const char *state; /* "OK", "ERROR", "IN_PROGRESS", "STATE_UNSPECIFIED" */
	const char *client_request_id, *request_preview, *response_preview; /* may be NULL */
	const char *trace_name;                                             /* may be NULL */
	const char *session_id;                                             /* may be NULL */
	int64_t tokens[MLF_TRACE_NTOKENS];
	unsigned char has_token[MLF_TRACE_NTOKENS];
	double costs[MLF_TRACE_NCOSTS];
	unsigned char has_cost[MLF_TRACE_NCOSTS];
	struct mlf_kv *tags; /* without the trace name (kept in trace_name) */
	int ntags;
	struct mlf_kv *metadata; /* without the promoted keys (session, token usage, cost) */
	int nmetadata;
	struct mlf_assessment *assessments;
	int nassessments;
};

/* StartTraceV3: store in (a new trace, or the merge into one that exists),
 * adding the artifact-location tag and the finalized marker as MLflow does,
 * then read the trace back into out. The experiment must exist and be
 * active. */
enum mlf_status mlf_trace_start(struct mlf_db *db, struct mlf_arena *a, const struct mlf_trace_info *in,
                                struct mlf_trace_info *out, struct mlf_error *err);

/* One trace's info with tags, metadata and assessments; 404 with MLflow's
 * message when missing. */
enum mlf_status mlf_trace_get(struct mlf_conn *c, struct mlf_arena *a, const char *trace_id, struct mlf_trace_info *out,
                              struct mlf_error *err);

/* The stored span rows of a trace (spans.content, MLflow's span JSON) in
 * MLflow's order: root spans first, then by start time. */
enum mlf_status mlf_trace_spans(struct mlf_conn *c, struct mlf_arena *a, const char *trace_id, const char ***content,
                                int *n, struct mlf_error *err);

struct mlf_trace_search {
	const int64_t *experiment_ids;
	int nexp;
	const char *filter; /* NULL or "" = all */
	const char *const *order_by;
	int norder;
	int64_t max_results;
	int64_t offset;
};

/* One page of search_traces; *next_offset is -1 when there are no more. */
enum mlf_status mlf_trace_search(struct mlf_conn *c, struct mlf_arena *a, const struct mlf_trace_search *q,
                                 struct mlf_trace_info **out, int *n, int64_t *next_offset, struct mlf_error *err);

enum mlf_status mlf_trace_set_tag(struct mlf_db *db, const char *trace_id, const char *key, const char *value,
                                  struct mlf_error *err);
enum mlf_status mlf_trace_delete_tag(struct mlf_db *db, const char *trace_id, const char *key, struct mlf_error *err);

/* Delete traces of one experiment: those listed in ids (when nids > 0), or
 * those older than max_timestamp_ms, at most max_traces of them (oldest
 * first; 0 = no limit). *deleted receives the count. */
enum mlf_status mlf_traces_delete(struct mlf_db *db, int64_t experiment_id, const char *const *ids, int nids,
                                  int64_t max_timestamp_ms, int64_t max_traces, int64_t *deleted,
                                  struct mlf_error *err);

/* Link traces to a run (entity_associations), as MLflow does. */
enum mlf_status mlf_traces_link_to_run(struct mlf_db *db, const char *const *trace_ids, int n, const char *run_id,
                                       struct mlf_error *err);

/* Link prompt versions ("name", "version" pairs as kv) to a trace. */
enum mlf_status mlf_trace_link_prompts(struct mlf_db *db, const char *trace_id, const struct mlf_kv *prompts, int n,
                                       struct mlf_error *err);

/* One span as stock MLflow keeps it in the spans table. */
struct mlf_span_row {
	const char *trace_id;       /* "tr-<32 hex>" */
	const char *span_id;        /* 16 hex digits */
	const char *parent_span_id; /* NULL for a root span */
	const char *name, *type;    /* type may be NULL */
	const char *status;         /* "OK", "ERROR" or "UNSET" */
	int64_t start_ns, end_ns;
	int has_end;
	const char *content; /* MLflow's span JSON */
	/* the span's cost map (mlflow.llm.cost) read as MLflow's
	 * finite_float_or_none reads each entry; model and provider, may be NULL */
	double costs[MLF_TRACE_NCOSTS];
	int has_cost[MLF_TRACE_NCOSTS];
	const char *model_name, *model_provider;
	int has_usage; /* carries mlflow.chat.tokenUsage or mlflow.llm.cost */
	int trace;     /* index of its trace in the batch's traces */
};

/* What a batch of spans says about one trace. */
struct mlf_span_trace {
	const char *trace_id;
	int64_t min_start_ms, max_end_ms;
	int has_end;
	const char *root_status;                        /* "OK"/"ERROR" when the root span is in the batch */
	const char *request_preview, *response_preview; /* from the root span, or NULL */
	struct mlf_kv *tags;                            /* the root span's mlflow.traceTag.* attributes */
	int ntags;
	const char *session_id; /* the first session.id / gen_ai.conversation.id of its spans, or NULL */
	const char *user_id;    /* the first user.id of its spans, or NULL */
	int has_usage;          /* a span of it in the batch has_usage */
};

/* log_spans: store spans (upserts) of traces of experiment_id, creating
 * the trace of a span that arrives before its trace info, and mark the
 * traces' spans as kept in the tracking store, as MLflow does. A trace
 * whose spans in the batch carry token usage or cost gets the totals of its
 * span tree in its columns (a span whose ancestor carries them is not
 * counted again), unless the client finalized the trace with totals of its
 * own; the first user.id becomes its mlflow.trace.user. */
enum mlf_status mlf_spans_log(struct mlf_db *db, int64_t experiment_id, const struct mlf_span_row *spans, int nspans,
                              const struct mlf_span_trace *traces, int ntraces, struct mlf_error *err);

/* Assessments. create fills in->assessment_id and the timestamps when
 * unset; update replaces the fields given (the api layer merges). */
enum mlf_status mlf_assessment_create(struct mlf_db *db, struct mlf_arena *a, struct mlf_assessment *in,
                                      struct mlf_error *err);
enum mlf_status mlf_assessment_get(struct mlf_conn *c, struct mlf_arena *a, const char *trace_id, const char *id,
                                   struct mlf_assessment *out, struct mlf_error *err);
enum mlf_status mlf_assessment_update(struct mlf_db *db, const struct mlf_assessment *in, struct mlf_error *err);
enum mlf_status mlf_assessment_delete(struct mlf_db *db, const char *trace_id, const char *id, struct mlf_error *err);

#endif
