"""MLflow 3 tracing through the real client: traces made with @mlflow.trace and
mlflow.start_span reach mlflowd, are searchable (mlflow.search_traces with filters, order and
pages), readable with every span intact, taggable, deletable and linkable to runs, and carry
assessments (log_feedback, log_expectation, update, override, delete). A scripted session runs
against stock `mlflow server` too and both must give the client the same traces. Traces written
by mlflowd open in stock MLflow's store (sqlite:///), and traces stock MLflow wrote (spans in its
tracking store) are answered by mlflowd with their spans.
"""

from __future__ import annotations

import os
import shutil

import pytest

import compat_util as cu

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import AssessmentSource  # noqa: E402


def _use(url):
    mlflow.set_tracking_uri(url)
    mlflow.tracing.reset()


@mlflow.trace(span_type="CHAIN", attributes={"team": "core"})
def _pipeline(x):
    with mlflow.start_span(name="retrieve", span_type="RETRIEVER") as s:
        s.set_inputs({"query": x})
        s.add_event(mlflow.entities.SpanEvent("cache-miss", attributes={"size": 3}))
        docs = [f"doc-{x}-{i}" for i in range(3)]
        s.set_outputs(docs)
    return _score(len(docs)) + 1


@mlflow.trace
def _score(n):
    return n * 2


@mlflow.trace
def _failing(x):
    raise ValueError(f"bad input {x}")


def _session(url, exp_name):
    """The scripted user session: returns what the client reads back, normalised."""
    _use(url)
    exp_id = mlflow.set_experiment(exp_name).experiment_id
    with mlflow.start_run() as run:
        assert _pipeline("q1") == 7
    assert _pipeline("q2") == 7
    with pytest.raises(ValueError):
        _failing(3)
    traces = mlflow.search_traces(locations=[exp_id], return_type="list", order_by=["timestamp_ms ASC"])
    assert len(traces) == 3
    out = []
    for t in traces:
        full = mlflow.get_trace(t.info.trace_id)
        spans = sorted(
            (
                s.name,
                s.span_type,
                s.status.status_code,
                (s.parent_id is None),
                repr(s.inputs),
                repr(s.outputs),
                tuple(e.name for e in s.events),
                s.attributes.get("team"),
            )
            for s in full.data.spans
        )
        out.append(
            {
                "state": t.info.state.value,
                "name": t.info.tags.get("mlflow.traceName"),
                "run": t.info.trace_metadata.get("mlflow.sourceRun") == run.info.run_id,
                "request_preview": t.info.request_preview,
                "response_preview": t.info.response_preview,
                "spans": spans,
            }
        )
    ok = mlflow.search_traces(locations=[exp_id], filter_string="status = 'OK'", return_type="list")
    errors = mlflow.search_traces(locations=[exp_id], filter_string="trace.status = 'ERROR'", return_type="list")
    in_run = mlflow.search_traces(locations=[exp_id], run_id=run.info.run_id, return_type="list")
    return out, len(ok), len(errors), len(in_run)


def test_trace_session_matches_stock(mlflowd, stock_server):
    ours = _session(mlflowd.url, cu.uniq("trace"))
    theirs = _session(stock_server.url, cu.uniq("trace"))
    assert ours == theirs
    assert ours[1:] == (2, 1, 1)
    # every span of the nested trace came back: root, retrieve, _score
    assert [s[0] for s in ours[0][0]["spans"]] == ["_pipeline", "_score", "retrieve"]


def test_spans_intact_and_dataframe(mlflowd):
    _use(mlflowd.url)
    exp_id = mlflow.set_experiment(cu.uniq("spans")).experiment_id
    _pipeline("z")
    tid = mlflow.get_last_active_trace_id()
    trace = mlflow.get_trace(tid)
    by_name = {s.name: s for s in trace.data.spans}
    root, retrieve, score = by_name["_pipeline"], by_name["retrieve"], by_name["_score"]
    assert root.parent_id is None
    assert retrieve.parent_id == root.span_id and score.parent_id == root.span_id
    assert retrieve.inputs == {"query": "z"} and retrieve.outputs == ["doc-z-0", "doc-z-1", "doc-z-2"]
    assert retrieve.events[0].name == "cache-miss" and retrieve.events[0].attributes == {"size": 3}
    assert root.attributes["team"] == "core" and root.span_type == "CHAIN"
    assert root.start_time_ns <= retrieve.start_time_ns <= retrieve.end_time_ns <= root.end_time_ns
    assert trace.info.execution_time_ms >= 0
    df = mlflow.search_traces(locations=[exp_id])
    assert len(df) == 1 and df.iloc[0]["trace_id"] == tid
    assert df.iloc[0]["state"] == "OK"


