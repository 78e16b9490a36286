"""mlflowd-only endpoints of the web UI. GET /ajax-api/2.0/mlflowd/experiments/keys answers every
param, metric and tag key of an experiment's runs (also of deleted runs and of runs beyond any
search page), sorted, and MLflow's error bodies for bad or unknown experiment ids.
GET /ajax-api/2.0/mlflowd/metrics/get-history-bulk-minmax samples histories for charts keeping
each bucket's first, last, lowest and highest point, so spikes survive; same parameters, limits
and errors as get-history-bulk-interval."""

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


MINMAX = "/ajax-api/2.0/mlflowd/metrics/get-history-bulk-minmax"
INTERVAL = "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"


def _log_series(client, run_id, key, values, nan_at=()):
    from mlflow.entities import Metric

    ms = [Metric(key, float("nan") if s in nan_at else v, 1000 + s, s) for s, v in enumerate(values)]
    for i in range(0, len(ms), 1000):
        client.log_batch(run_id, metrics=ms[i : i + 1000])


def test_minmax_sampling_keeps_spikes(client, api):
    exp = client.create_experiment(uniq("minmax"))
    a = client.create_run(exp).info.run_id
    b = client.create_run(exp).info.run_id
    values = [1.0] * 10000
    values[5037] = 100.0  # one-step spike
    values[7001] = -50.0  # one-step dip
    _log_series(client, a, "loss", values, nan_at=(9000,))
    _log_series(client, b, "loss", [float(s) for s in range(10)])

    r = api.request("GET", MINMAX, params={"run_ids": [a, b], "metric_key": "loss", "max_results": 50})
    assert r.status_code == 200, r.text
    pts = r.json()["metrics"]
    pa = [m for m in pts if m["run_id"] == a]
    steps = [m["step"] for m in pa]
    assert steps == sorted(steps) and len(pa) <= 4 * 50
    assert (5037, 100.0) in [(m["step"], m["value"]) for m in pa]
    assert (7001, -50.0) in [(m["step"], m["value"]) for m in pa]
    assert pa[0]["step"] == 0 and pa[-1]["step"] == 9999
    assert {"key", "value", "timestamp", "step", "run_id"} <= set(pa[0])
    # a series shorter than the buckets comes back whole
    assert [m["value"] for m in pts if m["run_id"] == b] == [float(s) for s in range(10)]

    # MLflow's own sampling (first point of each bucket) is not required to keep it
    stock = api.request("GET", INTERVAL, params={"run_ids": [a], "metric_key": "loss", "max_results": 50}).json()
    assert len(stock["metrics"]) <= 51

    # a zoomed range: only its steps, at full detail
    z = api.request("GET", MINMAX, params={"run_ids": [a], "metric_key": "loss", "max_results": 100,
                                           "start_step": 5000, "end_step": 5059}).json()["metrics"]
    assert [m["step"] for m in z] == list(range(5000, 5060))
    # NaN points are kept as points ("NaN") but never chosen as a minimum or maximum
    n = api.request("GET", MINMAX, params={"run_ids": [a], "metric_key": "loss", "max_results": 10,
                                           "start_step": 8990, "end_step": 9010}).json()["metrics"]
    assert "NaN" in [m["value"] for m in n] or all(m["step"] != 9000 for m in n)
    assert 100.0 not in [m["value"] for m in n]


def test_minmax_bad_input(client, api):
    run = client.create_run(client.create_experiment(uniq("minmax-bad"))).info.run_id
    base = {"run_ids": [run], "metric_key": "loss"}
    assert_invalid(api.request("GET", MINMAX, params={**base, "max_results": 0}), "max_results")
    assert_invalid(api.request("GET", MINMAX, params={**base, "max_results": 2501}), "max_results")
    assert_invalid(api.request("GET", MINMAX, params={**base, "start_step": 5}), "both must be specified")
    assert_invalid(api.request("GET", MINMAX, params={**base, "start_step": 5, "end_step": 1}), "end_step")
    assert_invalid(api.request("GET", MINMAX, params={"run_ids": [run] * 101, "metric_key": "loss"}), "at most 100")
    assert_invalid(api.request("GET", MINMAX, params={"metric_key": "loss"}), "run_ids")
    # extreme step range: no overflow, an empty answer for a run without the metric
    r = api.request("GET", MINMAX, params={**base, "start_step": -(2**63), "end_step": 2**63 - 1})
    assert r.status_code == 200 and r.json().get("metrics", []) == []
    client.log_metric(run, "wide", 1.0, step=-(2**62))
    client.log_metric(run, "wide", 2.0, step=2**62)
    client.log_metric(run, "wide", 3.0, step=0)
    w = api.request("GET", MINMAX, params={"run_ids": [run], "metric_key": "wide", "max_results": 2}).json()["metrics"]
    assert [m["step"] for m in w] == [-(2**62), 0, 2**62]


def test_minmax_preview_sample(client, api):
    """sample=first: each bucket's first point and the range's last, a subset of the min/max sample."""
    exp = client.create_experiment(uniq("minmax-first"))
    a = client.create_run(exp).info.run_id
    b = client.create_run(exp).info.run_id
    values = [float(s % 7) for s in range(5000)]
    values[2501] = 100.0
    _log_series(client, a, "loss", values)
    _log_series(client, b, "loss", [1.0, 2.0, 3.0])
    q = {"run_ids": [a, b], "metric_key": "loss", "max_results": 10}
    first = api.request("GET", MINMAX, params={**q, "sample": "first"})
    assert first.status_code == 200, first.text
    fa = [m for m in first.json()["metrics"] if m["run_id"] == a]
    # 10 buckets of 500 steps, rounded up to whole blocks of 32 steps (512): their first steps,
    # then the last step
    assert [m["step"] for m in fa] == [0, 512, 1024, 1536, 2048, 2560, 3072, 3584, 4096, 4608, 4999]
    assert [m["value"] for m in fa] == [values[m["step"]] for m in fa]
    assert {"key", "value", "timestamp", "step", "run_id"} <= set(fa[0])
    # every preview point is one the min/max sample keeps; only the latter has the spike
    full = api.request("GET", MINMAX, params=q).json()["metrics"]
    keep = {(m["run_id"], m["step"], m["value"], m["timestamp"]) for m in full}
    assert all((m["run_id"], m["step"], m["value"], m["timestamp"]) in keep for m in first.json()["metrics"])
    assert 100.0 in [m["value"] for m in full] and 100.0 not in [m["value"] for m in fa]
    # a short series comes back whole; a zoomed range only its own steps
    assert [m["value"] for m in first.json()["metrics"] if m["run_id"] == b] == [1.0, 2.0, 3.0]
    z = api.request("GET", MINMAX, params={**q, "run_ids": [a], "sample": "first", "start_step": 2495,
                                           "end_step": 2504}).json()["metrics"]
    assert [m["step"] for m in z] == list(range(2495, 2505))
    # sample="minmax" is the default
    assert api.request("GET", MINMAX, params={**q, "sample": "minmax"}).json()["metrics"] == full
    # gaps: empty buckets are skipped, one seek per point found
    client.log_metric(a, "sparse", 1.0, step=0)
    client.log_metric(a, "sparse", 2.0, step=10**12)
    s = api.request("GET", MINMAX, params={"run_ids": [a], "metric_key": "sparse", "max_results": 2500,
                                           "sample": "first"}).json()["metrics"]
    assert [m["step"] for m in s] == [0, 10**12]
    assert_invalid(api.request("GET", MINMAX, params={**q, "sample": "lttb"}), "sample must be")
