"""Hostile input aimed at the server process itself: requests that once crashed it
(stack overflow in SQLite's LIKE matching), and, in later sections, connection
starvation and HTTP framing. Each test sends the input and then checks that the
server still answers."""

from __future__ import annotations

import pytest

import compat_util as cu

pytestmark = pytest.mark.mlflowd_only

LONG = 8000  # a run tag value of MLflow's maximum length, all "a"
MAX_LIKE_PATTERN = 50000  # api/limits.h MLF_MAX_LIKE_PATTERN_BYTES


def wildcards(n: int) -> str:
    """'%a' n times then '%b': SQLite's LIKE recurses once per '%' against a long 'aaa…'."""
    return "%a" * n + "%b"


@pytest.fixture(scope="module")
def like_data(module_api):
    a = module_api
    exp = a.create_experiment(tags=[{"key": "d", "value": "a" * 20000}])
    run = a.create_run(exp)
    a.okpost("/runs/set-tag", {"run_id": run, "key": "t", "value": "a" * LONG})
    a.okpost("/runs/log-parameter", {"run_id": run, "key": "p", "value": "a" * 6000})
    a.okpost("/logged-models", {"experiment_id": exp, "name": "a" * 500})
    return exp, run


def alive(api):
    assert api.get("/health").status_code == 200


# The largest pattern SQLite accepts, and one that crashed a 100 KiB worker stack (600).
@pytest.mark.parametrize("n", [600, (MAX_LIKE_PATTERN - 2) // 2])
@pytest.mark.parametrize("op", ["LIKE", "ILIKE"])
def test_like_with_many_wildcards_answers(module_api, like_data, n, op):
    exp, run = like_data
    a = module_api
    pat = wildcards(n)
    j = a.okpost("/runs/search", {"experiment_ids": [exp], "filter": f"tags.t {op} '{pat}'"})
    assert j.get("runs", []) == []
    j = a.okpost("/runs/search", {"experiment_ids": [exp], "filter": f"params.p {op} '{pat}'"})
    assert j.get("runs", []) == []
    j = a.okpost("/experiments/search", {"filter": f"tags.d {op} '{pat}'", "max_results": 10})
    assert j.get("experiments", []) == []
    j = a.okpost("/logged-models/search", {"experiment_ids": [exp], "filter": f"name {op} '{pat}'"})
    assert j.get("models", []) == []
    # a matching pattern with as many wildcards as the value allows still matches
    j = a.okpost("/runs/search", {"experiment_ids": [exp], "filter": f"tags.t {op} '{'%a' * min(n, LONG)}%'"})
    assert [r["info"]["run_id"] for r in j["runs"]] == [run]
    alive(a)


def test_like_on_get_experiments_search(module_api, like_data):
    """experiments/search is a GET too, so any web page can send it."""
    a = module_api
    j = a.okget("/experiments/search", {"filter": f"tags.d LIKE '{wildcards(600)}'", "max_results": 10})
    assert j.get("experiments", []) == []
    alive(a)


def test_like_pattern_over_sqlite_limit_is_invalid(module_api, like_data):
    exp, _ = like_data
    a = module_api
    pat = wildcards(MAX_LIKE_PATTERN // 2)
    r = a.post("/runs/search", {"experiment_ids": [exp], "filter": f"tags.t LIKE '{pat}'"})
    assert r.status_code == 400, r.text[:300]
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "LIKE" in r.json()["message"]
    alive(a)
