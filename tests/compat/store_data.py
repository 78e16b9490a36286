"""A varied data set written through any MlflowClient (2.0.1 to 3.18.0), and a snapshot of
what a client reads back. Imported by the tests in .venv and by release_client.py inside the
environments of other MLflow releases (.venvs/), so it needs nothing but mlflow."""

import math

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType

try:
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH
except ImportError:
    MAX_PARAM_VAL_LENGTH = 500

# 5999 characters where the release takes them (6000 since 2.x), else 499 (MLflow 2.0: 500)
LONG_PARAM = "L" * (min(MAX_PARAM_VAL_LENGTH, 6000) - 1)

try:  # MLflow >= 2.4
    from mlflow.entities import Dataset, DatasetInput, InputTag
except ImportError:
    Dataset = None


def populate(client: MlflowClient, prefix: str) -> list[str]:
    """Write a varied data set through any MlflowClient; returns the experiment ids."""
    e1 = client.create_experiment(f"{prefix}-main", tags={"team": "a", "note": "ünïcode ✓"})
    e2 = client.create_experiment(f"{prefix}-second")
    e3 = client.create_experiment(f"{prefix}-deleted", tags={"gone": "yes"})
    client.set_experiment_tag(e2, "k", "v" * 300)

    r1 = client.create_run(e1, start_time=1_700_000_000_000, run_name="first", tags={"stage": "train"})
    rid = r1.info.run_id
    client.log_batch(rid, params=[Param(f"p{i}", f"value {i}") for i in range(30)],
                     metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(1000)],
                     tags=[RunTag("mlflow.note.content", "a note"), RunTag("t", "x")])
    client.log_batch(rid, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(1000, 1500)])
    client.log_metric(rid, "nan", float("nan"), timestamp=5, step=0)
    client.log_metric(rid, "nan", 2.0, timestamp=6, step=1)
    client.log_metric(rid, "inf", float("inf"), timestamp=7, step=0)
    client.log_metric(rid, "ninf", float("-inf"), timestamp=7, step=0)
    client.log_metric(rid, "neg", -3.25, timestamp=8, step=-2)
    client.log_metric(rid, "same", 1.0, timestamp=9, step=0)
    client.log_metric(rid, "same", 2.0, timestamp=9, step=0)
    client.log_param(rid, "long", LONG_PARAM)
    client.log_param(rid, "uni", "héllo ✓ \U0001F600")
    client.set_tag(rid, "quote", "it's \"quoted\"")
    if Dataset is not None:
        client.log_inputs(rid, [DatasetInput(
            Dataset("ds", "abc123", "local", '{"uri": "/data/x.csv"}', '{"cols": ["a"]}', '{"rows": 3}'),
            [InputTag("mlflow.data.context", "training")])])
    client.set_terminated(rid, "FINISHED", end_time=1_700_000_100_000)

    r2 = client.create_run(e1, start_time=1_700_000_000_500, run_name="second")
    client.log_metric(r2.info.run_id, "loss", 0.5, timestamp=1, step=0)
    client.set_terminated(r2.info.run_id, "FAILED", end_time=1_700_000_000_900)
    r3 = client.create_run(e1, run_name="deleted-run")
    client.log_param(r3.info.run_id, "x", "1")
    client.delete_run(r3.info.run_id)
    r4 = client.create_run(e2, run_name="running")
    client.set_tag(r4.info.run_id, "k", "v")
    r5 = client.create_run(e3, run_name="in-deleted-exp")
    client.log_metric(r5.info.run_id, "m", 1.0, timestamp=1)
    client.delete_experiment(e3)
    return [e1, e2, e3]


def _v(x):
    return "NaN" if isinstance(x, float) and math.isnan(x) else x


def snapshot(client: MlflowClient, exp_ids) -> dict:
    """What a client reads back, as JSON-able lists (equal across processes and releases)."""
    out = {}
    for eid in exp_ids:
        e = client.get_experiment(eid)
        runs = {}
        for r in client.search_runs([eid], run_view_type=ViewType.ALL, max_results=1000):
            i = r.info
            inputs = getattr(r, "inputs", None)
            runs[i.run_id] = {
                "info": [i.run_name, i.experiment_id, i.user_id, i.status, i.start_time, i.end_time,
                         i.artifact_uri, i.lifecycle_stage],
                "params": dict(r.data.params),
                "tags": dict(r.data.tags),
                "metrics": {k: _v(v) for k, v in r.data.metrics.items()},
                "history": {k: [[m.step, m.timestamp, _v(m.value)] for m in client.get_metric_history(i.run_id, k)]
                            for k in r.data.metrics},
                "inputs": [[d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source,
                            d.dataset.schema, d.dataset.profile, sorted([t.key, t.value] for t in d.tags)]
                           for d in (inputs.dataset_inputs if inputs else [])],
                "get_run_same": client.get_run(i.run_id).info.lifecycle_stage == i.lifecycle_stage,
            }
        out[eid] = {
            "experiment": [e.name, e.artifact_location, e.lifecycle_stage, getattr(e, "creation_time", None),
                           getattr(e, "last_update_time", None)],
            "tags": dict(e.tags),
            "by_name": client.get_experiment_by_name(e.name).experiment_id,
            "runs": runs,
        }
    return out


def check_populated(snap, exp_ids, datasets=True):
    """Sanity: the snapshot holds what populate() wrote (so equality elsewhere means something)."""
    e1, e2, e3 = exp_ids
    assert snap[e3]["experiment"][2] == "deleted"
    runs = {r["info"][0]: r for r in snap[e1]["runs"].values()}
    first = runs["first"]
    assert len(first["history"]["loss"]) == 1500
    assert first["metrics"]["nan"] == 2.0 and first["history"]["nan"][0][2] == "NaN"
    assert first["metrics"]["same"] == 2.0 and len(first["history"]["same"]) == 2
    assert set(first["params"]["long"]) == {"L"} and len(first["params"]["long"]) in (499, 5999)
    assert len(first["params"]) == 32
    if datasets:
        assert first["inputs"][0][0] == "ds"
    assert runs["deleted-run"]["info"][7] == "deleted"
    assert snap[e1]["tags"] == {"team": "a", "note": "ünïcode ✓"}
    assert all(r["info"][7] == "deleted" for r in snap[e3]["runs"].values())
