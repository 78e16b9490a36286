"""log-batch through MlflowClient and raw HTTP: contents, limits at N and N+1, and
atomicity (a rejected batch stores nothing)."""

import math

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from compat_util import assert_invalid, assert_not_found, now_ms, uniq


def metrics(n, prefix="m", ts=1000, step=0):
    return [{"key": f"{prefix}{i}", "value": float(i), "timestamp": ts, "step": step} for i in range(n)]


def params(n, prefix="p"):
    return [{"key": f"{prefix}{i}", "value": f"v{i}"} for i in range(n)]


def tags(n, prefix="t"):
    return [{"key": f"{prefix}{i}", "value": f"v{i}"} for i in range(n)]


@pytest.fixture
def rid(api):
    return api.create_run(api.create_experiment())


def assert_empty(api, rid):
    m, p, t = api.run_data(rid)
    assert m == {}, f"rejected batch stored metrics: {sorted(m)[:5]}..."
    assert p == {}, f"rejected batch stored params: {sorted(p)[:5]}..."
    assert set(t) == {"mlflow.runName"}, f"rejected batch stored tags: {sorted(t)[:5]}..."


def test_client_log_batch(client):
    eid = client.create_experiment(uniq("batch"))
    rid = client.create_run(eid).info.run_id
    ts = now_ms()
    client.log_batch(
        rid,
        metrics=[Metric("acc", 0.5, ts, 0), Metric("acc", 0.7, ts + 1, 1), Metric("loss", float("nan"), ts, 0)],
        params=[Param("lr", "0.1"), Param("opt", "sgd")],
        tags=[RunTag("stage", "dev"), RunTag("owner", "me")],
    )
    r = client.get_run(rid)
    assert r.data.metrics["acc"] == 0.7 and math.isnan(r.data.metrics["loss"])
    assert r.data.params == {"lr": "0.1", "opt": "sgd"}
    assert r.data.tags["stage"] == "dev" and r.data.tags["owner"] == "me"
    assert [(m.step, m.value) for m in client.get_metric_history(rid, "acc")] == [(0, 0.5), (1, 0.7)]


def test_fluent_batch_apis_split_large_inputs(client):
    mlflow.set_experiment(uniq("split"))
    with mlflow.start_run() as run:
        mlflow.log_params({f"p{i}": i for i in range(250)})  # client splits into 100-param batches
        mlflow.log_metrics({f"m{i}": i for i in range(1500)})  # and 1000-metric batches
        mlflow.set_tags({f"t{i}": i for i in range(150)})
    r = mlflow.get_run(run.info.run_id)
    assert len(r.data.params) == 250 and r.data.params["p249"] == "249"
    assert len(r.data.metrics) == 1500 and r.data.metrics["m1499"] == 1499.0
    assert sum(1 for k in r.data.tags if k.startswith("t")) == 150


def test_empty_batch(api, rid):
    api.okpost("/runs/log-batch", {"run_id": rid})
    api.okpost("/runs/log-batch", {"run_id": rid, "metrics": [], "params": [], "tags": []})
    assert_empty(api, rid)


def test_metrics_1000_ok(api, rid):
    api.okpost("/runs/log-batch", {"run_id": rid, "metrics": metrics(1000)})
    assert len(api.run_data(rid)[0]) == 1000


def test_metrics_1001_rejected(api, rid):
    r = api.post("/runs/log-batch", {"run_id": rid, "metrics": metrics(1001)})
    assert_invalid(r, "A batch logging request can contain at most 1000 metrics. Got 1001 metrics. "
                      "Please split up metrics across multiple requests and try again.")
    assert_empty(api, rid)


def test_params_100_ok(api, rid):
    api.okpost("/runs/log-batch", {"run_id": rid, "params": params(100)})
    assert len(api.run_data(rid)[1]) == 100


def test_params_101_rejected(api, rid):
    r = api.post("/runs/log-batch", {"run_id": rid, "params": params(101), "metrics": metrics(3)})
    assert_invalid(r, "A batch logging request can contain at most 100 params. Got 101 params. "
                      "Please split up params across multiple requests and try again.")
    assert_empty(api, rid)