def test_search_filters_order_and_pages(mlflowd):
    _use(mlflowd.url)
    exp_id = mlflow.set_experiment(cu.uniq("search")).experiment_id
    client = MlflowClient(mlflowd.url)
    ids = []
    for i in range(5):
        _score(i)
        ids.append(mlflow.get_last_active_trace_id())
        client.set_trace_tag(ids[-1], "idx", str(i))
    with pytest.raises(ValueError):
        _failing(1)
    err_id = mlflow.get_last_active_trace_id()

    def search(**kw):
        return [t.info.trace_id for t in mlflow.search_traces(locations=[exp_id], return_type="list", **kw)]

    assert search(filter_string="tags.idx = '3'") == [ids[3]]
    assert search(filter_string="tags.idx IS NOT NULL", order_by=["timestamp_ms ASC"]) == ids
    assert search(filter_string="tags.idx LIKE '%'", order_by=["tags.idx DESC"]) == ids[::-1]
    assert search(filter_string="status = 'ERROR'") == [err_id]
    assert search(filter_string="name = '_failing'") == [err_id]
    assert set(search(filter_string="request_id IN ('%s', '%s')" % (ids[0], ids[1]))) == {ids[0], ids[1]}
    first = client.search_traces(locations=[exp_id], max_results=2, order_by=["timestamp_ms ASC"])
    assert [t.info.trace_id for t in first] == ids[:2] and first.token
    second = client.search_traces(locations=[exp_id], max_results=2, order_by=["timestamp_ms ASC"],
                                  page_token=first.token)
    assert [t.info.trace_id for t in second] == ids[2:4]
    ts = client.get_trace(ids[2]).info.request_time
    assert set(search(filter_string=f"timestamp_ms >= {ts}")) >= {ids[2], ids[3], ids[4], err_id}
    with pytest.raises(mlflow.exceptions.MlflowException, match="Invalid"):
        search(filter_string="nonsense.key = 'x'")


def test_tags_delete_and_link(mlflowd, api):
    _use(mlflowd.url)
    exp_id = mlflow.set_experiment(cu.uniq("tags")).experiment_id
    client = MlflowClient(mlflowd.url)
    _score(1)
    tid = mlflow.get_last_active_trace_id()
    client.set_trace_tag(tid, "k", "v")
    assert client.get_trace(tid).info.tags["k"] == "v"
    client.delete_trace_tag(tid, "k")
    assert "k" not in client.get_trace(tid).info.tags
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.delete_trace_tag(tid, "k")
    run = client.create_run(exp_id)
    client.link_traces_to_run([tid], run.info.run_id)
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.link_traces_to_run([tid], "0" * 32)
    _score(2)
    other = mlflow.get_last_active_trace_id()
    assert client.delete_traces(exp_id, trace_ids=[tid]) == 1
    with pytest.raises(mlflow.exceptions.MlflowException, match="not found"):
        client.get_trace(tid)
    assert client.delete_traces(exp_id, max_timestamp_millis=cu.now_ms() + 1000) == 1
    assert mlflow.search_traces(locations=[exp_id], return_type="list") == []
    # a trace that does not exist, and bad input
    cu.assert_not_found(api.get("/api/3.0/mlflow/traces/tr-00000000000000000000000000000000"))
    cu.assert_invalid(api.post("/api/2.0/mlflow/traces/delete-traces", {"experiment_id": exp_id}))
    cu.assert_invalid(api.post("/api/3.0/mlflow/traces", {"trace": {"trace_info": {"trace_id": "tr-1"}}}))
    cu.assert_invalid(api.post("/api/3.0/mlflow/traces/search", {"locations": []}))
    assert other


