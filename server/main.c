/*
 * main.c: the mlflowd process: command-line parsing (the flags of
 * `mlflow server` that apply), opening the store, starting the HTTP front
 * end, and a clean shutdown on SIGINT/SIGTERM (in-flight requests finish,
 * queued writes commit, then the store closes).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/limits.h"
#include "../storage/artifacts.h"
#include "../storage/db.h"
#include "../storage/pool.h"
#include "../storage/schema.h"
#include "config.h"
#include "http.h"
#include "static_dir.h"

#define DEFAULT_BACKEND_STORE "runs.db"
#define DEFAULT_ARTIFACTS_DESTINATION "./mlartifacts"
#define DEFAULT_PORT 5000

static const char usage[] = "Usage: mlflowd [OPTIONS]\n"
                            "       mlflowd db upgrade FILE\n"
                            "\n"
                            "An MLflow-compatible tracking server. Point clients at it with\n"
                            "MLFLOW_TRACKING_URI=http://HOST:PORT.\n"
                            "\n"
                            "Options:\n"
                            "  --backend-store PATH          SQLite file holding experiments, runs and\n"
                            "                                models (created if missing; default runs.db)\n"
                            "  --backend-store-uri URI       the same as an MLflow URI: sqlite:///PATH\n"
                            "  --host HOST                   address to listen on (default 127.0.0.1)\n"
                            "  --port PORT                   port to listen on (default 5000)\n"
                            "  --artifacts-destination DIR   folder of the served artifacts (default\n"
                            "                                ./mlartifacts)\n"
                            "  --default-artifact-root URI   artifact location of new experiments (default\n"
                            "                                mlflow-artifacts:/ when serving artifacts,\n"
                            "                                else ./mlruns)\n"
                            "  --serve-artifacts             serve artifacts through the server (default)\n"
                            "  --no-serve-artifacts          do not serve artifacts\n"
                            "  --workers N                   request threads (default 256)\n"
                            "  --request-timeout-ms MS       time a client has to send a request's\n"
                            "                                header and JSON body; later: 408\n"
                            "                                (default 30000)\n"
                            "  --keep-alive-timeout-ms MS    how long an idle keep-alive connection\n"
                            "                                keeps its thread (default 5000)\n"
                            "  --allowed-hosts LIST          comma-separated Host header values accepted,\n"
                            "                                '*' wildcards allowed, '*' alone allows all\n"
                            "                                (default: localhost, 127.0.0.1 and [::1] on\n"
                            "                                any port, plus private networks when --host\n"
                            "                                is not a loopback address)\n"
                            "  --cors-allowed-origins LIST   comma-separated origins allowed to make\n"
                            "                                state-changing requests besides localhost\n"
                            "                                ('*' allows all)\n"
                            "  --x-frame-options VALUE       SAMEORIGIN (default), DENY or NONE\n"
                            "  --upgrade-db                  bring an older MLflow schema in the store to\n"
                            "                                mlflowd's newest first (as `mlflowd db upgrade`;\n"
                            "                                without it mlflowd never changes a schema)\n"
                            "  --static-dir DIR              serve the web UI from DIR (index.html at /,\n"
                            "                                assets under /static-files/) instead of the\n"
                            "                                embedded one; 'mlflow' serves MLflow's own UI\n"
                            "                                from the mlflow package of the python3 on PATH\n"
                            "  --quiet                       no request log on stderr\n"
                            "  --version                     print the version and exit\n"
                            "  --help                        print this help and exit\n"
                            "\n"
                            "mlflowd db upgrade FILE (or sqlite:///FILE) brings a store of any MLflow\n"
                            "2.x or 3.x schema to the newest mlflowd knows, after copying it to\n"
                            "FILE.bak-<old head>.\n";

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "mlflowd: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

/* Split a comma list into out[] (pointers into a strdup'd copy). */
static int split_list(const char *s, const char **out, int max)
{
	char *copy = strdup(s), *save = NULL;
	int n = 0;
	for (char *t = strtok_r(copy, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		if (*t)
			out[n++] = t;
	}
	return n;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static char *absolute(const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		die("cannot read the current folder%s", "");
	char *out = malloc(strlen(cwd) + strlen(p) + 2);
	const char *rel = !strncmp(p, "./", 2) ? p + 2 : p;
	sprintf(out, "%s/%s", cwd, rel);
	return out;
}

static int is_loopback(const char *host)
{
	return !strcmp(host, "127.0.0.1") || !strcmp(host, "localhost") || !strncmp(host, "127.", 4);
}

enum {
	OPT_BACKEND_STORE = 256,
	OPT_BACKEND_STORE_URI,
	OPT_HOST,
	OPT_PORT,
	OPT_ARTIFACTS_DESTINATION,
	OPT_DEFAULT_ARTIFACT_ROOT,
	OPT_SERVE_ARTIFACTS,
	OPT_NO_SERVE_ARTIFACTS,
	OPT_WORKERS,
	OPT_REQUEST_TIMEOUT,
	OPT_KEEP_ALIVE_TIMEOUT,
	OPT_ALLOWED_HOSTS,
	OPT_CORS,
	OPT_XFO,
	OPT_QUIET,
	OPT_UPGRADE_DB,
	OPT_STATIC_DIR,
	OPT_VERSION,
	OPT_HELP,
};

static const struct option options[] = {
    {"backend-store", required_argument, NULL, OPT_BACKEND_STORE},
    {"backend-store-uri", required_argument, NULL, OPT_BACKEND_STORE_URI},
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"artifacts-destination", required_argument, NULL, OPT_ARTIFACTS_DESTINATION},
    {"default-artifact-root", required_argument, NULL, OPT_DEFAULT_ARTIFACT_ROOT},
    {"serve-artifacts", no_argument, NULL, OPT_SERVE_ARTIFACTS},
    {"no-serve-artifacts", no_argument, NULL, OPT_NO_SERVE_ARTIFACTS},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"request-timeout-ms", required_argument, NULL, OPT_REQUEST_TIMEOUT},
    {"keep-alive-timeout-ms", required_argument, NULL, OPT_KEEP_ALIVE_TIMEOUT},
    {"allowed-hosts", required_argument, NULL, OPT_ALLOWED_HOSTS},
    {"cors-allowed-origins", required_argument, NULL, OPT_CORS},
    {"x-frame-options", required_argument, NULL, OPT_XFO},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"upgrade-db", no_argument, NULL, OPT_UPGRADE_DB},
    {"static-dir", required_argument, NULL, OPT_STATIC_DIR},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static long parse_num(const char *s, const char *what, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "mlflowd: invalid %s '%s' (expected %ld..%ld)\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

/* A pool helper stops: close the read connection its tasks opened. */
static void pool_thread_exit(void *db)
{
	mlf_db_thread_exit(db);
}

/* `mlflowd db upgrade FILE`: exit status 0 when the store is at the newest
 * head afterwards (or newer and served as it is), 1 when not. */
static int db_command(int argc, char **argv)
{
	if (argc != 4 || strcmp(argv[2], "upgrade") != 0) {
		fprintf(stderr, "mlflowd: usage: mlflowd db upgrade FILE\n");
		return 2;
	}
	const char *path = !strncmp(argv[3], "sqlite:///", 10) ? argv[3] + 10 : argv[3];
	char msg[MLF_SCHEMA_MSG_MAX];
	int r = mlf_schema_upgrade(path, msg, sizeof msg);
	fprintf(r == 0 ? stdout : stderr, "mlflowd: %s\n", msg);
	return r == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "db"))
		return db_command(argc, argv);
	struct mlf_config cfg = {
	    .backend_store = DEFAULT_BACKEND_STORE,
	    .host = "127.0.0.1",
	    .port = DEFAULT_PORT,
	    .artifacts_destination = DEFAULT_ARTIFACTS_DESTINATION,
	    .serve_artifacts = 1,
	    .workers = MLF_DEFAULT_WORKERS,
	    .request_timeout_ms = MLF_REQUEST_TIMEOUT_MS,
	    .keep_alive_timeout_ms = MLF_KEEP_ALIVE_TIMEOUT_MS,
	    .x_frame_options = "SAMEORIGIN",
	};
	const char *allowed_hosts = NULL, *cors = NULL, *static_dir = NULL;
	int upgrade_db = 0;

	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_BACKEND_STORE: cfg.backend_store = optarg; break;
		case OPT_BACKEND_STORE_URI:
			if (!strncmp(optarg, "sqlite:///", 10))
				cfg.backend_store = optarg + 10;
			else if (strstr(optarg, "://"))
				die("unsupported backend store URI '%s': mlflowd stores in SQLite (sqlite:///PATH)",
				    optarg);
			else
				cfg.backend_store = optarg;
			break;
		case OPT_HOST: cfg.host = optarg; break;
		case OPT_PORT: cfg.port = (int)parse_num(optarg, "port", 0, 65535); break;
		case OPT_ARTIFACTS_DESTINATION:
			if (!strncmp(optarg, "file://", 7))
				optarg += 7;
			else if (strstr(optarg, "://"))
				die("unsupported artifacts destination '%s': mlflowd stores artifacts in a local "
				    "folder",
				    optarg);
			cfg.artifacts_destination = optarg;
			break;
		case OPT_DEFAULT_ARTIFACT_ROOT: cfg.default_artifact_root = optarg; break;
		case OPT_SERVE_ARTIFACTS: cfg.serve_artifacts = 1; break;
		case OPT_NO_SERVE_ARTIFACTS: cfg.serve_artifacts = 0; break;
		case OPT_WORKERS: cfg.workers = (int)parse_num(optarg, "worker count", 1, MLF_MAX_WORKERS); break;
		case OPT_REQUEST_TIMEOUT:
			cfg.request_timeout_ms =
			    (int)parse_num(optarg, "request timeout", 100, MLF_MAX_REQUEST_TIMEOUT_MS);
			break;
		case OPT_KEEP_ALIVE_TIMEOUT:
			cfg.keep_alive_timeout_ms =
			    (int)parse_num(optarg, "keep-alive timeout", 0, MLF_MAX_REQUEST_TIMEOUT_MS);
			break;
		case OPT_ALLOWED_HOSTS: allowed_hosts = optarg; break;
		case OPT_CORS: cors = optarg; break;
		case OPT_XFO:
			if (!strcasecmp(optarg, "NONE"))
				cfg.x_frame_options = NULL;
			else if (!strcasecmp(optarg, "DENY"))
				cfg.x_frame_options = "DENY";
			else if (!strcasecmp(optarg, "SAMEORIGIN"))
				cfg.x_frame_options = "SAMEORIGIN";
			else
				die("invalid --x-frame-options '%s' (SAMEORIGIN, DENY or NONE)", optarg);
			break;
		case OPT_QUIET: cfg.quiet = 1; break;
		case OPT_UPGRADE_DB: upgrade_db = 1; break;
		case OPT_STATIC_DIR: static_dir = optarg; break;
		case OPT_VERSION: printf("mlflowd %s (MLflow API %s)\n", MLF_VERSION, MLF_MLFLOW_VERSION); return 0;
		case OPT_HELP: fputs(usage, stdout); return 0;
		case ':': die("option %s needs a value (see mlflowd --help)", argv[optind - 1]); break;
		default: die("unknown option '%s' (see mlflowd --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see mlflowd --help)", argv[optind]);

	if (allowed_hosts) {
		cfg.n_allowed_hosts = split_list(allowed_hosts, cfg.allowed_hosts, MLF_MAX_PATTERNS);
	} else {
		static const char *local[] = {"localhost", "localhost:*", "127.0.0.1", "127.0.0.1:*",
		                              "[::1]",     "\\[::1\\]:*", "0.0.0.0",   "0.0.0.0:*"};
		static const char *private_nets[] = {"192.168.*",   "10.*",   "172.1[6-9].*", "172.2[0-9].*",
		                                     "172.3[01].*", "fc00:*", "fd00:*"};
		for (size_t i = 0; i < sizeof local / sizeof *local; i++)
			cfg.allowed_hosts[cfg.n_allowed_hosts++] = local[i];
		if (!is_loopback(cfg.host)) {
			for (size_t i = 0; i < sizeof private_nets / sizeof *private_nets; i++)
				cfg.allowed_hosts[cfg.n_allowed_hosts++] = private_nets[i];
			char *own = malloc(strlen(cfg.host) + 3);
			sprintf(own, "%s:*", cfg.host);
			cfg.allowed_hosts[cfg.n_allowed_hosts++] = cfg.host;
			cfg.allowed_hosts[cfg.n_allowed_hosts++] = own;
		}
	}
	if (static_dir) {
		char why[512];
		char *dir = mlf_static_dir_resolve(static_dir, why, sizeof why);
		if (!dir) {
			fprintf(stderr, "mlflowd: %s\n", why);
			return 2;
		}
		cfg.static_dir = dir;
	}
	if (cors)
		cfg.n_cors_origins = split_list(cors, cfg.cors_origins, MLF_MAX_PATTERNS);

	/* Artifact root: absolute, created if missing. */
	char *dest = absolute(cfg.artifacts_destination);
	if (cfg.serve_artifacts && mkdir_p(dest) < 0) {
		fprintf(stderr, "mlflowd: cannot create the artifacts destination %s: %s\n", dest, strerror(errno));
		return 1;
	}
	cfg.artifacts_destination = dest;
	if (cfg.serve_artifacts) {
		/* uploads a crash or kill cut short left their temporary files */
		int swept = mlf_artifact_sweep_uploads(dest);
		if (swept)
			fprintf(stderr, "mlflowd: removed %d unfinished upload%s under %s\n", swept,
			        swept == 1 ? "" : "s", dest);
	}

	if (!cfg.default_artifact_root) {
		cfg.default_artifact_root = cfg.serve_artifacts ? "mlflow-artifacts:/" : absolute("mlruns");
	} else if (!strstr(cfg.default_artifact_root, ":") && cfg.default_artifact_root[0] != '/') {
		cfg.default_artifact_root = absolute(cfg.default_artifact_root);
	}

	/* Experiment 0's location, as MLflow's append_to_uri_path builds it. */
	size_t rl = strlen(cfg.default_artifact_root);
	char *root0 = malloc(rl + 3);
	sprintf(root0, "%s%s0", cfg.default_artifact_root, rl && cfg.default_artifact_root[rl - 1] == '/' ? "" : "/");

	/* Every held or served connection is a descriptor. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < MLF_NOFILE_WANTED) {
		nofile.rlim_cur = nofile.rlim_max < MLF_NOFILE_WANTED ? nofile.rlim_max : MLF_NOFILE_WANTED;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct stat st;
	if (upgrade_db && stat(cfg.backend_store, &st) == 0 && st.st_size > 0) {
		char msg[MLF_SCHEMA_MSG_MAX];
		if (mlf_schema_upgrade(cfg.backend_store, msg, sizeof msg) != 0) {
			fprintf(stderr, "mlflowd: %s\n", msg);
			free(root0);
			free(dest);
			return 1;
		}
		fprintf(stderr, "mlflowd: %s\n", msg);
	}

	struct mlf_error err = {0};
	struct mlf_db_options dbo = {.path = cfg.backend_store, .default_artifact_root = root0};
	struct mlf_db *db = mlf_db_open(&dbo, &err);
	if (!db) {
		fprintf(stderr, "mlflowd: %s\n", err.msg);
		free(root0);
		free(dest);
		return 1;
	}
	mlf_pool_start(pool_thread_exit, db);
	struct mlf_server *srv = mlf_server_start(&cfg, db, &err);
	if (!srv) {
		fprintf(stderr, "mlflowd: %s\n", err.msg);
		mlf_pool_stop();
		mlf_db_close(db);
		return 1;
	}
	fprintf(stderr, "mlflowd %s listening on http://%s:%d (store %s, artifacts %s)\n", MLF_VERSION, cfg.host,
	        cfg.port, cfg.backend_store, cfg.artifacts_destination);

	int sig = 0;
	sigwait(&sigs, &sig);
	fprintf(stderr, "mlflowd: %s received, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	mlf_server_stop(srv);
	mlf_pool_stop();
	mlf_db_close(db);
	free(root0);
	free(dest);
	free((char *)cfg.static_dir);
	return 0;
}
