"""Trace data as MLflow's UI and the search API read it, compared with stock `mlflow server`.

One data set is built once per module on mlflowd and on the session's stock server (the same
traces through the real client), and every test asserts the same answers from both:

- get-trace-artifact (/ajax-api/2.0 and 3.0): the span data of a trace whose spans are in the
  tracking store, the traces.json artifact of one whose spans are not, attachments, bad input;
- search_traces filters on spans (span.name / type / status / content / attributes.<k>,
  trace.text), on assessments (feedback.<name>, expectation.<name>) and on linked prompts;
- OTLP/JSON exports on /v1/traces (the client's spans re-encoded) stored as the protobuf ones.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest

import compat_util as cu

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow  # noqa: E402
from mlflow.entities import TraceInfo, TraceLocation, TraceState  # noqa: E402
from mlflow.tracing.attachments import Attachment  # noqa: E402
from mlflow.tracing.client import TracingClient  # noqa: E402

ARTIFACT = "/ajax-api/2.0/mlflow/get-trace-artifact"


def _use(url):
    mlflow.set_tracking_uri(url)
    mlflow.tracing.reset()


@mlflow.trace(span_type="CHAIN")
def _agent(question):
    with mlflow.start_span(name="lookup", span_type="RETRIEVER") as s:
        s.set_inputs({"q": question})
        s.set_outputs(["a", "b"])
    return _answer(question)


@mlflow.trace(span_type="LLM")
def _answer(question):
    return f"answer to {question}"


@mlflow.trace
def _broken():
    raise RuntimeError("broken tool")


def _build(url):
    """The data set: a trace with spans in the tracking store, and one whose spans are only in
    its traces.json artifact (with one attachment)."""
    _use(url)
    exp_id = mlflow.set_experiment(cu.uniq("tdata")).experiment_id
    _agent("what")
    stored = mlflow.get_last_active_trace_id()
    tc = TracingClient(url)
    data = tc.get_trace(stored).data
    info = tc.start_trace(TraceInfo(
        trace_id="tr-" + uuid.uuid4().hex,
        trace_location=TraceLocation.from_experiment_id(exp_id),
        request_time=cu.now_ms(),
        state=TraceState.OK,
        execution_duration=5,
        tags={"mlflow.traceName": "from-artifact"},
    ))
    tc._upload_trace_data(info, data)
    att = Attachment(content_type="text/plain", content_bytes=b"attached bytes")
    tc._upload_attachments(info, {att.id: att})
    # for search: a second agent-less trace, a failed one, assessments, a linked prompt
    _answer("other")
    other = mlflow.get_last_active_trace_id()
    with pytest.raises(RuntimeError):
        _broken()
    failed = mlflow.get_last_active_trace_id()
    mlflow.log_feedback(trace_id=stored, name="correct", value=True)
    mlflow.log_feedback(trace_id=stored, name="score", value=0.8)
    mlflow.log_expectation(trace_id=stored, name="expected", value="answer to what")
    mlflow.log_feedback(trace_id=other, name="correct", value=False)
    mlflow.log_feedback(trace_id=other, name="score", value=0.3)
    prompt = mlflow.genai.register_prompt(name=cu.uniq("p"), template="Answer {{q}}")
    tc.link_prompt_versions_to_trace(stored, [prompt])
    return {"exp_id": exp_id, "stored": stored, "artifact": info.trace_id, "attachment": att.id,
            "other": other, "failed": failed, "prompt": f"{prompt.name}/{prompt.version}"}


@pytest.fixture(scope="module")
def both(module_server, stock_server):
    """(server, data set) for mlflowd and for stock."""
    out = []
    for srv in (module_server, stock_server):
        api = cu.Api(srv)
        out.append((api, _build(srv.url)))
    yield out
    for api, _ in out:
        api.s.close()


def _span_names(body):
    return [s["name"] for s in json.loads(body)["spans"]]


def test_trace_artifact_from_tracking_store(both):
    answers = []
    for api, d in both:
        r = api.get(ARTIFACT, params={"request_id": d["stored"]})
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/plain")  # MLflow counts .json as text
        assert "traces.json" in r.headers["Content-Disposition"]
        spans = json.loads(r.content)["spans"]
        # MLflow's span dict form, root first
        assert spans[0]["parent_span_id"] in (None, "") and spans[0]["name"] == "_agent"
        assert {s["name"] for s in spans} == {"_agent", "lookup", "_answer"}
        lookup = next(s for s in spans if s["name"] == "lookup")
        assert json.loads(lookup["attributes"]["mlflow.spanInputs"]) == {"q": "what"}
        # the 3.0 route answers the same bytes
        r3 = api.get(ARTIFACT.replace("2.0", "3.0"), params={"request_id": d["stored"]})
        assert r3.status_code == 200 and r3.content == r.content
        answers.append(sorted(tuple(sorted(s)) for s in spans))
    assert answers[0] == answers[1]


def test_trace_artifact_from_artifact_store(both):
    for api, d in both:
        r = api.get(ARTIFACT, params={"request_id": d["artifact"]})
        assert r.status_code == 200, r.text
        assert sorted(_span_names(r.content)) == ["_agent", "_answer", "lookup"]
        r = api.get(ARTIFACT, params={"request_id": d["artifact"], "path": d["attachment"]})
        assert r.status_code == 200, r.text
        assert r.content == b"attached bytes"
        # an attachment that does not exist
        cu.assert_not_found(api.get(ARTIFACT, params={"request_id": d["artifact"], "path": str(uuid.uuid4())}))


def test_trace_artifact_bad_input(both):
    errors = []
    some = str(uuid.uuid4())
    for api, d in both:
        got = []
        r = api.get(ARTIFACT)
        assert r.status_code == 400 and r.json()["error_code"] == "BAD_REQUEST"
        assert "request_id" in r.json()["message"]
        got.append(r.json())
        missing = "tr-" + "0" * 32
        got.append(cu.assert_not_found(api.get(ARTIFACT, params={"request_id": missing})))
        got.append(cu.assert_not_found(api.get(ARTIFACT, params={"request_id": missing, "path": some})))
        for bad in ("../../etc/passwd", "%2e%2e/x", "/etc/passwd", "a#b", "not-a-uuid", some.upper(), "x/../" + some):
            got.append(cu.assert_invalid(api.get(ARTIFACT, params={"request_id": d["stored"], "path": bad})))
        # error_code and message as stock (stock classifies the bad-UUID error as
        # ATTRIBUTE_NOT_FOUND; mlflowd gives every INVALID_PARAMETER_VALUE one class)
        errors.append([(e["error_code"], e["message"]) for e in got])
    assert errors[0] == errors[1]


@pytest.mark.mlflowd_only
def test_trace_artifact_never_leaves_root(module_server, both, tmp_path):
    """A traces.json that is a link to a file outside the artifact root is refused."""
    api, d = both[0]
    secret = tmp_path / "secret.json"
    secret.write_text('{"spans": ["secret"]}')
    found = list(module_server.artifacts.rglob(f"{d['artifact']}/artifacts/traces.json"))
    assert len(found) == 1
    original = found[0].read_bytes()
    found[0].unlink()
    found[0].symlink_to(secret)
    r = api.get(ARTIFACT, params={"request_id": d["artifact"]})
    assert r.status_code in (400, 404) and b"secret" not in r.content
    found[0].unlink()
    cu.assert_not_found(api.get(ARTIFACT, params={"request_id": d["artifact"]}), "traces.json")
    found[0].write_bytes(original)  # the other tests read this trace through the client


def _search(api, d, flt):
    """Labels of the traces of the data set a filter finds (through the real client)."""
    _use(api.server.url)
    labels = {d[k]: k for k in ("stored", "artifact", "other", "failed")}
    found = mlflow.search_traces(locations=[d["exp_id"]], filter_string=flt, return_type="list")
    return sorted(labels[t.info.trace_id] for t in found)


SEARCHES = [
    ("span.name = 'lookup'", ["stored"]),
    ("span.type = 'LLM'", ["other", "stored"]),
    ("span.status = 'ERROR'", ["failed"]),
    ("span.name IN ('lookup', '_broken')", ["failed", "stored"]),
    ("span.name NOT IN ('_agent', 'lookup', '_answer')", ["failed"]),
    ("span.name LIKE 'look%'", ["stored"]),
    ("span.name ILIKE 'LOOK%'", ["stored"]),
    ("span.name != '_answer' AND span.type = 'LLM'", []),  # one span must satisfy both
    ("span.type = 'RETRIEVER' AND span.name = 'lookup' AND status = 'OK'", ["stored"]),
    ("span.attributes.mlflow.spanType LIKE '%RETRIEVER%'", ["stored"]),
    ("trace.text LIKE '%answer to other%'", ["other"]),
    ("span.content ILIKE '%BROKEN TOOL%'", ["failed"]),
    ("feedback.correct = 'true'", ["stored"]),
    ("feedback.correct = 'false'", ["other"]),
    ("feedback.correct != 'true'", ["other"]),
    ("feedback.score > 0.5", ["stored"]),
    ("feedback.score <= 0.5", ["other"]),
    ("feedback.score >= 0.3 AND span.type = 'CHAIN'", ["stored"]),
    ("feedback.correct IS NULL", ["artifact", "failed"]),
    ("feedback.correct IS NOT NULL", ["other", "stored"]),
    ("expectation.expected = 'answer to what'", ["stored"]),
    ("expectation.expected LIKE '%what%'", ["stored"]),
    ("feedback.expected IS NOT NULL", []),
]


def test_search_span_assessment_prompt_filters(both):
    for api, d in both:
        got = [(flt, _search(api, d, flt)) for flt, _ in SEARCHES]
        assert got == SEARCHES, api.server.kind
        assert _search(api, d, f"prompt = '{d['prompt']}'") == ["stored"]
        assert _search(api, d, "prompt = 'nothing/1'") == []


RLIKE_SEARCHES = [
    ("span.name RLIKE '^look'", ["stored"]),
    ("span.name RLIKE '^_(answer|agent)$'", ["other", "stored"]),
    ("span.type RLIKE 'RETR|CHA'", ["stored"]),
    ("span.attributes.mlflow.spanType RLIKE '^RETRIEVER$'", ["stored"]),
    ("span.attributes.mlflow.spanType RLIKE 'TRIEV'", ["stored"]),
    ("status RLIKE '^ERR'", ["failed"]),
    ("name RLIKE 'artifact$'", ["artifact"]),
    ("feedback.correct RLIKE 'tru'", ["stored"]),
    ("expectation.expected RLIKE '\\bwhat\\b'", ["stored"]),
    ("span.name RLIKE '('", []),  # a pattern that does not compile matches nothing
]


def test_search_rlike(both):
    """RLIKE (a regular expression, Python's re.search) on trace attributes, tags, spans and
    assessments, as stock's SQLite store evaluates it."""
    for api, d in both:
        got = [(flt, _search(api, d, flt)) for flt, _ in RLIKE_SEARCHES]
        assert got == RLIKE_SEARCHES, api.server.kind


def test_search_filter_errors(both):
    bad = {
        "span.bogus = 'x'": "Invalid span attribute 'bogus'",
        "span.content = 'x'": "span.content comparator '=' not one of",
        "span.name > 'x'": "span.name comparator '>' not one of",
        "feedback.score > 'x'": "Expected a numeric value for feedback when using comparator '>'",
        "feedback.score = 5": "Expected a quoted string value for feedback",
        "prompt LIKE 'x/1'": "Invalid comparator 'LIKE' for prompts filter",
        "prompt = 'noslash'": "Invalid prompts filter value 'noslash'",
        "span.name IS NULL": None,
        "span.content RLIKE 'x'": "span.content comparator 'RLIKE' not one of",
        "issue.foo = 'x'": "Invalid issue attribute 'foo'. Supported attributes: id",
        "issue.id IS NULL": "issue.id comparator 'IS NULL' not one of",
        "issue.id != 'x'": "issue.id comparator '!=' not one of",
        "issue.id = 5": "Expected a quoted string value for issue",
    }
    for api, d in both:
        for flt, msg in bad.items():
            r = api.post("/api/3.0/mlflow/traces/search",
                         {"locations": [{"type": "MLFLOW_EXPERIMENT",
                                         "mlflow_experiment": {"experiment_id": d["exp_id"]}}],
                          "filter": flt})
            cu.assert_invalid(r, msg)


def _otlp_json(spans, trace_id: bytes, snake: bool, session=None) -> bytes:
    """An OTLP/JSON ExportTraceServiceRequest of the client's spans (re-homed to trace_id),
    as the OTLP spec writes it: ids in hex, 64-bit integers as strings; camelCase names with
    enum names, or the proto's snake_case names with enum numbers."""
    import base64

    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    scope = req.resource_spans.add().scope_spans.add()
    new_ids = {}
    for s in spans:
        p = s.to_otel_proto()
        p.trace_id = trace_id
        p.span_id = new_ids.setdefault(p.span_id, os.urandom(8))
        if p.parent_span_id:
            p.parent_span_id = new_ids.setdefault(p.parent_span_id, os.urandom(8))
        for kv in p.attributes:
            if kv.key == "mlflow.traceRequestId":
                kv.value.string_value = json.dumps("tr-" + trace_id.hex())
        if session and p.parent_span_id:  # OpenTelemetry's session.id on a child span
            kv = p.attributes.add()
            kv.key = "session.id"
            kv.value.string_value = session
        scope.spans.add().CopyFrom(p)
    body = MessageToDict(req, preserving_proto_field_name=snake, use_integers_for_enums=snake)
    for rs in body["resource_spans" if snake else "resourceSpans"]:
        for ss in rs["scope_spans" if snake else "scopeSpans"]:
            for sp in ss["spans"]:
                for k in ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"):
                    if k in sp:
                        sp[k] = base64.b64decode(sp[k]).hex()
    return json.dumps(body).encode()


def _span_view(trace):
    return sorted((s.name, s.span_type, s.status.status_code.value, s.parent_id is None, repr(s.inputs),
                   repr(s.outputs), tuple((e.name, repr(e.attributes)) for e in s.events),
                   s.attributes.get("mlflow.spanFunctionName")) for s in trace.data.spans)


def test_otlp_json_export(both):
    """An OTLP/JSON export lands as the same spans as the client's protobuf export, on both
    servers; malformed JSON bodies get a 400 with MLflow's error body."""
    views = []
    for api, d in both:
        _use(api.server.url)
        original = mlflow.get_trace(d["stored"])
        got = []
        # stock converts only camelCase ids from hex, so the snake_case form is mlflowd's alone
        for snake in (False, True) if api.server.kind == "mlflowd" else (False,):
            tid = uuid.uuid4().bytes
            r = api.request("POST", api.server.url + "/v1/traces", data=_otlp_json(original.data.spans, tid, snake),
                            headers={"Content-Type": "application/json", "x-mlflow-experiment-id": d["exp_id"]})
            assert r.status_code == 200, (snake, r.text)
            copy = mlflow.get_trace("tr-" + tid.hex())
            assert _span_view(copy) == _span_view(original)
            assert copy.info.state.value == "OK"
            got.append((_span_view(copy), copy.info.request_preview, copy.info.response_preview))
        views.append(got)
        if api.server.kind != "mlflowd":
            continue  # stock refuses these too, one of them with a 500 that drops the connection
        hdr = {"Content-Type": "application/json", "x-mlflow-experiment-id": d["exp_id"]}
        span = {"traceId": "00" * 16, "spanId": "11" * 8, "name": "x", "startTimeUnixNano": "1"}
        for bad in (b"{", b"[]", json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [dict(span, traceId="zz")]}]}]}),
                    json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [dict(span, startTimeUnixNano="x")]}]}]}),
                    json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
                        dict(span, attributes=[{"key": "k", "value": {"boolValue": "yes"}}])]}]}]})):
            r = api.request("POST", api.server.url + "/v1/traces", data=bad, headers=hdr)
            cu.assert_invalid(r, "Invalid OpenTelemetry format")
    assert views[0][0] == views[1][0] and views[0][1] == views[0][0]


