"""Differential test: one scripted session of raw HTTP calls runs against stock
`mlflow server` (from the venv) and against mlflowd; the responses must agree on status,
error_code and JSON body after normalisation (ids -> placeholders in order of appearance,
server-generated timestamps, generated run names, page tokens, order of key/value lists that
MLflow leaves unspecified).

Every accepted difference is listed in ACCEPTABLE below, with its reason.
"""

from __future__ import annotations

import json
import re

import pytest

import compat_util as cu

# ------------------------------------------------------------------------------------------------
# Accepted differences: the one place to look. Keys are step labels ("*" = every step).
#   "drop_keys":      top-level keys of an error body that are not compared (none at present:
#                     error_code, message, sqlstate and error_class are all compared)
#   "message_prefix": only the error message up to and including this text is compared
#   "status_only":    only the HTTP status is compared (body formats legitimately differ)
# ------------------------------------------------------------------------------------------------
ACCEPTABLE = {
    "*": {},
    "dup-experiment": {
        "message_prefix": ("already exists.",
                           "MLflow appends the SQLAlchemy IntegrityError text (SQL statement, bound "
                           "parameters, sqlalche.me link) after 'Experiment(name=X) already exists.'"),
    },
    "rename-conflict": {
        "message_prefix": ("", "MLflow's message is the raw SQLAlchemy IntegrityError text; only the "
                               "status and error_code carry meaning"),
    },
    "unknown-endpoint": {
        "status_only": "stock answers an unknown path with Flask's HTML 404 page, mlflowd with JSON "
                       "ENDPOINT_NOT_FOUND; the client maps both to ENDPOINT_NOT_FOUND",
    },
    "wrong-method": {
        "status_only": "stock answers with Flask's HTML 405 page, mlflowd with a JSON error body",
    },
}

MISSING_RUN = "0123456789abcdef0123456789abcdef"


def S(label, method, path, body=None, save=None):
    """One step. body: JSON body (POST) or query params (GET); strings may use {VAR}."""
    return {"label": label, "method": method, "path": path, "body": body, "save": save or {}}


def metric_batch(prefix, n, ts=100):
    return [{"key": f"{prefix}{i}", "value": i * 0.5, "timestamp": ts, "step": i} for i in range(n)]