def test_tags_100_ok(api, rid):
    api.okpost("/runs/log-batch", {"run_id": rid, "tags": tags(100)})
    assert len(api.run_data(rid)[2]) == 101  # + mlflow.runName


def test_tags_101_rejected(api, rid):
    r = api.post("/runs/log-batch", {"run_id": rid, "tags": tags(101), "params": params(2)})
    assert_invalid(r, "A batch logging request can contain at most 100 tags. Got 101 tags. "
                      "Please split up tags across multiple requests and try again.")
    assert_empty(api, rid)


def test_total_1000_ok(api, rid):
    api.okpost("/runs/log-batch", {"run_id": rid, "metrics": metrics(800), "params": params(100), "tags": tags(100)})
    m, p, t = api.run_data(rid)
    assert (len(m), len(p), len(t)) == (800, 100, 101)


def test_total_1001_rejected(api, rid):
    r = api.post("/runs/log-batch", {"run_id": rid, "metrics": metrics(801), "params": params(100), "tags": tags(100)})
    assert_invalid(r, "A batch logging request can contain at most 1000 metrics, params, and tags. "
                      "Got 1001 metrics, params, and tags.")
    assert_empty(api, rid)


@pytest.mark.parametrize("kind", ["metrics", "params", "tags"])
def test_key_length_in_batch(api, rid, kind):
    def item(key):
        return {"metrics": {"key": key, "value": 1, "timestamp": 1},
                "params": {"key": key, "value": "v"},
                "tags": {"key": key, "value": "v"}}[kind]

    api.okpost("/runs/log-batch", {"run_id": rid, kind: [item("k" * 250)]})
    r = api.post("/runs/log-batch", {"run_id": rid, kind: [item("x"), item("j" * 251)],
                                     "params" if kind != "params" else "tags": [{"key": "other", "value": "o"}]})
    assert_invalid(r, "exceeds the maximum length of 250 characters")
    m, p, t = api.run_data(rid)
    keys = set(m) | set(p) | set(t)
    assert "k" * 250 in keys
    assert "x" not in keys and "other" not in keys and "j" * 251 not in keys


def test_duplicate_param_keys_rejected(api, rid):
    r = api.post("/runs/log-batch", {"run_id": rid, "params": [{"key": "dup", "value": "a"},
                                                                {"key": "dup", "value": "b"}],
                                     "metrics": metrics(2), "tags": tags(2)})
    assert_invalid(r, "Duplicate parameter keys have been submitted: ['dup']")
    assert_empty(api, rid)


def test_param_conflict_rejects_whole_batch(api, rid):
    api.okpost("/runs/log-parameter", {"run_id": rid, "key": "p", "value": "1"})
    r = api.post("/runs/log-batch", {"run_id": rid, "params": [{"key": "q", "value": "x"}, {"key": "p", "value": "2"}],
                                     "metrics": metrics(2), "tags": tags(2)})
    assert_invalid(r, "Changing param values is not allowed")
    m, p, t = api.run_data(rid)
    assert m == {} and p == {"p": "1"} and set(t) == {"mlflow.runName"}


def test_same_param_value_again_is_ok(api, rid):
    api.okpost("/runs/log-parameter", {"run_id": rid, "key": "p", "value": "1"})
    api.okpost("/runs/log-batch", {"run_id": rid, "params": [{"key": "p", "value": "1"}, {"key": "q", "value": "2"}]})
    assert api.run_data(rid)[1] == {"p": "1", "q": "2"}


def test_invalid_metric_key_rejects_whole_batch(api, rid):
    r = api.post("/runs/log-batch", {"run_id": rid, "params": params(1), "tags": tags(1),
                                     "metrics": [{"key": "ok", "value": 1, "timestamp": 1},
                                                 {"key": "bad$", "value": 1, "timestamp": 1}]})
    assert_invalid(r, "Names may only contain alphanumerics")
    assert_empty(api, rid)