def test_assessments(mlflowd):
    _use(mlflowd.url)
    mlflow.set_experiment(cu.uniq("assess"))
    _score(3)
    tid = mlflow.get_last_active_trace_id()
    human = AssessmentSource(source_type="HUMAN", source_id="ann")
    fb = mlflow.log_feedback(trace_id=tid, name="correct", value=True, rationale="looks right", source=human,
                             metadata={"round": "1"})
    ex = mlflow.log_expectation(trace_id=tid, name="expected", value={"answer": 6, "tags": ["a"]}, source=human)
    got = mlflow.get_assessment(tid, fb.assessment_id)
    assert got.value is True and got.rationale == "looks right" and got.metadata == {"round": "1"}
    assert mlflow.get_assessment(tid, ex.assessment_id).value == {"answer": 6, "tags": ["a"]}
    upd = mlflow.update_assessment(tid, fb.assessment_id, mlflow.entities.Feedback(name="correct", value=False))
    assert upd.value is False
    assert mlflow.get_assessment(tid, fb.assessment_id).value is False
    new = mlflow.override_feedback(trace_id=tid, assessment_id=fb.assessment_id, value=0.5, rationale="partly")
    assert mlflow.get_assessment(tid, fb.assessment_id).valid is False
    trace = mlflow.get_trace(tid)
    assert {a.name for a in trace.info.assessments} == {"correct", "expected"}
    mlflow.delete_assessment(tid, new.assessment_id)
    assert mlflow.get_assessment(tid, fb.assessment_id).valid is True
    with pytest.raises(mlflow.exceptions.MlflowException):
        mlflow.get_assessment(tid, new.assessment_id)
    with pytest.raises(mlflow.exceptions.MlflowException):
        mlflow.log_feedback(trace_id="tr-" + "0" * 32, name="x", value=1)


@pytest.mark.mlflowd_only
def test_stock_store_reads_mlflowd_traces(mlflowd):
    """A trace mlflowd stored opens in stock MLflow's own store on the same file."""
    _use(mlflowd.url)
    exp_id = mlflow.set_experiment(cu.uniq("both")).experiment_id
    _pipeline("w")
    tid = mlflow.get_last_active_trace_id()
    mlflow.log_feedback(trace_id=tid, name="good", value=1.0)
    MlflowClient(mlflowd.url).set_trace_tag(tid, "who", "me")
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{mlflowd.db_path}", str(mlflowd.artifacts))
    info = store.get_trace_info(tid)
    assert info.tags["who"] == "me" and info.tags["mlflow.traceName"] == "_pipeline"
    assert info.experiment_id == exp_id and info.state.value == "OK"
    assert [a.name for a in info.assessments] == ["good"]
    found, _ = store.search_traces(locations=[exp_id], filter_string="tags.who = 'me'")
    assert [t.trace_id for t in found] == [tid]


@pytest.mark.mlflowd_only
def test_mlflowd_serves_traces_stock_wrote(tmp_path, mlflowd_factory):
    """Spans stock MLflow kept in its tracking store come back from mlflowd with the trace."""
    work = tmp_path / "stock"
    work.mkdir()
    stock = cu.start_stock(work, work / "s.db", work / "art", timeout=120)
    try:
        _use(stock.url)
        mlflow.set_experiment("from-stock")
        _pipeline("s")
        tid = mlflow.get_last_active_trace_id()
        want = sorted((s.name, s.parent_id is None, repr(s.inputs), repr(s.outputs))
                      for s in mlflow.get_trace(tid).data.spans)
    finally:
        cu.stop_stock(stock)
    db = tmp_path / "copy.db"
    shutil.copy(work / "s.db", db)
    srv = mlflowd_factory(db_path=db, artifacts=work / "art")
    _use(srv.url)
    got = mlflow.get_trace(tid)
    assert sorted((s.name, s.parent_id is None, repr(s.inputs), repr(s.outputs)) for s in got.data.spans) == want
    assert got.info.tags.get("mlflow.trace.spansLocation") == "TRACKING_STORE"
