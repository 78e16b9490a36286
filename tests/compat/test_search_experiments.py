"""search_experiments: filters on name / times / ids / tags, order_by, paging, view_type,
max_results limits."""

import time

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType

from compat_util import assert_invalid, uniq

# name suffix: tags
EXPS = {
    "alpha": {"team": "a", "prio": "1"},
    "Beta": {"team": "b"},
    "gamma": {"team": "A", "prio": "2"},
    "delta": {},
    "epsilon_x": {"team": "a"},  # deleted
}


@pytest.fixture(scope="module")
def data(module_api):
    api = module_api
    prefix = uniq("se").replace("-", "") + "_"
    ids, times = {}, {}
    for suffix, tags in EXPS.items():
        eid = api.create_experiment(prefix + suffix, tags=[{"key": k, "value": v} for k, v in tags.items()])
        ids[suffix] = eid
        times[suffix] = api.okget("/experiments/get", {"experiment_id": eid})["experiment"]["creation_time"]
        time.sleep(0.005)  # distinct creation times
    api.okpost("/experiments/delete", {"experiment_id": ids["epsilon_x"]})
    return {"prefix": prefix, "ids": ids, "names": {v: k for k, v in ids.items()}, "times": times,
            "url": api.base}


@pytest.fixture
def mc(data):
    return MlflowClient(data["url"])


def search(api, data, flt=None, **kw):
    scope = f"name LIKE '{data['prefix']}%'"
    body = {"max_results": 1000, "filter": scope + (f" AND {flt}" if flt else "")}
    body.update(kw)
    j = api.okpost("/experiments/search", body)
    return [data["names"][e["experiment_id"]] for e in j.get("experiments", [])], j


ALL_ACTIVE = ["alpha", "Beta", "gamma", "delta"]

FILTERS = [
    (None, ALL_ACTIVE),
    ("name = '{p}alpha'", ["alpha"]),
    ("attribute.name = '{p}alpha'", ["alpha"]),
    ("name != '{p}alpha'", ["Beta", "gamma", "delta"]),
    ("name LIKE '%a'", ["alpha", "Beta", "gamma", "delta"]),
    ("name LIKE '{p}b%'", []),
    ("name ILIKE '{p}b%'", ["Beta"]),
    ("name LIKE '%_ta'", ["Beta", "delta"]),
    ("tags.team = 'a'", ["alpha"]),
    ("tags.team ILIKE 'a'", ["alpha", "gamma"]),
    ("tags.team LIKE '%'", ["alpha", "Beta", "gamma"]),
    ("tags.team != 'a'", ["Beta", "gamma"]),
    ("tags.prio IS NULL", ["Beta", "delta"]),
    ("tags.prio IS NOT NULL", ["alpha", "gamma"]),
    ("tag.team = 'b'", ["Beta"]),
    ("tags.`team` = 'b'", ["Beta"]),
    ("tags.team = 'a' AND tags.prio = '1'", ["alpha"]),
    ("creation_time > 0", ALL_ACTIVE),
    ("creation_time < 0", []),
    ("last_update_time >= 0", ALL_ACTIVE),
]


@pytest.mark.parametrize("flt,expected", FILTERS, ids=[f[0] or "<none>" for f in FILTERS])
def test_filter(module_api, data, flt, expected):
    got, _ = search(module_api, data, flt and flt.format(p=data["prefix"]))
    assert sorted(got) == sorted(expected)


def test_filter_by_creation_time(module_api, data):
    t = data["times"]
    got, _ = search(module_api, data, f"creation_time >= {t['gamma']}")
    assert sorted(got) == ["delta", "gamma"]
    got, _ = search(module_api, data, f"creation_time = {t['alpha']}")
    assert got == ["alpha"]


def test_filter_by_experiment_id(module_api, data):
    ids = data["ids"]
    got, _ = search(module_api, data, f"experiment_id = '{ids['gamma']}'")
    assert got == ["gamma"]
    got, _ = search(module_api, data, f"experiment_id IN ('{ids['alpha']}', '{ids['delta']}')")
    assert sorted(got) == ["alpha", "delta"]


@pytest.mark.parametrize("view,expected", [
    ("ACTIVE_ONLY", ALL_ACTIVE),
    ("DELETED_ONLY", ["epsilon_x"]),
    ("ALL", ALL_ACTIVE + ["epsilon_x"]),
])
def test_view_type(module_api, data, view, expected):
    got, _ = search(module_api, data, view_type=view)
    assert sorted(got) == sorted(expected)


def test_client_view_type(mc, data):
    exps = mc.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=f"name LIKE '{data['prefix']}%'")
    assert [e.experiment_id for e in exps] == [data["ids"]["epsilon_x"]]
    assert exps[0].lifecycle_stage == "deleted"


