"""Bad input over raw HTTP: malformed JSON, wrong types, missing required fields, unknown
ids, length limits at N and N+1. Every error is a JSON {error_code, message} with MLflow's
status, never a 500; after a rejected write nothing is stored."""

import pytest

from compat_util import assert_error, assert_invalid, assert_not_found, uniq

MISSING_RUN = "0123456789abcdef0123456789abcdef"
MISSING_EXP = "987654"


def missing_msg(field):
    return (f"Missing value for required parameter '{field}'. "
            "See the API docs for more information about request parameters.")


@pytest.fixture
def ids(api):
    eid = api.create_experiment()
    rid = api.create_run(eid)
    return eid, rid


# ---- malformed bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["{bad json", '{"name": ', "", "{\"name\": \"x\"", "\x00\x01"])
def test_malformed_json_is_400(api, raw):
    r = api.request("POST", "/experiments/create", data=raw.encode(), headers={"Content-Type": "application/json"})
    assert_invalid(r)


@pytest.mark.mlflowd_only  # stock MLflow answers these with a 500 HTML page (an uncaught TypeError)
@pytest.mark.parametrize("raw", ["[1, 2]", "123", "\"just a string\"", "true"])
def test_non_object_json_is_400(api, raw):
    r = api.request("POST", "/experiments/create", data=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400)


@pytest.mark.mlflowd_only  # stock MLflow answers a malformed log-batch body with a 500 HTML page
def test_malformed_json_stores_nothing(api, ids):
    _, rid = ids
    r = api.request("POST", "/runs/log-batch",
                    data='{"run_id": "%s", "params": [{"key": "p", "value": "v"}' % rid,
                    headers={"Content-Type": "application/json"})
    assert_invalid(r)
    assert api.run_data(rid)[1] == {}


# ---- wrong types ------------------------------------------------------------------------------


@pytest.mark.parametrize("path,body,field,type_name", [
    ("/runs/log-metric", {"key": "a", "value": "abc", "timestamp": 1}, "value", "str"),
    ("/runs/log-metric", {"key": "a", "value": 1, "timestamp": "x"}, "timestamp", "str"),
    ("/runs/log-metric", {"key": "a", "value": 1, "timestamp": 1, "step": "abc"}, "step", "str"),
    ("/runs/log-metric", {"key": 5, "value": 1, "timestamp": 1}, "key", "int"),
    ("/runs/log-parameter", {"key": "p", "value": 5}, "value", "int"),
    ("/runs/update", {"end_time": "x"}, "end_time", "str"),
    ("/runs/log-batch", {"metrics": "x"}, "metrics", "str"),
])
def test_wrong_type_on_run(api, ids, path, body, field, type_name):
    _, rid = ids
    r = api.post(path, {"run_id": rid, **body})
    j = assert_invalid(r, f"for parameter '{field}' supplied")
    assert f"Hint: Value was of type '{type_name}'" in j["message"]
    m, p, _ = api.run_data(rid)
    assert m == {} and p == {}


@pytest.mark.parametrize("path,body,message", [
    ("/runs/search", {"experiment_ids": ["0"], "max_results": "x"},
     "Invalid value \"x\" for parameter 'max_results' supplied:  Hint: Value was of type 'str'."),
    ("/runs/search", {"experiment_ids": "0"}, "for parameter 'experiment_ids' supplied"),
    ("/runs/search", {"experiment_ids": ["0"], "filter": 5}, "for parameter 'filter' supplied"),
    ("/runs/search", {"experiment_ids": ["0"], "order_by": "x"}, "for parameter 'order_by' supplied"),
    ("/experiments/search", {"max_results": "x"}, "for parameter 'max_results' supplied"),
    ("/experiments/create", {"name": 123}, "Invalid value 123 for parameter 'name' supplied"),
    ("/experiments/create", {"name": uniq("t"), "tags": {"k": "v"}}, "for parameter 'tags' supplied"),
    ("/experiments/create", {"name": uniq("t"), "artifact_location": 5}, "for parameter 'artifact_location'"),
    ("/runs/create", {"experiment_id": "0", "start_time": "x"}, "for parameter 'start_time' supplied"),
])
def test_wrong_type(api, path, body, message):
    assert_invalid(api.post(path, body), message)


