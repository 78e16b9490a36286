/*
 * config.h: the server's configuration, as parsed from the command line
 * (server/main.c) and read by every request (borrowed, never modified
 * after startup).
 */
#ifndef MLF_CONFIG_H
#define MLF_CONFIG_H

#define MLF_VERSION "0.1.0"
/* The MLflow release whose API and schema mlflowd speaks; /version answers
 * it so that clients gate features as they would for that server. */
#define MLF_MLFLOW_VERSION "3.17.2"

#define MLF_MAX_PATTERNS 64

struct mlf_config {
	const char *backend_store; /* SQLite file path */
	const char *host;          /* listen address */
	int port;
	const char *artifacts_destination; /* absolute path of the artifact root */
	const char *default_artifact_root; /* URI prefix for new experiments */
	int serve_artifacts;
	int workers;
	int request_timeout_ms;                      /* deadline for a request's header and JSON body (408) */
	int keep_alive_timeout_ms;                   /* idle keep-alive connection kept on a worker */
	const char *allowed_hosts[MLF_MAX_PATTERNS]; /* Host header patterns; "*" allows all */
	int n_allowed_hosts;
	const char *cors_origins[MLF_MAX_PATTERNS]; /* extra allowed Origins; "*" allows all */
	int n_cors_origins;
	const char *x_frame_options; /* "SAMEORIGIN", "DENY" or NULL (none) */
	int quiet;                   /* no access log */
	const char *static_dir;      /* --static-dir: absolute folder served as the UI, or NULL (embedded UI) */
};

#endif
