"""mlflowd-only endpoint of the web UI: GET /ajax-api/2.0/mlflowd/experiments/keys answers every
param, metric and tag key of an experiment's runs (also of deleted runs and of runs beyond any
search page), sorted, and MLflow's error bodies for bad or unknown experiment ids."""

import pytest

import mlflow
from compat_util import assert_invalid, assert_not_found, uniq

pytestmark = pytest.mark.mlflowd_only

KEYS = "/ajax-api/2.0/mlflowd/experiments/keys"


def test_keys_of_every_run(client, api):
    exp = mlflow.set_experiment(uniq("keys"))
    other = client.create_experiment(uniq("other"))
    ids = []
    for i in range(3):
        with mlflow.start_run() as r:
            mlflow.log_param(f"p{i}", i)
            mlflow.log_metric("m shared", i)
            mlflow.log_metric(f"m{i}", i, step=3)
            mlflow.set_tag(f"t {i}:x", "x")
            ids.append(r.info.run_id)
    client.delete_run(ids[2])
    run = client.create_run(other)
    client.log_param(run.info.run_id, "not-here", "1")

    r = api.request("GET", KEYS, params={"experiment_id": exp.experiment_id})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["params"] == ["p0", "p1", "p2"]
    assert body["metrics"] == ["m shared", "m0", "m1", "m2"]
    assert "t 2:x" in body["tags"] and "mlflow.runName" in body["tags"]
    assert body["tags"] == sorted(body["tags"])
    assert body["truncated"] is False

    empty = api.request("GET", KEYS, params={"experiment_id": other}).json()
    assert empty["params"] == ["not-here"] and empty["metrics"] == []


def test_keys_bad_ids(api):
    assert_not_found(api.request("GET", KEYS, params={"experiment_id": "987654"}), "987654")
    assert_invalid(api.request("GET", KEYS, params={"experiment_id": "x'1"}), "must be a valid integer")
    assert_invalid(api.request("GET", KEYS), "experiment_id")
    # only under the ajax prefix, like MLflow's UI-only endpoints
    assert api.request("GET", "/api/2.0/mlflowd/experiments/keys", params={"experiment_id": "0"}).status_code == 404
