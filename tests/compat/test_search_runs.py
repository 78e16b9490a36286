"""search_runs: every filter form, order_by (missing and NaN values last), paging with
page tokens, run_view_type, pandas output, and invalid filters."""

import math

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from compat_util import STOCK_MODE, assert_error, assert_invalid, uniq

NAN = "NaN"

# name: (start_time, user, status, metrics, params, tags)
RUNS = {
    "r0": (1000, "alice", "FINISHED", {"acc": 0.5, "loss": NAN}, {"lr": "0.1", "opt": "adam"},
           {"team": "a", "my tag": "x"}),
    "r1": (2000, "bob", "RUNNING", {"acc": 0.9, "loss": 1.5}, {"lr": "0.01", "opt": "SGD"}, {"team": "b"}),
    "r2": (3000, "alice", "KILLED", {"acc": 0.7}, {"opt": "adamw"}, {"team": "A"}),
    "r3": (4000, "carol", "RUNNING", {}, {"lr": "0.001"}, {}),
    "r4": (5000, "bob", "FAILED", {"acc": -1.0, "loss": 2.0}, {"lr": "0.1", "key with space": "v"},
           {"my tag": "y"}),
    "r5": (6000, "dave", "FINISHED", {"acc": 0.8}, {"lr": "0.5"}, {"team": "a"}),  # deleted
}
ACTIVE = ["r0", "r1", "r2", "r3", "r4"]


@pytest.fixture(scope="module")
def data(module_api):
    api = module_api
    eid = api.create_experiment(uniq("search"))
    ids = {}
    for name, (start, user, status, metrics, params, tags) in RUNS.items():
        rid = api.create_run(eid, run_name=name, start_time=start, user_id=user)
        ids[name] = rid
        api.okpost("/runs/log-batch", {
            "run_id": rid,
            "metrics": [{"key": k, "value": v, "timestamp": start, "step": 0} for k, v in metrics.items()],
            "params": [{"key": k, "value": v} for k, v in params.items()],
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        })
        api.okpost("/runs/update", {"run_id": rid, "status": status})
    api.okpost("/runs/delete", {"run_id": ids["r5"]})
    other = api.create_experiment(uniq("search-other"))
    other_run = api.create_run(other, run_name="o0", start_time=500)
    api.okpost("/runs/log-metric", {"run_id": other_run, "key": "acc", "value": 0.95, "timestamp": 1})
    return {"eid": eid, "other": other, "ids": ids, "names": {v: k for k, v in ids.items()},
            "other_run": other_run, "url": api.base}


@pytest.fixture
def mc(data):
    mlflow.set_tracking_uri(data["url"])
    return MlflowClient(data["url"])


def names(data, runs):
    return [data["names"].get(r.info.run_id, r.info.run_id) for r in runs]


