"""POST /api/2.0/mlflow/runs/log-model (the MLflow 2.x client's log_model and autolog call it):
the model's MLmodel fields appended to the run's mlflow.log-model.history tag as stock MLflow
writes it, good and bad input, and the same requests against stock `mlflow server`."""

import json
import re

import pytest
import requests

import compat_util as cu

TAG = "mlflow.log-model.history"


def model(run_id, **over):
    m = {"run_id": run_id, "artifact_path": "model", "utc_time_created": "2024-05-01 10:00:00.123456",
         "flavors": {"python_function": {"loader_module": "mlflow.sklearn", "python_version": "3.11.7",
                                         "config": {"secret": 1}},
                     "sklearn": {"pickled_model": "model.pkl", "sklearn_version": "1.5.0"}},
         "model_uuid": "0123456789abcdef0123456789abcdef", "mlflow_version": "2.22.4",
         "signature": {"inputs": '[{"type": "double", "name": "x", "required": true}]',
                       "outputs": '[{"type": "long", "required": true}]', "params": None}}
    m.update(over)
    return m


# Model JSON texts whose entries must come out exactly as stock writes them; RID is the run id.
GOOD = [
    lambda rid: json.dumps(model(rid)),
    # unicode (raw UTF-8 and escapes), control characters
    lambda rid: json.dumps(model(rid, artifact_path="mödel ✓ 😀 \x01\x7f \"q\" \\"), ensure_ascii=False),
    lambda rid: json.dumps(model(rid, artifact_path="caf\u00e9 \U0001F600")),
    # numbers: floats in Python's repr, integers digit for digit, NaN and infinities
    lambda rid: '{"run_id": "%s", "artifact_path": "m", "utc_time_created": "t", "flavors": {"f": '
                '{"a": 1e-5, "b": 1.0, "c": 12345678901234567890123, "d": 1E300, "e": -0, "f": -0.0, '
                '"g": NaN, "h": Infinity, "i": -Infinity, "j": 0.1, "k": 123456789012345678.0, "l": 2.5e-7, '
                '"m": [true, false, null, [], {}]}}}' % rid,
    # no model_uuid (null then), flavors that are not objects, a flavor without config
    lambda rid: json.dumps({"run_id": rid, "artifact_path": "m", "utc_time_created": "x",
                            "flavors": {"a": "text", "b": [1, {"config": 2}], "c": None, "d": {"config": 1}}}),
    # utc_time_created of other types: str() of the Python value
    lambda rid: json.dumps(model(rid, utc_time_created=1714557600)),
    lambda rid: json.dumps(model(rid, utc_time_created=1.5)),
    lambda rid: json.dumps(model(rid, utc_time_created=True)),
    lambda rid: json.dumps(model(rid, utc_time_created=[1, "a", None])),
    lambda rid: json.dumps(model(rid, utc_time_created={"k": "it's", "n": 2.0})),
    # run_id and artifact_path are kept as given, whatever their type; flavors null
    lambda rid: json.dumps({"run_id": 17, "artifact_path": {"x": [1]}, "utc_time_created": "t", "flavors": None}),
    # a repeated key keeps its first place and its last value; whitespace of any kind
    lambda rid: '{ "run_id" : "%s" ,\n"artifact_path":"first", "utc_time_created":"t",\t"flavors":{},'
                '"artifact_path":"last"}' % rid,
]

BAD = [
    ("no run_id", lambda rid: {"model_json": json.dumps(model(rid))}),
    ("empty run_id", lambda rid: {"run_id": "", "model_json": json.dumps(model(rid))}),
    ("no model_json", lambda rid: {"run_id": rid}),
    ("run_id a number", lambda rid: {"run_id": 5, "model_json": json.dumps(model(rid))}),
    ("model_json an object", lambda rid: {"run_id": rid, "model_json": {"a": 1}}),
    ("invalid JSON", lambda rid: {"run_id": rid, "model_json": "{not json"}),
    ("trailing text", lambda rid: {"run_id": rid, "model_json": json.dumps(model(rid)) + " x"}),
    ("control character", lambda rid: {"run_id": rid, "model_json": '{"a": "x\ny"}'}),
    ("no flavors", lambda rid: {"run_id": rid, "model_json": json.dumps(
        {k: v for k, v in model(rid).items() if k != "flavors"})}),
    ("no artifact_path", lambda rid: {"run_id": rid, "model_json": json.dumps(
        {k: v for k, v in model(rid).items() if k != "artifact_path"})}),
    ("unknown run", lambda rid: {"run_id": "f" * 32, "model_json": json.dumps(model(rid))}),
]