ORDERS = [
    ([], ["delta", "gamma", "Beta", "alpha"]),  # creation_time DESC
    (["name"], ["Beta", "alpha", "delta", "gamma"]),  # binary collation: upper case first
    (["name ASC"], ["Beta", "alpha", "delta", "gamma"]),
    (["name DESC"], ["gamma", "delta", "alpha", "Beta"]),
    (["experiment_id ASC"], ["alpha", "Beta", "gamma", "delta"]),
    (["experiment_id DESC"], ["delta", "gamma", "Beta", "alpha"]),
    (["creation_time ASC"], ["alpha", "Beta", "gamma", "delta"]),
    (["last_update_time DESC"], ["delta", "gamma", "Beta", "alpha"]),
    (["attribute.name DESC"], ["gamma", "delta", "alpha", "Beta"]),
]


@pytest.mark.parametrize("order,expected", ORDERS, ids=[",".join(o[0]) or "<default>" for o in ORDERS])
def test_order_by(module_api, data, order, expected):
    got, _ = search(module_api, data, order_by=order)
    assert got == expected


@pytest.mark.parametrize("order", [["tags.team"], ["nosuch"], ["name SIDEWAYS"], ["lifecycle_stage"]])
def test_invalid_order_by(module_api, data, order):
    assert_invalid(module_api.post("/experiments/search", {"max_results": 10, "order_by": order}))


@pytest.mark.parametrize("flt", [
    "name like '%x%'",  # experiments search does not upper-case operators
    "name IN ('x')",
    "lifecycle_stage = 'active'",
    "name = 'a' OR name = 'b'",
    "creation_time > 'x'",
    "name > 'a'",
    "tags.team > 'a'",
    "nosuch.key = 'a'",
    "name = unquoted",
])
def test_invalid_filter(module_api, flt):
    assert_invalid(module_api.post("/experiments/search", {"max_results": 10, "filter": flt}))


def test_paging(module_api):
    api = module_api
    prefix = uniq("pg").replace("-", "") + "_"
    ids = [api.create_experiment(f"{prefix}{i:02d}") for i in range(13)]
    flt = f"name LIKE '{prefix}%'"
    for order in ([], ["name DESC"], ["experiment_id ASC"]):
        full = [e["experiment_id"] for e in
                api.okpost("/experiments/search", {"max_results": 1000, "filter": flt, "order_by": order})["experiments"]]
        assert sorted(full) == sorted(ids)
        for size in (1, 3, 13, 14):
            got, token, pages = [], None, 0
            while True:
                body = {"max_results": size, "filter": flt, "order_by": order}
                if token:
                    body["page_token"] = token
                j = api.okpost("/experiments/search", body)
                got += [e["experiment_id"] for e in j.get("experiments", [])]
                pages += 1
                token = j.get("next_page_token")
                if not token:
                    break
            assert got == full, (order, size)
            assert pages == -(-13 // size)


def test_client_search_experiments_pages_through_everything(mc, module_api):
    prefix = uniq("cl").replace("-", "") + "_"
    made = {module_api.create_experiment(f"{prefix}{i}") for i in range(7)}
    page = mc.search_experiments(max_results=3, filter_string=f"name LIKE '{prefix}%'")
    assert len(page) == 3 and page.token
    ids, token = [], None
    while True:
        page = mc.search_experiments(max_results=3, filter_string=f"name LIKE '{prefix}%'", page_token=token)
        ids += [e.experiment_id for e in page]
        token = page.token
        if not token:
            break
    assert set(ids) == made and len(ids) == 7


def test_fluent_search_experiments(data):
    mlflow.set_tracking_uri(data["url"])
    exps = mlflow.search_experiments(filter_string=f"name LIKE '{data['prefix']}%' AND tags.team = 'b'")
    assert [e.name for e in exps] == [data["prefix"] + "Beta"]
    assert exps[0].tags == {"team": "b"}


def test_get_search_via_get(module_api, data):
    j = module_api.okget("/experiments/search", {"max_results": 10, "filter": f"name = '{data['prefix']}alpha'"})
    assert [e["experiment_id"] for e in j["experiments"]] == [data["ids"]["alpha"]]
    j = module_api.okget("/ajax-api/2.0/mlflow/experiments/search",
                         {"max_results": 10, "filter": f"name = '{data['prefix']}alpha'"})
    assert [e["experiment_id"] for e in j["experiments"]] == [data["ids"]["alpha"]]


def test_max_results_limits(module_api):
    module_api.okpost("/experiments/search", {"max_results": 50000})
    assert_invalid(module_api.post("/experiments/search", {"max_results": 50001}),
                   "Invalid value 50001 for parameter 'max_results' supplied")
    assert_invalid(module_api.post("/experiments/search", {}))  # absent = 0
    assert_invalid(module_api.post("/experiments/search", {"max_results": 0}))
    assert_invalid(module_api.post("/experiments/search", {"max_results": -1}))
    assert_invalid(module_api.post("/experiments/search", {"max_results": "x"}))


def test_invalid_page_token(module_api):
    assert_invalid(module_api.post("/experiments/search", {"max_results": 5, "page_token": "garbage!"}))
