"""GraphQL (/graphql) for MLflow's own web UI, against stock `mlflow server`.

The same data is logged by the real client into stock and into mlflowd; the exact
queries MLflow 3.17.2's UI sends (taken from the wheel's JS bundle and printed the way
Apollo sends them, with __typename in every selection set) run against both with the
same variables, and the answers must be equal after normalisation (ids, timestamps and
the experiment-name prefix become placeholders; key/value lists are sorted by key).
Bad queries must get stock's GraphQL errors; request-level garbage, on which stock's
server fails with an HTML 500, gets a JSON 400 (413 for an oversized body), never a crash.

Also here: the UI-side endpoints the bundle calls on every page (server-info,
ui-telemetry, assistant, gateway proxy, trace searches), and --static-dir.
"""

from __future__ import annotations

import glob
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

import compat_util as cu

pytestmark = [
    pytest.mark.mlflowd_only,
    pytest.mark.skipif(cu.STOCK_MODE, reason="differential: compares mlflowd with stock itself"),
]

import mlflow  # noqa: E402  (conftest sets the client environment first)

UI_BUILD = Path(mlflow.__file__).parent / "server" / "js" / "build"
OPERATIONS = ("GetRun", "MlflowGetExperimentQuery", "SearchRuns", "GetMetricHistoryBulkInterval")


def ui_queries() -> dict[str, str]:
    """The UI's GraphQL documents, from the bundle, as Apollo prints them on the wire."""
    from graphql import Visitor, parse, print_ast, visit
    from graphql.language import ast

    class AddTypename(Visitor):  # what Apollo's InMemoryCache (addTypename) does
        def enter_selection_set(self, node, key, parent, path, ancestors):
            if isinstance(parent, ast.OperationDefinitionNode):
                return None
            if any(isinstance(s, ast.FieldNode) and s.name.value == "__typename" for s in node.selections):
                return None
            typename = ast.FieldNode(name=ast.NameNode(value="__typename"))
            return ast.SelectionSetNode(selections=(*node.selections, typename))

    found = {}
    for f in glob.glob(str(UI_BUILD / "static" / "js" / "*.js")):
        s = Path(f).read_text(encoding="utf-8", errors="replace")
        for m in re.finditer(r"(?:query|mutation) (\w+)\(\$", s):
            if m.group(1) in OPERATIONS:
                start, end = s.rfind("`", 0, m.start()), s.find("`", m.start())
                found[m.group(1)] = print_ast(visit(parse(s[start + 1:end]), AddTypename()))
    return found


QUERIES = ui_queries()

TIMESTAMP_FIELDS = {"startTime", "endTime", "creationTime", "lastUpdateTime", "timestamp", "creationTimestamp",
                    "lastUpdatedTimestamp"}