def test_otlp_session_id_from_spans(both):
    """A trace first seen through spans that carry session.id takes that session, as stock."""
    sessions = []
    for api, d in both:
        _use(api.server.url)
        original = mlflow.get_trace(d["stored"])
        tid = uuid.uuid4().bytes
        r = api.request("POST", api.server.url + "/v1/traces",
                        data=_otlp_json(original.data.spans, tid, False, session="sess-42"),
                        headers={"Content-Type": "application/json", "x-mlflow-experiment-id": d["exp_id"]})
        assert r.status_code == 200, r.text
        info = mlflow.get_trace("tr-" + tid.hex()).info
        found = mlflow.search_traces(locations=[d["exp_id"]], return_type="list",
                                     filter_string="metadata.`mlflow.trace.session` = 'sess-42'")
        sessions.append((info.trace_metadata.get("mlflow.trace.session"), [t.info.trace_id for t in found]
                         == ["tr-" + tid.hex()]))
    assert sessions[0] == sessions[1] == ("sess-42", True)


def _otlp_proto(trace_id: bytes, spans) -> bytes:
    """A protobuf ExportTraceServiceRequest as a bare OpenTelemetry exporter sends it (no
    MLflow client computing totals): spans (span_id, parent_id or None, name, attributes),
    attribute values as strings, ints, floats or dicts (kvlists)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    scope = req.resource_spans.add().scope_spans.add()
    for n, (sid, parent, name, attrs) in enumerate(spans):
        p = scope.spans.add()
        p.trace_id, p.span_id, p.name = trace_id, sid, name
        if parent:
            p.parent_span_id = parent
        p.start_time_unix_nano = 1_700_000_000_000_000_000 + n * 1000
        p.end_time_unix_nano = p.start_time_unix_nano + 5_000_000
        p.status.code = 1
        for k, v in attrs.items():
            kv = p.attributes.add()
            kv.key = k
            if isinstance(v, dict):
                for kk, vv in v.items():
                    e = kv.value.kvlist_value.values.add()
                    e.key = kk
                    e.value.int_value = vv
            elif isinstance(v, str):
                kv.value.string_value = v
            elif isinstance(v, int):
                kv.value.int_value = v
            else:
                kv.value.double_value = v
    return req.SerializeToString()


def _sid(n):
    return n.to_bytes(8, "big")


_USAGE, _COST = "mlflow.chat.tokenUsage", "mlflow.llm.cost"
# each case: the requests (lists of spans) that carry one trace's spans
_USAGE_CASES = {
    # two roots and a child: the child is not counted under its counted parent; the cache key
    # only one span has is in the total; cost, model, provider and user.id as stock reads them
    "tree": [[(_sid(1), None, "root", {_USAGE: '{"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}',
                                     _COST: '{"input_cost": 0.5, "output_cost": 0.25, "total_cost": 0.75}',
                                     "mlflow.llm.model": "gpt-x", "mlflow.llm.provider": "openai",
                                     "user.id": "u1"}),
              (_sid(2), _sid(1), "child", {_USAGE: '{"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}',
                                           _COST: '{"input_cost": 0.1, "output_cost": 0.2, "total_cost": 0.3}'}),
              (_sid(3), None, "root2", {_USAGE: '{"input_tokens": 1, "cache_read_input_tokens": 7}',
                                        _COST: '{"total_cost": 0.125}', "mlflow.llm.model": 5,
                                        "plain": "text", "quoted": '"q"', "list": "[1, 2]"})]],
    # the child arrives first (its batch creates the trace), then its parent: the totals are
    # recomputed over the whole tree, not added to
    "split": [[(_sid(12), _sid(11), "child", {_USAGE: '{"input_tokens": 2, "output_tokens": 3, "total_tokens": 5}'})],
              [(_sid(11), None, "root", {_USAGE: '{"input_tokens": 20, "output_tokens": 30, "total_tokens": 50}',
                                         _COST: '{"input_cost": 1e-05, "output_cost": 3e-05, "total_cost": 4e-05}'})]],
    # a map sent as an OTLP kvlist; float token counts: an integral one counts, 2.5 leaves input unset
    "kvlist": [[(_sid(21), None, "r", {_USAGE: {"input_tokens": 2, "output_tokens": 3}}),
                (_sid(22), None, "r2", {_USAGE: '{"input_tokens": 2.5, "output_tokens": 4.0}'})]],
    # spans without usage leave the trace's columns alone
    "none": [[(_sid(31), None, "r", {"other": "x"})]],
}


def _usage_view(api, exp_id, tid_hex):
    """What a client reads of a trace built from spans alone: the totals, the user, and the
    usage and cost attributes of its spans; and the spans' own cost, model and provider columns."""
    import sqlite3

    _use(api.server.url)
    trace = mlflow.get_trace("tr-" + tid_hex)
    meta = trace.info.trace_metadata
    con = sqlite3.connect(f"file:{api.server.db_path}?mode=ro", uri=True)
    try:
        cols = con.execute("SELECT span_id, input_cost, output_cost, total_cost, model_name, model_provider "
                           "FROM spans WHERE trace_id = ? ORDER BY span_id", ("tr-" + tid_hex,)).fetchall()
    finally:
        con.close()
    return ({k: meta.get(k) for k in ("mlflow.trace.tokenUsage", "mlflow.trace.cost", "mlflow.trace.user")},
            trace.info.token_usage,
            # repr: an integral float (4.0) must come back a float, as from stock
            sorted((s.name, repr(s.attributes.get(_USAGE)), repr(s.attributes.get(_COST)),
                    repr({k: s.attributes.get(k) for k in ("plain", "quoted", "list", "mlflow.llm.model")}))
                   for s in trace.data.spans),
            cols)