FILTERS = [
    ("", ACTIVE),
    ("metrics.acc > 0.6", ["r1", "r2"]),
    ("metrics.acc >= 0.5", ["r0", "r1", "r2"]),
    ("metrics.acc < 0", ["r4"]),
    ("metrics.acc <= 0.5", ["r0", "r4"]),
    ("metrics.acc = 0.9", ["r1"]),
    ("metrics.acc != 0.9", ["r0", "r2", "r4"]),
    ("metrics.acc > -1e10", ["r0", "r1", "r2", "r4"]),
    ("metrics.acc > 0.6 AND metrics.acc < 0.8", ["r2"]),
    ("metrics.loss > 0", ["r1", "r4"]),  # NaN never satisfies a comparison ...
    ("metrics.loss <= 100", ["r1", "r4"]),
    ("metrics.loss = 0", []),  # ... not even with the placeholder it is stored as
    ("metrics.loss != 1.5", ["r0", "r4"]),  # ... except !=
    ("metrics.acc > 0 AND metrics.loss > 0", ["r1"]),
    ("metrics.`acc` > 0.6", ["r1", "r2"]),
    ('metrics."acc" > 0.6', ["r1", "r2"]),
    ("metric.acc > 0.6", ["r1", "r2"]),
    ("metrics.acc > 6e-1", ["r1", "r2"]),
    ("metrics.acc > 0", ["r0", "r1", "r2"]),
    ("metrics.nosuch > 0", []),
    ("params.lr = '0.1'", ["r0", "r4"]),
    ('params.lr = "0.01"', ["r1"]),
    ("params.lr != '0.1'", ["r1", "r3"]),
    ("params.opt LIKE 'adam%'", ["r0", "r2"]),
    ("params.opt LIKE 'ADAM%'", []),
    ("params.opt ILIKE 'ADAM%'", ["r0", "r2"]),
    ("params.opt ILIKE '%d'", ["r1"]),
    ("params.opt LIKE '_dam'", ["r0"]),
    ("params.lr like '0.0%'", ["r1", "r3"]),
    ("params.lr IS NULL", ["r2"]),
    ("params.lr IS NOT NULL", ["r0", "r1", "r3", "r4"]),
    ("params.`key with space` = 'v'", ["r4"]),
    ("param.lr = '0.1'", ["r0", "r4"]),
    ("parameters.opt = 'SGD'", ["r1"]),
    ("params.opt = 'sgd'", []),
    ("tags.team = 'a'", ["r0"]),
    ("tags.team != 'a'", ["r1", "r2"]),
    ("tags.team ILIKE 'a'", ["r0", "r2"]),
    ("tags.team LIKE 'a'", ["r0"]),
    ("tags.team IS NULL", ["r3", "r4"]),
    ("tags.team IS NOT NULL", ["r0", "r1", "r2"]),
    ("tags.`my tag` = 'x'", ["r0"]),
    ('tags."my tag" = \'y\'', ["r4"]),
    ("tag.team = 'b'", ["r1"]),
    ("tags.mlflow.runName = 'r2'", ["r2"]),
    ("tags.`mlflow.runName` LIKE 'r%'", ACTIVE),
    ("attributes.status = 'RUNNING'", ["r1", "r3"]),
    ("attributes.status != 'RUNNING'", ["r0", "r2", "r4"]),
    ("status = 'FAILED'", ["r4"]),
    ("attr.status = 'KILLED'", ["r2"]),
    ("run.status = 'KILLED'", ["r2"]),
    ("attributes.status LIKE 'F%'", ["r0", "r4"]),
    ("attributes.user_id = 'alice'", ["r0", "r2"]),
    ("attributes.user_id LIKE 'b%'", ["r1", "r4"]),
    ("attributes.user_id ILIKE 'B%'", ["r1", "r4"]),
    ("attributes.run_name = 'r3'", ["r3"]),
    ("run_name ILIKE 'R%'", ACTIVE),
    ("attributes.`Run name` = 'r1'", ["r1"]),
    ("attributes.start_time > 2000", ["r2", "r3", "r4"]),
    ("attributes.start_time >= 2000 AND attributes.start_time < 5000", ["r1", "r2", "r3"]),
    ("start_time = 1000", ["r0"]),
    ("attributes.start_time != 1000", ["r1", "r2", "r3", "r4"]),
    ("attributes.created <= 2000", ["r0", "r1"]),
    ("metrics.acc > 0.6 AND params.opt = 'SGD' AND tags.team = 'b'", ["r1"]),
    ("metrics.acc > 0.6 and params.opt = 'SGD'", ["r1"]),
    ("params.lr = '0.1' AND tags.team IS NULL", ["r4"]),
]


@pytest.mark.parametrize("flt,expected", FILTERS, ids=[f[0] or "<empty>" for f in FILTERS])
def test_filter(mc, data, flt, expected):
    runs = mc.search_runs([data["eid"]], filter_string=flt, max_results=100)
    assert sorted(names(data, runs)) == sorted(expected)