def normalize(obj, ids: dict, prefix: str, key=None):
    """Ids -> <name>, timestamps -> <ts>, the name prefix -> <P>, key/value lists sorted."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in TIMESTAMP_FIELDS and isinstance(v, str) and v != "0":
                out[k] = "<ts>"
            else:
                out[k] = normalize(v, ids, prefix, k)
        return out
    if isinstance(obj, list):
        items = [normalize(v, ids, prefix, key) for v in obj]
        if items and all(isinstance(i, dict) and "key" in i for i in items):
            items.sort(key=lambda i: json.dumps(i, sort_keys=True))
        return items
    if isinstance(obj, str):
        s = obj.replace(prefix, "<P>")
        for real, ph in ids.items():
            if len(real) >= 16:  # run and model ids, also inside URIs
                s = s.replace(real, ph)
            elif s == real and key == "experimentId":
                return ph
            else:  # an experiment id inside an artifact URI
                s = re.sub(rf"(?<=mlflow-artifacts:/){re.escape(real)}(?=/|$)", ph, s)
        return s
    return obj


def gql(url, op, variables, query=None, **kw):
    body = {"operationName": op, "variables": variables, "query": query or QUERIES[op]}
    return requests.post(url + "/graphql", json=body, timeout=60, **kw)


class Side:
    """One server with the data set logged into it."""

    def __init__(self, url, db_path):
        self.url, self.db_path = url, db_path
        self.ids: dict[str, str] = {}

    def ph(self, real: str, name: str):
        self.ids[real] = f"<{name}>"


def seed(url, prefix) -> dict:
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModelInput, LoggedModelOutput, Metric, Param, RunTag

    import pandas as pd

    c = MlflowClient(url)
    eid = c.create_experiment(f"{prefix}-exp", tags={"team": "a", "mlflow.note.content": "# note"})
    r1 = c.create_run(eid, run_name="r1", tags={"k": "v"}).info.run_id
    c.log_batch(r1, metrics=[Metric("loss", 1.0 / (s + 1), 1000 + s, s) for s in range(6)]
                + [Metric("nanm", float("nan"), 1000, 0), Metric("acc", 0.9, 1000, 3)],
                params=[Param("lr", "0.1"), Param("opt", "adam")], tags=[RunTag("mlflow.user", "tester")])
    ds = mlflow.data.from_pandas(pd.DataFrame({"a": [1, 2, 3]}), name="ds1", source="file:///tmp/ds1.csv")
    c.log_inputs(r1, datasets=[mlflow.entities.DatasetInput(ds._to_mlflow_entity(), tags=[
        mlflow.entities.InputTag("mlflow.data.context", "train")])])
    model = c.create_logged_model(eid, name="m1")
    c.log_inputs(r1, models=[LoggedModelInput(model.model_id)])
    c.log_outputs(r1, [LoggedModelOutput(model.model_id, 2)])
    c.set_terminated(r1, end_time=5000)
    r2 = c.create_run(eid, run_name="r2").info.run_id
    c.log_batch(r2, metrics=[Metric("loss", 0.3, 2000, 2)], params=[Param("lr", "0.2")])
    c.set_terminated(r2, end_time=6000)
    running = c.create_run(eid, run_name="r3").info.run_id  # no end time
    return {"eid": eid, "r1": r1, "r2": r2, "running": running, "model": model.model_id}


@pytest.fixture(scope="module")
def sides(stock_server, module_server):
    prefix = cu.uniq("gql")
    out = []
    for srv in (stock_server, module_server):
        side = Side(srv.url, srv.db_path)
        side.data = seed(srv.url, prefix)
        for name in ("eid", "r1", "r2", "running", "model"):
            side.ph(side.data[name], name)
        side.prefix = prefix
        out.append(side)
    return out


def both(sides, op, make_vars, query=None):
    """The normalized answers (status, json) of stock and mlflowd."""
    res = []
    for s in sides:
        r = gql(s.url, op, make_vars(s.data), query)
        assert r.headers.get("Content-Type", "").startswith("application/json"), r.text[:300]
        res.append((r.status_code, normalize(r.json(), s.ids, s.prefix)))
    return res


UI_CASES = {
    "run": ("GetRun", lambda d: {"data": {"runId": d["r1"]}}),
    "run-running": ("GetRun", lambda d: {"data": {"runId": d["running"]}}),
    "run-by-uuid": ("GetRun", lambda d: {"data": {"runUuid": d["r2"]}}),
    "run-missing": ("GetRun", lambda d: {"data": {"runId": "0123456789abcdef0123456789abcdef"}}),
    "experiment": ("MlflowGetExperimentQuery", lambda d: {"input": {"experimentId": d["eid"]}}),
    "experiment-missing": ("MlflowGetExperimentQuery", lambda d: {"input": {"experimentId": "987654321"}}),
    "experiment-all-fields": ("MlflowGetExperimentQuery", lambda d: {"input": {"experimentId": d["eid"]}},
                              "query Q($input: MlflowGetExperimentInput!) { mlflowGetExperiment(input: $input) { "
                              "experiment { workspace effectiveTraceArchivalRetention creationTime } "
                              "apiError { code message helpUrl traceId errorDetails { field message } } } }"),
    "run-metric-fields": ("GetRun", lambda d: {"data": {"runId": d["r1"]}},
                          "query Q($data: MlflowGetRunInput!) { mlflowGetRun(input: $data) { run { data { metrics "
                          "{ key datasetName datasetDigest modelId runId } } info { runId status } } } }"),
    "experiment-bad-id": ("MlflowGetExperimentQuery", lambda d: {"input": {"experimentId": "abc"}}),
    "search": ("SearchRuns", lambda d: {"data": {"experimentIds": [d["eid"]], "filter": "params.lr = '0.1'"}}),
    "search-sorted": ("SearchRuns", lambda d: {"data": {"experimentIds": [d["eid"]], "orderBy": ["metrics.loss DESC"],
                                                        "maxResults": 2}}),
    "search-bad-filter": ("SearchRuns", lambda d: {"data": {"experimentIds": [d["eid"]], "filter": "foo bar"}}),
    "bulk-interval": ("GetMetricHistoryBulkInterval",
                      lambda d: {"data": {"runIds": [d["r1"], d["r2"]], "metricKey": "loss", "maxResults": 320,
                                          "startStep": None, "endStep": None}}),
    # MLflow reads max_results and the step range of this operation from the /graphql URL's
    # query string, not from the input, so the UI's values change nothing (mlflowd the same).
    "bulk-interval-range": ("GetMetricHistoryBulkInterval",
                            lambda d: {"data": {"runIds": [d["r1"]], "metricKey": "loss", "maxResults": 3,
                                                "startStep": 1, "endStep": 4}}),
}


def test_bundle_has_the_operations():
    assert set(QUERIES) == set(OPERATIONS), f"operations found in the UI bundle: {sorted(QUERIES)}"
    assert all("__typename" in q for q in QUERIES.values())


@pytest.mark.parametrize("case", sorted(UI_CASES))
def test_ui_operation_matches_stock(sides, case):
    op, make_vars, *query = UI_CASES[case]
    if query:
        op = None
    stock, ours = both(sides, op, make_vars, *query)
    assert ours == stock, f"\nstock:   {json.dumps(stock)[:3000]}\nmlflowd: {json.dumps(ours)[:3000]}"
    if case == "run":  # the answer carries what the run page shows
        run = ours[1]["data"]["mlflowGetRun"]["run"]
        assert run["__typename"] == "MlflowRunExtension"
        assert {m["key"]: m["value"] for m in run["data"]["metrics"]}["nanm"] is None
        assert run["outputs"]["modelOutputs"] == [{"modelId": "<model>", "step": "2",
                                                   "__typename": "MlflowModelOutput"}]
        assert run["inputs"]["datasetInputs"][0]["dataset"]["name"] == "ds1"
        assert run["experiment"]["name"] == "<P>-exp"


def test_search_runs_view_type(sides):
    """MLflow's resolver cannot read the MlflowViewType enum of its own input (it fails with
    "Failed to parse run_view_type field"); mlflowd applies it as runs/search does."""
    stock, mine = sides
    q = QUERIES["SearchRuns"]
    r = gql(stock.url, "SearchRuns", {"data": {"experimentIds": [stock.data["eid"]], "runViewType": "ALL"}}, q)
    assert r.json()["data"]["mlflowSearchRuns"] is None and "run_view_type" in r.json()["errors"][0]
    for view, n in (("ALL", 3), ("ACTIVE_ONLY", 3), ("DELETED_ONLY", 0)):
        r = gql(mine.url, "SearchRuns", {"data": {"experimentIds": [mine.data["eid"]], "runViewType": view}}, q)
        assert r.json()["errors"] is None and len(r.json()["data"]["mlflowSearchRuns"]["runs"]) == n, view
    r = gql(mine.url, "SearchRuns", {"data": {"experimentIds": [mine.data["eid"]], "runViewType": "NOPE"}}, q)
    assert r.status_code == 200 and r.json()["data"]["mlflowSearchRuns"] is None
    assert "MlflowViewType" in r.json()["errors"][0]


def test_model_versions_of_a_run(sides):
    """Stock registers a version through its registry; mlflowd reads the model_versions rows
    (the same values, written into its SQLite file) and leaves out deleted ones."""
    stock, mine = sides
    from mlflow import MlflowClient

    sc = MlflowClient(stock.url)
    name = f"{stock.prefix}-reg"
    sc.create_registered_model(name)
    mv = sc.create_model_version(name, f"runs:/{stock.data['r2']}/model", run_id=stock.data["r2"])
    mv = sc.get_model_version(name, mv.version)
    con = sqlite3.connect(mine.db_path)
    with con:
        con.execute("INSERT INTO registered_models (name, creation_time, last_updated_time, workspace) "
                    "VALUES (?, 1, 1, 'default')", (name,))
        for version, stage in ((1, "None"), (2, "Deleted_Internal")):
            con.execute(
                "INSERT INTO model_versions (name, version, creation_time, last_updated_time, user_id, "
                "current_stage, source, run_id, status, workspace) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'default')",
                (name, version, mv.creation_timestamp, mv.last_updated_timestamp, mv.user_id, stage,
                 f"runs:/{mine.data['r2']}/model", mine.data["r2"], mv.status))
    con.close()
    query = QUERIES["GetRun"].replace("status\n        version\n        name\n        source",
                                      "status version name source creationTimestamp currentStage runId userId "
                                      "description")
    assert "creationTimestamp" in query
    stock_ans, ours = both(sides, "GetRun", lambda d: {"data": {"runId": d["r2"]}}, query)
    assert ours == stock_ans, f"\nstock:   {json.dumps(stock_ans)[:3000]}\nmlflowd: {json.dumps(ours)[:3000]}"
    versions = ours[1]["data"]["mlflowGetRun"]["run"]["modelVersions"]
    assert [(v["version"], v["status"]) for v in versions] == [("1", "READY")]


# Queries MLflow's server answers with a GraphQL error (HTTP 200, data null).
DEEP = "query Q { mlflowGetRun(input: {runId: \"x\"}) { run { info " + "{ a " * 8 + "{ z }" + " }" * 8 + " } } }"
BAD_QUERIES = {
    "unknown-field": 'query Q { mlflowGetRun(input: {runId: "x"}) { bogus } }',
    "unknown-root": "query Q { bogusRoot { a } }",
    "scalar-without-subfields": 'query Q { mlflowGetRun(input: {runId: "x"}) { run { info { runName { x } } } } }',
    "object-without-selection": 'query Q { mlflowGetRun(input: {runId: "x"}) { run } }',
    "too-deep": DEEP,
    "too-many-root-fields": "{ " + " ".join(f"f{i}: __typename" for i in range(11)) + " }",
    "too-many-aliases": 'query Q { mlflowGetExperiment(input: {experimentId: "0"}) { experiment { '
                        + " ".join(f"n{i}: name" for i in range(11)) + " } } }",
    "too-many-selections": 'query Q { mlflowGetExperiment(input: {experimentId: "0"}) { experiment { '
                           + "name " * 1001 + "} } }",
    "missing-variable": "query GetRun($data: MlflowGetRunInput!) { mlflowGetRun(input: $data) { run { info { runId } } } }",
    "undefined-variable": "query Q { mlflowGetRun(input: $nope) { run { info { runId } } } }",
    "unknown-input-field": 'query Q { mlflowGetRun(input: {nope: "x"}) { run { info { runId } } } }',
    "typename-root": "{ __typename }",
}


@pytest.mark.parametrize("case", sorted(BAD_QUERIES))
def test_bad_query_matches_stock(sides, case):
    stock, ours = both(sides, None, lambda d: {}, BAD_QUERIES[case])
    assert ours == stock, f"\nstock:   {stock}\nmlflowd: {ours}"
    if case != "typename-root":
        assert ours[0] == 200 and ours[1]["data"] is None and ours[1]["errors"]


def test_unknown_operation_name_matches_stock(sides):
    stock, ours = both(sides, "B", lambda d: {}, "query A { __typename }")
    assert ours == stock == (200, {"data": None, "errors": ["Unknown operation named 'B'."]})


def test_outside_the_subset_is_a_graphql_error(module_server):
    """Valid GraphQL that mlflowd does not answer: an error in GraphQL's format, data null."""
    cases = {
        "fragment": 'query Q { mlflowGetExperiment(input: {experimentId: "0"}) { ...F } } '
                    "fragment F on MlflowGetExperimentResponse { experiment { name } }",
        "introspection": "{ __schema { types { name } } }",
        "list-artifacts": 'query Q { mlflowListArtifacts(input: {runId: "x"}) { files { path } } }',
        "field-directive": 'query Q { mlflowGetExperiment(input: {experimentId: "0"}) @skip(if: true) { apiError { code } } }',
        "subscription": "subscription S { x }",
    }
    for name, q in cases.items():
        r = requests.post(module_server.url + "/graphql", json={"query": q}, timeout=30)
        assert r.status_code == 200, (name, r.text)
        j = r.json()
        assert j["data"] is None and len(j["errors"]) == 1 and "not supported" in j["errors"][0], (name, j)


