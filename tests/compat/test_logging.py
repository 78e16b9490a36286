"""log_param(s), log_metric(s) (steps, NaN, +-inf, latest-value rule), set_tag(s),
delete_tag, key validation and value truncation."""

import math

import mlflow
import pytest
from mlflow.exceptions import MlflowException

from compat_util import assert_invalid, assert_not_found, uniq

FLOAT_MAX = 1.7976931348623157e308


@pytest.fixture
def run_id(client):
    mlflow.set_experiment(uniq("log"))
    run = mlflow.start_run()
    yield run.info.run_id


def test_log_params(client, run_id):
    mlflow.log_param("lr", 0.01)
    mlflow.log_param("name", "adam")
    mlflow.log_params({"layers": 3, "flag": True, "none": None, "list": [1, 2]})
    assert client.get_run(run_id).data.params == {
        "lr": "0.01", "name": "adam", "layers": "3", "flag": "True", "none": "None", "list": "[1, 2]"}


def test_param_same_value_is_noop_different_value_rejected(client, run_id):
    mlflow.log_param("p", "v1")
    mlflow.log_param("p", "v1")
    with pytest.raises(MlflowException) as e:
        mlflow.log_param("p", "v2")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Changing param values is not allowed" in e.value.message
    assert client.get_run(run_id).data.params == {"p": "v1"}


def test_param_overwrite_message(api):
    rid = api.create_run(api.create_experiment())
    api.okpost("/runs/log-parameter", {"run_id": rid, "key": "k", "value": "v1"})
    r = api.post("/runs/log-parameter", {"run_id": rid, "key": "k", "value": "v2"})
    assert_invalid(r, f"Changing param values is not allowed. Param with key='k' was already logged "
                      f"with value='v1' for run ID='{rid}'. Attempted logging new value 'v2'.")


def test_empty_param_value(client, run_id):
    mlflow.log_param("empty", "")
    assert client.get_run(run_id).data.params == {"empty": ""}


def test_log_metric_steps_and_history(client, run_id):
    for step, v in enumerate([0.5, 0.4, 0.3]):
        mlflow.log_metric("loss", v, step=step)
    r = client.get_run(run_id)
    assert r.data.metrics == {"loss": 0.3}
    hist = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in hist] == [(0, 0.5), (1, 0.4), (2, 0.3)]
    assert all(m.key == "loss" and m.timestamp > 0 for m in hist)


def test_log_metrics_dict(client, run_id):
    mlflow.log_metrics({"a": 1, "b": 2.5, "c": -3}, step=7)
    r = client.get_run(run_id)
    assert r.data.metrics == {"a": 1.0, "b": 2.5, "c": -3.0}
    assert [m.step for m in client.get_metric_history(run_id, "b")] == [7]


def test_nan_and_infinite_metrics(client, run_id):
    mlflow.log_metric("nan", float("nan"))
    mlflow.log_metric("pinf", float("inf"))
    mlflow.log_metric("ninf", float("-inf"))
    m = client.get_run(run_id).data.metrics
    assert math.isnan(m["nan"])
    # MLflow stores +-inf as +-DBL_MAX, and that is what comes back
    assert m["pinf"] == FLOAT_MAX
    assert m["ninf"] == -FLOAT_MAX
    h = client.get_metric_history(run_id, "nan")
    assert len(h) == 1 and math.isnan(h[0].value)
    assert [x.value for x in client.get_metric_history(run_id, "pinf")] == [FLOAT_MAX]


def test_nan_metric_json(api):
    rid = api.create_run(api.create_experiment())
    for key, v in (("kNaN", "NaN"), ("kpinf", "Infinity"), ("kninf", "-Infinity")):
        api.okpost("/runs/log-metric", {"run_id": rid, "key": key, "value": v, "timestamp": 10, "step": 0})
    metrics = {m["key"]: m["value"] for m in api.get_run(rid)["data"]["metrics"]}
    assert metrics == {"kNaN": "NaN", "kpinf": FLOAT_MAX, "kninf": -FLOAT_MAX}
    hist = api.okget("/metrics/get-history", {"run_id": rid, "metric_key": "kNaN", "max_results": 10})
    assert hist["metrics"] == [{"key": "kNaN", "value": "NaN", "timestamp": 10, "step": 0}]


