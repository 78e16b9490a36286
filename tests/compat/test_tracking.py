"""End-to-end tracking sessions through the fluent API, the way user code drives a server."""

import math

import mlflow
import pandas as pd
from mlflow.entities import ViewType

from compat_util import uniq


def test_training_loop_session(client):
    name = uniq("train")
    exp = mlflow.set_experiment(name)
    mlflow.set_experiment_tags({"project": "compat", "owner": "ci"})
    with mlflow.start_run(run_name="baseline", tags={"kind": "baseline"}) as run:
        mlflow.log_params({"lr": 0.01, "epochs": 5, "optimizer": "adam"})
        for epoch in range(5):
            mlflow.log_metrics({"loss": 1.0 / (epoch + 1), "acc": 0.5 + epoch / 10}, step=epoch)
        mlflow.log_metric("final", float("nan"))
        mlflow.set_tag("stage", "done")
        mlflow.log_input(mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2]}), name="d"), context="training")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_metric", 3.0)
    with mlflow.start_run(run_name="second") as run2:
        mlflow.log_params({"lr": 0.1, "epochs": 5, "optimizer": "sgd"})
        mlflow.log_metric("acc", 0.95, step=4)

    r = client.get_run(run.info.run_id)
    assert r.info.status == "FINISHED" and r.info.run_name == "baseline"
    assert r.data.params == {"lr": "0.01", "epochs": "5", "optimizer": "adam"}
    assert r.data.metrics["loss"] == 0.2 and r.data.metrics["acc"] == 0.9 and math.isnan(r.data.metrics["final"])
    assert r.data.tags["stage"] == "done" and r.data.tags["kind"] == "baseline"
    assert [m.value for m in client.get_metric_history(run.info.run_id, "loss")] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert [d.dataset.name for d in r.inputs.dataset_inputs] == ["d"]
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == run.info.run_id
    assert client.get_experiment(exp.experiment_id).tags == {"project": "compat", "owner": "ci"}

    df = mlflow.search_runs(experiment_names=[name], order_by=["metrics.acc DESC"])
    assert list(df["tags.mlflow.runName"]) == ["second", "baseline", "child"]
    df = mlflow.search_runs(experiment_names=[name], filter_string="params.optimizer = 'adam'")
    assert list(df["run_id"]) == [run.info.run_id]
    best = mlflow.search_runs(experiment_names=[name], filter_string="metrics.acc > 0.9", output_format="list")
    assert [x.info.run_id for x in best] == [run2.info.run_id]
    assert mlflow.last_active_run().info.run_id == run2.info.run_id


def test_default_experiment_used_without_set_experiment(client):
    with mlflow.start_run() as run:
        mlflow.log_param("where", "default")
    assert run.info.experiment_id == "0"
    assert client.get_run(run.info.run_id).data.params == {"where": "default"}


def test_experiment_lifecycle_via_fluent(client):
    name = uniq("life")
    eid = mlflow.create_experiment(name, tags={"a": "b"})
    assert mlflow.get_experiment(eid).name == name
    assert mlflow.get_experiment_by_name(name).tags == {"a": "b"}
    mlflow.delete_experiment(eid)
    deleted = mlflow.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{name}'")
    assert [e.experiment_id for e in deleted] == [eid]


def test_log_text_and_download(client, tmp_path):
    """The fluent artifact API against the served artifact store (PUT / list / GET)."""
    mlflow.set_experiment(uniq("art"))
    with mlflow.start_run() as run:
        mlflow.log_text("hello compat", "notes/hello.txt")
        mlflow.log_dict({"k": [1, 2]}, "cfg.json")
    files = sorted(f.path for f in client.list_artifacts(run.info.run_id))
    assert files == ["cfg.json", "notes"]
    assert [f.path for f in client.list_artifacts(run.info.run_id, "notes")] == ["notes/hello.txt"]
    local = client.download_artifacts(run.info.run_id, "notes/hello.txt", str(tmp_path))
    assert open(local).read() == "hello compat"
    assert mlflow.artifacts.load_dict(run.info.artifact_uri + "/cfg.json") == {"k": [1, 2]}