REQUEST_LEVEL = {
    # stock's server fails on each of these with an HTML 500 (an uncaught exception)
    "batched-array": {"json": [{"query": "{ __typename }"}]},
    "missing-query": {"json": {"variables": {}}},
    "query-null": {"json": {"query": None}},
    "not-json": {"data": "hello", "headers": {"Content-Type": "application/json"}},
    "malformed-query": {"json": {"query": 'query Q { mlflowGetRun(input: '}},
    "variables-string": {"json": {"query": "{ __typename }", "variables": "{}"}},
    "unterminated-string": {"json": {"query": '{ mlflowGetRun(input: {runId: "x'}},
}


@pytest.mark.parametrize("case", sorted(REQUEST_LEVEL))
def test_request_level_errors(sides, case):
    stock, mine = sides
    kw = REQUEST_LEVEL[case]
    rs = requests.post(stock.url + "/graphql", timeout=60, **kw)
    rm = requests.post(mine.url + "/graphql", timeout=60, **kw)
    assert rs.status_code == 500, rs.text[:300]  # stock: Flask's internal-error page
    cu.assert_error(rm, 400, "INVALID_PARAMETER_VALUE")
    assert requests.get(mine.url + "/health", timeout=10).text == "OK"


def test_oversized_and_pathological_bodies(module_server):
    url = module_server.url + "/graphql"
    big = '{"query": "' + "a" * (16 * 1024 * 1024) + '"}'
    cu.assert_error(requests.post(url, data=big, headers={"Content-Type": "application/json"}, timeout=120),
                    413, "REQUEST_LIMIT_EXCEEDED")
    for q in ('query Q { mlflowGetRun(input: {runId: "x"}) ' + "{ a " * 200000 + "}" * 200000 + " }",
              "query Q { mlflowGetRun(input: " + "[" * 200000 + "]" * 200000 + ") { apiError { code } } }",
              "query Q($v: " + "[" * 200000 + "String" + "]" * 200000 + ") { __typename }"):
        r = requests.post(url, json={"query": q}, timeout=60)
        assert r.status_code == 200 and r.json() == {"data": None, "errors": ["Query exceeds maximum depth of 10"]}
    r = requests.post(url, json={"query": '{ mlflowGetRun(input: {runId: "\\u0000\\ud800"}) { apiError { code } } }'},
                      timeout=30)
    assert r.status_code == 400
    r = requests.get(url, params={"query": "{ __typename }"}, timeout=30)
    assert r.status_code == 200 and r.json() == {"data": {"__typename": "Query"}, "errors": None}
    module_server.check_alive()