def test_latest_metric_rule(api):
    """latest_metrics keeps the max (step, timestamp, value), not the last logged point."""
    rid = api.create_run(api.create_experiment())
    api.log_metric(rid, "m", 5.0, step=5, timestamp=100)
    api.log_metric(rid, "m", 3.0, step=3, timestamp=200)  # lower step: not latest
    assert api.run_data(rid)[0]["m"] == 5.0
    api.log_metric(rid, "m", 4.0, step=5, timestamp=300)  # same step, later ts: latest
    assert api.run_data(rid)[0]["m"] == 4.0
    api.log_metric(rid, "m", 9.0, step=5, timestamp=300)  # same step+ts, larger value
    assert api.run_data(rid)[0]["m"] == 9.0
    api.log_metric(rid, "m", 1.0, step=5, timestamp=300)  # smaller value: not latest
    assert api.run_data(rid)[0]["m"] == 9.0
    latest = [m for m in api.get_run(rid)["data"]["metrics"] if m["key"] == "m"]
    assert latest == [{"key": "m", "value": 9.0, "timestamp": 300, "step": 5}]
    # history is ordered by (timestamp, step, value)
    hist = api.history(rid, "m", max_results=100)
    assert [(m["step"], m["timestamp"], m["value"]) for m in hist] == [
        (5, 100, 5.0), (3, 200, 3.0), (5, 300, 1.0), (5, 300, 4.0), (5, 300, 9.0)]


def test_duplicate_metric_point_is_stored_once(api):
    rid = api.create_run(api.create_experiment())
    for _ in range(3):
        api.log_metric(rid, "d", 1.5, step=2, timestamp=42)
    assert len(api.history(rid, "d", max_results=100)) == 1


def test_metric_negative_step_and_zero_timestamp(api):
    rid = api.create_run(api.create_experiment())
    api.okpost("/runs/log-metric", {"run_id": rid, "key": "neg", "value": 1, "timestamp": 0, "step": -5})
    assert api.history(rid, "neg", 10) == [{"key": "neg", "value": 1.0, "timestamp": 0, "step": -5}]


def test_metric_step_defaults_to_zero(api):
    rid = api.create_run(api.create_experiment())
    api.okpost("/runs/log-metric", {"run_id": rid, "key": "s", "value": 2, "timestamp": 7})
    assert api.history(rid, "s", 10) == [{"key": "s", "value": 2.0, "timestamp": 7, "step": 0}]


def test_int64_as_string(api):
    rid = api.create_run(api.create_experiment())
    api.okpost("/runs/log-metric", {"run_id": rid, "key": "s", "value": 2, "timestamp": "1700000000000",
                                    "step": "3"})
    assert api.history(rid, "s", 10) == [{"key": "s", "value": 2.0, "timestamp": 1700000000000, "step": 3}]


def test_large_int64_values(api):
    rid = api.create_run(api.create_experiment())
    big = 2**62
    api.okpost("/runs/log-metric", {"run_id": rid, "key": "b", "value": 1, "timestamp": big, "step": big})
    assert api.history(rid, "b", 10) == [{"key": "b", "value": 1.0, "timestamp": big, "step": big}]


def test_tags_set_overwrite_delete(client, run_id):
    mlflow.set_tag("a", "1")
    mlflow.set_tags({"b": 2, "c": "three"})
    mlflow.set_tag("a", "updated")
    tags = client.get_run(run_id).data.tags
    assert {k: tags[k] for k in ("a", "b", "c")} == {"a": "updated", "b": "2", "c": "three"}
    client.delete_tag(run_id, "b")
    assert "b" not in client.get_run(run_id).data.tags
    with pytest.raises(MlflowException) as e:
        client.delete_tag(run_id, "b")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_logging_to_missing_run(api):
    missing = "0123456789abcdef0123456789abcdef"
    assert_not_found(api.post("/runs/log-parameter", {"run_id": missing, "key": "k", "value": "v"}))
    assert_not_found(api.post("/runs/set-tag", {"run_id": missing, "key": "k", "value": "v"}))
    assert_not_found(api.post("/runs/delete-tag", {"run_id": missing, "key": "k"}))
    assert_not_found(api.post("/runs/log-metric", {"run_id": missing, "key": "k", "value": 1, "timestamp": 1}))


