/*
 * limits.h: every limit mlflowd enforces, as a named constant in one place.
 * MLflow's own limits carry MLflow's values (mlflow/utils/validation.py and
 * the REST handlers); the server's own limits are marked as such.
 */
#ifndef MLF_LIMITS_H
#define MLF_LIMITS_H

/* ---- server (mlflowd's own) ---- */
#define MLF_MAX_JSON_BODY (16 * 1024 * 1024) /* bytes of a JSON request body; over it: 413 */
#define MLF_MAX_JSON_DEPTH 64                /* nesting depth of a JSON request body */
/* civetweb worker threads. Each connection holds one while a request runs
 * and while it idles between keep-alive requests, so the count is the
 * number of keep-alive clients served at once without turns (server/gate.c
 * takes over beyond it). An idle worker costs address space and a few
 * pages; its SQLite read connection opens on first use. */
#define MLF_DEFAULT_WORKERS 256
#define MLF_MAX_WORKERS 4096
#define MLF_MAX_HEADER_BYTES "65536" /* civetweb max_request_size (headers only) */
/* Deadline for a request to arrive: its header and a small body in the
 * gate, from the connection's acceptance; a JSON body on the worker, from
 * the header. Over it: 408. --request-timeout-ms sets it. */
#define MLF_REQUEST_TIMEOUT_MS 30000
#define MLF_MAX_REQUEST_TIMEOUT_MS 3600000
/* A streamed body (an artifact upload) may take the request deadline plus
 * one second per this many bytes; a slower one is cut with 408. */
#define MLF_MIN_UPLOAD_BYTES_PER_S 4096
#define MLF_KEEP_ALIVE_TIMEOUT_MS 5000 /* idle keep-alive connection on a worker; --keep-alive-timeout-ms */
#define MLF_LISTEN_BACKLOG "4096"      /* kernel accept queue of the listening socket */
/* The gate (server/gate.c). */
/* The gate holds a connection until its header, and a body of at most
 * MLF_GATE_PEEK_BYTES, are in; a longer header or body goes to a worker
 * once this much has come (the worker reads the rest). Both stay well below
 * what a socket's receive buffer holds (Linux: about 64 KiB of data at
 * first), so the bytes waited for can always arrive. */
#define MLF_GATE_PEEK_BYTES 16384
#define MLF_GATE_HEADER_BYTES 16384
#define MLF_GATE_TICK_MS 50           /* how often held connections are checked for the deadline */
#define MLF_GATE_REAP_MIN_IDLE_MS 100 /* idle time before a keep-alive connection may be closed under pressure */
#define MLF_GATE_EVENTS 256           /* epoll events taken per wait */
#define MLF_GATE_DRAIN_READS 16       /* 4 KiB reads of unread input before closing a timed-out connection */
#define MLF_GATE_MAX_SLOTS (1 << 20)  /* descriptors the gate can track (RLIMIT_NOFILE below it) */
/* RLIMIT_NOFILE mlflowd raises its soft limit to (at most the hard limit):
 * each held or served connection is one descriptor. */
#define MLF_NOFILE_WANTED 65536
/* Every request runs on a stack of mlflowd's (server/reqstack.c), not on
 * the civetweb worker's fixed 100 KiB one. What bounds its depth: SQLite's
 * LIKE matcher recurses once per run of '%' in a pattern, 128 bytes a level
 * (measured with SQLite 3.40, x86-64), so a pattern of at most
 * MLF_MAX_LIKE_PATTERN_BYTES holds at most 25,001 runs: 3.2 MB. Everything
 * else that client input drives is bounded far below that (JSON nesting
 * MLF_MAX_JSON_DEPTH, the balanced AND tree of the search compiler, SQLite's
 * expression depth of 1000, artifact paths MLF_MAX_ARTIFACT_DEPTH). 8 MiB,
 * the size of a default Linux thread stack, leaves more than 2x headroom.
 * Address space only: pages are committed as used, and those below
 * MLF_REQUEST_STACK_WARM_BYTES are returned after a request that used them. */