def test_wrong_type_get_query(api):
    assert_invalid(api.get("/experiments/search", {"max_results": "x"}),
                   "for parameter 'max_results' supplied")


def test_wrong_run_id_type(api):
    assert_invalid(api.post("/runs/log-metric", {"run_id": 123, "key": "a", "value": 1, "timestamp": 1}),
                   "Invalid value 123 for parameter 'run_id' supplied")


def test_non_integer_experiment_id(api):
    assert_invalid(api.get("/experiments/get", {"experiment_id": "abc"}),
                   "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.")
    assert_invalid(api.post("/runs/create", {"experiment_id": "abc"}), "Invalid experiment ID 'abc'")


# ---- missing required fields ------------------------------------------------------------------


REQUIRED = [
    ("POST", "/experiments/create", {}, "name"),
    ("POST", "/experiments/create", {"name": ""}, "name"),
    ("POST", "/experiments/create", {"name": None}, "name"),
    ("GET", "/experiments/get", {}, "experiment_id"),
    ("GET", "/experiments/get", {"experiment_id": ""}, "experiment_id"),
    ("GET", "/experiments/get-by-name", {}, "experiment_name"),
    ("POST", "/experiments/delete", {}, "experiment_id"),
    ("POST", "/experiments/restore", {}, "experiment_id"),
    ("POST", "/experiments/update", {"experiment_id": "$eid"}, "new_name"),
    ("POST", "/experiments/update", {"new_name": "x"}, "experiment_id"),
    ("POST", "/experiments/set-experiment-tag", {"experiment_id": "$eid", "value": "v"}, "key"),
    ("POST", "/experiments/set-experiment-tag", {"key": "k", "value": "v"}, "experiment_id"),
    ("POST", "/experiments/delete-experiment-tag", {"experiment_id": "$eid"}, "key"),
    ("GET", "/runs/get", {}, "run_id"),
    ("POST", "/runs/update", {"status": "FINISHED"}, "run_id"),
    ("POST", "/runs/delete", {}, "run_id"),
    ("POST", "/runs/restore", {}, "run_id"),
    ("POST", "/runs/log-metric", {"key": "a", "value": 1, "timestamp": 1}, "run_id"),
    ("POST", "/runs/log-metric", {"run_id": "$rid", "value": 1, "timestamp": 1}, "key"),
    ("POST", "/runs/log-metric", {"run_id": "$rid", "key": "a", "timestamp": 1}, "value"),
    ("POST", "/runs/log-metric", {"run_id": "$rid", "key": "a", "value": 1}, "timestamp"),
    ("POST", "/runs/log-parameter", {"run_id": "$rid", "value": "v"}, "key"),
    ("POST", "/runs/log-parameter", {"key": "k", "value": "v"}, "run_id"),
    ("POST", "/runs/set-tag", {"run_id": "$rid", "value": "v"}, "key"),
    ("POST", "/runs/set-tag", {"run_id": "$rid", "key": "", "value": "v"}, "key"),
    ("POST", "/runs/set-tag", {"run_id": "$rid", "key": None, "value": "v"}, "key"),
    ("POST", "/runs/delete-tag", {"run_id": "$rid"}, "key"),
    ("POST", "/runs/log-batch", {}, "run_id"),
    ("POST", "/runs/log-inputs", {}, "run_id"),
    ("GET", "/metrics/get-history", {"metric_key": "m"}, "run_id"),
    ("GET", "/metrics/get-history", {"run_id": "$rid"}, "metric_key"),
]


@pytest.mark.parametrize("method,path,body,field", REQUIRED,
                         ids=[f"{p}-{f}-{i}" for i, (_, p, _, f) in enumerate(REQUIRED)])
def test_missing_required(api, ids, method, path, body, field):
    eid, rid = ids
    body = {k: (eid if v == "$eid" else rid if v == "$rid" else v) for k, v in body.items()}
    if method == "GET":
        r = api.get(path, {k: v for k, v in body.items() if v is not None})
    else:
        r = api.post(path, body)
    assert_invalid(r, missing_msg(field))
    m, p, t = api.run_data(rid)
    assert m == {} and p == {} and set(t) == {"mlflow.runName"}


