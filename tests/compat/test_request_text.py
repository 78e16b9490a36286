"""Request text that no MLflow field may hold: bytes that are not UTF-8 and the NUL character.

Stored as given, invalid UTF-8 makes Python's sqlite3 (hence stock MLflow on the same
runs.db) fail to read the row, and every JSON answer holding it is not JSON; a NUL cuts C
strings short, so a key, value or artifact location would be stored truncated. mlflowd
refuses both with 400 INVALID_PARAMETER_VALUE, in any field of any body (also double-encoded
ones) and in the query string, before anything is stored. Stock MLflow stores a NUL as
given (mlflowd refuses it: README, differences) and reads a body that is not UTF-8 as {}
(400 too, with a "Missing value" message).

Also the Python type names of numbers in type errors: 9.0 is a float, as stock says."""

import json
import sqlite3

import pytest

from compat_util import assert_invalid, uniq

BAD = b"\xff\xfe"          # never UTF-8
CUT = b"\xe2\x82"          # a 3-byte sequence cut short
SURROGATE = b"\xed\xa0\x80"  # U+D800 encoded: not UTF-8
OVERLONG = b"\xc0\xaf"     # '/' in two bytes


def raw_post(api, path, raw: bytes):
    return api.request("POST", path, data=raw, headers={"Content-Type": "application/json"})


def every_text_readable(db_path):
    """Read every row of every table with Python's sqlite3 (stock MLflow's reader)."""
    con = sqlite3.connect(str(db_path))
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            for row in con.execute(f'SELECT * FROM "{t}"'):
                for v in row:
                    assert not (isinstance(v, str) and "\x00" in v), (t, row)
    finally:
        con.close()


@pytest.fixture
def ids(api):
    eid = api.create_experiment()
    rid = api.create_run(eid)
    return eid, rid


def bodies(eid, rid):
    """(label, path, JSON text with @ where the bad bytes go), one per kind of field."""
    return [
        ("exp-name", "/experiments/create", '{"name": "e@x"}'),
        ("exp-artloc", "/experiments/create", '{"name": "%s", "artifact_location": "/tmp/a@b"}' % uniq("al")),
        ("exp-tag", "/experiments/set-experiment-tag", '{"experiment_id": "%s", "key": "k", "value": "v@"}' % eid),
        ("exp-rename", "/experiments/update", '{"experiment_id": "%s", "new_name": "n@"}' % eid),
        ("run-name", "/runs/create", '{"experiment_id": "%s", "run_name": "r@"}' % eid),
        ("param-value", "/runs/log-parameter", '{"run_id": "%s", "key": "p", "value": "v@"}' % rid),
        ("param-key", "/runs/log-parameter", '{"run_id": "%s", "key": "p@", "value": "v"}' % rid),
        ("tag-value", "/runs/set-tag", '{"run_id": "%s", "key": "t", "value": "v@"}' % rid),
        ("metric-key", "/runs/log-metric", '{"run_id": "%s", "key": "m@", "value": 1, "timestamp": 1}' % rid),
        ("batch-param", "/runs/log-batch", '{"run_id": "%s", "params": [{"key": "b", "value": "@"}]}' % rid),
        ("batch-tag", "/runs/log-batch", '{"run_id": "%s", "tags": [{"key": "@", "value": "x"}]}' % rid),
        ("unknown-field", "/runs/set-tag", '{"run_id": "%s", "key": "t2", "value": "v", "zz@": 1}' % rid),
        ("model-name", "/logged-models", '{"experiment_id": "%s", "name": "m@"}' % eid),
        ("inputs", "/runs/log-inputs",
         '{"run_id": "%s", "datasets": [{"dataset": {"name": "d@", "digest": "x", "source_type": "local",'
         ' "source": "s"}}]}' % rid),
    ]


def assert_nothing_stored(api, eid, rid):
    run = api.get_run(rid)
    data = run["data"]
    assert data.get("params", []) == [] and data.get("metrics", []) == [], data
    assert {t["key"] for t in data.get("tags", [])} <= {"mlflow.runName", "mlflow.user"}, data
    exps = api.okpost("/experiments/search", {"max_results": 1000}).get("experiments", [])
    assert sorted(e["experiment_id"] for e in exps) == sorted(["0", eid])
    assert not [e for e in exps if e.get("tags")]
    runs = api.search_runs([eid]).get("runs", [])
    assert [r["info"]["run_id"] for r in runs] == [rid]
    assert api.okpost("/logged-models/search", {"experiment_ids": [eid]}).get("models", []) == []