def test_logging_to_finished_run_is_allowed(client):
    eid = client.create_experiment(uniq("fin"))
    rid = client.create_run(eid).info.run_id
    client.set_terminated(rid)
    client.log_metric(rid, "m", 1.0)
    client.log_param(rid, "p", "v")
    client.set_tag(rid, "t", "v")
    r = client.get_run(rid)
    assert r.data.metrics == {"m": 1.0} and r.data.params == {"p": "v"} and r.data.tags["t"] == "v"


@pytest.mark.parametrize("key", ["a$b", "a//b", "a/", "/a", "./a", "a/../b", "..", "."])
def test_invalid_keys_rejected(api, key):
    rid = api.create_run(api.create_experiment())
    assert_invalid(api.post("/runs/log-parameter", {"run_id": rid, "key": key, "value": "v"}))
    assert_invalid(api.post("/runs/log-metric", {"run_id": rid, "key": key, "value": 1, "timestamp": 1}))
    assert_invalid(api.post("/runs/set-tag", {"run_id": rid, "key": key, "value": "v"}))
    m, p, t = api.run_data(rid)
    assert m == {} and p == {} and set(t) == {"mlflow.runName"}


@pytest.mark.parametrize("key", ["a b", "a-b_c.d", "x/y/z", "colon:ok", "ünïcode", "1"])
def test_valid_unusual_keys(api, key):
    rid = api.create_run(api.create_experiment())
    api.okpost("/runs/log-parameter", {"run_id": rid, "key": key, "value": "v"})
    api.okpost("/runs/log-metric", {"run_id": rid, "key": key, "value": 1, "timestamp": 1})
    api.okpost("/runs/set-tag", {"run_id": rid, "key": key, "value": "v"})
    m, p, t = api.run_data(rid)
    assert key in m and key in p and key in t


@pytest.mark.parametrize("kind", ["param", "metric", "tag"])
def test_key_length_250_ok_251_rejected(api, kind):
    rid = api.create_run(api.create_experiment())
    path, extra = {"param": ("/runs/log-parameter", {"value": "v"}),
                   "metric": ("/runs/log-metric", {"value": 1, "timestamp": 1}),
                   "tag": ("/runs/set-tag", {"value": "v"})}[kind]
    api.okpost(path, {"run_id": rid, "key": "k" * 250, **extra})
    assert_invalid(api.post(path, {"run_id": rid, "key": "j" * 251, **extra}),
                   "exceeds the maximum length of 250 characters")
    m, p, t = api.run_data(rid)
    keys = set(m) | set(p) | set(t)
    assert "k" * 250 in keys and "j" * 251 not in keys


def test_long_param_value_truncated(api):
    rid = api.create_run(api.create_experiment())
    api.okpost("/runs/log-parameter", {"run_id": rid, "key": "exact", "value": "a" * 6000})
    api.okpost("/runs/log-parameter", {"run_id": rid, "key": "long", "value": "b" * 6001})
    api.okpost("/runs/log-parameter", {"run_id": rid, "key": "huge", "value": "c" * 7999})
    p = api.run_data(rid)[1]
    assert p["exact"] == "a" * 6000
    assert p["long"] == "b" * 6000
    assert p["huge"] == "c" * 6000


def test_long_tag_value_truncated(api):
    rid = api.create_run(api.create_experiment())
    api.okpost("/runs/set-tag", {"run_id": rid, "key": "exact", "value": "a" * 8000})
    api.okpost("/runs/set-tag", {"run_id": rid, "key": "long", "value": "b" * 9000})
    t = api.run_data(rid)[2]
    assert t["exact"] == "a" * 8000
    assert t["long"] == "b" * 8000


def test_unicode_values_round_trip(api):
    rid = api.create_run(api.create_experiment())
    val = "héllo wörld ✓ 日本語 \U0001F600 \"quoted\" \\ back\nslash\ttab"
    api.okpost("/runs/log-parameter", {"run_id": rid, "key": "u", "value": val})
    api.okpost("/runs/set-tag", {"run_id": rid, "key": "u", "value": val})
    _, p, t = api.run_data(rid)
    assert p["u"] == val and t["u"] == val


def test_fluent_log_with_explicit_run_id(client):
    eid = client.create_experiment(uniq("explicit"))
    rid = client.create_run(eid).info.run_id
    mlflow.log_metric("m", 2.0, step=1, run_id=rid)
    mlflow.log_metrics({"n": 3.0}, run_id=rid)
    r = client.get_run(rid)
    assert r.data.metrics == {"m": 2.0, "n": 3.0}
    assert mlflow.active_run() is None