def history(srv, rid):
    r = requests.get(srv.url + cu.API + "/runs/get", params={"run_id": rid}, timeout=30)
    tags = {t["key"]: t["value"] for t in r.json()["run"]["data"].get("tags", [])}
    return tags.get(TAG)


def new_run(srv):
    e = requests.post(srv.url + cu.API + "/experiments/create", json={"name": cu.uniq("lm")}, timeout=30)
    eid = e.json()["experiment_id"]
    r = requests.post(srv.url + cu.API + "/runs/create", json={"experiment_id": eid}, timeout=30)
    return r.json()["run"]["info"]["run_id"]


def log_all_good(srv):
    rid = new_run(srv)
    for make in GOOD:
        r = requests.post(srv.url + cu.API + "/runs/log-model", json={"run_id": rid, "model_json": make(rid)},
                          timeout=30)
        assert r.status_code == 200, r.text
        assert r.json() == {}
    return rid, history(srv, rid)


def answers(srv, rid):
    out = {}
    for name, make in BAD:
        r = requests.post(srv.url + cu.API + "/runs/log-model", json=make(rid), timeout=30)
        body = r.json()
        out[name] = (r.status_code, body.get("error_code"), body.get("message", "").replace(rid, "RID"))
    return out


def test_log_model_appends_to_the_history(mlflowd):
    rid, value = log_all_good(mlflowd)
    entries = json.loads(value)
    assert len(entries) == len(GOOD)
    first = entries[0]
    assert list(first) == ["run_id", "artifact_path", "utc_time_created", "model_uuid", "flavors"]
    assert first["flavors"]["python_function"] == {"loader_module": "mlflow.sklearn", "python_version": "3.11.7"}
    assert entries[4]["model_uuid"] is None
    assert entries[4]["flavors"] == {"a": "text", "b": [1, {"config": 2}], "c": None, "d": {}}
    assert [e["utc_time_created"] for e in entries[5:10]] == [
        "1714557600", "1.5", "True", "[1, 'a', None]", "{'k': \"it's\", 'n': 2.0}"]
    assert entries[-1]["artifact_path"] == "last"
    assert value.isascii() and ", " in value


def test_log_model_without_a_creation_time_gets_now(api, mlflowd):
    rid = new_run(mlflowd)
    m = model(rid, utc_time_created=None)
    api.okpost("/runs/log-model", {"run_id": rid, "model_json": json.dumps(m)})
    (entry,) = json.loads(history(mlflowd, rid))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?", entry["utc_time_created"]), entry


@pytest.mark.parametrize("name", [b[0] for b in BAD])
def test_log_model_bad_input(api, mlflowd, name):
    rid = new_run(mlflowd)
    make = dict(BAD)[name]
    r = requests.post(mlflowd.url + cu.API + "/runs/log-model", json=make(rid), timeout=30)
    assert r.status_code in (400, 404), r.text
    assert r.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")
    assert history(mlflowd, rid) is None


def test_log_model_on_a_deleted_run_is_refused(api, mlflowd):
    rid = new_run(mlflowd)
    api.okpost("/runs/delete", {"run_id": rid})
    r = requests.post(mlflowd.url + cu.API + "/runs/log-model",
                      json={"run_id": rid, "model_json": json.dumps(model(rid))}, timeout=30)
    cu.assert_invalid(r, f"The run {rid} must be in the 'active' state. Current state is deleted.")


@pytest.mark.mlflowd_only
@pytest.mark.parametrize("text", ["[1, 2]", "5", '"s"', json.dumps({"run_id": "r", "artifact_path": "m",
                                                                     "utc_time_created": "t", "flavors": [1]})])
def test_log_model_shapes_stock_fails_on(api, mlflowd, text):
    # stock answers these with a 500 HTML page (a Python exception); mlflowd with a 400
    rid = new_run(mlflowd)
    r = requests.post(mlflowd.url + cu.API + "/runs/log-model", json={"run_id": rid, "model_json": text}, timeout=30)
    cu.assert_invalid(r)
    assert history(mlflowd, rid) is None


@pytest.mark.mlflowd_only
def test_log_model_same_as_stock(mlflowd, stock_server):
    ours_rid, ours = log_all_good(mlflowd)
    stock_rid, theirs = log_all_good(stock_server)
    assert ours.replace(ours_rid, "RID") == theirs.replace(stock_rid, "RID")
    assert answers(mlflowd, new_run(mlflowd)) == answers(stock_server, new_run(stock_server))