@pytest.mark.mlflowd_only  # stock reads such a body as {} (400 "Missing value") or stores it
@pytest.mark.parametrize("bad", [BAD, CUT, SURROGATE, OVERLONG], ids=["ff", "cut", "surrogate", "overlong"])
def test_invalid_utf8_refused_everywhere(api, mlflowd, ids, bad):
    eid, rid = ids
    for label, path, text in bodies(eid, rid):
        r = raw_post(api, path, text.encode().replace(b"@", bad))
        assert_invalid(r, "not valid UTF-8")
        json.loads(r.content.decode("utf-8"))  # the answer itself is UTF-8 JSON
    assert_nothing_stored(api, eid, rid)
    every_text_readable(mlflowd.db_path)


@pytest.mark.mlflowd_only  # stock stores a NUL as given
@pytest.mark.parametrize("form", ["escape", "raw"])
def test_nul_refused_everywhere(api, mlflowd, ids, form):
    eid, rid = ids
    for label, path, text in bodies(eid, rid):
        raw = text.encode().replace(b"@", b"\\u0000" if form == "escape" else b"\x00")
        assert_invalid(raw_post(api, path, raw), "U+0000")
    assert_nothing_stored(api, eid, rid)
    every_text_readable(mlflowd.db_path)


@pytest.mark.mlflowd_only
def test_double_encoded_body_checked_too(api, ids):
    _, rid = ids
    inner = json.dumps({"run_id": rid, "key": "p", "value": "a\x00b"})  # \u0000 inside the inner text
    assert_invalid(raw_post(api, "/runs/log-parameter", json.dumps(inner).encode()), "U+0000")
    assert api.run_data(rid)[1] == {}
    ok = json.dumps({"run_id": rid, "key": "p", "value": "ä\\u0000"[:1]})
    assert raw_post(api, "/runs/log-parameter", json.dumps(ok).encode()).status_code == 200
    assert api.run_data(rid)[1] == {"p": "ä"}


@pytest.mark.mlflowd_only  # stock looks the name up as given
@pytest.mark.parametrize("query", ["experiment_name=ab%FF", "experiment_name=ab%00c", "na%FFme=x",
                                   "experiment_name=%ED%A0%80"])
def test_query_string_checked(api, query):
    api.create_experiment("ab")  # a NUL must not cut the name down to this one
    r = api.request("GET", "/experiments/get-by-name?" + query)
    assert_invalid(r)
    assert "query string" in r.json()["message"]


@pytest.mark.mlflowd_only
def test_query_string_checked_on_artifact_routes(api):
    r = api.request("GET", "/api/2.0/mlflow-artifacts/artifacts?path=a%00b")
    assert_invalid(r, "U+0000")


def test_valid_text_still_stored_exactly(api, mlflowd, ids):
    eid, rid = ids
    value = "é€😀\u2028\x01\\\"'"
    r = raw_post(api, "/runs/log-parameter", json.dumps({"run_id": rid, "key": "u", "value": value}).encode())
    assert r.status_code == 200, r.text
    r = raw_post(api, "/runs/set-tag", json.dumps({"run_id": rid, "key": "t", "value": value},
                                                  ensure_ascii=False).encode())
    assert r.status_code == 200, r.text
    params, tags = api.run_data(rid)[1], api.run_data(rid)[2]
    assert params["u"] == value and tags["t"] == value
    every_text_readable(mlflowd.db_path)


@pytest.mark.parametrize("path,body", [
    ("/runs/create", '{"experiment_id": 1e300}'),
    ("/logged-models", '{"experiment_id": -1e300}'),
])
def test_numbers_no_int64_holds_are_type_errors(api, path, body):
    """Stock: "Invalid value 1e+300 ... type 'float'"; mlflowd converted the double to an
    int64 (undefined behaviour in C) and looked up experiment -9223372036854775808."""
    r = raw_post(api, path, body.encode())
    assert_invalid(r, "for parameter 'experiment_id' supplied")
    assert "type 'float'" in r.json()["message"]


def test_huge_experiment_ids_in_a_search_match_nothing(api):
    r = raw_post(api, "/runs/search", b'{"experiment_ids": [1e300, -1e300]}')
    assert r.status_code == 200 and r.json().get("runs", []) == [], r.text[:300]
