"""Fills an mlflowd for the traces browser tests through the stock `mlflow` client: experiment
"agents" with a nested trace (a retriever span with an event, a tool span) inside a run, a
failing trace, a trace whose name and tag are XSS payloads, and feedback and an expectation on
the first trace. Prints one JSON line of ids.

    .venv/bin/python tests/browser/fill_traces.py http://127.0.0.1:PORT
"""
import json
import os
import sys

os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import AssessmentSource, SpanEvent  # noqa: E402

XSS = '<img src=x onerror="window.__xss=1">'


@mlflow.trace(span_type="AGENT")
def answer(question):
    with mlflow.start_span(name="retrieve", span_type="RETRIEVER") as s:
        s.set_inputs({"query": question})
        s.add_event(SpanEvent("cache-miss", attributes={"size": 3}))
        s.set_outputs(["doc-1", "doc-2"])
    return lookup(question) + "!"


@mlflow.trace(span_type="TOOL")
def lookup(q):
    return q.upper()


@mlflow.trace
def broken(x):
    raise RuntimeError("tool failed")


def main(url):
    mlflow.set_tracking_uri(url)
    eid = mlflow.set_experiment("agents").experiment_id
    with mlflow.start_run() as run:
        answer("what is mlflowd?")
    first = mlflow.get_last_active_trace_id()
    try:
        broken(1)
    except RuntimeError:
        pass
    failed = mlflow.get_last_active_trace_id()
    with mlflow.start_span(name=XSS) as s:
        s.set_inputs({"q": XSS})
    xss = mlflow.get_last_active_trace_id()
    MlflowClient(url).set_trace_tag(xss, "note", XSS)
    human = AssessmentSource(source_type="HUMAN", source_id="reviewer")
    mlflow.log_feedback(trace_id=first, name="helpful", value=True, rationale="clear answer", source=human)
    mlflow.log_expectation(trace_id=first, name="expected", value="WHAT IS MLFLOWD?!", source=human)
    print(json.dumps({"experiment_id": eid, "first": first, "failed": failed, "xss": xss,
                      "run_id": run.info.run_id}))


if __name__ == "__main__":
    main(sys.argv[1])