SCRIPT = [
    # ---- experiments
    S("create-a", "POST", "/experiments/create",
      {"name": "{P}-a", "tags": [{"key": "team", "value": "a"}, {"key": "prio", "value": "1"}]},
      save={"EA": "experiment_id"}),
    S("create-b", "POST", "/experiments/create", {"name": "{P}-b"}, save={"EB": "experiment_id"}),
    S("create-c", "POST", "/experiments/create", {"name": "{P}-C", "tags": [{"key": "team", "value": "c"}]},
      save={"EC": "experiment_id"}),
    S("dup-experiment", "POST", "/experiments/create", {"name": "{P}-a"}),
    S("create-empty-name", "POST", "/experiments/create", {"name": ""}),
    S("create-no-body", "POST", "/experiments/create", {}),
    S("create-name-int", "POST", "/experiments/create", {"name": 5}),
    S("create-name-float", "POST", "/experiments/create", {"name": 1.0}),
    S("create-name-float-exp", "POST", "/experiments/create", {"name": 1.5e3}),
    S("create-artloc-float", "POST", "/experiments/create", {"name": "{P}-f", "artifact_location": 9.0}),
    S("create-name-500", "POST", "/experiments/create", {"name": "{P}" + "n" * 484}),
    S("create-name-501", "POST", "/experiments/create", {"name": "{P}" + "m" * 485}),
    S("get-a", "GET", "/experiments/get", {"experiment_id": "{EA}"}),
    S("get-default", "GET", "/experiments/get", {"experiment_id": "0"}),
    S("get-by-name-a", "GET", "/experiments/get-by-name", {"experiment_name": "{P}-a"}),
    S("get-by-name-missing", "GET", "/experiments/get-by-name", {"experiment_name": "{P}-missing"}),
    S("get-missing-exp", "GET", "/experiments/get", {"experiment_id": "987654"}),
    S("get-bad-exp-id", "GET", "/experiments/get", {"experiment_id": "abc"}),
    S("get-no-exp-id", "GET", "/experiments/get", {}),
    S("set-exp-tag", "POST", "/experiments/set-experiment-tag", {"experiment_id": "{EA}", "key": "k", "value": "v1"}),
    S("set-exp-tag-again", "POST", "/experiments/set-experiment-tag", {"experiment_id": "{EA}", "key": "k", "value": "v2"}),
    S("set-exp-tag-20001", "POST", "/experiments/set-experiment-tag",
      {"experiment_id": "{EA}", "key": "big", "value": "x" * 20001}),
    S("set-exp-tag-key-251", "POST", "/experiments/set-experiment-tag",
      {"experiment_id": "{EA}", "key": "k" * 251, "value": "v"}),
    S("del-exp-tag", "POST", "/experiments/delete-experiment-tag", {"experiment_id": "{EA}", "key": "prio"}),
    S("del-exp-tag-missing", "POST", "/experiments/delete-experiment-tag", {"experiment_id": "{EA}", "key": "nope"}),
    S("get-a-after-tags", "GET", "/experiments/get", {"experiment_id": "{EA}"}),
    S("rename-b", "POST", "/experiments/update", {"experiment_id": "{EB}", "new_name": "{P}-b2"}),
    S("get-b-renamed", "GET", "/experiments/get", {"experiment_id": "{EB}"}),
    S("rename-conflict", "POST", "/experiments/update", {"experiment_id": "{EB}", "new_name": "{P}-a"}),
    S("rename-missing-new-name", "POST", "/experiments/update", {"experiment_id": "{EB}"}),
    # ---- runs
    S("create-r1", "POST", "/runs/create",
      {"experiment_id": "{EA}", "run_name": "r1", "start_time": 1000, "user_id": "alice",
       "tags": [{"key": "src", "value": "script"}]}, save={"R1": "run.info.run_id"}),
    S("create-r2", "POST", "/runs/create",
      {"experiment_id": "{EA}", "run_name": "r2", "start_time": 2000, "user_id": "bob"},
      save={"R2": "run.info.run_id"}),
    S("create-r3", "POST", "/runs/create", {"experiment_id": "{EA}", "run_name": "r3", "start_time": 3000},
      save={"R3": "run.info.run_id"}),
    S("create-r4-generated-name", "POST", "/runs/create", {"experiment_id": "{EA}", "start_time": 4000},
      save={"R4": "run.info.run_id"}),
    S("create-r5-name-from-tag", "POST", "/runs/create",
      {"experiment_id": "{EA}", "start_time": 5000, "tags": [{"key": "mlflow.runName", "value": "r5"}]},
      save={"R5": "run.info.run_id"}),
    S("create-run-name-mismatch", "POST", "/runs/create",
      {"experiment_id": "{EA}", "run_name": "x", "tags": [{"key": "mlflow.runName", "value": "y"}]}),
    S("create-run-missing-exp", "POST", "/runs/create", {"experiment_id": "987654"}),
    S("create-run-bad-exp", "POST", "/runs/create", {"experiment_id": "abc"}),
    S("create-rc", "POST", "/runs/create", {"experiment_id": "{EC}", "run_name": "c1", "start_time": 1500},
      save={"RC": "run.info.run_id"}),
    # ---- logging
    S("metric-1", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "acc", "value": 0.5, "timestamp": 10, "step": 0}),
    S("metric-2", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "acc", "value": 0.7, "timestamp": 20, "step": 1}),
    S("metric-dup", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "acc", "value": 0.7, "timestamp": 20, "step": 1}),
    S("metric-old-step", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "acc", "value": 0.1, "timestamp": 30, "step": 0}),
    S("metric-nan", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "loss", "value": "NaN", "timestamp": 10}),
    S("metric-inf", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "pinf", "value": "Infinity", "timestamp": 10}),
    S("metric-ninf", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "ninf", "value": "-Infinity", "timestamp": 10}),
    S("metric-str-int64", "POST", "/runs/log-metric",
      {"run_id": "{R1}", "key": "s", "value": 1, "timestamp": "123", "step": "4"}),
    S("metric-bad-value", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "a", "value": "abc", "timestamp": 1}),
    S("metric-no-timestamp", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "a", "value": 1}),
    S("metric-bad-key", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "a$b", "value": 1, "timestamp": 1}),
    S("metric-key-251", "POST", "/runs/log-metric", {"run_id": "{R1}", "key": "k" * 251, "value": 1, "timestamp": 1}),
    S("metric-missing-run", "POST", "/runs/log-metric", {"run_id": MISSING_RUN, "key": "a", "value": 1, "timestamp": 1}),
    S("param", "POST", "/runs/log-parameter", {"run_id": "{R1}", "key": "lr", "value": "0.1"}),
    S("param-same", "POST", "/runs/log-parameter", {"run_id": "{R1}", "key": "lr", "value": "0.1"}),
    S("param-overwrite", "POST", "/runs/log-parameter", {"run_id": "{R1}", "key": "lr", "value": "0.2"}),
    S("param-long", "POST", "/runs/log-parameter", {"run_id": "{R1}", "key": "long", "value": "L" * 6001}),
    S("param-no-value", "POST", "/runs/log-parameter", {"run_id": "{R1}", "key": "empty"}),
    S("param-int-value", "POST", "/runs/log-parameter", {"run_id": "{R1}", "key": "i", "value": 5}),
    S("tag-r1", "POST", "/runs/set-tag", {"run_id": "{R1}", "key": "team", "value": "a"}),
    S("tag-r2", "POST", "/runs/set-tag", {"run_id": "{R2}", "key": "team", "value": "b"}),
    S("tag-r2-del", "POST", "/runs/set-tag", {"run_id": "{R2}", "key": "tmp", "value": "x"}),
    S("delete-tag", "POST", "/runs/delete-tag", {"run_id": "{R2}", "key": "tmp"}),
    S("delete-tag-missing", "POST", "/runs/delete-tag", {"run_id": "{R2}", "key": "tmp"}),
    S("tag-long", "POST", "/runs/set-tag", {"run_id": "{R2}", "key": "longtag", "value": "T" * 8001}),
    S("tag-runname", "POST", "/runs/set-tag", {"run_id": "{R3}", "key": "mlflow.runName", "value": "r3-renamed"}),
    S("batch-r2", "POST", "/runs/log-batch", {
        "run_id": "{R2}", "metrics": [{"key": "acc", "value": 0.9, "timestamp": 5, "step": 3},
                                      {"key": "acc", "value": 0.8, "timestamp": 6, "step": 2},
                                      {"key": "loss", "value": 1.5, "timestamp": 5}],
        "params": [{"key": "lr", "value": "0.01"}, {"key": "opt", "value": "sgd"}],
        "tags": [{"key": "dup", "value": "1"}, {"key": "dup", "value": "2"}]}),
    S("batch-r3", "POST", "/runs/log-batch", {
        "run_id": "{R3}", "metrics": [{"key": "acc", "value": -1, "timestamp": 5}],
        "params": [{"key": "lr", "value": "0.001"}, {"key": "opt", "value": "Adam"}]}),
    S("batch-r4", "POST", "/runs/log-batch", {"run_id": "{R4}", "metrics": metric_batch("m", 1000)}),
    S("batch-1001-metrics", "POST", "/runs/log-batch", {"run_id": "{R5}", "metrics": metric_batch("x", 1001)}),
    S("batch-101-params", "POST", "/runs/log-batch",
      {"run_id": "{R5}", "params": [{"key": f"p{i}", "value": "v"} for i in range(101)]}),
    S("batch-101-tags", "POST", "/runs/log-batch",
      {"run_id": "{R5}", "tags": [{"key": f"t{i}", "value": "v"} for i in range(101)]}),
    S("batch-1001-total", "POST", "/runs/log-batch", {
        "run_id": "{R5}", "metrics": metric_batch("y", 801),
        "params": [{"key": f"p{i}", "value": "v"} for i in range(100)],
        "tags": [{"key": f"t{i}", "value": "v"} for i in range(100)]}),
    S("batch-dup-params", "POST", "/runs/log-batch",
      {"run_id": "{R5}", "params": [{"key": "d", "value": "1"}, {"key": "d", "value": "2"}]}),
    S("batch-param-conflict", "POST", "/runs/log-batch",
      {"run_id": "{R1}", "params": [{"key": "new", "value": "1"}, {"key": "lr", "value": "9"}],
       "metrics": [{"key": "zzz", "value": 1, "timestamp": 1}]}),
    S("batch-bad-metric-key", "POST", "/runs/log-batch",
      {"run_id": "{R5}", "metrics": [{"key": "ok", "value": 1, "timestamp": 1}, {"key": "b@d", "value": 1, "timestamp": 1}]}),
    S("batch-metric-no-ts", "POST", "/runs/log-batch", {"run_id": "{R5}", "metrics": [{"key": "ok", "value": 1}]}),
    S("batch-missing-run", "POST", "/runs/log-batch", {"run_id": MISSING_RUN, "params": [{"key": "a", "value": "b"}]}),
    S("get-r5-untouched", "GET", "/runs/get", {"run_id": "{R5}"}),
    S("get-r1", "GET", "/runs/get", {"run_id": "{R1}"}),
    S("get-r2", "GET", "/runs/get", {"run_id": "{R2}"}),
    S("get-r3", "GET", "/runs/get", {"run_id": "{R3}"}),
    S("get-r4", "GET", "/runs/get", {"run_id": "{R4}"}),
    S("get-r1-ajax", "GET", "/ajax-api/2.0/mlflow/runs/get", {"run_id": "{R1}"}),
    S("get-run-missing", "GET", "/runs/get", {"run_id": MISSING_RUN}),
    S("update-r1", "POST", "/runs/update", {"run_id": "{R1}", "status": "FINISHED", "end_time": 9000}),
    S("update-r2-name", "POST", "/runs/update", {"run_id": "{R2}", "run_name": "r2-new"}),
    S("update-r2-killed", "POST", "/runs/update", {"run_uuid": "{R2}", "status": "KILLED", "end_time": 9500}),
    S("update-missing", "POST", "/runs/update", {"run_id": MISSING_RUN, "status": "FINISHED"}),
    # ---- inputs
    S("log-inputs", "POST", "/runs/log-inputs", {"run_id": "{R1}", "datasets": [{
        "dataset": {"name": "train", "digest": "d1", "source_type": "local", "source": "{\"uri\": \"x\"}",
                    "schema": "{}", "profile": "{\"rows\": 3}"},
        "tags": [{"key": "mlflow.data.context", "value": "training"}]}]}),
    S("log-inputs-r2", "POST", "/runs/log-inputs", {"run_id": "{R2}", "datasets": [
        {"dataset": {"name": "eval", "digest": "d2", "source_type": "local", "source": "s"},
         "tags": [{"key": "mlflow.data.context", "value": "eval"}]},
        {"dataset": {"name": "train", "digest": "d1", "source_type": "local", "source": "{\"uri\": \"x\"}",
                     "schema": "{}", "profile": "{\"rows\": 3}"}}]}),
    S("get-r2-inputs", "GET", "/runs/get", {"run_id": "{R2}"}),
    S("search-datasets", "POST", "/ajax-api/2.0/mlflow/experiments/search-datasets", {"experiment_ids": ["{EA}"]}),
    S("search-datasets-none", "POST", "/ajax-api/2.0/mlflow/experiments/search-datasets", {}),
    # ---- history
    S("history-acc", "GET", "/metrics/get-history", {"run_id": "{R1}", "metric_key": "acc"}),
    S("history-acc-page1", "GET", "/metrics/get-history", {"run_id": "{R1}", "metric_key": "acc", "max_results": 2},
      save={"HT": "next_page_token"}),
    S("history-acc-page2", "GET", "/metrics/get-history",
      {"run_id": "{R1}", "metric_key": "acc", "max_results": 2, "page_token": "{HT}"}),
    S("history-nan", "GET", "/metrics/get-history", {"run_id": "{R1}", "metric_key": "loss"}),
    S("history-inf", "GET", "/metrics/get-history", {"run_id": "{R1}", "metric_key": "pinf"}),
    S("history-missing-key", "GET", "/metrics/get-history", {"run_id": "{R1}", "metric_key": "nokey"}),
    S("history-no-key", "GET", "/metrics/get-history", {"run_id": "{R1}"}),
    S("bulk-interval", "GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
      {"run_ids": ["{R4}"], "metric_key": "m0"}),
    S("bulk-interval-r1", "GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
      {"run_ids": ["{R1}", "{R2}"], "metric_key": "acc", "max_results": 2}),
    S("bulk-interval-bad-range", "GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
      {"run_ids": ["{R1}"], "metric_key": "acc", "start_step": 5, "end_step": 1}),
    S("bulk-interval-max-2501", "GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
      {"run_ids": ["{R1}"], "metric_key": "acc", "max_results": 2501}),
    S("bulk-history", "GET", "/ajax-api/2.0/mlflow/metrics/get-history-bulk", {"run_id": ["{R1}"], "metric_key": "acc"}),
    # ---- search runs
    S("search-all", "POST", "/runs/search", {"experiment_ids": ["{EA}"]}),
    S("search-acc-gt", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "filter": "metrics.acc > 0.5"}),
    S("search-acc-ne", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "filter": "metrics.acc != 0.8"}),
    S("search-loss-nan", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "filter": "metrics.loss >= 0"}),
    S("search-param-like", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "filter": "params.opt ILIKE 'a%'"}),
    S("search-param-null", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "filter": "params.lr IS NULL"}),
    S("search-tag", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "filter": "tags.team = 'b'"}),
    S("search-tag-backtick", "POST", "/runs/search",
      {"experiment_ids": ["{EA}"], "filter": "tags.`mlflow.runName` LIKE 'r_'"}),
    S("search-attr", "POST", "/runs/search",
      {"experiment_ids": ["{EA}"], "filter": "attributes.status = 'RUNNING' AND attributes.start_time >= 3000"}),
    S("search-run-id-in", "POST", "/runs/search",
      {"experiment_ids": ["{EA}"], "filter": "attributes.run_id IN ('{R1}', '{R3}')"}),
    S("search-dataset", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "filter": "datasets.name = 'eval'"}),
    S("search-two-exps", "POST", "/runs/search", {"experiment_ids": ["{EA}", "{EC}"], "filter": "attributes.start_time < 2500"}),
    S("order-acc-desc", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "order_by": ["metrics.acc DESC"]}),
    S("order-loss-asc", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "order_by": ["metrics.loss ASC"]}),
    S("order-param", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "order_by": ["params.lr ASC", "attributes.start_time ASC"]}),
    S("order-tag", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "order_by": ["tags.team DESC"]}),
    S("search-page1", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "max_results": 2,
                                               "order_by": ["attributes.start_time ASC"]}, save={"PT": "next_page_token"}),
    S("search-page2", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "max_results": 2, "page_token": "{PT}",
                                               "order_by": ["attributes.start_time ASC"]}, save={"PT2": "next_page_token"}),
    S("search-page3", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "max_results": 2, "page_token": "{PT2}",
                                               "order_by": ["attributes.start_time ASC"]}),
    S("search-bad-filter-or", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "filter": "metrics.a = 1 OR metrics.b = 2"}),
    S("search-bad-filter-garbage", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "filter": "foo bar"}),
    S("search-bad-filter-quote", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "filter": "params.lr = 0.1"}),
    S("search-bad-order", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "order_by": ["metrics.acc SIDEWAYS"]}),
    S("search-bad-token", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "page_token": "zzz"}),
    S("search-max-50001", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "max_results": 50001}),
    S("search-max-str", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "max_results": "x"}),
    S("search-missing-exp", "POST", "/runs/search", {"experiment_ids": ["987654"]}),
    # ---- delete / restore
    S("delete-r3", "POST", "/runs/delete", {"run_id": "{R3}"}),
    S("search-deleted", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "run_view_type": "DELETED_ONLY"}),
    S("log-to-deleted", "POST", "/runs/log-parameter", {"run_id": "{R3}", "key": "z", "value": "1"}),
    S("update-deleted", "POST", "/runs/update", {"run_id": "{R3}", "status": "FINISHED"}),
    S("restore-r3", "POST", "/runs/restore", {"run_id": "{R3}"}),
    S("search-all-view", "POST", "/runs/search", {"experiment_ids": ["{EA}"], "run_view_type": "ALL",
                                                  "filter": "metrics.acc < 0"}),
    S("delete-exp-c", "POST", "/experiments/delete", {"experiment_id": "{EC}"}),
    S("get-exp-c-deleted", "GET", "/experiments/get", {"experiment_id": "{EC}"}),
    S("get-rc-deleted", "GET", "/runs/get", {"run_id": "{RC}"}),
    S("create-run-in-deleted-exp", "POST", "/runs/create", {"experiment_id": "{EC}"}),
    S("set-tag-deleted-exp", "POST", "/experiments/set-experiment-tag", {"experiment_id": "{EC}", "key": "k", "value": "v"}),
    S("delete-exp-c-again", "POST", "/experiments/delete", {"experiment_id": "{EC}"}),
    S("search-exps-deleted", "POST", "/experiments/search",
      {"max_results": 10, "view_type": "DELETED_ONLY", "filter": "name LIKE '{P}%'"}),
    S("restore-exp-c", "POST", "/experiments/restore", {"experiment_id": "{EC}"}),
    S("restore-exp-c-again", "POST", "/experiments/restore", {"experiment_id": "{EC}"}),
    S("get-rc-restored", "GET", "/runs/get", {"run_id": "{RC}"}),
    # ---- search experiments
    S("search-exps", "POST", "/experiments/search",
      {"max_results": 10, "filter": "name LIKE '{P}%'", "order_by": ["name ASC"]}),
    S("search-exps-tag", "POST", "/experiments/search",
      {"max_results": 10, "filter": "name LIKE '{P}%' AND tags.team = 'a'"}),
    S("search-exps-ilike", "POST", "/experiments/search",
      {"max_results": 10, "filter": "name ILIKE '{P}-c'"}),
    S("search-exps-get", "GET", "/experiments/search",
      {"max_results": 10, "filter": "name LIKE '{P}%'", "order_by": ["experiment_id DESC"]}),
    S("search-exps-page1", "POST", "/experiments/search",
      {"max_results": 2, "filter": "name LIKE '{P}%'", "order_by": ["name DESC"]}, save={"ET": "next_page_token"}),
    S("search-exps-page2", "POST", "/experiments/search",
      {"max_results": 2, "filter": "name LIKE '{P}%'", "order_by": ["name DESC"], "page_token": "{ET}"}),
    S("search-exps-no-max", "POST", "/experiments/search", {"filter": "name LIKE '{P}%'"}),
    S("search-exps-50001", "POST", "/experiments/search", {"max_results": 50001}),
    S("search-exps-lower-like", "POST", "/experiments/search", {"max_results": 5, "filter": "name like '%x'"}),
    S("search-exps-bad-order", "POST", "/experiments/search", {"max_results": 5, "order_by": ["tags.team"]}),
    # ---- HTTP-level
    S("unknown-endpoint", "GET", "/api/2.0/mlflow/no-such-endpoint", {}),
    S("wrong-method", "GET", "/runs/search", {}),
]