# ---- the endpoints the UI calls on every page ----

SAME_AS_STOCK = [
    ("GET", "/ajax-api/3.0/mlflow/ui-telemetry", None),
    ("POST", "/ajax-api/3.0/mlflow/ui-telemetry", {"records": []}),
    ("GET", "/ajax-api/3.0/mlflow/assistant/config", None),
    ("GET", "/ajax-api/2.0/mlflow/gateway-proxy?gateway_path=api/2.0/endpoints/", None),
    ("POST", "/ajax-api/3.0/mlflow/datasets/search", {"experiment_ids": ["0"]}),
]


@pytest.mark.parametrize("method,path,body", SAME_AS_STOCK)
def test_ui_side_endpoint_matches_stock(sides, method, path, body):
    got = []
    for s in sides:
        r = requests.request(method, s.url + path, json=body, timeout=30)
        assert r.status_code == 200, r.text[:300]
        got.append(r.json())
    assert got[1] == got[0]


def test_server_info_fields(sides):
    stock, mine = (requests.get(s.url + "/ajax-api/3.0/mlflow/server-info", timeout=30).json() for s in sides)
    assert set(mine) == set(stock)
    assert mine["features_enabled"] == {"gateway": False}  # no AI gateway in mlflowd
    assert {k: v for k, v in mine.items() if k != "features_enabled"} == \
           {k: v for k, v in stock.items() if k != "features_enabled"}
    providers = requests.get(sides[1].url + "/ajax-api/3.0/mlflow/assistant/providers", timeout=30)
    assert providers.status_code == 200 and providers.json() == {"providers": []}
    # The GenAI overview's trace charts: no data points (stock gives a zero COUNT point)
    metrics = requests.post(sides[1].url + "/ajax-api/3.0/mlflow/traces/metrics", timeout=30, json={
        "experiment_ids": [sides[1].data["eid"]], "view_type": "TRACES", "metric_name": "trace_count",
        "aggregations": [{"aggregation_type": "COUNT"}]})
    assert metrics.status_code == 200 and metrics.json() == {}