def test_optional_value_may_be_absent(api, ids):
    # "value" is not required for params and tags: absent means empty
    _, rid = ids
    api.okpost("/runs/set-tag", {"run_id": rid, "key": "t"})
    api.okpost("/runs/log-parameter", {"run_id": rid, "key": "p"})
    _, p, t = api.run_data(rid)
    assert p == {"p": ""} and t["t"] == ""


# ---- unknown ids ------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path,body,message", [
    ("GET", "/experiments/get", {"experiment_id": MISSING_EXP}, f"No Experiment with id={MISSING_EXP} exists"),
    ("GET", "/experiments/get-by-name", {"experiment_name": "no-such-exp-x"},
     "Could not find experiment with name 'no-such-exp-x'"),
    ("POST", "/experiments/delete", {"experiment_id": MISSING_EXP}, None),
    ("POST", "/experiments/restore", {"experiment_id": MISSING_EXP}, None),
    ("POST", "/experiments/update", {"experiment_id": MISSING_EXP, "new_name": "zz"}, None),
    ("POST", "/experiments/set-experiment-tag", {"experiment_id": MISSING_EXP, "key": "k", "value": "v"}, None),
    ("POST", "/experiments/delete-experiment-tag", {"experiment_id": MISSING_EXP, "key": "k"}, None),
    ("POST", "/runs/create", {"experiment_id": MISSING_EXP}, None),
    ("GET", "/runs/get", {"run_id": MISSING_RUN}, f"Run with id={MISSING_RUN} not found"),
    ("POST", "/runs/update", {"run_id": MISSING_RUN, "status": "FINISHED"}, f"Run with id={MISSING_RUN} not found"),
    ("POST", "/runs/delete", {"run_id": MISSING_RUN}, None),
    ("POST", "/runs/restore", {"run_id": MISSING_RUN}, None),
    ("POST", "/runs/log-metric", {"run_id": MISSING_RUN, "key": "k", "value": 1, "timestamp": 1}, None),
    ("POST", "/runs/log-parameter", {"run_id": MISSING_RUN, "key": "k", "value": "v"}, None),
    ("POST", "/runs/set-tag", {"run_id": MISSING_RUN, "key": "k", "value": "v"}, None),
    ("POST", "/runs/delete-tag", {"run_id": MISSING_RUN, "key": "k"}, None),
    ("POST", "/runs/log-batch", {"run_id": MISSING_RUN, "params": [{"key": "k", "value": "v"}]}, None),
])
def test_unknown_ids_404(api, method, path, body, message):
    r = api.get(path, body) if method == "GET" else api.post(path, body)
    assert_not_found(r, message)


def test_unknown_tag_404(api, ids):
    eid, rid = ids
    assert_not_found(api.post("/experiments/delete-experiment-tag", {"experiment_id": eid, "key": "nope"}),
                     f"No tag with name: nope in experiment with id {eid}")
    assert_not_found(api.post("/runs/delete-tag", {"run_id": rid, "key": "nope"}))


def test_rename_deleted_experiment(api):
    name = uniq("rd")
    eid = api.create_experiment(name)
    api.okpost("/experiments/delete", {"experiment_id": eid})
    r = api.post("/experiments/update", {"experiment_id": eid, "new_name": uniq("new")})
    # MLflow: INVALID_STATE, which maps to HTTP 500. The status is deliberately not pinned.
    assert r.status_code >= 400
    j = assert_error(r, r.status_code, "INVALID_STATE", "Cannot rename a non-active experiment.")
    assert j
    assert api.okget("/experiments/get", {"experiment_id": eid})["experiment"]["name"] == name


# ---- length limits at N and N+1 ---------------------------------------------------------------


def test_experiment_name_500_501(api):
    n500 = uniq("n")
    n500 += "x" * (500 - len(n500))
    api.create_experiment(n500)
    assert api.okget("/experiments/get-by-name", {"experiment_name": n500})["experiment"]["name"] == n500
    n501 = uniq("m")
    n501 += "y" * (501 - len(n501))
    assert_invalid(api.post("/experiments/create", {"name": n501}),
                   "'name' exceeds the maximum length of 500 characters")
    assert_not_found(api.get("/experiments/get-by-name", {"experiment_name": n501}))


