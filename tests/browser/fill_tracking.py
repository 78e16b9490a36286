"""Fills an mlflowd for the tracking-page browser tests through the stock `mlflow` client:
experiment "many" with 700 runs (run i: metric m = i, param p = i, tag group = i % 3), a
param logged by the last-created run only (beyond the first page of the table), a parent run
with two children, a RUNNING run with a metric history and a dataset input, and in experiment "long" a run whose
3,000-step history has a one-step spike, plus a noisy 3,000-step metric on that run and a second
one. Prints one JSON line of ids.

    .venv/bin/python tests/browser/fill_tracking.py http://127.0.0.1:PORT
"""
import json
import os
import sys

os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")

from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

RUNS = 700
T0 = 1_700_000_000_000


def main(url):
    c = MlflowClient(url)
    eid = c.create_experiment("many", tags={"mlflow.note.content": "# Many runs\nA **bold** note."})
    ids = []
    for i in range(RUNS):
        r = c.create_run(eid, run_name=f"run-{i:04d}", start_time=T0 + i * 1000)
        params = [Param("p", str(i))]
        if i == RUNS - 1:
            params.append(Param("only_in_last", "yes"))
        c.log_batch(r.info.run_id, metrics=[Metric("m", float(i), T0, 0)], params=params,
                    tags=[RunTag("group", str(i % 3))])
        c.set_terminated(r.info.run_id, end_time=T0 + i * 1000 + 500)
        ids.append(r.info.run_id)
    parent = c.create_run(eid, run_name="parent", start_time=T0 + RUNS * 1000)
    kids = [c.create_run(eid, run_name=f"child-{k}", start_time=T0 + RUNS * 1000 + 1 + k,
                         tags={"mlflow.parentRunId": parent.info.run_id}).info.run_id for k in range(2)]
    live = c.create_run(eid, run_name="live", start_time=T0 + RUNS * 1000 + 10)
    c.log_batch(live.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), T0 + s, s) for s in range(50)],
                params=[Param("alpha", "0.5")], tags=[RunTag("team", "a")])
    c.log_inputs(live.info.run_id, datasets=[DatasetInput(Dataset("train-ds", "d1g3st", "local", '{"uri": "/tmp/x"}'),
                                                          tags=[InputTag("mlflow.data.context", "training")])])
    # a long history with a one-step spike (other experiment: the table tests count runs)
    lid = c.create_experiment("long")
    long = c.create_run(lid, run_name="long")
    hist = [Metric("spiky", 100.0 if s == 1234 else 1.0, T0 + s, s) for s in range(3000)]
    for i in range(0, len(hist), 1000):
        c.log_batch(long.info.run_id, metrics=hist[i : i + 1000])
    # a noisy metric on two runs: every bucket keeps four points, so their chart has more than 2,000
    noisy = [long.info.run_id, c.create_run(lid, run_name="long-2").info.run_id]
    for n, rid in enumerate(noisy):
        ms = [Metric("noisy", float((s * 7919 + n) % 101), T0 + s, s) for s in range(3000)]
        for i in range(0, len(ms), 1000):
            c.log_batch(rid, metrics=ms[i : i + 1000])
    print(json.dumps({"experiment_id": eid, "run_ids": ids, "parent": parent.info.run_id, "children": kids,
                      "live": live.info.run_id, "long_experiment_id": lid, "long": long.info.run_id, "noisy": noisy}))


if __name__ == "__main__":
    main(sys.argv[1])