@pytest.mark.parametrize("field", ["timestamp", "value", "key"])
def test_metric_missing_required_field(api, rid, field):
    item = {"key": "m", "value": 1, "timestamp": 1}
    del item[field]
    r = api.post("/runs/log-batch", {"run_id": rid, "metrics": [{"key": "ok", "value": 1, "timestamp": 1}, item]})
    assert_invalid(r, f"Missing value for required parameter 'metrics[1].{field}'")
    assert_empty(api, rid)


def test_tag_missing_key(api, rid):
    assert_invalid(api.post("/runs/log-batch", {"run_id": rid, "tags": [{"value": "m"}]}),
                   "Missing value for required parameter 'tags[0].key'")
    assert_empty(api, rid)


def test_param_without_value_is_empty_string(api, rid):
    api.okpost("/runs/log-batch", {"run_id": rid, "params": [{"key": "novalue"}]})
    assert api.run_data(rid)[1] == {"novalue": ""}


def test_duplicate_tag_keys_last_wins(api, rid):
    api.okpost("/runs/log-batch", {"run_id": rid, "tags": [{"key": "dt", "value": "1"}, {"key": "dt", "value": "2"}]})
    assert api.run_data(rid)[2]["dt"] == "2"


def test_duplicate_metric_points_in_one_batch(api, rid):
    pt = {"key": "same", "value": 1, "timestamp": 5, "step": 1}
    api.okpost("/runs/log-batch", {"run_id": rid, "metrics": [pt, pt]})
    api.okpost("/runs/log-batch", {"run_id": rid, "metrics": [pt]})
    assert api.history(rid, "same", 100) == [{"key": "same", "value": 1.0, "timestamp": 5, "step": 1}]


def test_batch_many_steps_latest(api, rid):
    pts = [{"key": "acc", "value": float(s) / 10, "timestamp": 1000 + s, "step": s} for s in range(500)]
    pts.reverse()  # order inside the batch does not matter for latest_metrics
    api.okpost("/runs/log-batch", {"run_id": rid, "metrics": pts})
    latest = [m for m in api.get_run(rid)["data"]["metrics"] if m["key"] == "acc"]
    assert latest == [{"key": "acc", "value": 49.9, "timestamp": 1499, "step": 499}]
    assert len(api.history(rid, "acc", 1000)) == 500


def test_batch_param_value_truncated(api, rid):
    api.okpost("/runs/log-batch", {"run_id": rid, "params": [{"key": "long", "value": "z" * 7000}],
                                   "tags": [{"key": "longtag", "value": "y" * 9000}]})
    _, p, t = api.run_data(rid)
    assert p["long"] == "z" * 6000 and t["longtag"] == "y" * 8000


def test_batch_errors(api, rid):
    assert_invalid(api.post("/runs/log-batch", {"metrics": []}), "Missing value for required parameter 'run_id'")
    assert_not_found(api.post("/runs/log-batch", {"run_id": "0123456789abcdef0123456789abcdef", "metrics": []}))
    assert_invalid(api.post("/runs/log-batch", {"run_id": rid, "metrics": "x"}))
    assert_invalid(api.post("/runs/log-batch", {"run_id": "not a run id!", "metrics": []}))


def test_batch_on_deleted_run_rejected(api, rid):
    api.okpost("/runs/delete", {"run_id": rid})
    assert_invalid(api.post("/runs/log-batch", {"run_id": rid, "metrics": metrics(2), "params": params(2)}))
    api.okpost("/runs/restore", {"run_id": rid})
    assert_empty(api, rid)


def test_client_log_batch_splits_and_reports_errors(client):
    eid = client.create_experiment(uniq("bi"))
    rid = client.create_run(eid).info.run_id
    # the client splits oversized batches itself
    client.log_batch(rid, params=[Param(f"p{i}", "v") for i in range(101)])
    assert len(client.get_run(rid).data.params) == 101
    with pytest.raises(MlflowException) as e:
        client.log_batch(rid, params=[Param("p0", "other")])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.get_run(rid).data.params["p0"] == "v"