# ------------------------------------------------------------------------------------------------
# running and normalising
# ------------------------------------------------------------------------------------------------


def _subst(obj, env):
    if isinstance(obj, str):
        return re.sub(r"\{([A-Z0-9]+)\}", lambda m: str(env[m.group(1)]), obj)
    if isinstance(obj, list):
        return [_subst(x, env) for x in obj]
    if isinstance(obj, dict):
        return {k: _subst(v, env) for k, v in obj.items()}
    return obj


def _extract(j, path):
    for part in path.split("."):
        if not isinstance(j, dict) or part not in j:
            return None
        j = j[part]
    return j


def run_script(server: cu.Server, prefix: str):
    api = cu.Api(server)
    env = {"P": prefix}
    results = []
    for step in SCRIPT:
        body = _subst(step["body"], env)
        if step["method"] == "GET":
            r = api.get(step["path"], body)
        else:
            r = api.post(step["path"], body)
        try:
            j = r.json()
        except ValueError:
            j = None
        for var, path in step["save"].items():
            val = _extract(j, path) if isinstance(j, dict) else None
            env[var] = val if val is not None else f"<no {path}>"
        results.append({"status": r.status_code, "json": j,
                        "ctype": r.headers.get("Content-Type", ""), "text": r.text[:300]})
    api.s.close()
    return results, env