# ---- --static-dir ----

def test_static_dir_serves_a_folder_without_following_links(mlflowd_factory, tmp_path):
    ui = tmp_path / "ui"
    (ui / "static" / "js").mkdir(parents=True)
    (ui / "index.html").write_text("<!doctype html><title>t</title>")
    (ui / "static" / "js" / "main.js").write_text("console.log(1)")
    (ui / "static" / "app.css").write_text("body{}")
    (ui / "font.woff2").write_bytes(b"\0\1")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (ui / "static" / "link.js").symlink_to(secret)
    (ui / "linkdir").symlink_to(tmp_path)
    srv = mlflowd_factory(extra_args=["--static-dir", str(ui)])
    r = requests.get(srv.url + "/", timeout=30)
    assert r.status_code == 200 and r.text.startswith("<!doctype html>")
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    for path, ctype in (("static/js/main.js", "text/javascript; charset=utf-8"),
                        ("static/app.css", "text/css; charset=utf-8"), ("font.woff2", "font/woff2")):
        r = requests.get(f"{srv.url}/static-files/{path}", timeout=30)
        assert r.status_code == 200 and r.headers["Content-Type"] == ctype, path
        assert r.headers["Cache-Control"] == "public, max-age=2419200"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.head(srv.url + "/static-files/static/js/main.js", timeout=30).headers["Content-Length"] == "14"
    for bad in ("static/link.js", "linkdir/secret.txt", "..%2fsecret.txt", "static/%2e%2e/%2e%2e/secret.txt",
                "static", "", "nope.js"):
        r = requests.get(f"{srv.url}/static-files/{bad}", timeout=30)
        assert r.status_code == 404 and "secret" not in r.text, bad
    assert requests.get(srv.url + "/index.html", timeout=30).status_code == 404  # MLflow's layout: only / and /static-files/
    # The API is unchanged.
    assert requests.get(srv.url + "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0", timeout=30).status_code == 200