#define MLF_REQUEST_STACK_BYTES (8 * 1024 * 1024)
#define MLF_REQUEST_STACK_WARM_BYTES (256 * 1024)
/* SQLITE_LIMIT_LIKE_PATTERN_LENGTH of every connection: SQLite's own default
 * and compiled maximum (as stock MLflow has it); longer patterns: 400. */
#define MLF_MAX_LIKE_PATTERN_BYTES 50000
#define MLF_LOG_PATH_MAX 2048         /* bytes of a path written to the request log */
#define MLF_STOP_WAKE_DELAY_MS 20     /* pause before waking civetweb's listener on shutdown */
#define MLF_BUSY_TIMEOUT_MS 20000     /* SQLite busy_timeout, as MLflow sets it */
#define MLF_GROUP_COMMIT_MAX 512      /* write jobs folded into one transaction */
#define MLF_WAL_CHECKPOINT_PAGES 1000 /* WAL pages that wake the checkpoint thread (SQLite's default) */
/* WAL pages (128 MiB) at which the writer finishes a checkpoint itself, so
 * the WAL restarts. Under sustained writes the checkpoint thread never
 * catches up with the last frame, so only this restarts the WAL, and the
 * writer pauses for it, copying what the checkpoint thread has not (about
 * 10-16 ms under sustained log-batches): a larger bound pauses it less
 * often; an idle moment restarts it sooner.
 * While the checkpoint thread is mid-round the writer stops that round and
 * checkpoints in its place, so the bound holds however the checkpoint
 * thread is scheduled (the WAL passes it by at most the last commit). */
#define MLF_WAL_MAX_PAGES 32768
/* How often the writer repeats its interrupt of a checkpoint round it takes
 * over at the WAL's bound, until the checkpoint thread has left the round. */
#define MLF_CHECKPOINT_INTERRUPT_MS 2
/* What the checkpoint thread adds to its own nice value (Linux: per thread). It is
 * background work; on two cores at equal priority it preempted the single
 * SQLite writer under sustained log-batches (W3 +10% at c=4 in interleaved
 * runs, W1 unchanged, 2026-12-06). Lowering a priority needs no privilege. */
#define MLF_CHECKPOINT_NICE 10
#define MLF_SQLITE_CACHE_KIB "-8192" /* page cache per read connection (negative: KiB); grows only on use */
/* The writer's page cache (negative: KiB), also grown only on use. Batches
 * of many runs committed together touch a leaf of MLflow's key-led metric
 * indexes per run and key; with 32 MiB instead of 8 the writer rereads
 * fewer of them (W3 log-batch +4-12%, more at higher concurrency, in
 * interleaved benchmark runs of 2026-12-03; peak RSS under writes 33 -> 57 MiB). */
#define MLF_SQLITE_WRITER_CACHE_KIB "-32768"

/* ---- entity keys and values ---- */
#define MLF_MAX_ENTITY_KEY_LENGTH 250 /* metric/param/tag keys */
#define MLF_MAX_PARAM_VAL_LENGTH 6000 /* longer values are truncated, as MLflow does */
#define MLF_MAX_TAG_VAL_LENGTH 8000   /* run tag values; longer truncated */
#define MLF_MAX_EXPERIMENT_TAG_KEY_LENGTH 250
#define MLF_MAX_EXPERIMENT_TAG_VAL_LENGTH 20000 /* experiment tag values (MLflow 3.17); longer is an error */
#define MLF_MAX_CUSTOM_VIEWS_PER_EXPERIMENT 50  /* tags mlflow.customView.view* per experiment */
#define MLF_MAX_EXPERIMENT_NAME_LENGTH 500
#define MLF_MAX_ARTIFACT_LOCATION_LENGTH 2048
#define MLF_MAX_RUN_ID_LENGTH 256
#define MLF_MAX_RUN_NAME_LENGTH 250