def test_filter_run_id_forms(mc, data):
    ids = data["ids"]
    eid = data["eid"]
    cases = [
        (f"attributes.run_id IN ('{ids['r0']}', '{ids['r3']}')", ["r0", "r3"]),
        (f"attributes.run_id NOT IN ('{ids['r0']}')", ["r1", "r2", "r3", "r4"]),
        (f"run_id = '{ids['r1']}'", ["r1"]),
        (f"attributes.run_id != '{ids['r1']}'", ["r0", "r2", "r3", "r4"]),
        (f"attributes.run_id IN ('{ids['r5']}')", []),  # deleted, ACTIVE_ONLY
        (f"attributes.artifact_uri LIKE '%{ids['r2']}%'", ["r2"]),
        (f"attributes.run_id IN ('{ids['r1']}') AND metrics.acc > 0.95", []),
    ]
    for flt, expected in cases:
        assert sorted(names(data, mc.search_runs([eid], flt))) == expected, flt


def test_multiple_experiments(mc, data):
    runs = mc.search_runs([data["eid"], data["other"]], "metrics.acc > 0.8")
    assert sorted(r.info.run_id for r in runs) == sorted([data["ids"]["r1"], data["other_run"]])


@pytest.mark.parametrize("view,expected", [
    (ViewType.ACTIVE_ONLY, ["r0", "r1", "r2"]),
    (ViewType.DELETED_ONLY, ["r5"]),
    (ViewType.ALL, ["r0", "r1", "r2", "r5"]),
])
def test_run_view_type(mc, data, view, expected):
    runs = mc.search_runs([data["eid"]], "metrics.acc > 0", run_view_type=view)
    assert sorted(names(data, runs)) == expected


def test_run_view_type_raw(module_api, data):
    for view, expected in (("ACTIVE_ONLY", 5), ("DELETED_ONLY", 1), ("ALL", 6)):
        j = module_api.search_runs([data["eid"]], run_view_type=view)
        assert len(j.get("runs", [])) == expected, view


ORDERS = [
    ([], ["r4", "r3", "r2", "r1", "r0"]),  # start_time DESC
    (["metrics.acc ASC"], ["r4", "r0", "r2", "r1", "r3"]),
    (["metrics.acc DESC"], ["r1", "r2", "r0", "r4", "r3"]),
    (["metrics.acc"], ["r4", "r0", "r2", "r1", "r3"]),
    (["metrics.`acc` DESC"], ["r1", "r2", "r0", "r4", "r3"]),
    # NaN after real values, missing after NaN, whatever the direction
    (["metrics.loss ASC"], ["r1", "r4", "r0", "r3", "r2"]),
    (["metrics.loss DESC"], ["r4", "r1", "r0", "r3", "r2"]),
    (["params.lr ASC"], ["r3", "r1", "r4", "r0", "r2"]),
    (["params.lr DESC"], ["r4", "r0", "r1", "r3", "r2"]),
    (["params.lr DESC", "metrics.acc DESC"], ["r0", "r4", "r1", "r3", "r2"]),
    (["tags.team ASC"], ["r2", "r0", "r1", "r4", "r3"]),
    (["tags.`my tag` DESC"], ["r4", "r0", "r3", "r2", "r1"]),
    (["attributes.start_time ASC"], ["r0", "r1", "r2", "r3", "r4"]),
    (["start_time DESC"], ["r4", "r3", "r2", "r1", "r0"]),
    (["attributes.run_name DESC"], ["r4", "r3", "r2", "r1", "r0"]),
    (["run_name"], ["r0", "r1", "r2", "r3", "r4"]),
    (["attributes.status ASC", "attributes.start_time ASC"], ["r4", "r0", "r2", "r1", "r3"]),
    (["attributes.user_id ASC", "attributes.run_name DESC"], ["r2", "r0", "r4", "r1", "r3"]),
    (["attributes.end_time ASC"], None),  # only checked to be accepted
]


@pytest.mark.parametrize("order,expected", ORDERS, ids=[",".join(o[0]) or "<default>" for o in ORDERS])
def test_order_by(mc, data, order, expected):
    runs = mc.search_runs([data["eid"]], order_by=order, max_results=100)
    if expected is not None:
        assert names(data, runs) == expected
    else:
        assert sorted(names(data, runs)) == ACTIVE