def test_experiment_rename_501_rejected(api):
    eid = api.create_experiment()
    new = "z" * 501
    assert_invalid(api.post("/experiments/update", {"experiment_id": eid, "new_name": new}))
    assert api.okget("/experiments/get", {"experiment_id": eid})["experiment"]["name"] != new


def test_experiment_tag_value_limit(api):
    """MLflow 3.17.2: MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000 (it was 5000 before)."""
    eid = api.create_experiment()
    api.okpost("/experiments/set-experiment-tag", {"experiment_id": eid, "key": "old-limit", "value": "u" * 5001})
    api.okpost("/experiments/set-experiment-tag", {"experiment_id": eid, "key": "ok", "value": "v" * 20000})
    assert_invalid(api.post("/experiments/set-experiment-tag", {"experiment_id": eid, "key": "bad", "value": "w" * 20001}),
                   "'value' exceeds the maximum length of 20000 characters")
    tags = {t["key"]: t["value"] for t in api.okget("/experiments/get", {"experiment_id": eid})["experiment"]["tags"]}
    assert tags == {"old-limit": "u" * 5001, "ok": "v" * 20000}


def test_experiment_tag_key_limit(api):
    eid = api.create_experiment()
    api.okpost("/experiments/set-experiment-tag", {"experiment_id": eid, "key": "k" * 250, "value": "v"})
    assert_invalid(api.post("/experiments/set-experiment-tag", {"experiment_id": eid, "key": "j" * 251, "value": "v"}),
                   "'key' exceeds the maximum length of 250 characters")
    tags = [t["key"] for t in api.okget("/experiments/get", {"experiment_id": eid})["experiment"]["tags"]]
    assert tags == ["k" * 250]


def test_experiment_create_with_bad_tag_stores_nothing(api):
    name = uniq("badtag")
    r = api.post("/experiments/create", {"name": name, "tags": [{"key": "ok", "value": "v"},
                                                                 {"key": "k" * 251, "value": "v"}]})
    assert_invalid(r)
    assert_not_found(api.get("/experiments/get-by-name", {"experiment_name": name}))


def test_runs_search_max_results_50000_50001(api):
    api.okpost("/runs/search", {"experiment_ids": ["0"], "max_results": 50000})
    assert_invalid(api.post("/runs/search", {"experiment_ids": ["0"], "max_results": 50001}),
                   "Invalid value 50001 for parameter 'max_results' supplied")


def test_experiments_search_max_results_50000_50001(api):
    api.okpost("/experiments/search", {"max_results": 50000})
    assert_invalid(api.post("/experiments/search", {"max_results": 50001}),
                   "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000")


def test_bad_filter_and_token(api):
    assert_invalid(api.post("/runs/search", {"experiment_ids": ["0"], "filter": "foo bar"}),
                   "Invalid clause(s) in filter string: 'foo bar'")
    assert_invalid(api.post("/runs/search", {"experiment_ids": ["0"], "filter": "metrics.a = 1 OR metrics.b = 2"}),
                   "Invalid clause(s) in filter string: 'OR'")
    assert_invalid(api.post("/runs/search", {"experiment_ids": ["0"], "page_token": "zzz"}))
    assert_invalid(api.get("/metrics/get-history", {"run_id": MISSING_RUN, "metric_key": "m", "page_token": "zzz"}),
                   "Invalid page token")


def test_run_id_format_checked_in_batch(api):
    assert_invalid(api.post("/runs/log-batch", {"run_id": "not a run id!", "metrics": []}),
                   "Invalid value \"not a run id!\" for parameter 'run_id' supplied")


def test_duplicate_experiment_raw(api):
    name = uniq("dupraw")
    api.create_experiment(name)
    assert_error(api.post("/experiments/create", {"name": name}), 400, "RESOURCE_ALREADY_EXISTS",
                 f"Experiment(name={name}) already exists.")


def test_run_create_in_deleted_experiment_message(api):
    eid = api.create_experiment()
    api.okpost("/experiments/delete", {"experiment_id": eid})
    assert_invalid(api.post("/runs/create", {"experiment_id": eid}))


def test_errors_are_json_on_ajax_prefix(api):
    assert_not_found(api.get("/ajax-api/2.0/mlflow/runs/get", {"run_id": MISSING_RUN}))
    assert_invalid(api.post("/ajax-api/2.0/mlflow/experiments/create", {}), missing_msg("name"))