/* ---- log-batch ---- */
#define MLF_MAX_METRICS_PER_BATCH 1000
#define MLF_MAX_PARAMS_PER_BATCH 100
#define MLF_MAX_TAGS_PER_BATCH 100
#define MLF_MAX_ENTITIES_PER_BATCH 1000

/* ---- datasets (log-inputs) ---- */
#define MLF_MAX_DATASET_NAME_SIZE 500
#define MLF_MAX_DATASET_DIGEST_SIZE 36
#define MLF_MAX_DATASET_SOURCE_SIZE 65535
#define MLF_MAX_DATASET_SCHEMA_SIZE 1048575
#define MLF_MAX_DATASET_PROFILE_SIZE 16777215
#define MLF_MAX_INPUT_TAG_KEY_SIZE 255
#define MLF_MAX_INPUT_TAG_VALUE_SIZE 500

/* ---- search and paging ---- */
#define MLF_SEARCH_MAX_RESULTS_DEFAULT 1000    /* runs/search proto default */
#define MLF_SEARCH_MAX_RESULTS_THRESHOLD 50000 /* runs and experiments */
#define MLF_GET_HISTORY_MAX_RESULTS 25000      /* get-history page size cap when absent */
#define MLF_BULK_MAX_RUN_IDS 100               /* get-history-bulk(-interval) */
#define MLF_BULK_INTERVAL_MAX_RESULTS 2500
#define MLF_BULK_INTERVAL_POINTS_PER_RUN 25000
#define MLF_BULK_HISTORY_MAX_RESULTS 25000
#define MLF_HISTORY_CACHE_SERIES_ROWS 1000000 /* longest series kept between pages of one read (32 B/row) */
#define MLF_HISTORY_CACHE_TOTAL_ROWS 2000000  /* rows kept by all read connections together */
#define MLF_HISTORY_SPLIT_MIN_STEPS 16384     /* step span from which one series is read by two threads */
#define MLF_JSON_SPLIT_MIN_METRICS 2048       /* metrics in one answer from which two threads write its JSON */
#define MLF_FILL_SPLIT_MIN_RUNS 64            /* runs in a search page from which the pool loads their contents */
#define MLF_JSON_SPLIT_MIN_RUNS 64            /* runs in a search page from which two threads write its JSON */
#define MLF_SEARCH_DATASETS_MAX_EXPERIMENTS 20
#define MLF_SEARCH_DATASETS_MAX_RESULTS 1000 /* dataset summaries answered */
#define MLF_MAX_FILTER_LENGTH 65536          /* mlflowd's own cap on a filter string */
/* Comparisons of one filter that each look a value up in another table
 * (metrics, params, tags, datasets, run names; tags of experiments; params,
 * tags and metrics of logged models). Stock MLflow joins a table per such
 * comparison and fails from 64 on (SQLite: "at most 64 tables in a join");
 * mlflowd refuses more than this with a 400. Each is a correlated subquery
 * per candidate row, and SQLite's cost per subquery grows with their number
 * (opening a cursor walks the list of open ones), so the cost of a search
 * grows with the square of this count. */
#define MLF_SEARCH_MAX_LOOKUP_CLAUSES 63
/* The most SQLite virtual-machine steps one search statement may take
 * (about 10 s of one core at the ~22 million steps/s measured here; a
 * search of 10,000 runs takes a few million); past it the statement is
 * interrupted and the search answered 400. Counted in ticks of
 * MLF_SEARCH_STEP_TICK. */
#define MLF_SEARCH_MAX_VM_STEPS 250000000LL
#define MLF_SEARCH_STEP_TICK 100000

