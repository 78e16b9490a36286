"""How much work one search may ask for.

Every comparison of a metric, param, tag, dataset or run name (tags of experiments; params,
tags and metrics of logged models) looks a value up in another table, once per candidate row,
and SQLite's cost per lookup grows with their number: 1,000 `params.p != 'x'` over 1,000 runs
took 103 s. Stock MLflow joins a table per such comparison and fails from 64 on (SQLite's
"at most 64 tables in a join", a 503); mlflowd answers 63 and refuses 64 and more with a 400
that says why, before running anything."""

import pytest

import compat_util as cu

LIMIT = 63


def conj(clause, n, joiner=" and "):
    return joiner.join([clause] * n)


@pytest.fixture(scope="module")
def data(module_api):
    eid = module_api.create_experiment(cu.uniq("limits"))
    rids = []
    for i in range(3):
        rid = module_api.create_run(eid)
        module_api.okpost("/runs/log-batch", {"run_id": rid, "params": [{"key": "p", "value": f"v{i}"}],
                                             "tags": [{"key": "t", "value": "y"}],
                                             "metrics": [{"key": "m", "value": i, "timestamp": 1, "step": 0}]})
        rids.append(rid)
    module_api.okpost("/experiments/set-experiment-tag", {"experiment_id": eid, "key": "t", "value": "y"})
    return eid, rids


RUN_CLAUSES = ["params.p != 'x'", "tags.t != 'x'", "metrics.m >= 0", "attributes.run_name != 'x'"]


@pytest.mark.parametrize("clause", RUN_CLAUSES)
def test_runs_63_lookups_answer(module_api, data, clause):
    eid, rids = data
    r = module_api.okpost("/runs/search", {"experiment_ids": [eid], "filter": conj(clause, LIMIT)})
    assert sorted(x["info"]["run_id"] for x in r["runs"]) == sorted(rids)


@pytest.mark.mlflowd_only  # stock answers 503 (SQLite: at most 64 tables in a join)
@pytest.mark.parametrize("clause", RUN_CLAUSES + ["datasets.name != 'x'"])
@pytest.mark.parametrize("n", [LIMIT + 1, 1000, 2000])
def test_runs_more_lookups_refused(module_api, data, clause, n):
    eid, _ = data
    r = module_api.post("/runs/search", {"experiment_ids": [eid], "filter": conj(clause, n)})
    cu.assert_invalid(r, f"Invalid filter: {n} comparisons of metrics, params, tags, datasets or run names; "
                         f"at most {LIMIT} are supported")


@pytest.mark.mlflowd_only  # stock's filter parser refuses a filter this long ("Error on parsing filter")
def test_runs_many_plain_attribute_clauses_answer(module_api, data):
    """Comparisons of the run's own columns cost no lookup: a 45 KiB filter of them runs."""
    eid, rids = data
    f = conj("attributes.status != 'FAILED'", 1400) + " and " + conj("params.p != 'x'", LIMIT)
    r = module_api.okpost("/runs/search", {"experiment_ids": [eid], "filter": f})
    assert len(r["runs"]) == len(rids)


def test_experiments_tag_lookups(module_api, data):
    eid, _ = data
    r = module_api.okpost("/experiments/search", {"max_results": 1000, "filter": conj("tags.t = 'y'", LIMIT)})
    assert [e["experiment_id"] for e in r["experiments"]] == [eid]
    if not cu.STOCK_MODE:
        r = module_api.post("/experiments/search", {"max_results": 10, "filter": conj("tags.t = 'y'", LIMIT + 1)})
        cu.assert_invalid(r, f"Invalid filter: {LIMIT + 1} comparisons of tags; at most {LIMIT}")


def test_logged_model_lookups(module_api, data):
    eid, _ = data
    mid = module_api.okpost("/logged-models", {"experiment_id": eid, "name": "lm",
                                               "params": [{"key": "p", "value": "v"}]})["model"]["info"]["model_id"]
    r = module_api.okpost("/logged-models/search", {"experiment_ids": [eid],
                                                    "filter": conj("params.p = 'v'", LIMIT, " AND ")})
    assert [m["info"]["model_id"] for m in r.get("models", [])] == [mid]
    if not cu.STOCK_MODE:
        r = module_api.post("/logged-models/search", {"experiment_ids": [eid],
                                                      "filter": conj("params.p = 'v'", LIMIT + 1, " AND ")})
        cu.assert_invalid(r, f"Invalid filter: {LIMIT + 1} comparisons of metrics, params or tags; at most {LIMIT}")


def test_stock_fails_from_64_lookups_too(stock_server):
    """The limit is where stock MLflow stops: 63 answer there, 64 fail (503)."""
    api = cu.Api(stock_server)
    eid = api.create_experiment(cu.uniq("limits"))
    ok = api.post("/runs/search", {"experiment_ids": [eid], "filter": conj("params.p != 'x'", LIMIT)})
    assert ok.status_code == 200, ok.text[:300]
    r = api.post("/runs/search", {"experiment_ids": [eid], "filter": conj("params.p != 'x'", LIMIT + 1)})
    assert r.status_code == 503 and "at most 64 tables in a join" in r.json()["message"], r.text[:300]