def test_order_by_ties_broken_by_run_id(module_api):
    api = module_api
    eid = api.create_experiment(uniq("ties"))
    ids = [api.create_run(eid, start_time=777) for _ in range(6)]
    got = [r["info"]["run_id"] for r in api.search_runs([eid])["runs"]]
    assert got == sorted(ids)


@pytest.mark.parametrize("order_by", [["metrics.acc SIDEWAYS"], ["foo.bar"], ["attributes.nosuch"],
                                      ["metrics.acc DESC ASC"]])
def test_invalid_order_by(module_api, data, order_by):
    assert_invalid(module_api.post("/runs/search", {"experiment_ids": [data["eid"]], "order_by": order_by}))


def test_duplicate_order_by(module_api, data):
    r = module_api.post("/runs/search", {"experiment_ids": [data["eid"]],
                                         "order_by": ["metrics.acc", "metrics.acc DESC"]})
    if STOCK_MODE:
        # Stock MLflow raises a code-less MlflowException here: 500 INTERNAL_ERROR, which the
        # client retries. mlflowd must answer the same message as a client error instead.
        assert_error(r, 500, "INTERNAL_ERROR", "`order_by` contains duplicate fields")
    else:
        assert_invalid(r, "`order_by` contains duplicate fields")


@pytest.mark.parametrize("flt", [
    "metrics.acc > 'a'",
    "metrics.acc = 'NaN'",
    "params.lr > '1'",
    "metrics.acc = 1 OR metrics.acc = 2",
    "foo.bar = 1",
    "attributes.run_name IN ('a')",
    "params.lr = 0.1",
    "metrics.acc",
    "metrics.acc >",
    "(metrics.acc > 1)",
    "tags.team IS 'a'",
    "metrics.acc IS NULL",
    "attributes.status > 'A'",
    "attributes.start_time LIKE '1%'",
    "attributes.nosuch = 'x'",
    "datasets.nosuch = 'x'",
    "params.lr = 'unterminated",
])
def test_invalid_filter(module_api, data, flt):
    r = module_api.post("/runs/search", {"experiment_ids": [data["eid"]], "filter": flt})
    assert_invalid(r)


def test_invalid_filter_through_client(mc, data):
    with pytest.raises(MlflowException) as e:
        mc.search_runs([data["eid"]], "metrics.acc = 1 OR metrics.acc = 2")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Invalid clause(s) in filter string" in e.value.message


def test_search_missing_experiment_is_empty(module_api):
    assert module_api.search_runs(["987654"]) == {}


def test_search_no_experiment_ids(module_api):
    j = module_api.okpost("/runs/search", {})
    assert j.get("runs", []) == [] or all(r["info"]["experiment_id"] == "0" for r in j["runs"])


