"""Runs inside the environment of an MLflow release (like release_client.py): that release's own
tracing client writes traces into a SQLite store, or reads them back, and prints JSON.

    python release_traces.py populate URI NAME    # traces (spans, token usage, costs, models,
                                                  # sessions, feedback where the release has them);
                                                  # prints [experiment id, [trace ids]]
    python release_traces.py read EXP_ID URI...   # every trace of the experiment in each store, as
                                                  # the client sees it
"""

import json
import os
import sys

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"  # every trace written before the process ends

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

V3 = int(mlflow.__version__.split(".")[0]) >= 3


def populate(uri, name):
    mlflow.set_tracking_uri(uri)
    exp_id = mlflow.set_experiment(name).experiment_id
    ids = []
    for i in range(4):
        with mlflow.start_span(name=f"agent-{i}") as root:
            root.set_inputs({"question": f"q{i}"})
            with mlflow.start_span(name="llm", span_type="LLM") as llm:
                llm.set_inputs({"messages": [{"role": "user", "content": f"q{i}"}]})
                if V3:
                    llm.set_attribute("mlflow.chat.tokenUsage",
                                      {"input_tokens": 10 + i, "output_tokens": 5, "total_tokens": 15 + i})
                    llm.set_attribute("mlflow.llm.model", f"model-{i % 2}")
                    llm.set_attribute("mlflow.llm.provider", "openai")
                    llm.set_attribute("mlflow.llm.cost",
                                      {"input_cost": 0.001 * (i + 1), "output_cost": 0.0005, "total_cost": 0.0015 + i})
                llm.set_outputs({"content": f"a{i}"})
            root.set_outputs({"answer": f"a{i}"})
            if V3:
                mlflow.update_current_trace(tags={"team": "x"}, metadata={"mlflow.trace.session": f"session-{i % 2}"})
            else:
                mlflow.update_current_trace(tags={"team": "x"})
            ids.append(getattr(root, "trace_id", None) or root.request_id)
    if V3:
        for tid, value in zip(ids, [True, 0.75, "yes", {"label": "good"}]):
            mlflow.log_feedback(trace_id=tid, name="quality", value=value)
        mlflow.log_expectation(trace_id=ids[0], name="expected", value="a0")
    return [exp_id, ids]


def read(exp_id, uri):
    client = MlflowClient(uri)
    out = {}
    for t in client.search_traces(locations=[exp_id], max_results=100):
        info = t.info.to_dict()
        info.pop("trace_location", None)
        out[t.info.trace_id] = {
            "info": info,
            "token_usage": t.info.token_usage,
            "spans": sorted((s.name, s.span_type, json.dumps(s.attributes, sort_keys=True, default=str))
                            for s in t.data.spans),
        }
    return out


def main(argv):
    cmd, *args = argv
    out = populate(*args) if cmd == "populate" else [read(args[0], uri) for uri in args[1:]]
    print(json.dumps(out, sort_keys=True, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