def test_otlp_token_usage_and_cost_totals(both):
    """Spans from a bare OpenTelemetry exporter: the server sums token usage and cost over the
    span tree into the trace, and fills the spans' cost and model columns, as stock does; a
    trace the client finalized with totals of its own keeps them when more spans arrive."""
    views = []
    for api, d in both:
        hdr = {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": d["exp_id"]}
        got = {}
        for name, requests_ in _USAGE_CASES.items():
            tid = uuid.uuid4().bytes
            for spans in requests_:
                r = api.request("POST", api.server.url + "/v1/traces", data=_otlp_proto(tid, spans), headers=hdr)
                assert r.status_code == 200, (name, r.text)
            got[name] = _usage_view(api, d["exp_id"], tid.hex())
        # finalized by the client with its own totals: later spans do not change them
        tid = uuid.uuid4().bytes
        tc = TracingClient(api.server.url)
        tc.start_trace(TraceInfo(
            trace_id="tr-" + tid.hex(), trace_location=TraceLocation.from_experiment_id(d["exp_id"]),
            request_time=cu.now_ms(), state=TraceState.OK, execution_duration=5,
            trace_metadata={"mlflow.trace.tokenUsage": json.dumps({"input_tokens": 1, "output_tokens": 1,
                                                                   "total_tokens": 2})}))
        r = api.request("POST", api.server.url + "/v1/traces", headers=hdr, data=_otlp_proto(tid, [
            (_sid(41), None, "late", {_USAGE: '{"input_tokens": 100, "output_tokens": 100, "total_tokens": 200}',
                                      _COST: '{"total_cost": 2.0}'})]))
        assert r.status_code == 200, r.text
        got["finalized"] = _usage_view(api, d["exp_id"], tid.hex())
        views.append(got)
    mine, stock = views
    for name in stock:
        assert mine[name] == stock[name], name
    # and the totals are what the span trees say
    assert stock["tree"][1] == {"input_tokens": 11, "output_tokens": 5, "total_tokens": 15,
                                "cache_read_input_tokens": 7}
    assert json.loads(stock["tree"][0]["mlflow.trace.cost"]) == {"input_cost": 0.5, "output_cost": 0.25,
                                                                "total_cost": 0.875}
    assert stock["tree"][0]["mlflow.trace.user"] == "u1"
    assert stock["split"][1] == {"input_tokens": 20, "output_tokens": 30, "total_tokens": 50}
    assert stock["finalized"][1] == {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}


def _search_ids(api, exp_id, flt):
    r = api.post("/api/3.0/mlflow/traces/search",
                 {"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}}],
                  "filter": flt})
    assert r.status_code == 200, r.text
    return sorted(t["trace_id"] for t in r.json().get("traces", []))


def test_search_issue_filter(both, stock_server, mlflowd_factory, tmp_path):
    """issue.id = '<id>' finds the traces with a reference to that issue. mlflowd has no issue
    API, so stock writes the issue and its reference, and mlflowd searches a copy of stock's
    store."""
    import shutil

    api, d = both[1]
    _use(api.server.url)
    issue = TracingClient(api.server.url)._create_issue(experiment_id=d["exp_id"], name=cu.uniq("slow"),
                                                        description="answers too slowly")
    mlflow.log_issue(trace_id=d["other"], issue_id=issue.issue_id)
    filters = [f"issue.id = '{issue.issue_id}'", "issue.id = 'iss-none'",
               f"issue.id = '{issue.issue_id}' AND status = 'OK'", f"issue.id = '{issue.issue_id}' AND status = 'ERROR'",
               "issue.name = '_answer'"]  # MLflow reads issue.name as the trace's name
    stock = [_search_ids(api, d["exp_id"], f) for f in filters]
    assert stock[0] == stock[2] == stock[4] == [d["other"]] and stock[1] == stock[3] == []
    copy = tmp_path / "copy.db"
    shutil.copy(stock_server.db_path, copy)
    ours = cu.Api(mlflowd_factory(db_path=copy, artifacts=tmp_path / "art"))
    assert [_search_ids(ours, d["exp_id"], f) for f in filters] == stock


def test_search_status_order_with_equal_timestamps(both):
    """A status-filtered search (served by mlflowd's index of trace_info by status) answers in
    stock's order, timestamp descending then trace id, page after page, also among traces with
    the same timestamp; a full last page gets a token to an empty page, as stock's."""
    pages = []
    for api, d in both:
        exp_id = api.post("/api/2.0/mlflow/experiments/create", {"name": cu.uniq("tstatus")}).json()["experiment_id"]
        tc = TracingClient(api.server.url)
        t0 = 1_760_000_000_000
        for i in range(12):
            tc.start_trace(TraceInfo(
                trace_id="tr-%032x" % (0xABC000 + (i * 7919) % 97), trace_location=TraceLocation.from_experiment_id(exp_id),
                request_time=t0 - (i % 3) * 1000, execution_duration=1,
                state=TraceState.ERROR if i % 2 else TraceState.OK))
        got = []
        for flt in ("status = 'ERROR'", "status = 'OK'", "status IN ('OK', 'ERROR')"):
            token, ids = None, []
            while True:
                body = {"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}}],
                        "filter": flt, "max_results": 4}
                if token:
                    body["page_token"] = token
                r = api.post("/api/3.0/mlflow/traces/search", body)
                assert r.status_code == 200, r.text
                ids.append([(t["trace_id"], t["request_time"]) for t in r.json().get("traces", [])])
                token = r.json().get("next_page_token")
                if not token:
                    break
            got.append(ids)
        pages.append(got)
    assert pages[0] == pages[1], (pages[0], pages[1])
    assert sum(len(p) for p in pages[1][0]) == 6 and pages[1][2][-1] == []