/* ---- artifacts (mlflowd's own) ---- */
#define MLF_MAX_ARTIFACT_PATH_LENGTH 2048   /* bytes of a relative artifact path; over it: 400 */
#define MLF_MAX_ARTIFACT_SEGMENT_LENGTH 255 /* bytes of one path segment (NAME_MAX) */
#define MLF_MAX_ARTIFACT_DEPTH 128          /* segments of an artifact path */
#define MLF_ARTIFACT_IO_BUFFER (256 * 1024) /* the one buffer an upload or download streams through */
#define MLF_ARTIFACT_DECODE_ROUNDS 10       /* percent-decoding rounds until stable, as MLflow's _decode */
#define MLF_MAX_ARTIFACT_LISTING 100000     /* entries of one directory listing */

/* ---- logged models ---- */
#define MLF_MAX_LOGGED_MODEL_NAME_LENGTH 500 /* logged_models.name VARCHAR(500) */
#define MLF_SEARCH_LOGGED_MODELS_DEFAULT 50  /* proto default max_results */
#define MLF_SEARCH_LOGGED_MODELS_MAX 50000   /* mlflowd's own cap */

/* ---- model registry ---- */
#define MLF_MAX_REGISTERED_MODEL_ALIAS_LENGTH 255
#define MLF_MAX_MODEL_REGISTRY_TAG_KEY_LENGTH 250
#define MLF_MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH 100000
#define MLF_SEARCH_REGISTERED_MODELS_DEFAULT 100 /* proto default max_results */
#define MLF_SEARCH_REGISTERED_MODELS_MAX 1000    /* the handler's limit */
#define MLF_SEARCH_MODEL_VERSIONS_DEFAULT 200000 /* proto default max_results */
#define MLF_SEARCH_MODEL_VERSIONS_MAX 200000     /* the handler's limit */

/* ---- traces ---- */
#define MLF_TRACE_ID_MAX 50           /* trace_info.request_id VARCHAR(50) */
#define MLF_TRACE_TAG_KEY_MAX 250     /* trace tag keys (MAX_ENTITY_KEY_LENGTH) */
#define MLF_TRACE_TAG_VALUE_MAX 8000  /* trace tag and metadata values, truncated as MLflow does */
#define MLF_TRACE_PREVIEW_MAX 1000    /* request/response previews (VARCHAR(1000)) */
#define MLF_SEARCH_TRACES_DEFAULT 100 /* search_traces default max_results */
#define MLF_SEARCH_TRACES_MAX 500     /* search_traces max_results limit */
#define MLF_TRACE_BATCH_MAX 100       /* trace ids of one batchGet */
#define MLF_TRACE_LINK_MAX 100        /* traces linked to a run in one request */
#define MLF_OTLP_DRAIN_CHUNK 16384    /* bytes of an OTLP body read at a time */
#define MLF_OTLP_MAX_DEPTH 32         /* nesting of OTLP attribute values (arrays, maps) */
#define MLF_OTLP_MAX_LIST 100000      /* entries of one OTLP list, map, attribute set or event list */
#define MLF_OTLP_MAX_SPANS 100000     /* spans of one OTLP request */
#define MLF_OTLP_PREVIEW_MAX 1000     /* characters of a trace preview taken from the root span */
#define MLF_OTLP_REQUEST_ID_ATTR "mlflow.traceRequestId"
#define MLF_OTLP_SPAN_TYPE_ATTR "mlflow.spanType"
#define MLF_OTLP_INPUTS_ATTR "mlflow.spanInputs"
#define MLF_OTLP_OUTPUTS_ATTR "mlflow.spanOutputs"
#define MLF_OTLP_TRACE_TAG_PREFIX "mlflow.traceTag."
#define MLF_OTLP_SESSION_ATTR "session.id" /* OpenTelemetry semantic conventions */
#define MLF_OTLP_CONVERSATION_ATTR "gen_ai.conversation.id"
#define MLF_OTLP_EXPERIMENT_HEADER "x-mlflow-experiment-id"

#endif
