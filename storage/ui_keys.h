/*
 * ui_keys.h: what the web UI's runs table needs beyond MLflow's API: every
 * distinct param, metric and tag key logged in an experiment (not only in
 * the runs of one loaded page), for its columns and column chooser.
 */
#ifndef MLF_UI_KEYS_H
#define MLF_UI_KEYS_H

#include "base.h"
#include "db.h"

#define MLF_EXPERIMENT_KEYS_MAX 10000 /* keys answered per kind; more sets truncated */

struct mlf_experiment_keys {
	const char **params, **metrics, **tags; /* arena-owned, sorted */
	int nparams, nmetrics, ntags;
	int truncated; /* 1 when some kind had more than MLF_EXPERIMENT_KEYS_MAX keys */
};

/* The keys of the runs (active and deleted) of experiment id. The caller
 * checks that the experiment exists. Everything is allocated from a. */
enum mlf_status mlf_experiment_keys(struct mlf_conn *c, struct mlf_arena *a, int64_t id,
                                    struct mlf_experiment_keys *out, struct mlf_error *err);

#endif
