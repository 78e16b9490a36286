/*
 * static_dir.h: serving a folder of static files as the web UI instead of
 * the embedded one (--static-dir), in MLflow's layout: index.html at "/",
 * everything else under "/static-files/". Files are opened through the
 * artifact store's walk (storage/artifacts.h): one segment at a time with
 * O_NOFOLLOW, so no link below the folder is followed.
 */
#ifndef MLF_STATIC_DIR_H
#define MLF_STATIC_DIR_H

#include "../storage/artifacts.h"
#include "../storage/base.h"

/* URL prefix of the UI's assets, as MLflow's server serves them. */
#define MLF_STATIC_PREFIX "/static-files/"
/* Cache lifetime MLflow gives the assets (send_from_directory max_age). */
#define MLF_STATIC_MAX_AGE "2419200"
/* Longest path printed by `python3 -c` when looking up the mlflow package. */
#define MLF_STATIC_LOOKUP_MAX 4096

/* The file of dir (absolute) that answers the URL path, opened into *f (the
 * caller closes f->fd), with its content type and Cache-Control value
 * (static strings). A path that is not the UI's, a folder, a missing file
 * or a link on the way: MLF_RESOURCE_DOES_NOT_EXIST. a holds temporaries. */
enum mlf_status mlf_static_open(struct mlf_arena *a, const char *dir, const char *path, struct mlf_artifact_file *f,
                                const char **content_type, const char **cache_control);

/* Content type of a UI file by its extension. */
const char *mlf_static_content_type(const char *name);

/* --static-dir's value as an absolute folder holding index.html (heap
 * string, the caller's). "mlflow" means the UI inside the mlflow package of
 * the python3 on PATH. NULL with a one-line reason in why otherwise. */
char *mlf_static_dir_resolve(const char *arg, char *why, size_t why_len);

#endif