ID_KEYS = {"experiment_id", "run_id", "run_uuid"}
SERVER_TIME_KEYS = {"creation_time", "last_update_time"}
UNORDERED_LISTS = {"tags", "params", "dataset_summaries"}
GENERATED_NAME = re.compile(r"^[a-z]+-[a-z]+-\d{1,3}$")
HEX32 = re.compile(r"[0-9a-f]{32}")
SET_REPR = re.compile(r"\{('[^']*'(?:, '[^']*')*)\}")


class Normaliser:
    def __init__(self, prefix):
        self.prefix = prefix
        self.ids: dict[str, str] = {}

    def placeholder(self, value):
        if value not in self.ids:
            self.ids[value] = f"<id{len(self.ids)}>"
        return self.ids[value]

    def collect(self, obj):
        """Register ids in order of appearance."""
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k in ID_KEYS and isinstance(v, str):
                    self.placeholder(v)
                self.collect(v)
        elif isinstance(obj, list):
            for x in obj:
                self.collect(x)

    def text(self, s):
        s = s.replace(self.prefix, "<P>")
        # MLflow's messages print Python sets ("one of '{'LIKE', '='}'"), whose order is
        # arbitrary per process: compare them sorted.
        s = SET_REPR.sub(lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", s)
        s = HEX32.sub(lambda m: self.ids.get(m.group(0), m.group(0)), s)
        for value, ph in self.ids.items():
            if not HEX32.fullmatch(value):  # experiment ids: only where they are clearly ids
                s = re.sub(rf"(mlflow-artifacts:/){re.escape(value)}(?=/|$)", rf"\g<1>{ph}", s)
                s = re.sub(rf"((?:experiment[ _]?)?id[= ]|experiment ){re.escape(value)}\b", rf"\g<1>{ph}", s,
                           flags=re.I)
        return s

    def norm(self, obj, key=None, parent=None):
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if k in SERVER_TIME_KEYS and isinstance(v, int):
                    out[k] = "<server-time>"
                elif k == "next_page_token" and v:
                    out[k] = "<token>"
                elif k in ID_KEYS and isinstance(v, str):
                    out[k] = self.placeholder(v)
                elif k in ("run_name", "value") and isinstance(v, str) and GENERATED_NAME.match(v) \
                        and (k == "run_name" or obj.get("key") == "mlflow.runName"):
                    out[k] = "<generated-name>"
                else:
                    out[k] = self.norm(v, k, obj)
            return out
        if isinstance(obj, list):
            items = [self.norm(x, key, parent) for x in obj]
            # run data lists (metrics/params/tags) have no defined order; history lists do
            if key in UNORDERED_LISTS or (key == "metrics" and isinstance(parent, dict) and "tags" in parent):
                items.sort(key=lambda x: json.dumps(x, sort_keys=True))
            return items
        if isinstance(obj, str):
            return self.text(obj)
        return obj


def normalise(results, prefix):
    n = Normaliser(prefix)
    out = []
    for res in results:
        if isinstance(res["json"], (dict, list)):
            n.collect(res["json"])
            body = n.norm(res["json"])
        else:
            body = {"<non-json>": res["ctype"].split(";")[0]}
        out.append({"status": res["status"], "body": body})
    return out


def _rules(label):
    rules = dict(ACCEPTABLE["*"])
    rules.update(ACCEPTABLE.get(label, {}))
    return rules


def compare(stock, ours):
    diffs = []
    for step, a, b in zip(SCRIPT, stock, ours):
        label = step["label"]
        rules = _rules(label)
        if a["status"] != b["status"]:
            diffs.append((label, "status", a["status"], b["status"], a["body"], b["body"]))
            continue
        if "status_only" in rules:
            continue
        ba, bb = a["body"], b["body"]
        is_error = a["status"] >= 400 and isinstance(ba, dict) and "error_code" in ba
        if is_error:
            drop = rules.get("drop_keys", (set(),))[0]
            ba = {k: v for k, v in ba.items() if k not in drop}
            bb = {k: v for k, v in bb.items() if k not in drop} if isinstance(bb, dict) else bb
            if "message_prefix" in rules and isinstance(bb, dict):
                marker = rules["message_prefix"][0]
                ma, mb = ba.get("message", ""), bb.get("message", "")
                cut = ma.find(marker) + len(marker) if marker and marker in ma else len(marker)
                if mb[:cut] != ma[:cut] or not mb:
                    diffs.append((label, "message", ma[:cut], mb[:cut] or mb, None, None))
                ba = {k: v for k, v in ba.items() if k != "message"}
                bb = {k: v for k, v in bb.items() if k != "message"}
        if ba != bb:
            diffs.append((label, "body", None, None, ba, bb))
    return diffs


def _fmt(x, limit=1500):
    s = json.dumps(x, sort_keys=True, default=str)
    return s if len(s) <= limit else s[:limit] + "…"


def _differences(a, b, path="$", out=None):
    """Every leaf difference between stock (a) and mlflowd (b), as readable lines."""
    out = [] if out is None else out
    if type(a) is not type(b):
        out.append((path, f"stock {_fmt(a, 200)} != mlflowd {_fmt(b, 200)}"))
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append((f"{path}.{k}", f"only mlflowd has it: {_fmt(b[k], 200)}"))
            elif k not in b:
                out.append((f"{path}.{k}", f"missing in mlflowd (stock: {_fmt(a[k], 200)})"))
            elif a[k] != b[k]:
                _differences(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append((path, f"{len(a)} items in stock, {len(b)} in mlflowd"))
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                _differences(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append((path, f"stock {_fmt(a, 300)} != mlflowd {_fmt(b, 300)}"))
    return out


def _summarise(diffs, limit=8):
    """Group differences that only differ by list index ($.runs[3].x and $.runs[5].x)."""
    seen, lines = {}, []
    for path, what in diffs:
        generic = re.sub(r"\[\d+\]", "[*]", path)
        key = (generic, re.sub(r"<id\d+>", "<id>", what))
        if key in seen:
            seen[key] += 1
            continue
        seen[key] = 1
        lines.append((key, f"{path}: {what}"))
    return [f"{text}" + (f"  (and {seen[key] - 1} more like it)" if seen[key] > 1 else "")
            for key, text in lines[:limit]] + ([f"... {len(lines) - limit} more"] if len(lines) > limit else [])


def test_script_labels_unique():
    labels = [s["label"] for s in SCRIPT]
    assert len(labels) == len(set(labels))
    assert set(ACCEPTABLE) - {"*"} <= set(labels)


def test_differential(stock_server, mlflowd):
    stock_raw, stock_env = run_script(stock_server, cu.uniq("diffS"))
    ours_raw, ours_env = run_script(mlflowd, cu.uniq("diffM"))
    stock = normalise(stock_raw, stock_env["P"])
    ours = normalise(ours_raw, ours_env["P"])

    # the script itself must have done what it meant to do on stock MLflow
    by_label = {s["label"]: r for s, r in zip(SCRIPT, stock)}
    assert by_label["create-a"]["status"] == 200 and by_label["get-r1"]["status"] == 200
    assert by_label["search-page2"]["status"] == 200 and "<no" not in str(stock_env.get("PT"))
    assert by_label["dup-experiment"]["status"] == 400

    diffs = compare(stock, ours)
    if diffs:
        lines = [f"{len(diffs)} of {len(SCRIPT)} steps differ between stock MLflow and mlflowd:"]
        for label, what, sa, sb, ba, bb in diffs:
            step = next(s for s in SCRIPT if s["label"] == label)
            lines.append(f"\n[{label}] {step['method']} {step['path']} {_fmt(step['body'], 300)}")
            if what == "status":
                lines.append(f"  status: stock {sa}, mlflowd {sb}")
                lines.append(f"  stock:   {_fmt(ba, 600)}")
                lines.append(f"  mlflowd: {_fmt(bb, 600)}")
            elif what == "message":
                lines.append(f"  message: stock {sa!r}\n           mlflowd {sb!r}")
            else:
                for d in _summarise(_differences(ba, bb)):
                    lines.append(f"  {d}")
        pytest.fail("\n".join(lines), pytrace=False)
