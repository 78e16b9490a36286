/*
 * static_dir.c: the --static-dir web UI (see static_dir.h).
 */
#include "static_dir.h"

#include <limits.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *ext;
	const char *type;
} web_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"cjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"eot", "application/vnd.ms-fontobject"},
    {"wasm", "application/wasm"},
};

const char *mlf_static_content_type(const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	const char *dot = strrchr(base, '.');
	if (dot)
		for (size_t i = 0; i < sizeof web_types / sizeof *web_types; i++)
			if (!strcasecmp(dot + 1, web_types[i].ext))
				return web_types[i].type;
	return "application/octet-stream";
}

enum mlf_status mlf_static_open(struct mlf_arena *a, const char *dir, const char *path, struct mlf_artifact_file *f,
                                const char **content_type, const char **cache_control)
{
	f->fd = -1;
	const char *rel;
	if (!strcmp(path, "/")) {
		rel = "index.html";
		*cache_control = "no-cache";
	} else if (!strncmp(path, MLF_STATIC_PREFIX, strlen(MLF_STATIC_PREFIX))) {
		struct mlf_error err;
		if (mlf_artifact_path_check(a, path + strlen(MLF_STATIC_PREFIX), 0, &rel, &err) != MLF_OK)
			return MLF_RESOURCE_DOES_NOT_EXIST;
		*cache_control = "public, max-age=" MLF_STATIC_MAX_AGE;
	} else {
		return MLF_RESOURCE_DOES_NOT_EXIST;
	}
	struct mlf_error err;
	if (mlf_artifact_open(dir, rel, f, &err) != MLF_OK)
		return MLF_RESOURCE_DOES_NOT_EXIST;
	if (f->is_dir) {
		f->fd = -1;
		return MLF_RESOURCE_DOES_NOT_EXIST;
	}
	*content_type = mlf_static_content_type(rel);
	return MLF_OK;
}

/* The python3 on PATH prints where the mlflow package's built UI would be
 * (without importing mlflow, which takes seconds). */
static const char lookup_cmd[] =
    "python3 -c 'import importlib.util, os\n"
    "s = importlib.util.find_spec(\"mlflow\")\n"
    "if s and s.submodule_search_locations:\n"
    "    print(os.path.join(list(s.submodule_search_locations)[0], \"server\", \"js\", \"build\"))' 2>/dev/null";

static int has_index(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;
	if (snprintf(p, sizeof p, "%s/index.html", dir) >= (int)sizeof p)
		return 0;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

char *mlf_static_dir_resolve(const char *arg, char *why, size_t why_len)
{
	if (!strcmp(arg, "mlflow")) {
		FILE *p = popen(lookup_cmd, "r");
		char line[MLF_STATIC_LOOKUP_MAX] = "";
		if (p) {
			if (!fgets(line, sizeof line, p))
				line[0] = '\0';
			pclose(p);
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0]) {
			snprintf(
			    why, why_len,
			    "--static-dir mlflow: the python3 on PATH has no mlflow package (install mlflow, or give "
			    "the folder of a built MLflow UI)");
			return NULL;
		}
		if (!has_index(line)) {
			snprintf(
			    why, why_len,
			    "--static-dir mlflow: the mlflow package of the python3 on PATH has no built UI (%.300s/"
			    "index.html is missing)",
			    line);
			return NULL;
		}
		return realpath(line, NULL);
	}
	char *abs = realpath(arg, NULL);
	if (!abs) {
		snprintf(why, why_len, "--static-dir %.300s: no such folder", arg);
		return NULL;
	}
	if (!has_index(abs)) {
		snprintf(why, why_len, "--static-dir %.300s: the folder has no index.html", arg);
		free(abs);
		return NULL;
	}
	return abs;
}
