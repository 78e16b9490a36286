"""Paging of the registry's searches: mlflowd's keyed page tokens (the sort key
of the row before the next page, storage/search.h) give exactly the pages
MLflow's offset tokens give, for the default order and order_by variants, on a
store with ties, NULL timestamps, deleted versions and a prompt; stock-style
{"offset": N} tokens keep working; a keyed token of another search is read as
its offset; forged or garbage tokens are INVALID_PARAMETER_VALUE."""

import base64
import json
import sqlite3

import pytest

import compat_util as cu

pytestmark = pytest.mark.skipif(cu.STOCK_MODE, reason="edits mlflowd's SQLite file between two server runs")

P = "pg"  # every name of this module starts with it
N_MODELS = 9
RM = "/registered-models/search"
MV = "/model-versions/search"


def offset_token(n):
    return base64.b64encode(json.dumps({"offset": n}).encode()).decode()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("paging")
    s = cu.start_mlflowd(d)
    api = cu.Api(s)
    for i in range(N_MODELS):
        name = f"{P}-{i % 3}-{i}"
        api.okpost("/registered-models/create", {"name": name, "tags": [{"key": "k", "value": str(i % 2)}]})
        for v in range(1, 2 + i % 4):
            api.okpost("/model-versions/create", {"name": name, "source": f"s3://b/{i}/{v}",
                                                  "tags": [{"key": "t", "value": str(v % 2)}]})
    # stages (archive_existing_versions moves several versions at one instant)
    api.okpost("/model-versions/transition-stage", {"name": f"{P}-0-3", "version": "2", "stage": "Production",
                                                    "archive_existing_versions": False})
    api.okpost("/model-versions/transition-stage", {"name": f"{P}-1-7", "version": "1", "stage": "Staging",
                                                    "archive_existing_versions": False})
    api.okpost("/registered-models/alias", {"name": f"{P}-0-3", "alias": "champ", "version": "1"})
    # deleted versions and a prompt (left out of every search here)
    api.request("DELETE", "/model-versions/delete", {"name": f"{P}-1-4", "version": "1"})
    api.request("DELETE", "/model-versions/delete", {"name": f"{P}-2-8", "version": "3"})
    api.okpost("/registered-models/create", {"name": f"{P}-prompt",
                                             "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]})
    api.okpost("/model-versions/create", {"name": f"{P}-prompt", "source": "dummy-source",
                                          "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]})
    api.s.close()
    s.stop()
    # ties and NULLs in every sort column that may hold them
    db = sqlite3.connect(str(s.db_path))
    with db:
        db.execute("UPDATE model_versions SET last_updated_time = 1700000000000, creation_time = 1700000000000 "
                   "WHERE version <= 2")
        db.execute("UPDATE model_versions SET last_updated_time = NULL WHERE name = ? AND version = 3",
                   (f"{P}-2-2",))
        db.execute("UPDATE model_versions SET creation_time = NULL WHERE name = ? AND version = 1", (f"{P}-0-6",))
        db.execute("UPDATE registered_models SET last_updated_time = 1700000000000 WHERE name LIKE ?", (f"{P}-1-%",))
        db.execute("UPDATE registered_models SET last_updated_time = NULL WHERE name = ?", (f"{P}-2-5",))
    db.close()
    s2 = cu.start_mlflowd(d / "again", db_path=s.db_path, artifacts=s.artifacts)
    a = cu.Api(s2)
    yield a
    a.s.close()
    s2.stop()


def page(api, path, params, token):
    q = dict(params)
    if token:
        q["page_token"] = token
    return api.okget(path, q)


def rows(js, path):
    return js.get("registered_models" if path == RM else "model_versions", [])


def walk(api, path, params, size, tokens):
    """Every page; tokens 'server' follows next_page_token, 'offset' sends MLflow's own tokens."""
    pages, token, seen = [], None, 0
    while True:
        js = page(api, path, dict(params, max_results=size), token)
        pages.append(rows(js, path))
        seen += len(pages[-1])
        nxt = js.get("next_page_token")
        if not nxt:
            return pages
        # the token's offset is the rows handed out so far, as in MLflow's
        assert json.loads(base64.b64decode(nxt))["offset"] == seen
        token = nxt if tokens == "server" else offset_token(seen)
        assert len(pages) < 1000


SEARCHES = [
    (RM, {}),
    (RM, {"order_by": ["name DESC"]}),
    (RM, {"order_by": ["timestamp DESC"]}),
    (RM, {"order_by": ["last_updated_timestamp ASC", "name DESC"]}),
    (RM, {"filter": "tags.k = '1'"}),
    (MV, {}),
    (MV, {"order_by": ["name ASC", "version_number DESC"]}),
    (MV, {"order_by": ["creation_timestamp ASC"]}),
    (MV, {"order_by": ["creation_timestamp DESC", "name DESC"]}),
    (MV, {"order_by": ["last_updated_timestamp ASC"]}),
    (MV, {"order_by": ["version_number ASC", "last_updated_timestamp DESC"]}),
    (MV, {"filter": f"name LIKE '{P}-1%'"}),
    (MV, {"filter": "tags.t = '1'", "order_by": ["last_updated_timestamp DESC"]}),
]


@pytest.mark.parametrize("path,params", SEARCHES, ids=[f"{p.split('/')[1]}-{i}" for i, (p, _) in enumerate(SEARCHES)])
def test_keyed_pages_equal_offset_pages(srv, path, params):
    everything = rows(page(srv, path, dict(params, max_results=1000), None), path)
    assert len(everything) >= 4
    assert not any(r["name"].endswith("prompt") for r in everything)
    for size in (1, 2, 3, 7):
        keyed = walk(srv, path, params, size, "server")
        offset = walk(srv, path, params, size, "offset")
        assert keyed == offset, f"page size {size}"
        assert [r for p in keyed for r in p] == everything, f"page size {size}"


def test_store_has_ties_and_nulls(srv):
    vs = rows(page(srv, MV, {"max_results": 1000}, None), MV)
    ts = [v.get("last_updated_timestamp") for v in vs]
    assert ts.count(1700000000000) > 5
    keys = [(v["name"], v["version"]) for v in vs]
    assert (f"{P}-2-2", "3") in keys  # its last_updated_time is NULL: last in the default order
    assert keys[-1] == (f"{P}-2-2", "3")
    assert (f"{P}-1-4", "1") not in keys


def test_token_of_another_search_reads_as_its_offset(srv):
    tok = page(srv, MV, {"max_results": 4}, None)["next_page_token"]
    other = {"order_by": ["name ASC", "version_number ASC"]}
    got = rows(page(srv, MV, dict(other, max_results=3), tok), MV)
    want = rows(page(srv, MV, dict(other, max_results=3), offset_token(4)), MV)
    assert got == want and got
    tok = page(srv, RM, {"max_results": 2, "filter": "tags.k = '0'"}, None)["next_page_token"]
    assert rows(page(srv, RM, {"max_results": 2}, tok), RM) == rows(page(srv, RM, {"max_results": 2},
                                                                       offset_token(2)), RM)


def test_keyed_token_with_another_page_size(srv):
    """The benchmark's way: walk with big pages, then read 100 (here 2) from a token."""
    tok = page(srv, MV, {"max_results": 5}, None)["next_page_token"]
    assert rows(page(srv, MV, {"max_results": 2}, tok), MV) == rows(page(srv, MV, {"max_results": 2},
                                                                       offset_token(5)), MV)


def test_max_results_zero_keeps_the_position(srv):
    tok = page(srv, RM, {"max_results": 3}, None)["next_page_token"]
    js = page(srv, RM, {"max_results": 0}, tok)
    assert rows(js, RM) == []
    assert rows(page(srv, RM, {"max_results": 2}, js["next_page_token"]), RM) == rows(
        page(srv, RM, {"max_results": 2}, offset_token(3)), RM)


def forged(body):
    return base64.b64encode(body.encode()).decode()


@pytest.mark.parametrize("path", [RM, MV])
def test_forged_and_garbage_tokens(srv, path):
    good = json.loads(base64.b64decode(page(srv, path, {"max_results": 2}, None)["next_page_token"]))
    key = good["mlflowd_key"]
    sig, *vals = key.split(";")
    bad = [
        "garbage",
        "!!!!",
        forged("not json"),
        forged(json.dumps({"offset": 2, "mlflowd_key": sig})),  # no values
        forged(json.dumps({"offset": 2, "mlflowd_key": ";".join([sig] + ["i1"] * 5)})),  # too many for any search
        forged(json.dumps({"offset": 2, "mlflowd_key": ";".join([sig] + vals + vals)})),  # too many for this one
        forged(json.dumps({"offset": 2, "mlflowd_key": ";".join([sig] + ["i1"] * len(vals))})),  # name a number
        forged(json.dumps({"offset": 2, "mlflowd_key": ";".join([sig, "x12"] + vals[1:])})),  # unknown type
        forged(json.dumps({"offset": 2, "mlflowd_key": ";".join([sig, "i"] + vals[1:])})),  # empty number
        forged(json.dumps({"offset": 2, "mlflowd_key": ";".join([sig, "i9" * 30] + vals[1:])})),  # overflow
        forged(json.dumps({"offset": 2, "mlflowd_key": ";".join([sig, "s!!"] + vals[1:])})),  # bad base64
        forged(json.dumps({"offset": 2, "mlflowd_key": ";".join(["zz" + sig[2:]] + vals)})),  # bad signature
        forged(json.dumps({"offset": -2, "mlflowd_key": key})),
        forged(json.dumps({"offset": 2, "mlflowd_key": key, "x": 1})),
    ]
    for tok in bad:
        r = srv.get(path, {"max_results": 2, "page_token": tok})
        cu.assert_invalid(r, "Invalid page token")


def test_keyed_token_round_trips(srv):
    """A token's key is the last row's sort key: a forged key of a real row
    starts the page right after that row."""
    first = page(srv, MV, {"max_results": 3, "order_by": ["name ASC", "version_number DESC"]}, None)
    tok = json.loads(base64.b64decode(first["next_page_token"]))
    sig, name_b64, version = tok["mlflowd_key"].split(";")
    last = rows(first, MV)[-1]
    assert base64.b64decode(name_b64[1:]).decode() == last["name"] and version == "i" + last["version"]


def test_search_sees_every_write(api):
    """Searched models' tags, aliases and latest versions are kept by each
    reader until the next commit: every kind of write, and a commit by
    another process on the same file, shows in the next search."""
    name = cu.uniq("pg-cache")

    def check():
        got = api.okget(RM, {"filter": f"name = '{name}'"})["registered_models"]
        want = api.okget("/registered-models/get", {"name": name})["registered_model"]
        assert got == [want]
        return want

    api.okpost("/registered-models/create", {"name": name, "tags": [{"key": "a", "value": "1"}]})
    for _ in range(2):
        api.okpost("/model-versions/create", {"name": name, "source": "s3://b/x"})
    first = check()
    writes = [
        ("/registered-models/set-tag", {"name": name, "key": "b", "value": "2"}),
        ("/registered-models/alias", {"name": name, "alias": "champ", "version": "2"}),
        ("/model-versions/set-tag", {"name": name, "version": "2", "key": "t", "value": "x"}),
        ("/model-versions/transition-stage", {"name": name, "version": "1", "stage": "Staging",
                                              "archive_existing_versions": False}),
        ("/model-versions/create", {"name": name, "source": "s3://b/y"}),
    ]
    seen = [first]
    for path, body in writes:
        api.okpost(path, body)
        seen.append(check())
        assert seen[-1] != seen[-2], path
    api.request("DELETE", "/registered-models/alias", {"name": name, "alias": "champ"})
    assert "aliases" not in check()
    api.request("DELETE", "/model-versions/delete", {"name": name, "version": "3"})
    assert [v["version"] for v in check()["latest_versions"]] == ["1", "2"]
    # a commit by another process on the same file
    db = sqlite3.connect(str(api.server.db_path), timeout=30)
    with db:
        db.execute("UPDATE registered_model_tags SET value = 'outside' WHERE name = ? AND key = 'a'", (name,))
    db.close()
    assert {"key": "a", "value": "outside"} in check()["tags"]


def test_children_of_names_with_quotes_and_control_characters(api):
    """A page's children are read with the page's names as a JSON array:
    names that need escaping there get their own tags and versions."""
    names = ['a"b\\c', "é ünï 名前", "tab\there", "q'uote", "x\u2028y"]
    for n in names:
        api.okpost("/registered-models/create", {"name": n, "tags": [{"key": "k", "value": n}]})
        api.okpost("/model-versions/create", {"name": n, "source": "s3://b/x", "tags": [{"key": "t", "value": n}]})
    got = api.okget(RM, {"max_results": 100})["registered_models"]
    assert sorted(m["name"] for m in got) == sorted(names)
    for m in got:
        assert m == api.okget("/registered-models/get", {"name": m["name"]})["registered_model"]
        assert m["tags"] == [{"key": "k", "value": m["name"]}]
        assert m["latest_versions"][0]["tags"] == [{"key": "t", "value": m["name"]}]
    vs = api.okget(MV, {"max_results": 100})["model_versions"]
    assert sorted((v["name"], v["tags"][0]["value"]) for v in vs) == sorted((n, n) for n in names)