@pytest.mark.parametrize("order_by", [[], ["metrics.m DESC"], ["params.p ASC"], ["attributes.run_name ASC"]])
def test_paging(module_api, order_by):
    api = module_api
    eid = api.create_experiment(uniq("paging"))
    ids = set()
    for i in range(23):
        rid = api.create_run(eid, start_time=1000 + i % 7, run_name=f"p{i:02d}")
        ids.add(rid)
        if i % 3:
            api.log_metric(rid, "m", float(i % 5), timestamp=1)
        if i % 4:
            api.okpost("/runs/log-parameter", {"run_id": rid, "key": "p", "value": str(i % 6)})
    full = [r["info"]["run_id"] for r in api.search_runs([eid], order_by=order_by, max_results=1000)["runs"]]
    assert set(full) == ids and len(full) == 23
    for page_size in (1, 4, 5, 22, 23, 24):
        got, token, pages = [], None, 0
        while True:
            body = {"max_results": page_size, "order_by": order_by}
            if token:
                body["page_token"] = token
            j = api.search_runs([eid], **body)
            page = j.get("runs", [])
            assert len(page) <= page_size
            got += [r["info"]["run_id"] for r in page]
            pages += 1
            token = j.get("next_page_token")
            if not token:
                break
            assert pages < 30
        assert got == full, f"page size {page_size}"
        # the server looks one row ahead: no token (and no empty last page) after the last run
        assert pages == -(-23 // page_size), f"page size {page_size}"


def test_paging_exact_token_presence(module_api):
    api = module_api
    eid = api.create_experiment(uniq("tok"))
    for i in range(4):
        api.create_run(eid, start_time=i)
    j = api.search_runs([eid], max_results=2)
    assert len(j["runs"]) == 2 and j.get("next_page_token")
    j2 = api.search_runs([eid], max_results=2, page_token=j["next_page_token"])
    assert len(j2["runs"]) == 2
    assert "next_page_token" not in j2 or j2["next_page_token"]
    j = api.search_runs([eid], max_results=4)
    assert len(j["runs"]) == 4 and "next_page_token" not in j
    j = api.search_runs([eid], max_results=5)
    assert len(j["runs"]) == 4 and "next_page_token" not in j


def test_invalid_page_token(module_api, data):
    r = module_api.post("/runs/search", {"experiment_ids": [data["eid"]], "page_token": "not a token!"})
    assert_invalid(r)


def test_max_results_limits(module_api, data):
    api = module_api
    api.search_runs([data["eid"]], max_results=50000)
    assert_invalid(api.post("/runs/search", {"experiment_ids": [data["eid"]], "max_results": 50001}))


def test_client_paged_list(mc, data):
    page = mc.search_runs([data["eid"]], max_results=2, order_by=["attributes.start_time ASC"])
    assert names(data, page) == ["r0", "r1"] and page.token
    page2 = mc.search_runs([data["eid"]], max_results=2, order_by=["attributes.start_time ASC"], page_token=page.token)
    assert names(data, page2) == ["r2", "r3"]
    page3 = mc.search_runs([data["eid"]], max_results=2, order_by=["attributes.start_time ASC"], page_token=page2.token)
    assert names(data, page3) == ["r4"] and not page3.token


def test_search_runs_pandas(mc, data):
    df = mlflow.search_runs([data["eid"]], order_by=["attributes.start_time ASC"])
    assert list(df["tags.mlflow.runName"]) == ACTIVE
    assert list(df["run_id"]) == [data["ids"][n] for n in ACTIVE]
    assert list(df["status"]) == ["FINISHED", "RUNNING", "KILLED", "RUNNING", "FAILED"]
    assert list(df["params.lr"].fillna("-")) == ["0.1", "0.01", "-", "0.001", "0.1"]
    acc = list(df["metrics.acc"])
    assert acc[:3] == [0.5, 0.9, 0.7] and math.isnan(acc[3]) and acc[4] == -1.0
    assert math.isnan(df["metrics.loss"][0]) and df["metrics.loss"][1] == 1.5
    assert set(df["experiment_id"]) == {data["eid"]}
    df2 = mlflow.search_runs([data["eid"]], filter_string="params.opt ILIKE 'adam%'", order_by=["metrics.acc DESC"])
    assert list(df2["tags.mlflow.runName"]) == ["r2", "r0"]
    df3 = mlflow.search_runs([data["eid"]], filter_string="metrics.acc > 100")
    assert len(df3) == 0


def test_search_runs_pandas_by_experiment_name(mc, data):
    name = mc.get_experiment(data["eid"]).name
    df = mlflow.search_runs(experiment_names=[name], filter_string="tags.team = 'b'")
    assert list(df["tags.mlflow.runName"]) == ["r1"]


def test_search_runs_response_shape(module_api, data):
    j = module_api.search_runs([data["eid"]], filter="attributes.run_name = 'r4'")
    (run,) = j["runs"]
    assert set(run) >= {"info", "data"}
    assert run["info"]["run_id"] == data["ids"]["r4"] and run["info"]["status"] == "FAILED"
    assert sorted((m["key"], m["value"], m["timestamp"], m["step"]) for m in run["data"]["metrics"]) == [
        ("acc", -1.0, 5000, 0), ("loss", 2.0, 5000, 0)]
    assert sorted((p["key"], p["value"]) for p in run["data"]["params"]) == [("key with space", "v"), ("lr", "0.1")]
    assert "next_page_token" not in j