def test_static_dir_mlflow_finds_the_installed_ui(mlflowd_factory, require_binary):
    env_path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    old = os.environ["PATH"]
    os.environ["PATH"] = env_path  # cu.server_env() copies os.environ
    try:
        srv = mlflowd_factory(extra_args=["--static-dir", "mlflow"])
    finally:
        os.environ["PATH"] = old
    r = requests.get(srv.url + "/", timeout=30)
    assert r.status_code == 200 and r.text == (UI_BUILD / "index.html").read_text()
    main_js = re.search(r'src="static-files/([^"]+\.js)"', r.text).group(1)
    r = requests.get(f"{srv.url}/static-files/{main_js}", timeout=60)
    assert r.status_code == 200 and r.content == (UI_BUILD / main_js).read_bytes()


def test_static_dir_mlflow_without_the_package_exits_2(require_binary, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    py = fake / "python3"
    py.write_text("#!/bin/sh\nexit 1\n")  # a python3 without mlflow prints nothing
    py.chmod(0o755)
    env = {**cu.server_env(), "PATH": f"{fake}:/usr/bin:/bin"}
    p = subprocess.run([require_binary, "--static-dir", "mlflow", "--backend-store", str(tmp_path / "r.db")],
                       env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert "no mlflow package" in p.stderr
    p = subprocess.run([require_binary, "--static-dir", str(tmp_path / "missing")], env=env, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2 and "no such folder" in p.stderr
    p = subprocess.run([require_binary, "--static-dir", str(fake)], env=env, capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2 and "no index.html" in p.stderr


def test_cut_and_mutated_ui_queries_never_crash(module_server):
    """Every prefix cut of the UI's queries and byte-level mutations of them get a JSON
    answer (a GraphQL error, or a 400 for a syntax error), and the server stays up."""
    import random

    rnd = random.Random(1234)
    url = module_server.url + "/graphql"
    variables = {"data": {"runId": "x", "experimentIds": ["0"], "runIds": ["x"], "metricKey": "m"},
                 "input": {"experimentId": "0"}}
    texts = []
    for q in QUERIES.values():
        texts += [q[:n] for n in range(0, len(q), max(1, len(q) // 40))]
        for _ in range(25):
            b = bytearray(q.encode())
            for _ in range(rnd.randint(1, 4)):
                i = rnd.randrange(len(b))
                b[i] = rnd.choice(b'{}()[]$@!:"\\.,#\x00\xff ' + bytes([rnd.randrange(256)]))
            texts.append(b.decode("utf-8", "replace"))
    with requests.Session() as s:
        for t in texts:
            r = s.post(url, json={"query": t, "variables": variables}, timeout=30)
            assert r.status_code in (200, 400), (t, r.status_code, r.text[:300])
            j = r.json()
            assert ("data" in j and "errors" in j) or j.get("error_code") == "INVALID_PARAMETER_VALUE", j
    module_server.check_alive()
